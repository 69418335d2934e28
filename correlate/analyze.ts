import type { Worker } from 'node:worker_threads';
import { Counters } from '../ingest/dead-letter.ts';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import { Decoder } from '../ingest/decoder.ts';
import type { DecoderOptions } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputsInTimeOrder, leastFar, watermarkOf } from '../ingest/interleave.ts';
import type { TimeOrderSinks } from '../ingest/interleave.ts';
import type { Input } from '../ingest/sources/files.ts';
import { readLineBatches } from '../ingest/sources/lines.ts';
import { attribute } from './attribute.ts';
import { isHealthEvidence } from './health/findings.ts';
import { EVIDENCE_TRIAGE, byHost, findIncidents, isEvidence } from './incidents.ts';
import type { Attribution } from './verdict.ts';
import { EvidenceWindow } from './window.ts';
import type { Batch, Done, Plan, Task } from './parallel/plan.ts';
import { PARALLEL_FROM_BYTES, planThreads, sameAnchors, tailAnchors } from './parallel/plan.ts';
import { ThreadPool, sliceOnWorker, startWorker } from './parallel/pool.ts';
import { rangeBatches } from './parallel/range.ts';
import { MisreadAnchors, feedSideBySide } from './parallel/side-by-side.ts';
import type { Feed } from './parallel/side-by-side.ts';
import type { Slice } from './parallel/slices.ts';
import { linesBefore, planSlices } from './parallel/slices.ts';

export type AnalyzeResult = {
  verdicts: Attribution[];
  /** The decoding's counters (with threads, every decoder's summed). */
  decoder: { counters: Counters };
  /** Events kept as evidence, in all. */
  evidenceEvents: number;
  deadLetters: number;
  /** The evidence still held at the end: all of it with `keepEvidence`, otherwise what was not let go. */
  evidence: NormalizedEvent[];
  /** The events node-health findings are read from (correlate/health), all of them. */
  health: NormalizedEvent[];
  /** Evidence let go before the end of the input, once the deaths it could serve were decided. */
  released: number;
  /** How threads read the inputs (correlate/parallel): none when one thread read it all, threads or not. */
  parallel?: 'ranges' | 'slices';
};

export type AnalyzeSinks = {
  deadLetter: (d: DeadLetter) => void;
  /** Every event decoded (then nothing is let go before it is built, and no thread is used). */
  event?: (e: NormalizedEvent) => void;
  progress?: (bytes: number) => void;
};

export type AnalyzeOptions = {
  keepEvidence?: boolean;
  releaseAt?: number;
  /**
   * Threads that decode audit logs (correlate/parallel): 1 (the default) reads everything here,
   * in order. The verdicts are the same either way.
   */
  threads?: number;
  /** Audit log bytes in all below which threads are not used (tests set 0). */
  parallelFrom?: number;
  /** Smallest piece a large audit log is split into (tests set it small). */
  rangeBytes?: number;
  /** Most of its own span a slice of time may read again for its neighbours (slices.ts MAX_OVERLAP; tests set it high, to cut short histories). */
  sliceOverlap?: number;
  /**
   * Each verdict as soon as its death is decided (in time order per node, near it across nodes),
   * none kept: `verdicts` comes back empty. Without it every verdict is held until the end.
   */
  onVerdict?: (v: Attribution) => void;
};

/**
 * Events of one input that may come this much older than the newest one seen (a writer's buffer,
 * records of one second interleaved): the watermark trails the input by it.
 */
const LATENESS_NS = 300n * 1_000_000_000n;

/**
 * The embedded pipeline: ingest and correlate in one process, no services. Only events that can
 * be evidence are kept in memory, and only as long as an open death can use them
 * (correlate/window.ts): the inputs are read side by side in time (ingest/interleave.ts), so a
 * node's logs hold the open window, not the input. The rest are counted and let go. `keepEvidence` keeps it all
 * (to publish it, or to draw one death's timeline).
 */
