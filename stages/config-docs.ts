/**
 * docs/config.md, generated from the zod config schema (`configSchema` in config.ts), so the
 * reference a user reads can never drift from what the loader accepts. The schema is turned into
 * JSON Schema (zod's own converter) and walked: one table per section, one row per key, with its
 * type and limits, its default and its `.describe()` text. `make docs` writes the file; a test
 * fails when the committed file differs from what this renders.
 */
import { z } from 'zod';
import { configSchema } from './config/schema.js';
import { REGISTRY_NAMES, type RegistryNames } from './registry-docs.js';

/** The subset of JSON Schema that zod emits for the config, as far as the tables need it. */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  /** A record's values (`resources`: one section per stage). */
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  pattern?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

interface Row {
  key: string;
  type: string;
  default: string;
  meaning: string;
}

interface Section {
  title: string;
  intro: string;
  rows: Row[];
}

/** The command that regenerates the file: what a stale-docs failure tells the user to run. */
export const CONFIG_DOCS_COMMAND = 'make docs';

const HEADER = `# Configuration reference

<!-- Generated from the zod schema in stages/config/schema.ts by \`${CONFIG_DOCS_COMMAND}\`; do not edit by hand. -->

A config is a YAML file (see \`experiments/\`). Every key is optional unless marked *required*;
a missing key takes its default. Any key can be overridden on the command line with
\`--set key.path=value\` (values are YAML: \`--set 'task.target_sizes=[20,100]'\`). An unknown key,
a wrong type or an impossible value is rejected before anything runs (exit 2) with a message
naming the key, the value (and whether it is a default), what is allowed and, for a typo, the
nearest known key. Cross-field rules (a depth beyond L, n larger than
the pool, \`similarity.k\` not below \`similarity.probe_size\`...) are checked too.
`;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function code(value: unknown): string {
  return '`' + JSON.stringify(value) + '`';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, '');
  const target = root.$defs?.[name];
  if (target === undefined) throw new Error(`config-docs: unresolved reference ${schema.$ref}`);
  return { ...resolve(target, root), ...(schema.description !== undefined ? { description: schema.description } : {}) };
}

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.maximum !== undefined && s.maximum < MAX_SAFE) parts.push(`<= ${s.maximum}`);
  return parts.join(', ');
}

/** The registry whose names an enum lists, if it lists exactly a registry's names. */
function registryOf(values: readonly unknown[] | undefined): RegistryNames | undefined {
  if (values === undefined) return undefined;
  return REGISTRY_NAMES.find((r) => r.names.length === values.length && r.names.every((name) => values.includes(name)));
}

/** A default that is a registry's every name, in words; otherwise the value itself. */
function defaultOf(value: unknown): string {
  const registry = Array.isArray(value) ? registryOf(value) : undefined;
  return registry !== undefined ? registry.every : code(value);
}

