/** Messages between the scheduler's local executor and its worker processes (IPC, JSON). */
import type { ExecRequest, ExecResult, WorkerInfo } from './executor.js';
import type { ProgressUpdate } from './stage.js';

export type ToWorker = { readonly type: 'exec'; readonly id: number; readonly req: ExecRequest };

export type FromWorker =
  | { readonly type: 'ready'; readonly info: WorkerInfo }
  | { readonly type: 'fatal'; readonly message: string }
  | { readonly type: 'progress'; readonly id: number; readonly update: ProgressUpdate }
  | { readonly type: 'waiting'; readonly id: number }
  | { readonly type: 'result'; readonly id: number; readonly result: ExecResult };