export async function analyzeInputs(inputs: Input[], opts: DecoderOptions, sinks: AnalyzeSinks, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const threads = options.threads ?? 1;
  const parallel = threads > 1 && !sinks.event && inputs.reduce((n, i) => n + (i.size ?? 0), 0) >= (options.parallelFrom ?? PARALLEL_FROM_BYTES);
  if (parallel && options.onVerdict) {
    // threads may have to read everything again (MisreadAnchors): verdicts are told once, at the end
    const { onVerdict, ...rest } = options;
    const r = await analyzeInputs(inputs, opts, sinks, rest);
    for (const v of r.verdicts) onVerdict(v);
    return { ...r, verdicts: [] };
  }
  // threads for slices of time start loading their code while the slices are planned: a thread's
  // start costs as much as planning does
  const early = parallel ? Array.from({ length: threads - 1 }, startWorker) : [];
  // whole inputs first: slices of time cut inputs their own way (correlate/parallel/slices.ts)
  let whole: Plan | undefined;
  let slices: Slice[] | undefined;
  try {
    whole = parallel ? await planThreads(inputs, opts, { threads, parallelFrom: options.parallelFrom, rangeBytes: Infinity }) : undefined;
    slices = whole && (await planSlices(whole, inputs, threads, options.sliceOverlap));
  } finally {
    if (!slices) await Promise.all(early.map((w) => w.terminate()));
  }
  const plan = slices ? whole : whole && (await planThreads(inputs, opts, { threads, parallelFrom: options.parallelFrom, rangeBytes: options.rangeBytes }));
  if (!plan) return analyzeOnce(inputs, opts, sinks, options, undefined);
  // threads tell dead letters in the order they come to them, not one thread's
  const told = new Set<string>();
  try {
    const threaded = { ...sinks, deadLetter: (d: DeadLetter) => (told.add(deadKey(d)), sinks.deadLetter(d)) };
    if (slices) return { ...(await analyzeSlices(inputs, slices, early, threaded, options)), parallel: 'slices' };
    return { ...(await analyzeOnce(inputs, opts, threaded, options, { plan, threads })), parallel: 'ranges' };
  } catch (err) {
    if (!(err instanceof MisreadAnchors)) throw err;
    // read again on one thread; the dead letters already told are not told twice
    return analyzeOnce(inputs, opts, { ...sinks, deadLetter: (d) => told.has(deadKey(d)) || sinks.deadLetter(d) }, options, undefined);
  }
}

const deadKey = (d: DeadLetter) => `${d.input}\0${d.offset ?? ''}\0${d.line ?? ''}\0${d.reason}`;

async function analyzeOnce(inputs: Input[], opts: DecoderOptions, sinks: AnalyzeSinks, options: AnalyzeOptions, threaded: { plan: Plan; threads: number } | undefined): Promise<AnalyzeResult> {
  const c = correlation(options, sinks);
  // an event that can never be evidence is let go before it is built (ingest/audit/triage.ts),
  // unless the caller wants every event
  const decoderOpts = sinks.event ? opts : { ...opts, ...EVIDENCE_TRIAGE };
  let counters: Counters;
  if (threaded?.plan.everything) {
    counters = await readSideBySide(inputs, threaded.plan.tasks, threaded.threads, c.feed, sinks.progress);
  } else if (threaded) {
    counters = await readThreaded(inputs, threaded.plan.tasks, threaded.threads, decoderOpts, c.feed, sinks.progress);
  } else {
    // inputs read side by side in time: the slowest one's time says what evidence is complete
    const decodeSinks: TimeOrderSinks = { event: c.feed.event, deadLetter: c.feed.deadLetter, watermark: c.feed.watermark };
    if (sinks.progress) decodeSinks.progress = sinks.progress;
    counters = (await decodeInputsInTimeOrder(inputs, decodeSinks, decoderOpts)).counters;
  }
  const r = c.finish(counters);
  r.verdicts = sortVerdicts(r.verdicts);
  return r;
}

/**
 * The window and what analyze keeps beside it (health evidence, all evidence with `keepEvidence`,
 * counts), and the feed every reader gives them evidence through. `decides`: which deaths, by
 * time, are this window's to decide (a slice of time's).
 */
