/**
 * Generator of hostile configs for the config fuzz test and `make chaos`: valid experiment files
 * mutated (values replaced by wrong types, extremes and junk; keys deleted, renamed or invented;
 * lists emptied or blown up), random YAML text (syntax errors, tabs, duplicate keys, deep nesting,
 * alias bombs), and random `--set` overrides. Deterministic for a seed.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface HostileCase {
  readonly id: number;
  readonly kind: 'mutated' | 'random-text' | 'set' | 'valid-looking';
  readonly yaml: string;
  readonly sets: string[];
}

/** mulberry32: a small seeded generator (the test's own, independent of the project's RNG). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SCALARS: Json[] = [
  0,
  1,
  -1,
  2,
  3,
  0.5,
  -0.5,
  1e-300,
  1e308,
  -1e308,
  2 ** 53 + 1,
  1e20,
  4,
  7,
  100,
  1000,
  50000,
  0.999999,
  1.0000001,
  '',
  ' ',
  'abc',
  'relu',
  'mlp',
  'cnn',
  'adam',
  'sgd',
  'all',
  'none',
  'NaN',
  '-1',
  '1e3',
  'idx:../../etc',
  'fashion-mnist',
  'mnist',
  '../../../etc/passwd',
  '\u0000',
  'é',
  '🙂',
  'x'.repeat(5000),
  true,
  false,
  null,
];
const KEYS = [
  'seed',
  'task',
  'kind',
  'model',
  'hidden',
  'train',
  'epochs',
  'transfer',
  'depths',
  'modes',
  'seeds',
  'similarity',
  'k',
  'measures',
  'resources',
  'cpus',
  'memory',
  'time',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'a.b',
  '',
  ' ',
  '0',
  'x'.repeat(300),
];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function randomValue(r: () => number, depth = 0): Json {
  const roll = r();
  if (roll < 0.55 || depth > 3) return pick(r, SCALARS);
  if (roll < 0.7) return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
  if (roll < 0.8) return Array.from({ length: 200 + Math.floor(r() * 300) }, () => Math.floor(r() * 2000) - 500);
  const obj: { [k: string]: Json } = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) obj[pick(r, KEYS)] = randomValue(r, depth + 1);
  return obj;
}

/** Every path into a JSON tree (objects and arrays), root excluded. */
function paths(node: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(node)) node.forEach((v, i) => out.push([...prefix, i], ...paths(v, [...prefix, i])));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) out.push([...prefix, k], ...paths(v, [...prefix, k]));
  return out;
}

function mutate(r: () => number, doc: { [k: string]: Json }): void {
  const all = paths(doc);
  if (all.length === 0) return;
  const path = pick(r, all);
  let parent: Json = doc;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[seg];
  const last = path[path.length - 1];
  const container = parent as Record<string | number, Json>;
  const op = r();
  if (op < 0.45) container[last] = randomValue(r);
  else if (op < 0.6) {
    if (Array.isArray(container)) container.splice(last as number, 1);
    else delete container[last];
  } else if (op < 0.7 && !Array.isArray(container)) {
    container[`${String(last)}${pick(r, ['_', 's', 'X', ''])}${pick(r, KEYS)}`] = container[last];
    delete container[last];
  } else if (op < 0.8 && !Array.isArray(container)) container[pick(r, KEYS)] = randomValue(r);
  else if (op < 0.9) {
    const v = container[last];
    if (typeof v === 'number') container[last] = pick(r, [-v, v * 1000, v + 0.5, v - 1, 0, -1]);
    else container[last] = pick(r, [[], {}, null, String(v)]);
  } else container[last] = Array.isArray(container[last]) ? [] : [container[last]];
}

const YAML_ALPHABET = [
  'a',
  'b',
  ':',
  ' ',
  '  ',
  '\n',
  '\t',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '&x',
  '*x',
  '!!str',
  '!!binary',
  '%',
  '@',
  '`',
  '|',
  '>',
  '#',
  '?',
  '0',
  '1',
  '.',
  'e',
  'task',
  'seed',
  '\u0000',
  '\uFFFE',
  '---',
  '...',
];

