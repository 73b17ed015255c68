/**
 * `defrost bench train [--model mlp|cnn] [--backend B] [--threads N] [--seconds S] [--json]`
 * (docs/benchmarks.md): training throughput of the reference networks on a chosen compute backend.
 * TensorFlow.js is loaded only inside the action, so registering the command stays cheap.
 */
import type { Command } from 'commander';
import { UsageError } from '../../pipeline/errors.js';
import { parseBackendChoice } from '../lib/models/backend.js';

function positiveNumber(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${option}: got ${JSON.stringify(text)}; allowed: a positive number`);
  }
  return value;
}

function positiveInteger(text: string, option: string): number {
  const value = positiveNumber(text, option);
  if (!Number.isInteger(value)) {
    throw new UsageError(`${option}: got ${JSON.stringify(text)}; allowed: a positive integer`);
  }
  return value;
}

interface BenchTrainFlags {
  model: string;
  backend?: string;
  threads: string;
  seconds: string;
  warmup: string;
  json?: boolean;
}

export function registerBenchCommand(program: Command): void {
  const bench = program.command('bench').description('measure compute throughput');
  bench
    .command('train')
    .description('training throughput (samples/s) of the reference MLP or CNN with Adam')
    .option('--model <model>', 'mlp (784-512-512-512-10, batch 128) or cnn (28x28x1, batch 64)', 'mlp')
    .option('--backend <backend>', 'auto|tensorflow|wasm-blas|wasm|cpu (default: DEFROST_BACKEND or auto)')
    .option('--threads <n>', 'compute threads', '1')
    .option('--seconds <s>', 'seconds to measure after warm-up', '3')
    .option('--warmup <s>', 'seconds of warm-up', '1')
    .option('--json', 'print one JSON object: {"model","backend","samples_per_s"}')
    .action(async (flags: BenchTrainFlags) => {
      if (flags.model !== 'mlp' && flags.model !== 'cnn') {
        throw new UsageError(`--model: got ${JSON.stringify(flags.model)}; allowed: mlp, cnn`);
      }
      const model = flags.model;
      const choice = parseBackendChoice(flags.backend ?? process.env.DEFROST_BACKEND, '--backend');
      const threads = positiveInteger(flags.threads, '--threads');
      const seconds = positiveNumber(flags.seconds, '--seconds');
      const warmup = Number(flags.warmup);
      if (!Number.isFinite(warmup) || warmup < 0) {
        throw new UsageError(`--warmup: got ${JSON.stringify(flags.warmup)}; allowed: a number >= 0`);
      }
      const { selectBackend } = await import('../lib/models/backend.js');
      const runtime = await selectBackend(choice, threads);
      if (!flags.json) {
        for (const note of runtime.notes) process.stderr.write(`note: ${note}\n`);
      }
      const { benchTrain } = await import('./bench-train.js');
      const result = await benchTrain({ model, seconds, warmup });
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ model, backend: runtime.backend, samples_per_s: result.samples_per_s, samples_per_cpu_s: result.samples_per_cpu_s, threads, steps: result.steps })}\n`,
        );
      } else {
        process.stdout.write(
          `${model} on ${runtime.backend} (${threads} thread${threads === 1 ? '' : 's'}): ` +
            `${result.samples_per_s} samples/s (${result.steps} steps of ${result.batch_size})\n`,
        );
      }
    });
}
