/**
 * Hostile user inputs for `make chaos` (issue 27; docs/reliability.md, "Your files"), run once per
 * soak through the real CLI on defrost's own project: special files (FIFOs, a link to /dev/zero,
 * dangling links and link loops in an image folder), broken networks (an LSTM, a transposed kernel,
 * a NaN weight, weights from outside the model's folder, 1e9 units over a sparse 400 GB file; an
 * ONNX FIFO and an ONNX network with a NaN initializer), sizes past the limits (a sparse 3 GB CSV,
 * 2 GB model.json and 2 GB .onnx, 20000x20000 and 30000x30000 image
 * sizes, a 4000x4000 size the network cannot take), and a study whose data are edited between
 * `defrost make` and `defrost exec`. Every command must end within 30 s without a stack trace,
 * refused with exit 2 (the edited data: the instance fails, exit 1, and nothing is published:
 * zero poisoned results); nothing outside the stores may change (zero escapes). The large inputs'
 * wall time and peak memory are printed (the targets: under 5 s and 500 MB).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../../test/recommend-fixture.js';
import { studyConfig, writeBlobsCsv } from '../../test/file-data-fixtures.js';
import {
  editedNetwork,
  FEATURES_KERNEL_AT,
  layerOf,
  measuredCli,
  STACK_TRACE,
  weightOf,
  type Measured,
} from '../../test/hostile-input-kit.js';
import { editedFixture } from '../../test/onnx-fixtures.js';
import { snapshot } from './hostile.js';

type Recorder = (kind: string, ok: boolean, detail: string) => void;

/** One hostile input: what to run, and the exit code it must end with. */
interface Shape {
  readonly name: string;
  readonly args: readonly string[];
  readonly exit: number;
  /** Printed with its wall time and peak memory (the large inputs). */
  readonly measured?: boolean;
}