function randomText(r: () => number, bases: readonly string[]): string {
  const roll = r();
  if (roll < 0.3) return Array.from({ length: Math.floor(r() * 80) }, () => pick(r, YAML_ALPHABET)).join('');
  if (roll < 0.5) {
    // A base file with a random slice cut out or duplicated (broken indentation, duplicate keys).
    const base = pick(r, bases);
    const a = Math.floor(r() * base.length);
    const b = Math.min(base.length, a + Math.floor(r() * 200));
    return r() < 0.5 ? base.slice(0, a) + base.slice(b) : base.slice(0, b) + base.slice(a);
  }
  if (roll < 0.6) {
    // An alias bomb: each level doubles the previous one.
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 20; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
    return `${lines.join('\n')}\nseed: *a19\n`;
  }
  if (roll < 0.7) {
    const depth = 200 + Math.floor(r() * 2000);
    return `task: ${'['.repeat(depth)}1${']'.repeat(depth)}\n`;
  }
  if (roll < 0.8) return `${pick(r, bases)}\n${pick(r, ['seed: 1', 'task: {}', 'model:\n  kind: mlp', '\tseed: 1', 'seed: [1'])}\n`;
  if (roll < 0.9) return pick(r, ['', '~', '[]', '- 1\n- 2', '"just a string"', '42', '!!binary aGVsbG8=', '{{{', 'null: null']);
  return Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))).toString('latin1');
}

const SET_PATHS = [
  'seed',
  'seeds',
  'task.kind',
  'task.correlations',
  'task.target_sizes',
  'task.target_sizes[0]',
  'task.target_pool',
  'task.source_size',
  'task.test_size',
  'task.classes',
  'model.kind',
  'model.hidden',
  'model.hidden[9]',
  'model.activation',
  'train.epochs',
  'train.learning_rate',
  'train.batch_size',
  'transfer.depths',
  'transfer.modes',
  'similarity.k',
  'similarity.measures',
  'similarity.probe_size',
  'resources.train-source.cpus',
  'nosuch.key',
  'task..x',
  'a[',
  '[0]',
  '',
  '=',
  'seed.inner',
  'task.correlations[1000000]',
  '__proto__.polluted',
  'constructor.prototype.x',
];
const SET_VALUES = [
  '1',
  '-1',
  '0',
  '1e400',
  '[1,2',
  '[]',
  '{}',
  '[20,100,400,200]',
  'null',
  '~',
  'abc',
  '"',
  "'",
  'true',
  '[0.5, 2]',
  '{a: 1}',
  '&a [*a]',
  '!!js/function x',
  '0x10',
  '.inf',
  '-.nan',
  '',
  '= =',
  '1:2',
  'all',
  '[relu]',
];

function randomSet(r: () => number): string {
  const path = r() < 0.85 ? pick(r, SET_PATHS) : pick(r, KEYS);
  const value = r() < 0.8 ? pick(r, SET_VALUES) : JSON.stringify(randomValue(r));
  return r() < 0.05 ? `${path}${value}` : `${path}=${value}`;
}

/** `count` hostile cases from `seed`; the bases are valid experiment files (YAML text). */
export function hostileCases(bases: readonly string[], count: number, seed: number): HostileCase[] {
  const r = rng(seed);
  const docs = bases.map((b) => parseYaml(b) as { [k: string]: Json });
  const out: HostileCase[] = [];
  for (let id = 0; id < count; id++) {
    const roll = r();
    if (roll < 0.55) {
      const doc = structuredClone(pick(r, docs));
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) mutate(r, doc);
      out.push({ id, kind: 'mutated', yaml: stringifyYaml(doc), sets: [] });
    } else if (roll < 0.75) {
      out.push({ id, kind: 'random-text', yaml: randomText(r, bases), sets: [] });
    } else if (roll < 0.95) {
      const sets = Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomSet(r));
      out.push({ id, kind: 'set', yaml: pick(r, bases), sets });
    } else {
      out.push({ id, kind: 'valid-looking', yaml: pick(r, bases), sets: [] });
    }
  }
  return out;
}
