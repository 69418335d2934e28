import { Counters } from '../../ingest/dead-letter.ts';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { leastFar, watermarkOf } from '../../ingest/interleave.ts';
import type { Batch, Done, Task } from './plan.ts';

/** Where decoded evidence goes: the window and what analyze keeps around it (correlate/analyze.ts). */
export type Feed = {
  inputStart: (index: number, count: number) => void;
  /** An event decoded and fed at once. */
  event: (e: NormalizedEvent) => void;
  /**
   * Evidence decoded elsewhere (copies of their own), then the newest time its input reached after
   * them. `context`: read only for the deaths it may serve here; another slice of time counts it.
   */
  evidence: (events: [NormalizedEvent, bigint][], upTo: bigint | undefined, context?: boolean) => void;
  deadLetter: (d: DeadLetter) => void;
  /** Every input has reached this time (ns): older evidence is as complete as they make it. */
  watermark: (ns: bigint) => void;
};

/** A range's next message, whoever reads it (a worker thread, this thread). */
export type NextMessage = (task: Task) => Promise<Batch | Done>;

type Cursor = {
  ranges: Task[];
  k: number;
  /** The batch being fed, from `i`. */
  batch: Batch | undefined;
  i: number;
  reached: bigint | undefined;
  linesBefore: number;
  /** Bytes of its counted ranges read to their end, and of the one being read. */
  read: number;
  partial: number;
  done: boolean;
};

/**
 * Every input's ranges fed to the window side by side in time, as one thread reads them
 * (ingest/interleave.ts): always the input read least far in time next, piece of evidence by
 * piece, its ranges in order, and the watermark the least far input's time. So the window decides
 * deaths and lets evidence go as they are read, holding no more than one thread does. A range with
 * a `role` is read only for the evidence it gives the deaths decided here: its counters and dead
 * letters are another reader's. `sizes`: each input's bytes; `linesBefore`: per input, the lines
 * before its first range.
 */
export async function feedSideBySide(sizes: number[], tasks: Task[], next: NextMessage, feed: Feed, progress: ((bytes: number) => void) | undefined, linesBefore: number[] = []): Promise<Counters> {
  const counters = new Counters();
  const cursors: Cursor[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const ranges = tasks.filter((t) => t.input === i);
    cursors.push({ ranges, k: 0, batch: undefined, i: 0, reached: undefined, linesBefore: linesBefore[i] ?? 0, read: 0, partial: 0, done: ranges.length === 0 });
  }
  const reach = (c: Cursor, ns: bigint | undefined) => {
    if (ns !== undefined && (c.reached === undefined || ns > c.reached)) c.reached = ns;
  };
  let open = cursors.filter((c) => !c.done).length;
  let told = 0;
  while (open > 0) {
    const c = leastFar(cursors);
    const b = c.batch;
    if (b) {
      // this input's evidence up to where another input is the least far
      const context = c.ranges[c.k]!.role !== undefined;
      const limit = c.reached === undefined ? undefined : otherLeast(cursors, c);
      for (; c.i < b.events.length; ) {
        const [e, at] = b.events[c.i++]!;
        feed.evidence([[e, at]], undefined, context);
        reach(c, at);
        if (limit !== undefined && c.reached! > limit) break;
      }
      if (c.i === b.events.length) {
        reach(c, b.upTo);
        c.batch = undefined;
      }
    } else {
      const task = c.ranges[c.k]!;
      const m = await next(task);
      if (m.t === 'done') {
        if (m.leaned !== undefined) throw new MisreadAnchors(m.leaned);
        if (task.role === undefined) for (const [k, v] of Object.entries(m.counters)) counters.inc(k, v);
        c.linesBefore += m.lines;
        if (task.role === undefined) {
          c.read += (task.end ?? sizes[task.input]!) - task.start;
          c.partial = 0;
        }
        if (++c.k === c.ranges.length) {
          c.done = true;
          open--;
        }
      } else {
        const context = task.role !== undefined;
        // a range's lines are numbered from its start
        for (const [e] of m.events) if (e.log.line !== undefined) e.log.line += c.linesBefore;
        if (!context) {
          for (const d of m.dead) if (d.line !== undefined) d.line += c.linesBefore;
          for (const d of m.dead) feed.deadLetter(d);
          if (!m.tail) c.partial = m.at - task.start;
        }
        if (c.reached === undefined) {
          // an input's first batch is fed whole, as one thread reads each input's first batch before choosing
          feed.evidence(m.events, undefined, context);
          for (const [, at] of m.events) reach(c, at);
          reach(c, m.upTo);
        } else {
          c.batch = m;
          c.i = 0;
        }
      }
    }
    const w = watermarkOf(cursors);
    if (w !== undefined) feed.watermark(w);
    if (progress) {
      const bytes = cursors.reduce((n, x) => n + x.read + x.partial, 0);
      if (bytes - told > 1 << 20) progress((told = bytes));
    }
  }
  return counters;
}

/** The least time the unfinished inputs but `c` have reached (undefined: none has one). */
function otherLeast(cursors: Cursor[], c: Cursor): bigint | undefined {
  let w: bigint | undefined;
  for (const x of cursors) if (x !== c && !x.done && x.reached !== undefined && (w === undefined || x.reached < w)) w = x.reached;
  return w;
}

/**
 * An audit log's last instants were not what its end said (the inputs read after it must be read
 * again), or a thread's input leaned on what another input said (Done.leaned): all is read again.
 */
export class MisreadAnchors extends Error {}
