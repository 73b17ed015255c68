/**
 * The engine's toy project (`toy-project/`: make-numbers -> square -> sum, its own config and
 * planner, no science) plus injectable faults, for the reliability suite and `make chaos`.
 *
 * Environment knobs, read in the worker for every instance:
 * - DEFROST_FAULT: `mode@match[;mode@match...]`; an instance whose stage, id or key contains
 *   `match` suffers `mode` before it writes anything:
 *     abort   process.abort() (what a crashing native kernel does: SIGABRT)
 *     sigkill the worker kills itself with SIGKILL (the OOM killer, `kill -9`)
 *     segv    the worker kills itself with SIGSEGV (a native segfault)
 *     oom     allocates until V8 runs out of heap (run with NODE_OPTIONS=--max-old-space-size=64)
 *     hang    spins synchronously forever, deaf to signals until killed (stuck native code)
 *     fill    writes to its output directory until the disk is full (ENOSPC in the stage)
 *     ballast runs normally, then fills the disk through DEFROST_FAULT_BALLAST (a file outside the
 *             store) so that the engine's own publishing writes hit ENOSPC
 *     enospc  writes part of an output, then fails as a write on a full disk does (a stub of `fill`
 *             for machines where a small tmpfs cannot be mounted)
 * - DEFROST_FAULT_ONCE_DIR: if set, each fault fires once per key (a marker file per key in this
 *   directory), so `--retries` can recover.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../pipeline/project.js';
import type { AnyStage, StageContext, StageOutcome } from '../pipeline/stage.js';
import toyProject from './toy-project/project.js';
import type { ToyConfig } from './toy-project/config.js';

export type FaultMode = 'abort' | 'sigkill' | 'segv' | 'oom' | 'hang' | 'fill' | 'ballast' | 'enospc';

interface Fault {
  readonly mode: FaultMode;
  readonly match: string;
}

/** Parses DEFROST_FAULT. */
export function parseFaults(text: string | undefined): Fault[] {
  if (!text) return [];
  return text
    .split(';')
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf('@');
      return { mode: part.slice(0, at) as FaultMode, match: part.slice(at + 1) };
    });
}

/** Writes zeros to `path` until the filesystem refuses (ENOSPC); returns how many bytes fitted. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'a');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // Fill the last partial chunk too, so that even a tiny write fails afterwards.
    for (let size = chunk.length >> 1; size >= 1; size >>= 1) {
      try {
        written += writeSync(fd, chunk.subarray(0, size));
      } catch {
        // keep halving
      }
    }
    return written;
  } finally {
    closeSync(fd);
  }
}

function injure(ctx: StageContext, fault: Fault): void {
  switch (fault.mode) {
    case 'abort':
      process.abort();
      break;
    case 'sigkill':
      process.kill(process.pid, 'SIGKILL');
      break;
    case 'segv':
      process.kill(process.pid, 'SIGSEGV');
      break;
    case 'oom': {
      const hoard: number[][] = [];
      for (;;) hoard.push(Array.from({ length: 1 << 16 }, (_, i) => i + hoard.length));
    }
    case 'hang':
      for (;;) {
        // busy: signals are not handled until the process is killed
      }
    case 'fill':
      fillDisk(join(ctx.outDir, 'ballast.bin')); // stops at ENOSPC; the next write throws it
      writeFileSync(join(ctx.outDir, 'after-full.bin'), Buffer.alloc(4096));
      break;
    case 'ballast':
      break; // after the stage's own outputs, below
    case 'enospc':
      writeFileSync(join(ctx.outDir, 'partial.bin'), Buffer.alloc(4096));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  }
}

function withFaults(stage: AnyStage): AnyStage {
  return {
    ...stage,
    async run(ctx: StageContext): Promise<StageOutcome> {
      const faults = parseFaults(process.env.DEFROST_FAULT).filter(
        (f) => ctx.stage.includes(f.match) || ctx.key.includes(f.match) || `${ctx.stage}${JSON.stringify(ctx.coords)}`.includes(f.match),
      );
      const onceDir = process.env.DEFROST_FAULT_ONCE_DIR;
      let active = faults;
      if (onceDir && faults.length > 0) {
        mkdirSync(onceDir, { recursive: true });
        const marker = join(onceDir, ctx.key);
        if (existsSync(marker)) active = [];
        else writeFileSync(marker, faults.map((f) => f.mode).join(','));
      }
      for (const f of active) if (f.mode !== 'ballast') injure(ctx, f);
      const outcome = await stage.run(ctx);
      if (active.some((f) => f.mode === 'ballast')) {
        const ballast = process.env.DEFROST_FAULT_BALLAST;
        if (!ballast) throw new Error('fault "ballast" needs DEFROST_FAULT_BALLAST');
        fillDisk(ballast);
      }
      return outcome;
    },
  };
}

const reliabilityProject: Project<ToyConfig> = {
  ...toyProject,
  name: 'defrost-reliability',
  stages: Object.fromEntries(Object.entries(toyProject.stages).map(([name, stage]) => [name, withFaults(stage)])),
};

export default reliabilityProject;
