/**
 * defrost's own config rules (stages/config/schema.ts), in process: an unknown key, a typo, a wrong type
 * and a depth beyond the network are ConfigErrors (exit 2) naming the key and what is allowed.
 * How the CLI reports such errors is tested on the engine's toy project (engine-config.test.ts).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../pipeline/config-loader.js';
import { ConfigError } from '../pipeline/errors.js';
import { modeOptionsOf, plannedRunCount, settingsOf } from '../stages/config/schema.js';
import { planDefrost } from '../stages/plan.js';
import { defrostProject } from '../stages/project.js';
import { QUICK } from './engine-helpers.js';
import { scratchDir } from './stage-rig.js';

const dir = scratchDir('defrost-config');
after(() => rmSync(dir, { recursive: true, force: true }));

function rejects(file: string, sets: string[], message: RegExp): void {
  assert.throws(
    () => loadConfig(defrostProject, file, sets),
    (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && message.test(e.message),
  );
}

test('quick.yaml is valid', () => {
  assert.ok(loadConfig(defrostProject, QUICK).config.seeds.length > 0);
});

test('an unknown key names it and the known keys of its section; a typo gets a suggestion', () => {
  rejects(QUICK, ['similarity.kk=3'], /similarity\.kk: got 3; allowed: .*known keys of similarity: probe_size, measures, k,/);
  const file = join(dir, 'typo.yaml');
  writeFileSync(file, 'task:\n  kind: synthetic\n  target_size: [10]\n');
  rejects(
    file,
    [],
    /task\.target_size: got \[10\]; allowed: no such key; did you mean task\.target_sizes\?; known keys of task: kind, latent_dim/,
  );
});

test('a wrong type names the key, the value and the type allowed', () => {
  rejects(QUICK, ['train.epochs=many'], /train\.epochs: got "many"; allowed: a value of type number/);
  rejects(QUICK, ['model.kind=rnn'], /model\.kind: got "rnn"; allowed: .*one of "mlp", "cnn"/);
});

test('a depth beyond the network names the key and the allowed range', () => {
  rejects(QUICK, ['transfer.depths=[0,5]'], /transfer\.depths\[1\]: got 5; allowed: an integer from 0 to 2/);
});

test('resources are keyed by the registry: every stage takes them, an unknown name is refused with the nearest stage', () => {
  const { config } = loadConfig(defrostProject, QUICK, ['resources.cv-train.cpus=3', 'resources.aggregate.mem=2G']);
  assert.deepEqual(defrostProject.resources(config, 'cv-train'), { cpus: 3, mem: '4G', time: '01:00:00' });
  assert.deepEqual(defrostProject.resources(config, 'aggregate'), { cpus: 1, mem: '2G', time: '01:00:00' });
  assert.deepEqual(defrostProject.resources(config, 'transfer'), { cpus: 1, mem: '4G', time: '01:00:00' });
  for (const name of Object.keys(defrostProject.stages)) loadConfig(defrostProject, QUICK, [`resources.${name}.cpus=2`]);
  rejects(
    QUICK,
    ['resources.cv-trian.cpus=2'],
    /resources\.cv-trian: got "cv-trian"; allowed: a stage name; did you mean resources\.cv-train\?; stages: generate-data, .*, recommend/,
  );
  rejects(QUICK, ['resources.gpu.cpus=2'], /resources\.gpu: got "gpu"; allowed: a stage name; stages: /);
  rejects(QUICK, ['resources.transfer.cpus=0'], /resources\.transfer\.cpus: got 0/);
  const proto = join(dir, 'proto.yaml');
  writeFileSync(proto, 'task:\n  kind: synthetic\nresources:\n  __proto__: {cpus: 2}\n');
  rejects(proto, [], /resources\.__proto__: .*allowed: a stage name/);
});

test('transfer.protocols: each mode sweeps its list, `all` or its own defaults; the planner gives each setting its coordinate and options', () => {
  const modes = 'transfer.modes=[defrost,surgical,lp-ft,llrd,gradual,l2sp]';
  const { config } = loadConfig(defrostProject, QUICK, [
    modes,
    'transfer.protocols.llrd.settings=[0.25,0.5]',
    'transfer.protocols.gradual.stage_steps=7',
  ]);
  // L = 2: defrost's depths, surgical's b (all by default), lp-ft and gradual at l = 0, llrd as given, l2sp at 0.1.
  const settings = Object.fromEntries(config.transfer.modes.map((m) => [m, settingsOf(config, m)]));
  assert.deepEqual(settings, { defrost: [0, 1, 2], surgical: [1, 2], 'lp-ft': [0], llrd: [0.25, 0.5], gradual: [0], l2sp: [0.1] });
  assert.deepEqual(modeOptionsOf(config, 'gradual'), { stage_steps: 7 });
  assert.deepEqual(modeOptionsOf(config, 'surgical'), { width: 1 });
  const cells = 2 * 3 * 3; // correlations x target sizes x seeds
  assert.equal(plannedRunCount(config), cells * (1 + 3 + 2 + 1 + 2 + 1 + 1));

  const transfers = planDefrost(config).filter((s) => s.stage === 'transfer');
  assert.equal(transfers.length, cells * (3 + 2 + 1 + 2 + 1 + 1));
  const at = (mode: string, coordinate: string, value: number) =>
    transfers.find((s) => s.coords.mode === mode && s.coords[coordinate] === value && s.coords.n === 20 && s.coords.seed === 0);
  // A setting that is the depth is the `depth` coordinate; any other is `setting`; options only for a mode that has some.
  assert.deepEqual(at('lp-ft', 'depth', 0)?.params.options, undefined);
  assert.equal(at('llrd', 'setting', 0.5)?.coords.depth, undefined);
  assert.deepEqual(at('gradual', 'depth', 0)?.params.options, { stage_steps: 7 });
  assert.deepEqual(at('surgical', 'setting', 2)?.params.options, { width: 1 });
  assert.ok(at('defrost', 'depth', 2) && at('l2sp', 'setting', 0.1));
  // Changing one mode's option changes the params (and so the keys) of that mode's runs alone.
  const other = planDefrost(loadConfig(defrostProject, QUICK, [modes, 'transfer.protocols.llrd.settings=[0.25,0.5]']).config);
  const changed = other.filter(
    (s) => s.stage === 'transfer' && JSON.stringify(s.params) !== JSON.stringify(transfers.find((t) => t.id === s.id)?.params),
  );
  assert.equal(changed.length, cells);
  assert.ok(changed.every((s) => s.coords.mode === 'gradual'));
});

test('transfer.protocols: a setting outside its mode, `all` for a real-valued setting, a repeat or a bad option name the key', () => {
  rejects(
    QUICK,
    ['transfer.protocols.surgical.settings=[3]'],
    /transfer\.protocols\.surgical\.settings\[0\]: got 3; allowed: b is a whole number in 1\.\.2/,
  );
  rejects(
    QUICK,
    ['transfer.protocols.llrd.settings=[1.5]'],
    /transfer\.protocols\.llrd\.settings\[0\]: got 1\.5; allowed: gamma is a number in \(0, 1\]/,
  );
  rejects(
    QUICK,
    ['transfer.protocols.l2sp.settings=all'],
    /transfer\.protocols\.l2sp\.settings: got "all"; allowed: a list of values of the strength alpha/,
  );
  rejects(
    QUICK,
    ['transfer.protocols.llrd.settings=[0.5,0.5]'],
    /transfer\.protocols\.llrd\.settings: got 0\.5; allowed: each value at most once/,
  );
  rejects(QUICK, ['transfer.protocols.gradual.stage_steps=0'], /transfer\.protocols\.gradual\.stage_steps: got 0/);
  rejects(QUICK, ['transfer.protocols.llrd.width=2'], /transfer\.protocols\.llrd\.width: got 2; allowed: no such key/);
  // A prefix mode sweeps transfer.depths, said once.
  rejects(QUICK, ['transfer.protocols.defrost.settings=[1]'], /transfer\.protocols\.defrost: got .*allowed: no such key/);
});