export async function hostileInputs(dir: string, record: Recorder): Promise<string[]> {
  const f = await fixture();
  const sentinel = join(dir, 'sentinel');
  mkdirSync(join(sentinel, 'notes'), { recursive: true });
  writeFileSync(join(sentinel, 'thesis.tex'), '\\chapter{One}\n');
  writeFileSync(
    join(sentinel, 'secret.bin'),
    readFileSync(
      join(
        f.model,
        '..',
        readdirSync(join(f.model, '..')).find((n) => n.endsWith('.bin'))!,
      ),
    ),
  );
  const sentinelBefore = snapshot(sentinel);
  const store = join(dir, 'store');
  const recommend = (model: string, data: string, ...more: string[]): string[] => [
    'recommend',
    '--model',
    model,
    '--data',
    data,
    '--store',
    store,
    '--set',
    'train.epochs=1',
    ...more,
  ];
  const net = (name: string, edit: Parameters<typeof editedNetwork>[2]): string => editedNetwork(f.model, join(dir, 'nets', name), edit);
  const good = join(dir, 'good.csv');
  writeFileSync(good, 'a,b\n1,2\n3,4\n5,6\n');
  execFileSync('mkfifo', [join(dir, 'fifo.csv')]);
  symlinkSync('/dev/zero', join(dir, 'zero.csv'));
  mkdirSync(join(dir, 'fifo-net'));
  execFileSync('mkfifo', [join(dir, 'fifo-net', 'model.json')]);
  const images = (name: string, plant: (folder: string) => void): string => {
    const folder = join(dir, name);
    cpSync(f.images, folder, { recursive: true });
    plant(join(folder, 'hats'));
    return folder;
  };
  writeFileSync(join(dir, 'fifo-study.yaml'), studyConfig(join(dir, 'fifo.csv')));
  writeBlobsCsv(join(dir, 'blobs.csv'), 10);
  writeFileSync(
    join(dir, 'huge-images.yaml'),
    studyConfig(join(dir, 'blobs.csv')).replace('  source_size:', '  images: {size: [30000, 30000]}\n  source_size:'),
  );
  writeFileSync(join(dir, 'big.csv'), 'label,x\n');
  truncateSync(join(dir, 'big.csv'), 3 * 2 ** 30);
  mkdirSync(join(dir, 'big-net'));
  writeFileSync(join(dir, 'big-net', 'model.json'), '{');
  truncateSync(join(dir, 'big-net', 'model.json'), 2 * 2 ** 30);
  execFileSync('mkfifo', [join(dir, 'fifo.onnx')]);
  writeFileSync(join(dir, 'big.onnx'), '');
  truncateSync(join(dir, 'big.onnx'), 2 * 2 ** 30);
  writeFileSync(
    join(dir, 'nan.onnx'),
    editedFixture('mobile-opset13.onnx', (m) => {
      const bias = m.graph?.initializer?.find((t) => t.rawData && t.rawData.length >= 4 && t.dims?.length === 1);
      if (bias?.rawData) {
        const raw = Buffer.from(bias.rawData);
        raw.writeFloatLE(Number.NaN, 0);
        bias.rawData = raw;
      }
    }),
  );

  const shapes: Shape[] = [
    { name: 'FIFO as a compare input', args: ['compare', join(dir, 'fifo.csv'), good], exit: 2 },
    { name: '/dev/zero link as a compare input', args: ['compare', join(dir, 'zero.csv'), good], exit: 2 },
    { name: 'FIFO as model.json', args: recommend(join(dir, 'fifo-net', 'model.json'), f.images), exit: 2 },
    {
      name: 'FIFO in an image folder',
      args: recommend(
        f.model,
        images('fifo-images', (d) => execFileSync('mkfifo', [join(d, 'x.png')])),
      ),
      exit: 2,
    },
    { name: 'FIFO as a study dataset (status)', args: ['status', join(dir, 'fifo-study.yaml'), '--store', store], exit: 2 },
    {
      name: 'dangling link in an image folder',
      args: recommend(
        f.model,
        images('dangling', (d) => symlinkSync(join(d, 'none.png'), join(d, 'x.png'))),
      ),
      exit: 2,
    },
    {
      name: 'link loop in an image folder',
      args: recommend(
        f.model,
        images('loop', (d) => {
          symlinkSync(join(d, 'b.png'), join(d, 'a.png'));
          symlinkSync(join(d, 'a.png'), join(d, 'b.png'));
        }),
      ),
      exit: 2,
    },
    {
      name: 'LSTM layer',
      args: recommend(
        net('lstm', (j) => void (layerOf(j, 'mid_relu').class_name = 'LSTM')),
        f.images,
      ),
      exit: 2,
    },
    {
      name: 'transposed kernel',
      args: recommend(
        net('transposed', (j) => void (weightOf(j, 'features/kernel').shape = [8, 96])),
        f.images,
      ),
      exit: 2,
    },
    {
      name: 'NaN weight',
      args: recommend(
        net('nan', (j, d) => {
          const shard = join(d, j.weightsManifest[0].paths[0]);
          const bytes = readFileSync(shard);
          bytes.writeFloatLE(Number.NaN, 4 * (FEATURES_KERNEL_AT + 3));
          writeFileSync(shard, bytes);
        }),
        f.images,
      ),
      exit: 2,
    },
    {
      name: "weights from outside the model's folder",
      args: recommend(
        net('escape', (j) => void (j.weightsManifest[0].paths = [join('..', '..', 'sentinel', 'secret.bin')])),
        f.images,
      ),
      exit: 2,
    },
    {
      name: '1e9 units over a sparse weight file',
      args: recommend(
        net('units', (j, d) => {
          layerOf(j, 'features').config.units = 1e9;
          weightOf(j, 'features/kernel').shape = [96, 1e9];
          weightOf(j, 'features/bias').shape = [1e9];
          weightOf(j, 'probabilities/kernel').shape = [1e9, 3];
          truncateSync(join(d, j.weightsManifest[0].paths[0]), 4 * (FEATURES_KERNEL_AT + 96e9 + 1e9 + 3e9 + 3));
        }),
        f.images,
      ),
      exit: 2,
      measured: true,
    },
    { name: '--image-size 20000x20000', args: recommend(f.model, f.images, '--image-size', '20000x20000'), exit: 2, measured: true },
    {
      name: '--image-size 4000x4000 (does not fit)',
      args: recommend(f.model, f.images, '--image-size', '4000x4000'),
      exit: 2,
      measured: true,
    },
    { name: 'FIFO as an .onnx', args: recommend(join(dir, 'fifo.onnx'), f.images), exit: 2 },
    { name: 'NaN in an ONNX initializer', args: recommend(join(dir, 'nan.onnx'), f.images), exit: 2 },
    { name: '2 GB .onnx', args: recommend(join(dir, 'big.onnx'), f.images), exit: 2, measured: true },
    { name: '3 GB CSV', args: recommend(f.model, join(dir, 'big.csv')), exit: 2, measured: true },
    { name: '2 GB model.json', args: recommend(join(dir, 'big-net', 'model.json'), f.images), exit: 2, measured: true },
    { name: 'task.images.size 30000x30000', args: ['status', join(dir, 'huge-images.yaml'), '--store', store], exit: 2, measured: true },
  ];
  const lines: string[] = [];
  const check = (name: string, r: Measured, exit: number): void => {
    record('hostile input: command ends within 30 s', r.code !== null, `${name}: killed after ${r.seconds.toFixed(1)} s`);
    record('hostile input: no stack trace', !STACK_TRACE.test(r.stderr), `${name}: ${r.stderr.slice(0, 300)}`);
    record('hostile input: refused as it should be', r.code === exit, `${name}: exit ${r.code}, wanted ${exit}: ${r.stderr.slice(0, 300)}`);
  };
  for (const shape of shapes) {
    const r = measuredCli(dir, shape.args);
    check(shape.name, r, shape.exit);
    if (shape.measured) {
      record(
        'hostile input: large input refused within 5 s and 500 MB',
        r.seconds < 5 && r.peakMb < 500,
        `${shape.name}: ${r.seconds} s, ${r.peakMb} MB`,
      );
      lines.push(`${shape.name.padEnd(40)} exit ${r.code}  ${r.seconds.toFixed(1).padStart(5)} s  ${r.peakMb.toFixed(0).padStart(4)} MB`);
    }
  }

  // Data edited between planning and running: the instance fails, nothing is published.
  const study = join(dir, 'study');
  mkdirSync(study, { recursive: true });
  const csv = join(study, 'blobs.csv');
  writeBlobsCsv(csv, 140);
  writeFileSync(join(study, 'study.yaml'), studyConfig(csv));
  const studyStore = join(study, 'store');
  check('defrost make', measuredCli(study, ['make', join(study, 'study.yaml'), '--store', studyStore]), 0);
  const planned = existsSync(join(studyStore, '.plans', 'generate-data')) ? readdirSync(join(studyStore, '.plans', 'generate-data')) : [];
  writeFileSync(csv, readFileSync(csv, 'utf8').replace(/\n(a,)[-0-9.]+/, '\n$19.5'));
  for (const name of planned) {
    const key = name.slice(0, 16);
    check('exec on edited data', measuredCli(study, ['exec', 'generate-data', key, '--store', studyStore]), 1);
    record('hostile input: zero poisoned results', !existsSync(join(studyStore, 'generate-data', key, 'manifest.json')), key);
  }
  record('hostile input: zero escapes outside the store', snapshot(sentinel) === sentinelBefore, sentinel);
  rmSync(f.dir, { recursive: true, force: true });
  return lines;
}
