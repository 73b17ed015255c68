/**
 * Training throughput of the ResNet-8-like ONNX fixture in defrost (docs/performance.md#imported-networks):
 * batch 64, Adam, one thread, the training loop's own step (train-step.ts: the libtorch step
 * where it is built, else TensorFlow.js's), at every frozen-prefix depth 0..4 (blocks 1..l frozen,
 * as a transfer at depth l trains it). Each depth runs for S seconds of CPU time after two
 * warm-up steps; prints one JSON line per depth with samples per second of CPU time (which a
 * shared machine disturbs far less than wall time) and per wall second. The PyTorch side is
 * bench/torch_resnet8.py; scripts/bench-resnet8.mjs runs both and compares them.
 *
 *   node dist/bench/onnx-resnet8.js [--seconds S] [--backend wasm-blas]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendChoice } from '../stages/lib/models/backend.js';
import { blockCount } from '../stages/lib/models/models.js';
import { canonicalSourceNetwork, targetNetworkLike } from '../stages/lib/models/source-network/canonical.js';
import { deriveBlocks, readSourceModel } from '../stages/lib/models/source-network/topology.js';
import { createStepper } from '../stages/lib/models/train-step.js';
import { prepareTransfer } from '../stages/lib/models/transfer.js';
import { Rng } from '../stages/lib/random.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(option('--seconds', '5'));
await selectBackend(option('--backend', 'wasm-blas') as BackendChoice, 1);
const file = join(root, 'test', 'fixtures', 'onnx', 'resnet8-opset13.onnx');
const model = readSourceModel(file);
const source = await canonicalSourceNetwork(model, deriveBlocks(file, model.topology, null));
const batch = 64;
const rng = new Rng(0, 'bench/resnet8');
const x = new Float32Array(batch * 32 * 32 * 3).map(() => rng.normal());
const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
for (let depth = 0; depth <= blockCount(source); depth++) {
  const target = await targetNetworkLike(source, 10, 0, 'target/init');
  prepareTransfer(target, source, 'defrost', depth);
  const stepper = createStepper(target, { kind: 'adam', learningRate: 1e-3, momentum: 0, classes: 10 });
  for (let k = 0; k < 2; k++) stepper.step(x, y, batch);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let steps = 0;
  const used = (): number => {
    const { user, system } = process.cpuUsage(cpu0);
    return (user + system) / 1e6;
  };
  while (used() < seconds) {
    stepper.step(x, y, batch);
    steps++;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpuSeconds = used();
  console.log(
    JSON.stringify({
      side: 'defrost',
      depth,
      step: stepper.kind,
      steps,
      samples_per_cpu_s: Number(((steps * batch) / cpuSeconds).toFixed(1)),
      samples_per_s: Number(((steps * batch) / wall).toFixed(1)),
    }),
  );
  stepper.dispose();
  target.dispose();
}
source.dispose();
