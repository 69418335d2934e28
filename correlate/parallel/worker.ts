import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './plan.ts';
import { claim } from './plan.ts';
import { readRange } from './range.ts';

const port = parentPort;
if (!port) throw new Error('correlate/parallel/worker.ts runs as a worker thread');

// the ranges no thread has taken yet, one at a time, lowest rank first
port.once('message', async ({ tasks, claimed }: ToWorker) => {
  for (const task of tasks) {
    if (!claim(claimed, task.id)) continue;
    try {
      await readRange(task, (m) => port.postMessage(m), undefined, true);
    } catch (err) {
      port.postMessage({ t: 'error', id: task.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
      return;
    }
  }
});
