/**
 * The Slurm command-line tools as the Slurm executor uses them: `sbatch --parsable` to submit,
 * one `squeue` for all tracked jobs per poll, `scancel` to stop. Kept apart from the executor so
 * that its state machine reads as scheduling, not as parsing of Slurm's output.
 *
 * Only the client commands are used (no REST API, no accounting database): they are what every
 * Slurm installation has, and `sacct` needs slurmdbd, which small clusters often lack.
 */
import { execFile } from 'node:child_process';

/** Job states after which a job never runs again (squeue's `%T`, long form). */
const TERMINAL_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

export function isTerminalState(state: string): boolean {
  return TERMINAL_STATES.has(state);
}

/** What squeue says about one job. */
export interface JobStatus {
  readonly id: string;
  /** Long state name: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT... */
  readonly state: string;
  /** Slurm's reason (`%r`): why pending, or why it ended (NonZeroExitCode, TimeLimit...). */
  readonly reason: string;
  /** `exit:signal` of the batch script, when squeue knows it ("" otherwise). */
  readonly exitCode: string;
  /** Node(s) it runs or ran on ("" while pending). */
  readonly nodes: string;
}

/** Names of the Slurm client programs; overridable for a site whose tools are not on PATH. */
export interface SlurmTools {
  readonly sbatch: string;
  readonly squeue: string;
  readonly scancel: string;
  readonly scontrol: string;
}

export const DEFAULT_TOOLS: SlurmTools = {
  sbatch: 'sbatch',
  squeue: 'squeue',
  scancel: 'scancel',
  scontrol: 'scontrol',
};

interface CommandOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without a shell; never rejects for a non-zero exit (the caller decides). */
function runCommand(
  file: string,
  args: readonly string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandOutput> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      const err = error as NodeJS.ErrnoException & { code?: number | string };
      if (err.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${file}: command not found (is Slurm installed here?)` });
      resolve({ code: typeof err.code === 'number' ? err.code : 1, stdout, stderr: stderr || err.message });
    });
  });
}

/** Quotes one word for a POSIX shell (the `--wrap` script runs under /bin/sh). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Splits `--slurm-args "..."` into words the way a shell would (quotes and backslashes; no
 * expansion), so `--slurm-args "--partition=gpu --comment='a b'"` passes two arguments.
 */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

export interface SubmitRequest {
  readonly jobName: string;
  readonly cpus: number;
  readonly mem: string;
  readonly time: string;
  /** `--output` path; `%j` is replaced by Slurm with the job id. Its directory must exist. */
  readonly output: string;
  /** Working directory of the job (the submitting directory, on the shared filesystem). */
  readonly chdir: string;
  /** Site arguments from `--slurm-args` (partition, account, qos...), placed after ours. */
  readonly extraArgs: readonly string[];
  /** The shell script `--wrap` runs. */
  readonly script: string;
  /** Environment of sbatch, which the job inherits (`--export=ALL`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Submits a job and returns its id; throws an Error with sbatch's own message on refusal. */
export async function submitJob(tools: SlurmTools, req: SubmitRequest): Promise<string> {
  const args = [
    '--parsable',
    `--job-name=${req.jobName}`,
    `--cpus-per-task=${req.cpus}`,
    '--ntasks=1',
    '--nodes=1',
    `--mem=${req.mem}`,
    `--time=${req.time}`,
    `--output=${req.output}`,
    `--chdir=${req.chdir}`,
    // The job inherits the submitting environment (DEFROST_BACKEND, DEFROST_PROJECT_MODULE...).
    '--export=ALL',
    ...req.extraArgs,
    `--wrap=${req.script}`,
  ];
  const out = await runCommand(tools.sbatch, args, 60_000, req.env);
  // --parsable prints "jobid" or "jobid;cluster".
  const id = out.stdout.trim().split(/\s+/).pop()?.split(';')[0] ?? '';
  if (out.code !== 0 || !/^\d+$/.test(id)) {
    const detail = (out.stderr.trim() || out.stdout.trim() || `exit code ${out.code}`).split('\n').pop();
    throw new Error(`sbatch refused the job: ${detail}`);
  }
  return id;
}

/**
 * The status of each given job that Slurm still knows (finished jobs stay listed for the
 * cluster's MinJobAge, 300 s by default). Jobs absent from the result have left the queue.
 * Throws when squeue itself fails (controller unreachable), so the caller can retry.
 */
export async function queryJobs(tools: SlurmTools, ids: readonly string[]): Promise<Map<string, JobStatus>> {
  const result = new Map<string, JobStatus>();
  if (ids.length === 0) return result;
  const out = await runCommand(tools.squeue, ['--noheader', '--states=all', `--jobs=${ids.join(',')}`, '--format=%i|%T|%r|%N']);
  if (out.code !== 0) {
    // squeue fails when *none* of the ids is known any more; that is an answer, not an error.
    if (/Invalid job id/i.test(out.stderr)) return result;
    throw new Error(`squeue failed: ${out.stderr.trim() || `exit code ${out.code}`}`);
  }
  for (const line of out.stdout.split('\n')) {
    const [id, state, reason = '', nodes = ''] = line.trim().split('|');
    if (!id || !state) continue;
    // "CANCELLED by 0" in some versions' long form: keep the state word.
    result.set(id, { id, state: state.split(' ')[0], reason, exitCode: '', nodes });
  }
  return result;
}

/** Exit code (`code:signal`) of a finished job, from `scontrol show job`; "" when unknown. */
export async function jobExitCode(tools: SlurmTools, id: string): Promise<string> {
  const out = await runCommand(tools.scontrol, ['show', 'job', id], 10_000);
  if (out.code !== 0) return '';
  return /\bExitCode=(\d+:\d+)/.exec(out.stdout)?.[1] ?? '';
}

/** Cancels jobs (`scancel`); never throws: a job that already ended cannot be cancelled anyway. */
export async function cancelJobs(tools: SlurmTools, ids: readonly string[]): Promise<string> {
  if (ids.length === 0) return '';
  const out = await runCommand(tools.scancel, [...ids], 30_000);
  return out.code === 0 ? '' : out.stderr.trim();
}

/** Whether a job is still in the queue and not finished: used to decide if a lock is stale. */
export async function isJobActive(id: string, tools: SlurmTools = DEFAULT_TOOLS): Promise<boolean | undefined> {
  try {
    const status = (await queryJobs(tools, [id])).get(id);
    return status !== undefined && !isTerminalState(status.state);
  } catch {
    return undefined; // cannot tell (no Slurm here, controller down): not evidence of staleness
  }
}
