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
