/**
 * The docs' tables that the registries generate (docs/architecture.md, "Adding a measure, a
 * mode"): the similarity measures (lib/measures/registry.ts) in docs/similarity.md and the transfer
 * modes (lib/models/transfer-modes/registry.ts) in docs/science.md, each between the markers
 * `<!-- generated: NAME, ... -->` and `<!-- end generated: NAME -->`. `make docs` rewrites them
 * with docs/config.md, and a test fails while one is stale; so a new measure or mode is documented
 * by its own module's texts, never by a hand-edited table.
 */
import { MEASURE_NAMES, allMeasures } from './lib/measures/registry.js';
import { settingOf } from './lib/models/transfer-modes/mode.js';
import { DEFAULT_TRANSFER_MODE, allTransferModes, TRANSFER_MODES } from './lib/models/transfer-modes/registry.js';

/** A generated table: the file it lives in (from the repository root), its marker name, its text. */
export interface GeneratedTable {
  readonly file: string;
  readonly name: string;
  render(): string;
}

/**
 * Config values that name a registry's members: docs/config.md points to the generated table
 * instead of listing them, so adding a member leaves docs/config.md as it is.
 */
export interface RegistryNames {
  readonly names: readonly string[];
  /** A list of them, in words (“measure names”). */
  readonly plural: string;
  /** All of them, as a default (“every measure”). */
  readonly every: string;
  /** The docs anchor of the generated table. */
  readonly doc: string;
}

export const REGISTRY_NAMES: readonly RegistryNames[] = [
  { names: MEASURE_NAMES, plural: 'measure names', every: 'every measure', doc: 'docs/similarity.md#measures' },
  { names: TRANSFER_MODES, plural: 'transfer mode names', every: 'every mode', doc: 'docs/science.md#transfer-modes' },
];

const code = (text: string): string => '`' + text + '`';
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function measuresTable(): string {
  return table(
    ['measure (config / `--measures`)', 'reported values', 'more alike when', 'blocks compared', 'meaning'],
    allMeasures().map((m) => {
      const directions = [...new Set(m.values.map((v) => v.alike ?? 'n/a: describes one representation'))];
      return [
        code(m.name),
        m.values.map((v) => code(v.name)).join(', '),
        directions.join(', '),
        m.blocks === 'every-pair' ? 'every pair (L x L)' : 'same block',
        m.about,
      ];
    }),
  );
}

function modesTable(): string {
  return table(
    ['mode (`transfer.modes`, `recommend --modes`)', 'swept setting', 'a transfer at its setting', 'notes'],
    allTransferModes().map((m) => [
      `${code(m.name)}${m.name === DEFAULT_TRANSFER_MODE ? ' (default)' : ''}`,
      settingOf(m).caption,
      m.caption,
      m.about ?? '',
    ]),
  );
}

export const GENERATED_TABLES: readonly GeneratedTable[] = [
  { file: 'docs/similarity.md', name: 'measures', render: measuresTable },
  { file: 'docs/science.md', name: 'transfer-modes', render: modesTable },
];

/** `text` (the file `file`) with each of its generated tables rendered anew; throws when a table's markers are missing. */
export function withGeneratedTables(file: string, text: string): string {
  let out = text;
  for (const generated of GENERATED_TABLES.filter((t) => t.file === file)) {
    const begin = `<!-- generated: ${generated.name},`;
    const end = `<!-- end generated: ${generated.name} -->`;
    const start = out.indexOf(begin);
    const stop = out.indexOf(end);
    if (start < 0 || stop < start) throw new Error(`${file}: the markers of the generated table "${generated.name}" are missing`);
    const opening = out.indexOf('-->', start) + '-->'.length;
    out = `${out.slice(0, opening)}\n\n${generated.render()}\n\n${out.slice(stop)}`;
  }
  return out;
}
