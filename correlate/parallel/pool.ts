import { Worker } from 'node:worker_threads';
import { Counters } from '../../ingest/dead-letter.ts';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import type { AnalyzeResult, SliceOptions } from '../analyze.ts';
import type { Batch, Done, FromWorker, FromSliceWorker, Task, ToWorker } from './plan.ts';
import { claim } from './plan.ts';
import { readRange, unpack } from './range.ts';
import { MisreadAnchors } from './side-by-side.ts';
import type { Slice } from './slices.ts';

/**
 * The worker's module. Compiled (dist/), the file beside this one; from source, the TypeScript
 * through tsx, which a worker thread does not inherit from the thread that started it.
 */
export function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const tsx = import.meta.resolve('tsx/esm/api');
  const file = new URL('./worker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`, { eval: true });
}

type Queue = { items: (Batch | Done)[]; wake: (() => void) | undefined; failed: Error | undefined };

/**
 * Ranges of inputs read by `threads` threads: the main thread is one of them, and takes a range
 * (`claim`, `runHere`) whenever it has nothing else to do, the one it waits for first; each worker
 * takes the next (lowest `rank`) itself when it is done with one, from flags all threads share:
 * a worker never waits for the main thread to hand it work, which may be busy correlating for a
 * while. Whoever read it, a range's batches are given back in order (`take`).
 */
export class ThreadPool {
  private readonly queues = new Map<number, Queue>();
  private readonly workers: Worker[] = [];
  private readonly tasks: Task[];
  /** Per task id, 1 once a thread has taken it. */
  private readonly claimed: Int32Array;
  private next = 0;

  constructor(tasks: Task[], threads: number) {
    this.tasks = [...tasks].sort((a, b) => a.rank - b.rank || a.id - b.id);
    this.claimed = new Int32Array(new SharedArrayBuffer(4 * tasks.length));
    for (const t of tasks) this.queues.set(t.id, { items: [], wake: undefined, failed: undefined });
    const work: ToWorker = { tasks: this.tasks, claimed: this.claimed };
    for (let i = 0; i < Math.min(threads - 1, tasks.length); i++) {
      const w = startWorker();
      this.workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.t === 'error') this.fail(this.queues.get(m.id)!, new Error(`worker thread: ${m.message}`));
        else this.put(m);
      });
      w.on('error', (err) => {
        for (const q of this.queues.values()) this.fail(q, err);
      });
      w.postMessage(work);
    }
  }

  /** A range no thread has taken, for this thread to read: `id` if it is free, else the next. */
  claim(id?: number): Task | undefined {
    if (id !== undefined && claim(this.claimed, id)) return this.tasks.find((t) => t.id === id);
    for (; this.next < this.tasks.length; this.next++) {
      const t = this.tasks[this.next]!;
      if (claim(this.claimed, t.id)) return t;
    }
    return undefined;
  }

  /**
   * Reads a claimed range on this thread. `keep` makes the copy of a piece of evidence this thread
   * holds; without it, its evidence is packed as a worker's is (range.ts packEvents), so all
   * evidence comes out of JSON.parse alike: copies made two ways have two sets of hidden classes,
   * and correlation's hot functions were deoptimized and compiled again and again over them
   * (findDeaths 10 times, 3.4 s of compiling in one run, against twice and 0.5 s on one thread).
   */
  async runHere(task: Task, keep?: (e: NormalizedEvent) => NormalizedEvent): Promise<void> {
    await readRange(task, (m) => this.put(m), keep, keep === undefined);
  }

  /** A range's next batch (its evidence unpacked only now) or its summary, if there is one yet. */
  take(id: number): Batch | Done | undefined {
    const q = this.queues.get(id)!;
    if (q.failed) throw q.failed;
    const m = q.items.shift();
    if (m?.t === 'batch' && m.packed) {
      m.events = unpack(m.packed);
      delete m.packed;
    }
    return m;
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

  private fail(q: Queue, err: Error): void {
    q.failed ??= err;
    q.wake?.();
  }
}

/**
 * A slice of time read and correlated on a thread of its own (analyze.ts analyzeSlice), started
 * before the slices were planned (`startWorker`): its dead letters and progress are told as they
 * come, its result once it is done.
 */
export function sliceOnWorker(w: Worker, slice: Slice, sizes: number[], options: SliceOptions, deadLetter: (d: DeadLetter) => void, progress: ((bytes: number) => void) | undefined): { result: Promise<AnalyzeResult>; stop: () => Promise<number> } {
  const result = new Promise<AnalyzeResult>((resolve, reject) => {
    w.on('message', (m: FromSliceWorker) => {
      if (m.t === 'dead') for (const d of m.dead) deadLetter(d);
      else if (m.t === 'progress') progress?.(m.bytes);
      else if (m.t === 'slice-error') reject(m.misread ? new MisreadAnchors(m.message) : new Error(`worker thread: ${m.message}`));
      else {
        const counters = new Counters();
        for (const [k, v] of Object.entries(m.counters)) counters.inc(k, v);
        resolve({ ...m.result, decoder: { counters } });
      }
    });
    w.on('error', reject);
    w.on('exit', (code) => reject(new Error(`worker thread exited (${code}) before its slice was read`)));
  });
  // a rejection is the caller's once it awaits the result; until then it must not go unhandled
  result.catch(() => undefined);
  w.postMessage({ t: 'slice', slice, sizes, options });
  return { result, stop: () => w.terminate() };
}
