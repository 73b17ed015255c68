/**
 * Worker process entry: `node dist/pipeline/worker.js <project-module-url>`, started by the
 * local executor with an IPC channel. It initialises the compute runtime once (the thread
 * budget comes from DEFROST_THREADS), then runs one instance at a time as asked, in turn.
 *
 * It exits when the channel disconnects, so killing the scheduler (even with -9) leaves no
 * worker running on for long, and on SIGTERM it stops at once, releasing its locks and deleting
 * its staging directory: an interrupted instance is never published.
 */
import { hostname } from 'node:os';
import { abandonAll, execInstance } from './exec.js';
import type { ExecResult } from './executor.js';
import { loadProjectModule } from './project-module.js';
import { ProgressThrottle } from './progress-throttle.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { Store } from './store.js';

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

function stop(code: number): never {
  abandonAll();
  process.exit(code);
}

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url || !process.send) {
    process.stderr.write('usage: node worker.js <project-module-url> (with an IPC channel)\n');
    process.exit(2);
  }
  process.on('disconnect', () => stop(1));
  process.on('SIGTERM', () => stop(143));
  process.on('SIGINT', () => {
    // The scheduler handles Ctrl-C for the whole process group and then stops us itself.
  });

  const threads = Math.max(1, Number(process.env.DEFROST_THREADS ?? '1') || 1);
  const project = await loadProjectModule(url);
  let runtime;
  try {
    runtime = await project.initRuntime(threads);
  } catch (error) {
    send({ type: 'fatal', message: `compute runtime failed to start: ${(error as Error).message}` });
    process.exit(1);
  }
  send({ type: 'ready', info: { backend: runtime.backend, notes: [...runtime.notes], details: [...(runtime.details ?? [])] } });
  const runId = `worker-${hostname()}-${process.pid}`;

  process.on('message', (raw) => {
    const message = raw as ToWorker;
    if (message.type !== 'exec') return;
    const { id, req } = message;
    void (async () => {
      const progress = new ProgressThrottle((update) => send({ type: 'progress', id, update }));
      let result: ExecResult;
      try {
        result = await execInstance({
          project,
          store: new Store(req.store),
          stage: req.stage,
          key: req.key,
          threads: req.threads,
          runtime,
          runId,
          force: req.force,
          onProgress: (update) => progress.update(update),
          onWait: () => send({ type: 'waiting', id }),
        });
      } catch (error) {
        result = { status: 'failed', reason: (error as Error).message.split('\n')[0] };
      }
      progress.cancel();
      send({ type: 'result', id, result });
    })();
  });
}

main().catch((error: unknown) => {
  send({ type: 'fatal', message: (error as Error).message });
  process.exit(1);
});
