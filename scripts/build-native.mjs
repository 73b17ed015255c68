#!/usr/bin/env node
// Builds defrost's two N-API addons with node-gyp. Run by `make native` (part of `make setup`).
// Never fails set-up: without a library or a compiler, defrost still runs, and this says so. A
// missing system library is installed with apt-get when we are root, as CI does on a fresh
// machine; otherwise the command to install it is printed.
//
// - native/ (defrost_kernels.node): OpenBLAS kernels for TensorFlow.js's wasm backend and the
//   native training step of chains (libopenblas-dev); without it, plain wasm.
// - native/torch/ (defrost_torch.node): the training step of imported graphs on libtorch,
//   PyTorch's C++ library (libtorch-dev, docs/backends.md#imported-networks); without it, such
//   graphs train on TensorFlow.js's step.
//
// npm does not run packages' install scripts here, so the addons are built explicitly, and only
// when a source is newer than the built addon.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastGlob from 'fast-glob';
import { $, which } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');

const libraryDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
const hasLibrary = (file) => libraryDirs.some((dir) => existsSync(join(dir, file)));
const blasHeaders = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h', '/usr/local/include/cblas.h'];

const addons = [
  {
    label: 'native kernels',
    library: 'OpenBLAS',
    aptPackage: 'libopenblas-dev',
    dir: nativeDir,
    sources: ['binding.gyp', 'src/**'],
    file: join(nativeDir, 'build', 'Release', 'defrost_kernels.node'),
    present: () => hasLibrary('libopenblas.so') && blasHeaders.some((path) => existsSync(path)),
    without: 'defrost will run on the plain wasm backend',
  },
  {
    label: 'libtorch step',
    library: 'libtorch',
    aptPackage: 'libtorch-dev',
    dir: join(nativeDir, 'torch'),
    // Shared with the OpenBLAS addon: adam.cc (the same update formulas) and the trainer calls'
    // argument checks (napi-args.h, napi-trainer-args.h).
    sources: ['binding.gyp', 'src/**', '../src/adam.*', '../src/napi-*.h'],
    file: join(nativeDir, 'torch', 'build', 'Release', 'defrost_torch.node'),
    present: () => hasLibrary('libtorch_cpu.so') && existsSync('/usr/include/ATen/ATen.h'),
    without: "imported network graphs will train on TensorFlow.js's step (several times slower)",
  },
];

/** `apt-get ARGS` non-interactively, its output on the terminal; true when it succeeded. */
async function aptGet(args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return (await $({ env, stdio: 'inherit', nothrow: true })`apt-get ${args}`).exitCode === 0;
}

async function install(addon, say) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = (await which('apt-get', { nothrow: true })) !== null;
  if (!isRoot || !hasApt) {
    say(
      `${addon.library} (${addon.aptPackage}) is missing and cannot be installed here ` +
        `(${isRoot ? 'no apt-get' : 'not root'}); install it with ` +
        `\`sudo apt-get install -y ${addon.aptPackage}\` and rerun \`make native\`. ` +
        `Meanwhile ${addon.without}.`,
    );
    return false;
  }
  say(`${addon.library} is missing; installing ${addon.aptPackage} with apt-get`);
  const args = ['install', '-y', '--no-install-recommends', addon.aptPackage];
  if (!(await aptGet(args))) {
    await aptGet(['update']);
    if (!(await aptGet(args))) {
      say(`apt-get could not install ${addon.aptPackage}; ${addon.without}`);
      return false;
    }
  }
  return addon.present();
}

function newestSource(addon) {
  const files = fastGlob.sync(addon.sources, { cwd: addon.dir, absolute: true });
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

function nodeGypScript() {
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

/** The addon's system library is there, or was just installed; otherwise it says what to do. */
async function libraryReady(addon) {
  const say = (message) => console.log(`${addon.label}: ${message}`);
  return addon.present() || (await install(addon, say));
}

/**
 * node-gyp rebuild of one addon, with `make -j` on every core. Its output is captured and printed
 * when it ends, under the addon's label, so that two builds running at once stay readable.
 */
async function build(addon) {
  const lines = [];
  const say = (message) => lines.push(`${addon.label}: ${message}`);
  try {
    if (existsSync(addon.file) && statSync(addon.file).mtimeMs >= newestSource(addon)) {
      say(`up to date (${addon.file})`);
      return;
    }
    const gyp = nodeGypScript();
    if (gyp === null) {
      say(`node-gyp is not installed (a devDependency: run \`npm install\`); ${addon.without}`);
      return;
    }
    say(`building with node-gyp against the system ${addon.library}`);
    // Node's headers: npm's nodedir when configured (here /usr), else node-gyp's own lookup.
    const args = [gyp, 'rebuild', '-C', addon.dir, '--loglevel=warn', '--jobs=max'];
    const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
    if (nodedir) args.push(`--nodedir=${nodedir}`);
    // Not the flags of a make that runs this (make test's -j2): node-gyp's make gets its own -j.
    const env = { ...process.env };
    for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL']) delete env[name];
    const result = await $({ cwd: root, env, quiet: true, nothrow: true })`${process.execPath} ${args}`;
    if (result.stdout.trim() !== '') lines.push(result.stdout.trimEnd());
    if (result.stderr.trim() !== '') lines.push(result.stderr.trimEnd());
    say(result.exitCode === 0 ? `built ${addon.file}` : `the build failed (see above); ${addon.without}`);
  } finally {
    console.log(lines.join('\n'));
  }
}

// Libraries one at a time (apt-get holds dpkg's lock), then both builds at once: on two cores the
// libtorch addon's compile, the longest, no longer waits for the kernels'.
const ready = [];
for (const addon of addons) if (await libraryReady(addon)) ready.push(addon);
await Promise.all(ready.map(build));
