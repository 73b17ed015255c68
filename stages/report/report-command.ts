/**
 * `defrost report [CONFIG] [--set k=v]... [--store DIR] [--open] [--json]`: re-prints the answer
 * of a config's sweep (the l* table and the path of `report.html`) without running anything.
 * `--json` prints the answer as one JSON line instead (`report/answer-json.ts`).
 *
 * With the config's aggregate published it prints that instance's text; otherwise (a partial
 * sweep: some instance failed or has not run) it builds the same tables and HTML from whatever
 * scratch, transfer and similarity instances of the config are published, marking the missing
 * ones, under `<store>/.reports/`. `--open` opens the HTML with xdg-open when there is one.
 *
 * Light at load time: the project, the planner and the report builder are imported in the action.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../../pipeline/cli/context.js';
import { UsageError } from '../../pipeline/errors.js';
import { resolveConfigPath } from '../../pipeline/project-root.js';
import type { AnyProject } from '../../pipeline/project.js';

const DEFAULT_CONFIG = 'experiments/default.yaml';

export interface ReportOptions {
  readonly config: string;
  readonly sets?: readonly string[];
  readonly store?: string;
  /** The project to plan with (the CLI's: defrost's own, or a test's). */
  readonly project: AnyProject;
}

export interface ReportAnswer {
  /** The answer (a sentence per cell, l* at a glance) followed by `Report: <path>`. */
  readonly text: string;
  readonly htmlPath: string;
  readonly partial: boolean;
  /** L, the network's hidden blocks (the aggregate's `depth`). */
  readonly blocks: number;
}

/** Plans the config, finds its aggregate and returns the answer (building a partial one if needed). */
export async function reportForConfig(options: ReportOptions): Promise<ReportAnswer> {
  const { project } = options;
  const { loadConfig } = await import('../../pipeline/config-loader.js');
  const { buildDag } = await import('../../pipeline/dag.js');
  const { resolveStoreRoot } = await import('../../pipeline/store.js');
  const { publishedManifest } = await import('../../pipeline/manifest.js');
  const { partialReportDir, partialReportText, publishedReportText } = await import('./after-run.js');

  const { config } = loadConfig(project, options.config, options.sets ?? []);
  const instances = buildDag(project, project.plan(config));
  const aggregate = instances.find((i) => i.stage === 'aggregate');
  if (aggregate === undefined) throw new UsageError(`config ${options.config} plans no aggregate instance`);
  const storeRoot = resolveStoreRoot(options.store, [resolveConfigPath(options.config)]);
  const dir = join(storeRoot, aggregate.stage, aggregate.key);
  const blocks = typeof aggregate.params.depth === 'number' ? aggregate.params.depth : 0;
  if (publishedManifest(dir, aggregate.key) !== null && existsSync(join(dir, 'optimal_depth.txt')))
    return { text: publishedReportText(dir), htmlPath: join(dir, 'report.html'), partial: false, blocks };

  const { aggregatePlanOf } = await import('./store-runs.js');
  const plan = aggregatePlanOf(aggregate, instances);
  const subtitle = `${options.config}${(options.sets ?? []).map((s) => ` --set ${s}`).join('')}, store ${storeRoot}`;
  const text = await partialReportText(storeRoot, plan, subtitle);
  if (text === null)
    throw new UsageError(
      `no scratch or transfer run of ${options.config} is published in ${storeRoot} yet: run \`defrost run ${options.config}\` first`,
    );
  return { text, htmlPath: join(partialReportDir(storeRoot, aggregate.key), 'report.html'), partial: true, blocks };
}

/**
 * Opens a file with the desktop's opener when there is one (xdg-open, and a display to show it
 * on); otherwise says where the file is. Returns what happened, in words.
 */
export function openInBrowser(file: string): string {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return `No display here: open ${file} in a browser.`;
  const found = spawnSync('sh', ['-c', 'command -v xdg-open'], { encoding: 'utf8' });
  if (found.status !== 0 || found.stdout.trim() === '') return `No xdg-open here: open ${file} in a browser.`;
  const child = spawn(found.stdout.trim(), [file], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  return `Opening ${file}`;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerReportCommand(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description("print a config's optimal-depth table and report path (builds a partial report when runs are missing)")
    .argument('[config]', 'experiment config (YAML)', DEFAULT_CONFIG)
    .option('--set <key=value>', 'override a config key, e.g. task.target_sizes=[20,100] (repeatable)', collect, [])
    .option('--store <dir>', 'artifact store (default: $DEFROST_STORE or ./artifacts)')
    .option('--open', 'open report.html (xdg-open when available; otherwise print its path)')
    .option('--json', 'print the answer as one JSON line: {"cells":[{correlation, n, mode, l_star, plausible, ...}]}')
    .option('--wide', 'print every number of every cell in one wide table (wider than 100 columns)')
    .action(async (config: string, options: { set: string[]; store?: string; open?: boolean; json?: boolean; wide?: boolean }) => {
      const project = await ctx.project();
      const answer = await reportForConfig({ config, sets: options.set, store: options.store, project });
      if (options.json || options.wide) {
        const { OPTIMAL_DEPTH } = await import('../lib/tables/report-tables.js');
        const rows = await OPTIMAL_DEPTH.read(join(dirname(answer.htmlPath), OPTIMAL_DEPTH.file));
        if (options.json) {
          const { answerCells } = await import('./answer-json.js');
          process.stdout.write(`${JSON.stringify(answerCells(rows, answer.blocks))}\n`);
          return;
        }
        const { formatWideTable } = await import('../lib/report/text-table.js');
        process.stdout.write(`${formatWideTable(rows, answer.blocks)}\nReport: ${answer.htmlPath}\n`);
        if (options.open) process.stdout.write(`${openInBrowser(answer.htmlPath)}\n`);
        return;
      }
      process.stdout.write(`${answer.text}\n`);
      if (options.open) process.stdout.write(`${openInBrowser(answer.htmlPath)}\n`);
    });
}
