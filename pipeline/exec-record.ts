/**
 * The structured result of `defrost exec` for one instance, written by exec for every key it
 * handles: how it ended (executed, cached, failed and why), when, where and in which Slurm job.
 * Executors that run `exec` out of process (Slurm jobs) read it instead of scraping the job's
 * log; the local executor gets the same `ExecResult` over its worker channel.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { ExecResult } from './executor.js';
import { writeFileAtomic } from './fsutil.js';
import type { Store } from './store.js';

const execRecordSchema = z.object({
  stage: z.string(),
  key: z.string(),
  status: z.enum(['executed', 'cached', 'failed']),
  /** One line: why it failed (failed only). */
  reason: z.string().optional(),
  /** Seconds from start to end of this exec of the instance. */
  seconds: z.number(),
  started: z.string(),
  finished: z.string(),
  host: z.string(),
  pid: z.number(),
  /** `SLURM_JOB_ID` of the job that ran it, if any: a record from an older job is not this job's word. */
  job: z.string().optional(),
  log: z.string().optional(),
});
export type ExecRecord = z.infer<typeof execRecordSchema>;

export function writeExecRecord(store: Store, stage: string, key: string, result: ExecResult, started: Date): void {
  const record: ExecRecord = {
    stage,
    key,
    status: result.status,
    ...(result.status === 'failed' ? { reason: result.reason, log: result.logPath } : {}),
    seconds: result.status === 'failed' ? (Date.now() - started.getTime()) / 1000 : result.seconds,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    host: hostname(),
    pid: process.pid,
    ...(process.env.SLURM_JOB_ID ? { job: process.env.SLURM_JOB_ID } : {}),
  };
  writeFileAtomic(store.execRecordPath(stage, key), `${JSON.stringify(record)}\n`);
}

/** The last record of an instance, or null (none, unreadable, or not a record). */
export function readExecRecord(store: Store, stage: string, key: string): ExecRecord | null {
  try {
    const parsed = execRecordSchema.safeParse(JSON.parse(readFileSync(store.execRecordPath(stage, key), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
