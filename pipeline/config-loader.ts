/**
 * Loads a config: YAML file -> `--set` overrides -> the project's zod schema -> the project's
 * cross-field checks. Every problem becomes a `ConfigError` issue naming the dotted key, the
 * value and what is allowed, and nothing touches the store before this succeeds.
 *
 * `--set key.path=value` parses `value` as YAML, so `[20,100]`, `0.5`, `true` and `null` mean
 * what they look like. A path the schema does not know is rejected by the strict schema, which
 * names it; setting a key inside something that is not a mapping is rejected here.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { NotRegularFileError, readRegularText } from './fsutil.js';
import { parse as parseYaml } from 'yaml';
import type { ZodType } from 'zod';
import { ConfigError, UsageError } from './errors.js';
import type { ConfigIssue, Project } from './project.js';
import { findProjectRoot, resolveConfigPath } from './project-root.js';
import { nearestName } from './nearest-name.js';
import { describeYamlError } from './yaml-errors.js';

type Segment = string | number;

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * YAML parse options: no warnings printed to stderr (an unknown tag or directive in a hostile
 * file is not worth a process warning; what matters is the schema's verdict on the values).
 */
const YAML_OPTIONS = { logLevel: 'error' } as const;

/** `a.b[2].c` -> ['a', 'b', 2, 'c']. */
export function parseKeyPath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const part of path.split('.')) {
    const m = /^([A-Za-z0-9_-]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new UsageError(`--set: "${path}" is not a key path (expected e.g. task.target_sizes or transfer.depths[0])`);
    // `__proto__`/`constructor`/`prototype` would walk into Object.prototype and pollute every
    // object of the process (found by the config fuzz test); no config key has these names.
    if (FORBIDDEN_SEGMENTS.has(m[1])) throw new UsageError(`--set: "${path}": "${m[1]}" is not a config key (no config key has that name)`);
    segments.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) segments.push(Number(idx[1]));
  }
  return segments;
}

/** Dotted key of a zod/segment path: ['a', 'b', 2] -> `a.b[2]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Applies one `key.path=value` override to a raw (unvalidated) config, in place. */
export function applySet(raw: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set "${assignment}": expected key.path=value`);
  const path = parseKeyPath(assignment.slice(0, eq).trim());
  const text = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(text, YAML_OPTIONS);
  } catch (error) {
    throw new UsageError(`--set ${assignment}: the value is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  let node: unknown = raw;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    const container = node as Record<string | number, unknown>;
    if (typeof seg === 'number') {
      if (!Array.isArray(node) || seg >= node.length)
        throw new UsageError(`--set ${assignment}: ${formatKeyPath(path.slice(0, i + 1))} does not exist`);
    } else {
      if (!isMapping(node)) throw new UsageError(`--set ${assignment}: ${formatKeyPath(path.slice(0, i))} is not a mapping`);
      if (!Object.hasOwn(container, seg) || container[seg] === undefined || container[seg] === null) container[seg] = {};
    }
    node = container[seg];
  }
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    if (!Array.isArray(node) || last > node.length) throw new UsageError(`--set ${assignment}: ${formatKeyPath(path)} does not exist`);
    node[last] = value;
  } else {
    if (!isMapping(node)) throw new UsageError(`--set ${assignment}: ${formatKeyPath(path.slice(0, -1))} is not a mapping`);
    node[last] = value;
  }
}

// --- turning zod issues into ConfigIssues ---------------------------------------------------

