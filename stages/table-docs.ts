/**
 * docs/tables.md, generated from the table declarations (`stages/lib/tables/`), so the columns a
 * user reads about are the columns defrost writes, reads and checks. One section per declared
 * table: the stages that write it (their outputs built from the declaration), what a row is, and
 * each column's Arrow type, whether it may be null and what it holds. `make docs` writes the file;
 * a test fails when the committed file differs from what this renders.
 */
import { CONFIG_DOCS_COMMAND } from './config-docs.js';
import { declarationOf, type AnyTableDecl } from './lib/tables/define-table.js';
import { STAGES } from './project.js';

/** A declared table and the stage outputs built from it (`decl.output()`). */
interface Written {
  readonly table: AnyTableDecl;
  readonly outputs: { readonly stage: string; readonly file: string }[];
}

/** Every declared table the stages write, in the order of the stage registry and their outputs. */
export function writtenTables(): Written[] {
  const tables = new Map<AnyTableDecl, Written>();
  for (const stage of STAGES)
    for (const output of Object.values(stage.outputs)) {
      const table = declarationOf(output);
      if (table === undefined) continue;
      const written = tables.get(table) ?? { table, outputs: [] };
      written.outputs.push({ stage: stage.name, file: output.file });
      tables.set(table, written);
    }
  return [...tables.values()];
}

const HEADER = `# Tables

<!-- Generated from the declarations in stages/lib/tables/ by \`${CONFIG_DOCS_COMMAND}\`; do not edit by hand. -->

Every Arrow table defrost writes (Arrow IPC files, \`.arrow\`), as declared once in
\`stages/lib/tables/\`: the writer, the reader, the row types and the check the engine runs
before publishing an instance (every declared column with its declared type, and no other) all
derive from these declarations. Any Arrow reader opens them: \`pyarrow.feather.read_table\`,
\`pandas.read_feather\`, \`polars.read_ipc\`. *null* says whether a value may be missing; some
float columns hold NaN instead, as their meaning says.
`;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `generate-data` (`train.arrow`, `test.arrow`): who writes a table and under which names. */
function writers({ table, outputs }: Written): string {
  const byStage = new Map<string, string[]>();
  for (const { stage, file } of outputs) byStage.set(stage, [...(byStage.get(stage) ?? []), file]);
  return [...byStage]
    .map(([stage, files]) =>
      files.length === 1 && files[0] === table.file ? `\`${stage}\`` : `\`${stage}\` (${files.map((f) => `\`${f}\``).join(', ')})`,
    )
    .join(', ');
}

function section(written: Written): string {
  const { table } = written;
  const lines = [
    `## \`${table.file}\` of ${writers(written)}`,
    '',
    table.doc,
    '',
    '| column | type | null | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [name, spec] of Object.entries(table.columns))
    lines.push(`| \`${name}\` | ${spec.type} | ${spec.nullable === true ? 'yes' : 'no'} | ${cell(spec.doc)} |`);
  return lines.join('\n') + '\n';
}

/** The whole of docs/tables.md for the current declarations. */
export function renderTableDocs(): string {
  return [HEADER, ...writtenTables().map(section)].join('\n');
}
