/**
 * What the hostile-input test (reliability-hostile-inputs.test.ts) and `make chaos`
 * (bench/chaos/hostile-inputs.ts) share: the CLI run with its wall time and peak memory, and
 * copies of a network with an edited model.json.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN } from './engine-helpers.js';

export interface Measured {
  /** null when killed at the time limit (a hang). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** Peak resident memory of the process (node's own start included), in MB. */
  readonly peakMb: number;
}

/** Reports the process's peak resident memory on stderr when it exits. */
const PEAK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nmaxrss_kb="+process.resourceUsage().maxRSS+"\\n"))';

/** The CLI in `cwd`, killed after `timeoutMs`; with its wall time and peak memory. */
export function measuredCli(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Measured {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', PEAK, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DEFROST_UNSAFE_NO_FSYNC: '1', ...env },
    timeout: timeoutMs,
  });
  const peak = /maxrss_kb=(\d+)/.exec(r.stderr ?? '');
  return {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    seconds: (Date.now() - started) / 1000,
    peakMb: peak ? Number(peak[1]) / 1024 : Number.NaN,
  };
}

/** A stack trace or an internal error in a command's output. */
export const STACK_TRACE = /internal error|\n\s+at \S+ \(/;

export interface ModelJson {
  modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[];
}

/** A copy of the network `model` (its folder) at `dir`, its model.json edited by `edit`; returns model.json's path. */
export function editedNetwork(model: string, dir: string, edit: (json: ModelJson, dir: string) => void = () => {}): string {
  rmSync(dir, { recursive: true, force: true });
  cpSync(dirname(model), dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
  edit(json, dir);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  return join(dir, 'model.json');
}

export const layerOf = (json: ModelJson, name: string): { class_name: string; config: Record<string, unknown> } =>
  json.modelTopology.config.layers.find((l) => l.config.name === name)!;
export const weightOf = (json: ModelJson, name: string): { name: string; shape: number[] } =>
  json.weightsManifest[0].weights.find((w) => w.name === name)!;

/** Float index of `features/kernel` in the fixture network's weights (after stem_conv and mid_conv). */
export const FEATURES_KERNEL_AT = 36 + 4 + 216 + 6;
