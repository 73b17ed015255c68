/**
 * The toy project's config: a list of values, how many numbers each makes, an offset added to
 * every square and how many of the largest squares the sum keeps. Small on purpose — the engine
 * tests need a schema with sections, defaults, an enum and a cross-field rule, nothing more.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../../pipeline/project.js';

export const numbersSchema = z.strictObject({
  /** One `make-numbers` and one `square` instance per value. */
  values: z.array(z.number().int()).min(1),
  /** How many numbers each `make-numbers` instance writes. */
  length: z.number().int().min(1).max(1000).default(4),
});

export const squareSchema = z.strictObject({
  /** Added to every square. */
  offset: z.number().default(0),
});

export const sumSchema = z.strictObject({
  /** How many of each input's largest squares enter the sum (at most `numbers.length`). */
  top: z.number().int().min(1).default(3),
  /** `plain` adds the kept squares; `mean` divides by their count. */
  kind: z.enum(['plain', 'mean']).default('plain'),
});

export const toyConfigSchema = z.strictObject({
  numbers: numbersSchema,
  square: squareSchema.default({ offset: 0 }),
  sum: sumSchema.default({ top: 3, kind: 'plain' }),
});

export type ToyConfig = z.output<typeof toyConfigSchema>;

/** The rule the schema cannot express: the sum cannot keep more squares than there are. */
export function checkToyConfig(config: ToyConfig): ConfigIssue[] {
  if (config.sum.top <= config.numbers.length) return [];
  return [{ key: 'sum.top', value: config.sum.top, allowed: `an integer from 1 to numbers.length = ${config.numbers.length}` }];
}
