import { Worker } from 'node:worker_threads';
import type { NormalizedEvent } from '../../ingest/event.ts';
import type { Batch, Done, FromWorker, Task } from './plan.ts';
import { readRange } from './range.ts';

/**
 * The worker's module. Compiled (dist/), the file beside this one; from source, the TypeScript
 * through tsx, which a worker thread does not inherit from the thread that started it.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const file = new URL('./worker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`, { eval: true });
}

type Queue = { items: (Batch | Done)[]; wake: (() => void) | undefined; failed: Error | undefined };

/**
 * Ranges of audit logs read by `threads` threads: the main thread is one of them, and takes a
 * range (`claim`, `runHere`) whenever it has nothing else to do; each worker takes the next when
 * it is done with one. Whoever read it, a range's batches are given back in order (`take`).
 */
export class ThreadPool {
  private readonly queues = new Map<number, Queue>();
  private readonly workers: Worker[] = [];
  private next = 0;

  constructor(
    private readonly tasks: Task[],
    threads: number,
  ) {
    for (const t of tasks) this.queues.set(t.id, { items: [], wake: undefined, failed: undefined });
    for (let i = 0; i < Math.min(threads - 1, tasks.length); i++) {
      const w = startWorker();
      this.workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.t === 'error') this.fail(this.queues.get(m.id)!, new Error(`worker thread: ${m.message}`));
        else this.put(m);
        if (m.t === 'done') this.give(w);
      });
      w.on('error', (err) => {
        for (const q of this.queues.values()) this.fail(q, err);
      });
      this.give(w);
    }
  }

  /** The next range no thread has taken, for this thread to read. */
  claim(): Task | undefined {
    return this.tasks[this.next++];
  }

  /** Reads a claimed range on this thread; `keep` makes the copy of a piece of evidence this thread holds. */
  async runHere(task: Task, keep: (e: NormalizedEvent) => NormalizedEvent): Promise<void> {
    await readRange(task, (m) => this.put(m), keep);
  }

  /** A range's next batch or its summary, if there is one yet. */
  take(id: number): Batch | Done | undefined {
    const q = this.queues.get(id)!;
    if (q.failed) throw q.failed;
    return q.items.shift();
  }

  /** Until the range has something more. */
  async wait(id: number): Promise<void> {
    const q = this.queues.get(id)!;
    if (q.failed) throw q.failed;
    if (q.items.length) return;
    await new Promise<void>((resolve) => (q.wake = resolve));
    q.wake = undefined;
    if (q.failed) throw q.failed;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private put(m: Batch | Done): void {
    const q = this.queues.get(m.id)!;
    q.items.push(m);
    q.wake?.();
  }

  private give(w: Worker): void {
    const t = this.claim();
    if (t) w.postMessage(t);
  }

  private fail(q: Queue, err: Error): void {
    q.failed ??= err;
    q.wake?.();
  }
}
