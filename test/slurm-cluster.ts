/**
 * Test helper (no tests here): makes sure a Slurm cluster answers for the `slurm-*` tests. When
 * Slurm is not already there it runs `scripts/slurm/up.sh` (which installs Debian's slurm-wlm and
 * munge when missing, as root) and `stopCluster` runs `down.sh` afterwards, so a test run leaves
 * nothing behind; a cluster that was already up is left as it was.
 *
 * Several test runs may share this machine's one cluster (two worktrees' `make test`, a CI run
 * beside a developer's). Each run registers itself under `USERS_DIR` while it uses the cluster,
 * and the cluster comes down only when the last registered run that is still alive leaves and a
 * test run (not a person) brought it up — otherwise one run's `down.sh` would cancel the other
 * run's jobs and restart the controller under it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is compiled to dist/test/). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ClusterHandle {
  readonly startedHere: boolean;
}

function sinfoIdle(): boolean {
  // sinfo retries for ~10 s when no controller answers; a running one answers in milliseconds.
  const out = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 3_000 });
  return out.status === 0 && /^(idle|mix|alloc|comp)$/m.test(out.stdout);
}

/** Where the test runs using the cluster register (one file per process id). */
const USERS_DIR = '/tmp/defrost-slurm-test-users';
/** Present while a test run's `up.sh` started the cluster: the last run to leave brings it down. */
const STARTED_BY_TESTS = join(USERS_DIR, 'started-by-tests');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Process ids of the registered runs still alive (files of dead runs are removed). */
function liveUsers(): number[] {
  const live: number[] = [];
  for (const name of readdirSync(USERS_DIR)) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    if (alive(pid)) live.push(pid);
    else rmSync(join(USERS_DIR, name), { force: true });
  }
  return live;
}

/** Brings the single-node cluster up unless Slurm already answers; throws with up.sh's output otherwise. */
export function ensureCluster(): ClusterHandle {
  mkdirSync(USERS_DIR, { recursive: true });
  writeFileSync(join(USERS_DIR, String(process.pid)), '');
  if (sinfoIdle()) return { startedHere: false };
  const up = spawnSync('bash', [join(repoRoot, 'scripts/slurm/up.sh')], { encoding: 'utf8', timeout: 300_000 });
  if (up.status !== 0 || !sinfoIdle())
    throw new Error(`could not bring up the Slurm test cluster (scripts/slurm/up.sh exit ${up.status}):\n${up.stderr}${up.stdout}`);
  writeFileSync(STARTED_BY_TESTS, '');
  return { startedHere: true };
}

/** Leaves the cluster; the last live test run leaves nothing behind when a test run started it. */
export function stopCluster(handle: ClusterHandle): void {
  rmSync(join(USERS_DIR, String(process.pid)), { force: true });
  if (liveUsers().length > 0) return;
  if (!handle.startedHere && !existsSync(STARTED_BY_TESTS)) return;
  rmSync(STARTED_BY_TESTS, { force: true });
  spawnSync('bash', [join(repoRoot, 'scripts/slurm/down.sh')], { encoding: 'utf8', timeout: 60_000 });
}

/** Names of the jobs Slurm lists in the given states (default: pending/running/completing). */
export function queuedJobNames(options: { all?: boolean; ids?: readonly string[] } = {}): string[] {
  const args = ['-h', '-o', '%j'];
  if (options.all) args.push('--states=all');
  if (options.ids) {
    if (options.ids.length === 0) return [];
    args.push(`--jobs=${options.ids.join(',')}`);
  }
  const out = spawnSync('squeue', args, { encoding: 'utf8', timeout: 10_000 });
  if (out.status !== 0) {
    if (/Invalid job id/i.test(out.stderr)) return [];
    throw new Error(`squeue failed: ${out.stderr}`);
  }
  return out.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `id -> state` of the given jobs, finished ones included. */
export function jobStates(ids: readonly string[]): Map<string, string> {
  const out = execFileSync('squeue', ['-h', '--states=all', `--jobs=${ids.join(',')}`, '-o', '%i|%T|%j'], {
    encoding: 'utf8',
  });
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split('|'))
      .map(([id, state]) => [id, state] as [string, string]),
  );
}
