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
import type { Batch, Plan, Task } from './parallel/plan.ts';
import { planThreads, sameAnchors, tailAnchors } from './parallel/plan.ts';
import { ThreadPool } from './parallel/pool.ts';

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
  const plan = threads > 1 && !sinks.event ? await planThreads(inputs, opts, { threads, parallelFrom: options.parallelFrom, rangeBytes: options.rangeBytes }) : undefined;
  if (!plan) return analyzeOnce(inputs, opts, sinks, options, undefined);
  if (options.onVerdict) {
    // threads may have to read everything again (MisreadAnchors): verdicts are told once, at the end
    const { onVerdict, ...rest } = options;
    const r = await analyzeInputs(inputs, opts, sinks, rest);
    for (const v of r.verdicts) onVerdict(v);
    return { ...r, verdicts: [] };
  }
  let told = 0;
  try {
    return await analyzeOnce(inputs, opts, { ...sinks, deadLetter: (d) => (told++, sinks.deadLetter(d)) }, options, { plan, threads });
  } catch (err) {
    if (!(err instanceof MisreadAnchors)) throw err;
    // read again on one thread; the dead letters already told are not told twice
    let seen = 0;
    return analyzeOnce(inputs, opts, { ...sinks, deadLetter: (d) => seen++ >= told && sinks.deadLetter(d) }, options, undefined);
  }
}

async function analyzeOnce(inputs: Input[], opts: DecoderOptions, sinks: AnalyzeSinks, options: AnalyzeOptions, threaded: { plan: Plan; threads: number } | undefined): Promise<AnalyzeResult> {
  const window = new EvidenceWindow(options.keepEvidence ? Infinity : options.releaseAt, options.onVerdict);
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
  /** One piece of evidence, in input order, in a copy of its own. */
  const keep = (copy: NormalizedEvent) => {
    evidenceEvents++;
    if (isHealthEvidence(copy)) health.push(copy);
    if (options.keepEvidence) all.push(copy);
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
    evidence: (events, upTo) => {
      for (const [e, at] of events) {
        if (last) advance(at);
        keep(e);
      }
      if (last && upTo !== undefined) advance(upTo);
    },
    deadLetter: (d) => {
      deadLetters++;
      sinks.deadLetter(d);
    },
    watermark: (ns) => window.advance(ns - LATENESS_NS),
  };
  // an event that can never be evidence is let go before it is built (ingest/audit/triage.ts),
  // unless the caller wants every event
  const decoderOpts = sinks.event ? opts : { ...opts, ...EVIDENCE_TRIAGE };
  let counters: Counters;
  if (threaded?.plan.everything) {
    counters = await readSideBySide(inputs, threaded.plan.tasks, threaded.threads, feed, sinks.progress);
  } else if (threaded) {
    counters = await readThreaded(inputs, threaded.plan.tasks, threaded.threads, decoderOpts, feed, sinks.progress);
  } else {
    // inputs read side by side in time: the slowest one's time says what evidence is complete
    const decodeSinks: TimeOrderSinks = { event: feed.event, deadLetter: feed.deadLetter, watermark: feed.watermark };
    if (sinks.progress) decodeSinks.progress = sinks.progress;
    counters = (await decodeInputsInTimeOrder(inputs, decodeSinks, decoderOpts)).counters;
  }
  const verdicts = sortVerdicts(window.finish());
  return { verdicts, decoder: { counters }, evidenceEvents, deadLetters, evidence: options.keepEvidence ? all : [], health, released: window.releasedEarly };
}

/** Evidence decoded away from the window, each piece with the newest time its input had reached with it. */
type Held = { events: [NormalizedEvent, bigint][]; dead: DeadLetter[]; upTo: bigint | undefined };

type Feed = {
  inputStart: (index: number, count: number) => void;
  /** An event decoded and fed at once. */
  event: (e: NormalizedEvent) => void;
  /** Evidence decoded elsewhere (copies of their own), then the newest time its input reached after them. */
  evidence: (events: [NormalizedEvent, bigint][], upTo: bigint | undefined) => void;
  deadLetter: (d: DeadLetter) => void;
  /** Every input has reached this time (ns): older evidence is as complete as they make it. */
  watermark: (ns: bigint) => void;
};