/** The zod internals this module reads to list allowed keys; zod's public types do not expose them. */
interface SchemaDef {
  type: string;
  innerType?: ZodType;
  in?: ZodType;
  shape?: Record<string, ZodType>;
  options?: ZodType[];
  element?: ZodType;
}
function defOf(schema: ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The object schemas that may sit at `path` (several for unions), for listing allowed keys. */
function objectSchemasAt(schema: ZodType, path: readonly PropertyKey[], raw: unknown): ZodType[] {
  const def = defOf(schema);
  if (['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type) && def.innerType)
    return objectSchemasAt(def.innerType, path, raw);
  if (def.type === 'pipe' && def.in) return objectSchemasAt(def.in, path, raw);
  if (def.type === 'union' && def.options) {
    // A discriminated union: prefer the branch whose `kind` literal matches the raw value.
    const all = def.options.flatMap((o) => objectSchemasAt(o, path, raw));
    const kind = isMapping(raw) ? raw.kind : undefined;
    const matching = all.filter((o) => {
      const kindDef = defOf(o).shape?.kind;
      return kindDef !== undefined && kindDef.safeParse(kind).success;
    });
    return matching.length > 0 && path.length === 0 ? matching : all;
  }
  if (path.length === 0) return def.type === 'object' ? [schema] : [];
  const [head, ...rest] = path;
  const child = isMapping(raw) || Array.isArray(raw) ? (raw as Record<PropertyKey, unknown>)[head] : undefined;
  if (def.type === 'object' && def.shape && typeof head === 'string' && def.shape[head])
    return objectSchemasAt(def.shape[head], rest, child);
  if (def.type === 'array' && def.element) return objectSchemasAt(def.element, rest, child);
  return [];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const seg of path) {
    if (!isMapping(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return node;
}

/** The fields of a zod issue this module reads. */
export interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  values?: unknown[];
  options?: unknown[];
  expected?: string;
  errors?: ZodIssueLike[][];
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  origin?: string;
}

function describeAllowed(issue: ZodIssueLike): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a value of type ${issue.expected}`;
    case 'invalid_value':
      return `one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if (issue.options) return `one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}`;
      if (issue.errors && issue.errors.length > 0)
        return issue.errors.map((branch) => (branch[0] ? describeAllowed(branch[0]) : 'another form')).join(', or ');
      return issue.message;
    case 'too_small': {
      const what = issue.origin === 'array' ? 'a list with at least' : issue.origin === 'string' ? 'a text of at least' : 'a number';
      if (issue.origin === 'array' || issue.origin === 'string') return `${what} ${issue.minimum} item(s)`;
      return `${what} ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `a list with at most ${issue.maximum} item(s)`;
      return `a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    }
    case 'invalid_format':
    case 'custom':
    default:
      return issue.message;
  }
}

/** Turns zod issues into ConfigIssues naming dotted keys, the offending values and what is allowed. */
export function zodIssuesToConfigIssues(schema: ZodType, raw: unknown, issues: readonly ZodIssueLike[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = [
        ...new Set(objectSchemasAt(schema, issue.path, valueAt(raw, issue.path)).flatMap((o) => Object.keys(defOf(o).shape ?? {}))),
      ];
      for (const key of issue.keys ?? []) {
        const near = nearestName(key, allowed);
        out.push({
          key: formatKeyPath([...issue.path, key]),
          value: valueAt(raw, [...issue.path, key]),
          allowed: `no such key${near !== null ? `; did you mean ${formatKeyPath([...issue.path, near])}?` : ''}; known keys${issue.path.length ? ` of ${formatKeyPath(issue.path)}` : ''}: ${allowed.join(', ')}`,
        });
      }
      continue;
    }
    out.push({ key: formatKeyPath(issue.path), value: valueAt(raw, issue.path), allowed: describeAllowed(issue) });
  }
  return out;
}

/** Whether the raw config (file and `--set`) gives `key` itself, rather than leaving it to a default. */
function isSetIn(raw: unknown, key: string): boolean {
  let path: Segment[];
  try {
    path = parseKeyPath(key);
  } catch {
    return true; // not a key path (`(top level)`): nothing to say about defaults
  }
  return valueAt(raw, path) !== undefined;
}

export interface LoadedConfig<C> {
  readonly file: string;
  readonly config: C;
}

/** Reads, overrides, validates and checks a config file; throws UsageError/ConfigError (exit 2). */
export function loadConfig<C>(project: Project<C>, file: string, sets: readonly string[] = []): LoadedConfig<C> {
  let text: string;
  try {
    // A regular file only: `/dev/zero` or a FIFO as config must not read forever or block.
    text = readRegularText(resolveConfigPath(file), 16 * 1024 * 1024);
  } catch (error) {
    if (error instanceof NotRegularFileError) throw new UsageError(`cannot read config: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read config ${file}: ${code === 'ENOENT' ? `no such file${nearestConfig(file)}` : (error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, YAML_OPTIONS) ?? {};
  } catch (error) {
    throw new UsageError(describeYamlError(file, text, error as Error & { linePos?: { line: number; col: number }[] }));
  }
  if (!isMapping(raw))
    throw new ConfigError([{ key: '(top level)', value: raw, allowed: 'a mapping of sections (seed, task, model, ...)' }], file);
  for (const assignment of sets) applySet(raw, assignment);
  const parsed = project.configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      zodIssuesToConfigIssues(project.configSchema, raw, parsed.error.issues as unknown as ZodIssueLike[]),
      describeSource(file, sets),
    );
  }
  const issues = project.check(parsed.data);
  if (issues.length > 0)
    throw new ConfigError(
      issues.map((i) => (i.value !== undefined && !isSetIn(raw, i.key) ? { ...i, defaulted: true } : i)),
      describeSource(file, sets),
    );
  return { file, config: parsed.data };
}

/**
 * `; did you mean experiments/quick.yaml?` for a config path that does not exist: the nearest
 * YAML file in the directory it names (relative to here, else to the project root), by file name.
 */
function nearestConfig(file: string): string {
  const dir = dirname(file);
  const names = (base: string): string[] => {
    try {
      return readdirSync(base).filter((n) => /\.ya?ml$/.test(n));
    } catch {
      return [];
    }
  };
  const root = findProjectRoot();
  const candidates = [...new Set([...names(resolve(dir)), ...(root === null ? [] : names(join(root, dir)))])];
  const near = nearestName(basename(file), candidates);
  return near === null ? '' : `; did you mean ${join(dir, near)}?`;
}

function describeSource(file: string, sets: readonly string[]): string {
  return sets.length === 0 ? `config ${file}` : `config ${file} with ${sets.map((s) => `--set ${s}`).join(' ')}`;
}
