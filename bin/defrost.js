#!/usr/bin/env node
// Entry point of the `defrost` command. The CLI is compiled TypeScript in dist/; see
// stages/cli.ts (the defrost project) and pipeline/cli/ (the generic engine commands).
import { main } from '../dist/stages/cli.js';

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