/**
 * An audit log's last instants were not what its end said (the inputs read after it must be read
 * again), or a thread's input leaned on what another input said (Done.leaned): all is read again.
 */
class MisreadAnchors extends Error {}

type Cursor = {
  ranges: Task[];
  k: number;
  /** The batch being fed, from `i`. */
  batch: Batch | undefined;
  i: number;
  reached: bigint | undefined;
  linesBefore: number;
  at: number;
  done: boolean;
};

/**
 * Every input read by threads (this one among them), each in ranges, and fed to the window side
 * by side in time as one thread reads them (ingest/interleave.ts): always the input read least
 * far in time next, piece of evidence by piece, its ranges in order, and the watermark the least
 * far input's time. So the window decides deaths and lets evidence go while the threads read,
 * holding no more than one thread does, and this thread correlates first: it reads a range
 * itself only when what it must feed next is not there yet, the range it waits for if no thread
 * has taken it. Each input's events are what one decoder reading all the inputs makes of it,
 * since their times are their own (checked: Done.leaned).
 */
async function readSideBySide(inputs: Input[], tasks: Task[], threads: number, feed: Feed, progress: ((bytes: number) => void) | undefined): Promise<Counters> {
  const pool = new ThreadPool(tasks, threads);
  try {
    const counters = new Counters();
    const cursors: Cursor[] = inputs.map((_, i) => ({ ranges: tasks.filter((t) => t.input === i), k: 0, batch: undefined, i: 0, reached: undefined, linesBefore: 0, at: 0, done: false }));
    const reach = (c: Cursor, ns: bigint | undefined) => {
      if (ns !== undefined && (c.reached === undefined || ns > c.reached)) c.reached = ns;
    };
    let open = cursors.length;
    let told = 0;
    while (open > 0) {
      const c = leastFar(cursors);
      const b = c.batch;
      if (b) {
        // this input's evidence up to where another input is the least far
        const limit = c.reached === undefined ? undefined : otherLeast(cursors, c);
        for (; c.i < b.events.length; ) {
          const [e, at] = b.events[c.i++]!;
          feed.evidence([[e, at]], undefined);
          reach(c, at);
          if (limit !== undefined && c.reached! > limit) break;
        }
        if (c.i === b.events.length) {
          reach(c, b.upTo);
          c.batch = undefined;
        }
      } else {
        const task = c.ranges[c.k]!;
        const m = pool.take(task.id);
        if (!m) {
          const here = pool.claim(task.id) ?? pool.claim();
          if (here) await pool.runHere(here);
          else await pool.wait(task.id);
          continue;
        }
        if (m.t === 'done') {
          if (m.leaned !== undefined) throw new MisreadAnchors(m.leaned);
          for (const [k, v] of Object.entries(m.counters)) counters.inc(k, v);
          c.linesBefore += m.lines;
          if (++c.k === c.ranges.length) {
            c.done = true;
            c.at = inputs[task.input]!.size ?? c.at;
            open--;
          }
        } else {
          // a range's lines are numbered from its start
          for (const [e] of m.events) if (e.log.line !== undefined) e.log.line += c.linesBefore;
          for (const d of m.dead) if (d.line !== undefined) d.line += c.linesBefore;
          for (const d of m.dead) feed.deadLetter(d);
          if (!m.tail) c.at = m.at;
          if (c.reached === undefined) {
            // an input's first batch is fed whole, as one thread reads each input's first batch before choosing
            feed.evidence(m.events, undefined);
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
        const bytes = cursors.reduce((n, x) => n + x.at, 0);
        if (bytes - told > 1 << 20) progress((told = bytes));
      }
    }
    return counters;
  } finally {
    await pool.close();
  }
}
/** The least time the unfinished inputs but `c` have reached (undefined: none has one). */
function otherLeast(cursors: Cursor[], c: Cursor): bigint | undefined {
  let w: bigint | undefined;
  for (const x of cursors) if (x !== c && !x.done && x.reached !== undefined && (w === undefined || x.reached < w)) w = x.reached;
  return w;
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
