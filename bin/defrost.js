#!/usr/bin/env node
// Entry point of the `defrost` command. The CLI is compiled TypeScript in dist/; see
// stages/cli.ts (the defrost project) and pipeline/cli/ (the generic engine commands).
// Before loading dist/, the build is checked against its sources (scripts/build.mjs): a
// stale build is rebuilt, or the command exits 2, so the code that runs is the code that the
// stage fingerprints describe.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureFreshBuild } from '../scripts/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const problem = await ensureFreshBuild(root);
if (problem !== null) {
  console.error(`defrost: ${problem}`);
  process.exit(2);
}
const { main } = await import('../dist/stages/cli.js');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // main() turns every expected failure into an exit code; reaching here is a bug.
    console.error('defrost: internal error:', error);
    process.exitCode = 70;
  },
);
