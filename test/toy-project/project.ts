/**
 * A toy project for the engine's tests: `make-numbers` -> `square` -> `sum`, pure JavaScript
 * with its own config schema and planner, so the engine tests' instance counts and behaviour do
 * not move when the science (stages/) changes. For `numbers.values` of length V the plan has
 * V make-numbers, V square and 1 sum instance.
 *
 * The stages' code fingerprints are the files `toy/<stage>.ts` under DEFROST_TOY_CODE_ROOT
 * (the tests' sandbox writes them, and edits them to change a stage's code); see runtime.ts for
 * the other environment knobs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlanBuilder } from '../../pipeline/plan-builder.js';
import type { Project } from '../../pipeline/project.js';
import type { InstanceSpec } from '../../pipeline/stage.js';
import { checkToyConfig, toyConfigSchema, type ToyConfig } from './config.js';
import { makeNumbersStage } from './make-numbers.js';
import { squareStage } from './square.js';
import { sumStage } from './sum.js';

export const TOY_STAGES = [makeNumbersStage, squareStage, sumStage] as const;

export function planToy(config: ToyConfig): InstanceSpec[] {
  const plan = new PlanBuilder();
  const squares = config.numbers.values.map((value) => {
    const numbers = plan.add(makeNumbersStage, { value }, { numbers: { length: config.numbers.length }, value }, {});
    return plan.add(squareStage, { value }, { square: config.square }, { numbers });
  });
  plan.add(sumStage, {}, { sum: config.sum }, { runs: squares });
  return plan.specs();
}

// Without DEFROST_TOY_CODE_ROOT the modules exist nowhere and planning says so; importing this
// module must not throw (a test runner may load it on its own).
const codeRoot = process.env.DEFROST_TOY_CODE_ROOT ?? '/nonexistent-toy-code-root';

const toyProject: Project<ToyConfig> = {
  name: 'toy',
  version: '0.0.0',
  codeRoot,
  stages: Object.fromEntries(TOY_STAGES.map((s) => [s.name, s])),
  configSchema: toyConfigSchema,
  check: checkToyConfig,
  plan: planToy,
  backends: ['toy'],
  resources: () => ({ cpus: 1, mem: '1G', time: '00:05:00' }),
  async initRuntime() {
    return { backend: 'toy', notes: [], versions: { toy: '1' } };
  },
  async afterRun(instances) {
    return `toy after-run: ${instances.filter((i) => i.published).length} published`;
  },
  // A headline answer with a plausible set, for `runs show` and `runs diff`: `sum.top` stands for
  // a chosen depth, and the values within 1 of it for the ones the data cannot tell apart.
  async answer(published) {
    const sum = published.find((p) => p.stage === 'sum');
    if (sum === undefined) return null;
    const manifest = JSON.parse(readFileSync(join(sum.dir, 'manifest.json'), 'utf8')) as { params: { sum: { top: number } } };
    const top = manifest.params.sum.top;
    return { values: { top }, plausible: { top: [top - 1, top, top + 1] } };
  },
};

export default toyProject;
