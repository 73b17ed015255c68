/**
 * A report section contributed by a stage beyond the sweep (docs/architecture.md, "Adding a
 * stage"): "Can l* be predicted?" is the `predict` stage's. A section declares, from its own
 * modules, everything `aggregate`, the planner and the report need, so none of them names it:
 * - `stages`: the stages whose instances `aggregate` reads for it (members of its `runs` input);
 * - `outputs`: the tables it adds to the aggregate instance (declared outputs of `aggregate`);
 * - `plan`: adds its instances to the study's plan, per correlation, and returns those that
 *   `aggregate` reads;
 * - `load`: the builder that writes its tables and returns its HTML and text, loaded on demand
 *   (apache-arrow and vega are heavy; the scheduler loads every stage module on each run).
 * The sections are listed in `sections.ts`.
 */
import type { InstanceRef, PlanBuilder } from '../../../pipeline/plan-builder.js';
import type { OutputDecls } from '../../../pipeline/stage.js';
import type { ReportTables, RunRecord } from './types.js';

/** What a section's stage must offer `aggregate`'s `runs` input: its name and declared outputs. */
export interface SectionStage<N extends string = string> {
  readonly name: N;
  readonly outputs: OutputDecls;
}

/** What the study's planner offers a section for one correlation (null: an image task). */
export interface SectionPlanContext<C> {
  readonly plan: PlanBuilder;
  /** The study's config (the project's config type: this library does not know it). */
  readonly config: C;
  readonly correlation: number | null;
  /** The target dataset of this correlation. */
  readonly data: InstanceRef<'generate-data'>;
  /** The source network of a training seed (the imported one with `source_model`, docs/your-data.md). */
  source(seed: number): InstanceRef<'train-source' | 'import-source'>;
  /** The target network trained from scratch on n samples with a seed (planned once per id). */
  scratch(n: number, seed: number): InstanceRef<'train-scratch'>;
  /** Source vs target reference network. */
  readonly similarity: InstanceRef<'similarity'>;
}

/** What a section's builder gets: every planned run (published or not) and the sweep's tables. */
export interface SectionInput {
  readonly runs: readonly RunRecord[];
  readonly tables: ReportTables;
  /** The aggregate instance's directory (or a partial report's): where `outputs` are written. */
  readonly outDir: string;
}

/** A built section: its HTML (after the charts) and a text summary for the log. */
export interface SectionOutput {
  /** Its heading, for the page's top links (the HTML is a `<section>` whose id is the section's `id`). */
  readonly title: string;
  readonly html: string;
  readonly text: string;
  /** Text the terminal answer (`optimal_depth.txt`) ends with, after the l* table; absent: none. */
  readonly answer?: string;
}

/** Builds a section; null when the runs hold nothing for it (nothing is written then). */
export type SectionBuilder = (input: SectionInput) => Promise<SectionOutput | null>;

export interface ReportSection<S extends SectionStage = SectionStage, C = unknown> {
  /** Names the section (`prediction`). */
  readonly id: string;
  readonly stages: readonly S[];
  /** Written only when the plan has instances of `stages`, so declare them optional. */
  readonly outputs: OutputDecls;
  plan(ctx: SectionPlanContext<C>): InstanceRef<S['name']>[];
  load(): Promise<SectionBuilder>;
}
