import { parentPort } from 'node:worker_threads';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { analyzeSlice } from '../analyze.ts';
import type { FromSliceWorker, FromWorker, ToSliceWorker, ToWorker } from './plan.ts';
import { claim } from './plan.ts';
import { readRange } from './range.ts';
import { MisreadAnchors } from './side-by-side.ts';

const port = parentPort;
if (!port) throw new Error('correlate/parallel/worker.ts runs as a worker thread');

/** Dead letters per message. */
const DEAD_BATCH = 256;

port.once('message', async (m: ToWorker | ToSliceWorker) => {
  if ('t' in m) {
    await readSlice(m);
    return;
  }
  // the ranges no thread has taken yet, one at a time, lowest rank first
  const { tasks, claimed } = m;
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

async function readSlice({ slice, sizes, options }: ToSliceWorker): Promise<void> {
  const tell = (m: FromSliceWorker) => port!.postMessage(m);
  let dead: DeadLetter[] = [];
  let told = 0;
  try {
    const r = await analyzeSlice(slice, sizes, options, {
      deadLetter: (d) => {
        dead.push(d);
        if (dead.length >= DEAD_BATCH) tell({ t: 'dead', dead: dead.splice(0) });
      },
      progress: (bytes) => {
        if (bytes - told >= 4 << 20) tell({ t: 'progress', bytes: (told = bytes) });
      },
    });
    if (dead.length) tell({ t: 'dead', dead });
    dead = [];
    const { decoder, ...result } = r;
    tell({ t: 'slice-done', result, counters: decoder.counters.values });
  } catch (err) {
    tell({ t: 'slice-error', message: err instanceof Error ? (err.stack ?? err.message) : String(err), misread: err instanceof MisreadAnchors });
  }
}