function correlation(options: AnalyzeOptions, sinks: AnalyzeSinks, decides?: (deathNs: bigint) => boolean) {
  const window = new EvidenceWindow(options.keepEvidence ? Infinity : options.releaseAt, options.onVerdict, decides);
  const all: NormalizedEvent[] = [];
  const health: NormalizedEvent[] = [];
  let evidenceEvents = 0;
  let deadLetters = 0;
  // With threads beside the main thread's own decoder, inputs are fed one after the other, and a
  // later one may hold evidence of any time: only while the last is fed does its time say that
  // older evidence is complete. (Read side by side in time, on one thread or all by threads, the
  // watermark comes with them.)
  let last = false;
  let newest: bigint | undefined;
  const advance = (ns: bigint) => {
    if (newest === undefined || ns > newest) {
      newest = ns;
      window.advance(ns - LATENESS_NS);
    }
  };
  /** One piece of evidence, in input order, in a copy of its own; `context`: another slice of time counts it. */
  const keep = (copy: NormalizedEvent, context = false) => {
    if (!context) {
      evidenceEvents++;
      if (isHealthEvidence(copy)) health.push(copy);
      if (options.keepEvidence) all.push(copy);
    }
    window.add(copy);
  };
  const feed: Feed = {
    inputStart: (index, count) => {
      last = index === count - 1;
    },
    event: (e) => {
      sinks.event?.(e);
      if (last) advance(BigInt(e.exit137.ts_ns));
      if (isEvidence(e)) keep(detached(e));
    },
    evidence: (events, upTo, context) => {
      for (const [e, at] of events) {
        if (last) advance(at);
        keep(e, context);
      }
      if (last && upTo !== undefined) advance(upTo);
    },
    deadLetter: (d) => {
      deadLetters++;
      sinks.deadLetter(d);
    },
    watermark: (ns) => window.advance(ns - LATENESS_NS),
  };
  const finish = (counters: Counters): AnalyzeResult => ({ verdicts: window.finish(), decoder: { counters }, evidenceEvents, deadLetters, evidence: options.keepEvidence ? all : [], health, released: window.releasedEarly });
  return { feed, finish };
}

/** Evidence decoded away from the window, each piece with the newest time its input had reached with it. */
type Held = { events: [NormalizedEvent, bigint][]; dead: DeadLetter[]; upTo: bigint | undefined };

/** What a slice of time's reader is given: the window's settings, not the caller's callbacks. */
export type SliceOptions = Pick<AnalyzeOptions, 'keepEvidence' | 'releaseAt'>;

/**
 * Every input's time cut into slices (correlate/parallel/slices.ts), each read and correlated by
 * a thread of its own, this one among them, as one thread reads all of it: its window decides the
 * deaths of its slice, and what the others read of it before and after is only their context.
 * Nothing crosses threads but verdicts, counters and dead letters, so two threads do twice the work
 * of one, less the lead and tail each reads again.
 */