/** A short human description of the values a schema accepts. */
function typeOf(raw: JsonSchema, root: JsonSchema): string {
  const s = resolve(raw, root);
  if (s.const !== undefined) return code(s.const);
  // A registry's names are listed by its generated table, so a new member leaves this file as it is.
  const items = s.type === 'array' && s.items !== undefined ? resolve(s.items, root) : undefined;
  const registry = registryOf(items?.enum);
  if (registry !== undefined) {
    const min = s.minItems !== undefined && s.minItems > 0 ? `, at least ${s.minItems}` : '';
    return `list of ${registry.plural} (${registry.doc}${min})`;
  }
  if (s.enum !== undefined) return s.enum.map(code).join(' | ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives !== undefined) return alternatives.map((a) => typeOf(a, root)).join(' or ');
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  switch (type) {
    case 'integer':
    case 'number': {
      const b = bounds(s);
      return b === '' ? type : `${type} ${b}`;
    }
    case 'array': {
      const item = s.items !== undefined ? typeOf(s.items, root) : 'value';
      const min = s.minItems !== undefined && s.minItems > 0 ? ` (at least ${s.minItems})` : '';
      return `list of ${item}${min}`;
    }
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'null':
      return '`null`';
    case 'object':
      return 'section';
    default:
      return type ?? 'value';
  }
}

/**
 * Records (objects keyed by names from elsewhere) by key path: how a key is shown and which
 * names it takes. `resources` is keyed by the stages of the registry (stages/project.ts).
 */
const RECORD_KEYS: Record<string, { placeholder: string; note: string }> = {
  resources: { placeholder: '<stage>', note: 'per stage, by the name `defrost status` shows (another name is refused, with the list)' },
};

/** The values of a record schema (`additionalProperties`), if it is one. */
function recordValues(s: JsonSchema): JsonSchema | undefined {
  return s.properties === undefined && typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** The object schema a property holds, if it is a section (possibly nullable) or a record of sections. */
function objectOf(raw: JsonSchema, root: JsonSchema): JsonSchema | undefined {
  const s = resolve(raw, root);
  if (s.properties !== undefined || recordValues(s) !== undefined) return s;
  for (const alt of s.anyOf ?? []) {
    const r = resolve(alt, root);
    if (r.properties !== undefined) return r;
  }
  return undefined;
}

function rowsOf(object: JsonSchema, prefix: string, root: JsonSchema, out: Row[]): void {
  const properties = object.properties ?? {};
  const required = new Set(object.required ?? []);
  const values = recordValues(object);
  const record = RECORD_KEYS[prefix] ?? { placeholder: '<name>', note: 'any name' };
  const entries: [string, JsonSchema, string][] =
    values !== undefined ? [[record.placeholder, values, record.note]] : Object.entries(properties).map(([k, v]) => [k, v, '']);
  for (const [name, raw, note] of entries) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const s = resolve(raw, root);
    const section = objectOf(raw, root);
    const type = section !== undefined ? typeOf(raw, root).replace(/\bsection\b/, 'section (below)') : typeOf(raw, root);
    const def = s.default !== undefined ? defaultOf(s.default) : required.has(name) ? '*required*' : '';
    out.push({ key: '`' + key + '`', type, default: def, meaning: [note, s.description ?? ''].filter((t) => t !== '').join('; ') });
    if (section !== undefined) rowsOf(section, key, root, out);
  }
}

/** The sections of the reference: top-level keys, then each section, each task kind apart. */
function sectionsOf(root: JsonSchema): Section[] {
  const sections: Section[] = [];
  const top: Row[] = [];
  const properties = root.properties ?? {};
  const required = new Set(root.required ?? []);
  for (const [name, raw] of Object.entries(properties)) {
    const s = resolve(raw, root);
    const variants = (s.oneOf ?? s.anyOf ?? []).map((v) => resolve(v, root)).filter((v) => v.properties !== undefined);
    const section = objectOf(raw, root);
    const def = s.default !== undefined && section === undefined ? code(s.default) : required.has(name) ? '*required*' : '';
    top.push({
      key: '`' + name + '`',
      type: section !== undefined || variants.length > 0 ? 'section' : typeOf(raw, root),
      default: def,
      meaning: s.description ?? '',
    });
    if (variants.length > 1) {
      for (const variant of variants) {
        const kind = variant.properties?.kind?.const;
        const rows: Row[] = [];
        rowsOf(variant, name, root, rows);
        sections.push({ title: `\`${name}\` with \`kind: ${String(kind)}\``, intro: variant.properties?.kind?.description ?? '', rows });
      }
    } else if (section !== undefined) {
      const rows: Row[] = [];
      rowsOf(section, name, root, rows);
      sections.push({ title: `\`${name}\``, intro: s.description ?? '', rows });
    }
  }
  return [{ title: 'Top level', intro: '', rows: top }, ...sections];
}

function table(rows: Row[]): string {
  const lines = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${cell(r.key)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.meaning)} |`);
  return lines.join('\n');
}

/** The whole of docs/config.md for the current schema. */
export function renderConfigDocs(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const parts = [HEADER];
  for (const section of sectionsOf(root)) {
    parts.push(`## ${section.title}\n`);
    if (section.intro !== '') parts.push(`${section.intro[0]!.toUpperCase()}${section.intro.slice(1)}.\n`);
    parts.push(table(section.rows) + '\n');
  }
  return parts.join('\n');
}
