import { parentPort } from 'node:worker_threads';
import type { FromWorker, Task } from './plan.ts';
import { readRange } from './range.ts';

const port = parentPort;
if (!port) throw new Error('correlate/parallel/worker.ts runs as a worker thread');

// one range at a time: the pool gives the next when this one is done
port.on('message', (task: Task) => {
  readRange(task, (m) => port.postMessage(m)).catch((err: unknown) => {
    port.postMessage({ t: 'error', id: task.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
  });
});
