#!/usr/bin/env node
// Builds the OpenBLAS kernels for TensorFlow.js's wasm backend (native/, an N-API addon) with
// node-gyp. Run by `make native` (part of `make setup`). Never fails set-up: without OpenBLAS or
// a compiler, defrost still runs on plain wasm, and this says so. When OpenBLAS is missing and we
// are root, it is installed with apt-get (libopenblas-dev), as CI does on a fresh machine.
//
// npm does not run packages' install scripts here, so the addon is built explicitly, and only
// when a source is newer than the built addon.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastGlob from 'fast-glob';
import { $, which } from 'zx';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'defrost_kernels.node');
const say = (message) => console.log(`native kernels: ${message}`);

const libraryDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
const headerPaths = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h', '/usr/local/include/cblas.h'];

function hasOpenBlas() {
  const library = libraryDirs.some((dir) => existsSync(join(dir, 'libopenblas.so')));
  const header = headerPaths.some((path) => existsSync(path));
  return library && header;
}

/** `apt-get ARGS` non-interactively, its output on the terminal; true when it succeeded. */
async function aptGet(args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return (await $({ env, stdio: 'inherit', nothrow: true })`apt-get ${args}`).exitCode === 0;
}

async function installOpenBlas() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = (await which('apt-get', { nothrow: true })) !== null;
  if (!isRoot || !hasApt) {
    say(
      'OpenBLAS (libopenblas-dev) is missing and cannot be installed here ' +
        `(${isRoot ? 'no apt-get' : 'not root'}); install it with ` +
        '`sudo apt-get install -y libopenblas-dev` and rerun `make native`. ' +
        'defrost will run on the plain wasm backend meanwhile.',
    );
    return false;
  }
  say('OpenBLAS is missing; installing libopenblas-dev with apt-get');
  const install = ['install', '-y', '--no-install-recommends', 'libopenblas-dev'];
  if (!(await aptGet(install))) {
    await aptGet(['update']);
    if (!(await aptGet(install))) {
      say('apt-get could not install libopenblas-dev; defrost will run on the plain wasm backend');
      return false;
    }
  }
  return hasOpenBlas();
}

function newestSource() {
  const files = fastGlob.sync(['binding.gyp', 'src/**'], { cwd: nativeDir, absolute: true });
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

function nodeGypScript() {
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

async function main() {
  if (!hasOpenBlas() && !(await installOpenBlas())) return;
  if (existsSync(addon) && statSync(addon).mtimeMs >= newestSource()) {
    say(`up to date (${addon})`);
    return;
  }
  const gyp = nodeGypScript();
  if (gyp === null) {
    say('node-gyp is not installed (a devDependency: run `npm install`); defrost will run on plain wasm');
    return;
  }
  say('building with node-gyp against the system OpenBLAS');
  // Node's headers: npm's nodedir when configured (here /usr), else node-gyp's own lookup.
  const args = [gyp, 'rebuild', '-C', nativeDir, '--loglevel=warn'];
  const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if ((await $({ cwd: root, stdio: 'inherit', nothrow: true })`${process.execPath} ${args}`).exitCode !== 0) {
    say('the build failed (see above); defrost will run on the plain wasm backend');
    return;
  }
  say(`built ${addon}`);
}

await main();