async function analyzeSlices(inputs: Input[], slices: Slice[], threads: Worker[], sinks: AnalyzeSinks, options: AnalyzeOptions): Promise<AnalyzeResult> {
  const sizes = inputs.map((i) => i.size ?? 0);
  const read = slices.map(() => 0);
  const progressOf = (k: number) => {
    const progress = sinks.progress;
    if (!progress) return undefined;
    return (bytes: number) => {
      read[k] = bytes;
      progress(read.reduce((n, b) => n + b, 0));
    };
  };
  const own: SliceOptions = { keepEvidence: options.keepEvidence, releaseAt: options.releaseAt };
  const workers = slices.slice(1).map((slice, k) => sliceOnWorker(threads[k]!, slice, sizes, own, sinks.deadLetter, progressOf(slice.index)));
  try {
    const here = await analyzeSlice(slices[0]!, sizes, own, { deadLetter: sinks.deadLetter, progress: progressOf(0) });
    const parts = [here, ...(await Promise.all(workers.map((w) => w.result)))];
    const counters = new Counters();
    for (const p of parts) for (const [k, v] of Object.entries(p.decoder.counters.values)) counters.inc(k, v);
    return {
      verdicts: sortVerdicts(parts.flatMap((p) => p.verdicts)),
      decoder: { counters },
      evidenceEvents: parts.reduce((n, p) => n + p.evidenceEvents, 0),
      deadLetters: parts.reduce((n, p) => n + p.deadLetters, 0),
      evidence: parts.flatMap((p) => p.evidence),
      health: parts.flatMap((p) => p.health),
      released: parts.reduce((n, p) => n + p.released, 0),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** One slice of time read and correlated on this thread (correlate/parallel/worker.ts runs it on another). */
export async function analyzeSlice(slice: Slice, sizes: number[], options: SliceOptions, sinks: AnalyzeSinks): Promise<AnalyzeResult> {
  const { from, to } = slice;
  const c = correlation(options, sinks, (ns) => (from === undefined || ns >= from) && (to === undefined || ns < to));
  const reading = new Map<number, AsyncGenerator<Batch | Done>>();
  const next = async (task: Task): Promise<Batch | Done> => {
    let r = reading.get(task.id);
    if (!r) reading.set(task.id, (r = rangeBatches(task, detached)));
    const m = await r.next();
    if (m.done) throw new Error(`${task.path}: a range was read past its end`);
    return m.value;
  };
  const before = await Promise.all(
    sizes.map(async (_, i): Promise<number> => {
      const first = slice.tasks.find((t) => t.input === i);
      return first ? linesBefore(first.path, first.start) : 0;
    }),
  );
  const counters = await feedSideBySide(sizes, slice.tasks, next, c.feed, sinks.progress, before);
  return c.finish(counters);
}

/**
 * Every input read by threads (this one among them), each in ranges, and fed to the window side
 * by side in time as one thread reads them (correlate/parallel/side-by-side.ts). This thread
 * correlates first: it reads a range itself only when what it must feed next is not there yet,
 * the range it waits for if no thread has taken it. Each input's events are what one decoder
 * reading all the inputs makes of it, since their times are their own (checked: Done.leaned).
 */
async function readSideBySide(inputs: Input[], tasks: Task[], threads: number, feed: Feed, progress: ((bytes: number) => void) | undefined): Promise<Counters> {
  const pool = new ThreadPool(tasks, threads);
  try {
    const next = async (task: Task): Promise<Batch | Done> => {
      for (;;) {
        const m = pool.take(task.id);
        if (m) return m;
        const here = pool.claim(task.id) ?? pool.claim();
        if (here) await pool.runHere(here);
        else await pool.wait(task.id);
      }
    };
    return await feedSideBySide(inputs.map((i) => i.size ?? 0), tasks, next, feed, progress);
  } finally {
    await pool.close();
  }
}

/**
 * Audit logs are decoded in ranges by `threads` threads, this one among them, which first reads
 * the other inputs; all is fed to the window in input order, each range after the one before it,
 * as soon as it is there: the window sees what one decoder reading everything in order gives it,
 * so the verdicts are the same. An input read here follows the audit logs before it: its node's
 * latest instant there (a syslog line's year, dmesg's boot time are read from it) is taken from
 * the log's end at once, and checked once the log is read; if it was wrong (an audit log of
 * several nodes, one of which stopped early), all is read again on one thread.
 */
async function readThreaded(inputs: Input[], tasks: Task[], threads: number, opts: DecoderOptions, feed: Feed, progress: ((bytes: number) => void) | undefined): Promise<Counters> {
  const pool = new ThreadPool(tasks, threads);
  try {
    const audit = new Set(tasks.map((t) => t.input));
    let held: Held = { events: [], dead: [], upTo: undefined };
    const decoder = new Decoder(
      (e) => {
        const ns = BigInt(e.exit137.ts_ns);
        if (held.upTo === undefined || ns > held.upTo) held.upTo = ns;
        if (isEvidence(e)) held.events.push([detached(e), held.upTo]);
      },
      (d) => held.dead.push(d),
      opts,
    );
    const counters = new Counters();
    const give = (h: Held) => {
      feed.evidence(h.events, h.upTo);
      for (const d of h.dead) feed.deadLetter(d);
    };
    // what a decoder lets go only at its very end (audit events still open): one decoder reading
    // everything lets an audit log's go when the next audit log's records come, or at the end
    let tails: Held[] = [];
    const release = () => {
      for (const t of tails) give(t);
      tails = [];
    };
    const mine = new Map<number, Held>();
    const guessed = new Map<number, Map<string, bigint>>();
    const later: Map<string, bigint>[] = [];

    // the feeding, in input order, from wherever it has got to
    let index = 0;
    let started = false;
    let ranges: Task[] = [];
    let linesBefore = 0;
    let anchors = new Map<string, bigint>();
    let bytes = 0;
    const pump = async (wait: boolean): Promise<void> => {
      for (; index < inputs.length; index++, started = false) {
        const input = inputs[index]!;
        if (!started) {
          const own = mine.get(index);
          if (!audit.has(index) && !own) return;
          feed.inputStart(index, inputs.length);
          started = true;
          if (own) {
            give(own);
            mine.delete(index);
            bytes += input.size ?? 0;
            continue;
          }
          release();
          ranges = tasks.filter((t) => t.input === index);
          linesBefore = 0;
          anchors = new Map();
        }
        while (ranges.length) {
          const task = ranges[0]!;
          const m = pool.take(task.id);
          if (!m) {
            if (!wait) return;
            await pool.wait(task.id);
            continue;
          }
          if (m.t === 'done') {
            for (const [k, v] of Object.entries(m.counters)) counters.inc(k, v);
            for (const [host, ns] of m.anchors) anchors.set(host, ns);
            linesBefore += m.lines;
            ranges.shift();
            continue;
          }
          // a range's lines are numbered from its start
          for (const [e] of m.events) if (e.log.line !== undefined) e.log.line += linesBefore;
          for (const d of m.dead) if (d.line !== undefined) d.line += linesBefore;
          if (m.tail && task.lastRange) tails.push(m);
          else give(m);
          if (progress && !m.tail) progress(bytes + m.at);
        }
        const guess = guessed.get(index);
        if (guess && !sameAnchors(guess, anchors)) throw new MisreadAnchors(`${input.ref.id}: its last instants were not read from its end`);
        if (!guess) later.push(anchors);
        bytes += input.size ?? 0;
      }
    };

    // this thread's own inputs first, while the workers read ranges
    for (const [i, input] of inputs.entries()) {
      if (audit.has(i)) continue;
      for (const a of audit) {
        if (a > i || guessed.has(a)) continue;
        const tail = await tailAnchors(inputs[a]!.ref.path!, inputs[a]!.ref, opts);
        guessed.set(a, tail);
        for (const [host, ns] of tail) decoder.observe(host, ns);
      }
      held = { events: [], dead: [], upTo: undefined };
      await decodeOne(decoder, input);
      mine.set(i, held);
      await pump(false);
    }
    // then ranges no worker has taken yet
    for (let task = pool.claim(); task; task = pool.claim()) {
      await pool.runHere(task, detached);
      await pump(false);
    }
    await pump(true);
    release();
    for (const a of later) for (const [host, ns] of a) decoder.observe(host, ns);
    held = { events: [], dead: [], upTo: undefined };
    decoder.end();
    give(held);
    for (const [k, v] of Object.entries(decoder.counters.values)) counters.inc(k, v);
    return counters;
  } finally {
    await pool.close();
  }
}

/** One input through this thread's decoder, as decodeInputs reads it. */
async function decodeOne(decoder: Decoder, input: Input): Promise<void> {
  for await (const batch of readLineBatches(input.open(), decoder.maxLineBytes)) {
    for (const l of batch) decoder.pushSource(input.ref, l);
  }
  decoder.endInput(input.ref);
}

/**
 * A copy that shares no string with the input's text: the decoder's strings are slices of the
 * 128 KiB chunk they were read from, and one kept event would hold its whole chunk (a 166 MB audit
 * log kept 116 MB of chunks for 6,642 events). A third of the cost of a JSON round trip.
 */
export function detached<T>(v: T): T {
  // V8 slices strings of 13 characters or more; `(' ' + s).slice(1)` flattens into a fresh copy
  if (typeof v === 'string') return (v.length > 12 ? (' ' + v).slice(1) : v) as T;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(detached) as T;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = detached((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Normalized events in, one verdict per death out, in order of death. */
export function correlate(events: NormalizedEvent[]): Attribution[] {
  const verdicts: Attribution[] = [];
  for (const [host, evs] of byHost(events)) for (const inc of findIncidents(evs, host)) verdicts.push(attribute(inc));
  return sortVerdicts(verdicts);
}

function sortVerdicts(verdicts: Attribution[]): Attribution[] {
  return verdicts.sort((a, b) => (a.died_at < b.died_at ? -1 : a.died_at > b.died_at ? 1 : a.container.id.localeCompare(b.container.id)));
}
