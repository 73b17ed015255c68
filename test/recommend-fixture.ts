/**
 * The tiny `defrost recommend` fixture the recommend tests share: an image folder of 27 8x8 grey
 * images in three classes and a source network built with plain TensorFlow.js (its own layer
 * names), and the command run on it with a short recipe in a store of its own; and the keys its
 * `--json` answer documents.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './engine-helpers.js';
import { writeGreyImages, type GreyClass } from './file-data-fixtures.js';
import { foreignCnn, saveLayersModel } from './source-network-fixture.js';

/** The keys of the `--json` answer, in order (docs/your-data.md; `protocol` follows with `--protocols`). */
export const ANSWER_KEYS: readonly string[] = [
  'l_star',
  'plausible',
  'accuracy',
  'scratch_accuracy',
  'depths',
  'folds',
  'versus',
  'verdict',
  'stopped_by',
  'eliminated',
];

/** The keys of the answer's `versus`: l*'s paired gains over the two defaults and scratch. */
export const VERSUS_KEYS: readonly string[] = ['fine_tune_all', 'freeze_all', 'scratch'];

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Fixture {
  readonly dir: string;
  readonly store: string;
  readonly model: string;
  readonly images: string;
}

/** The fixture's three classes of 8x8 grey images, told apart by brightness and a stripe. */
export const FIXTURE_CLASSES: readonly GreyClass[] = [
  { name: 'boots', level: 40, stripe: 0 },
  { name: 'hats', level: 200, stripe: 2 },
  { name: 'socks', level: 120, stripe: 5 },
];

/** Three classes of 8x8 grey images told apart by brightness and a stripe, 9 per class. */
export async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'defrost-recommend-'));
  const images = join(dir, 'images');
  await writeGreyImages(images, FIXTURE_CLASSES, 9);
  const model = await saveLayersModel(foreignCnn(), join(dir, 'net'));
  return { dir, store: join(dir, 'store'), model, images };
}

/**
 * `defrost recommend` on the fixture, in the fixture's store; `at.cwd` runs it elsewhere and
 * `at.store: null` leaves the store to defrost's default (DEFROST_STORE unset), as a user's shell.
 */
/**
 * The recipe every fixture recommend runs with: small batches and a short budget (recommend's own
 * holds at least 2,000 steps); these tests check the plumbing, not the small-n recipe.
 */
export const FIXTURE_SETS = ['train.epochs=2', 'train.batch_size=8', 'train.min_steps=0', 'train.early_stopping.max_epochs=30'];

export function recommend(f: Fixture, args: readonly string[], at: { cwd?: string; store?: string | null } = {}): CommandResult {
  const store = at.store === undefined ? f.store : at.store;
  const env: NodeJS.ProcessEnv = { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1' };
  if (store === null) delete env.DEFROST_STORE;
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'recommend',
      '--model',
      f.model,
      ...(store === null ? [] : ['--store', store]),
      '--jobs',
      '2',
      ...FIXTURE_SETS.flatMap((set) => ['--set', set]),
      ...args,
    ],
    { cwd: at.cwd ?? f.dir, encoding: 'utf8', env, timeout: 300_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function executedByStage(stderr: string): Record<string, number> {
  const line = stderr.split('\n').find((l) => l.startsWith('run summary: '));
  assert.ok(line, `no run summary in:\n${stderr}`);
  return (JSON.parse(line.slice('run summary: '.length)) as { executed_by_stage: Record<string, number> }).executed_by_stage;
}

/** Any other defrost command on the fixture's store (`runs`, `gc`...). */
export function defrostOn(f: Fixture, args: readonly string[]): CommandResult {
  const r = spawnSync(process.execPath, [BIN, ...args, '--store', f.store], { cwd: f.dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
