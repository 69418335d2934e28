import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Decoder } from '../../ingest/decoder.ts';
import type { Format } from '../../ingest/detect.ts';
import { fingerprint } from '../../ingest/source-identity.ts';
import type { Input } from '../../ingest/sources/files.ts';
import { READS_AFTER_S, READS_BEFORE_S } from '../window.ts';
import type { Plan, Task } from './plan.ts';
import { KMSG_ISO, eventBoundary, firstLine, lineBoundary, linesAround, text } from './plan.ts';

/**
 * A slice of time, for one thread to read from every input and correlate on its own: it decides
 * the deaths from `from` (ns, inclusive) to `to` (exclusive; undefined: no bound). Per input, its
 * ranges in order: a `lead` from far enough before `from` that a death after it has all it reads,
 * the range it counts, and a `tail` far enough past `to` that a death before it has too.
 */
export type Slice = { index: number; from: bigint | undefined; to: bigint | undefined; tasks: Task[] };

/**
 * Evidence of an input may be this much older than what the input has already said (analyze's
 * LATENESS_NS): reading from that much earlier (and on that much longer) still finds all of it.
 */
const LATE_S = 300n;
const LEAD_MS = Number((READS_BEFORE_S + LATE_S) * 1000n);
const TAIL_MS = Number((READS_AFTER_S + LATE_S) * 1000n);
/**
 * A slice reads its lead and tail twice over (another slice counts them): no more than this share
 * of its own span, or threads reading ranges for one correlating thread are faster (plan.ts).
 */
export const MAX_OVERLAP = 0.25;
/** Points per input where its time is read, to place the slices' bounds. */
const SAMPLES = 32;
const PROBE_BYTES = 64 << 10;
/** A kernel line is at most 1 KiB (printk's LOG_LINE_MAX); more is read as it is. */
const MAX_KMSG_LINE = 4096;

/**
 * What a line costs to decode and correlate (µs, on one core), by shape: the slices are cut where
 * the work, not the bytes or the time, is shared evenly. Measured on the busy lab history
 * (test/bench/parallel.ts): a triaged audit record costs 3 µs, a daemon's logfmt line 18, an
 * event stream's JSON or ctr line 40, a kernel line 7.
 */
const LINE_COST: Partial<Record<Format, number>> = { audit: 3, raw: 18, 'docker-events': 40, 'ctr-events': 40, kmsg: 7 };

type Timeline = { task: Task; size: number; offsets: number[]; times: number[]; costPerByte: number };

/**
 * Cuts `plan`'s inputs (every one read in ranges, their times their own) into `threads` slices of
 * time with about the same work, each cut at a point where a reader can start (plan.ts's
 * boundaries). Undefined when the history is too short for slices to pay for their lead and tail,
 * or an input cannot be cut near a bound.
 */
export async function planSlices(plan: Plan, inputs: Input[], threads: number, maxOverlap = MAX_OVERLAP): Promise<Slice[] | undefined> {
  if (!plan.everything || threads < 2) return undefined;
  const timelines: Timeline[] = [];
  for (const [index, input] of inputs.entries()) {
    const task = plan.tasks.find((t) => t.input === index);
    if (!task || input.size === undefined) return undefined;
    const t = await timeline(task, input.size);
    if (!t) return undefined;
    timelines.push(t);
  }
  const from = Math.min(...timelines.map((t) => t.times[0]!));
  const to = Math.max(...timelines.map((t) => t.times.at(-1)!));
  const work = (ms: number) => timelines.reduce((n, t) => n + t.costPerByte * offsetAt(t, ms), 0);
  const total = work(Infinity);
  const bounds: number[] = [];
  for (let k = 1; k < threads; k++) {
    let lo = from;
    let hi = to;
    for (let i = 0; i < 64 && hi - lo > 1; i++) {
      const mid = (lo + hi) / 2;
      if (work(mid) < (total * k) / threads) lo = mid;
      else hi = mid;
    }
    bounds.push(Math.round(hi));
  }
  const edges = [from, ...bounds, to];
  for (let k = 0; k + 1 < edges.length; k++) {
    const extra = (k > 0 ? LEAD_MS : 0) + (k + 2 < edges.length ? TAIL_MS : 0);
    if (edges[k + 1]! - edges[k]! <= 0 || extra > maxOverlap * (edges[k + 1]! - edges[k]!)) return undefined;
  }
  // per input, the offsets of each bound and of the lead and tail around it
  // per input, the offsets of each bound and of the lead and tail around it (the input's size: past its last line)
  const cuts: { lead: number; at: number; tail: number }[][] = [];
  for (const t of timelines) {
    const fh = await open(t.task.path);
    try {
      const own: (typeof cuts)[number] = [];
      for (const b of bounds) {
        // no place to start near the lead's time: from the start, to be sure
        const lead = (await cutAt(fh, t, b - LEAD_MS)) ?? 0;
        const at = await cutAt(fh, t, b);
        if (at === undefined) return undefined;
        own.push({ lead: Math.min(lead, at), at, tail: Math.max(at, (await cutAt(fh, t, b + TAIL_MS)) ?? t.size) });
      }
      cuts.push(own);
    } finally {
      await fh.close();
    }
  }
  const slices: Slice[] = [];
  let id = 0;
  for (let k = 0; k < threads; k++) {
    const tasks: Task[] = [];
    for (const [i, t] of timelines.entries()) {
      const before = k > 0 ? cuts[i]![k - 1]! : undefined;
      const after = k + 1 < threads ? cuts[i]![k]! : undefined;
      // ranges from `a` to `b`, the input's size being its end (an input that ends before a bound, or starts after it)
      const range = (a: number, b: number, role: Task['role']) => {
        if (b <= a) return;
        const end = b >= t.size ? undefined : b;
        const r: Task = { ...t.task, id: id++, start: a, end, lastRange: end === undefined, rank: k };
        if (role) r.role = role;
        tasks.push(r);
      };
      const start = before?.at ?? 0;
      const end = after?.at ?? t.size;
      if (before) range(before.lead, start, 'lead');
      range(start, end, undefined);
      if (after) range(end, after.tail, 'tail');
    }
    const ns = (ms: number | undefined) => (ms === undefined ? undefined : BigInt(ms) * 1_000_000n);
    slices.push({ index: k, from: ns(k > 0 ? bounds[k - 1] : undefined), to: ns(k + 1 < threads ? bounds[k] : undefined), tasks });
  }
  return slices;
}

/** An input's time at SAMPLES points, and what a byte of it costs. */
async function timeline(task: Task, size: number): Promise<Timeline | undefined> {
  const cost = LINE_COST[task.format];
  if (cost === undefined) return undefined;
  const head = await firstLine(task.path);
  const ref = task.ref.key !== undefined || head === undefined ? task.ref : { ...task.ref, key: fingerprint(Buffer.from(head, 'utf8')) };
  const fh = await open(task.path);
  try {
    const offsets: number[] = [];
    const times: number[] = [];
    let bytes = 0;
    let lines = 0;
    for (let j = 0; j <= SAMPLES; j++) {
      const at = j === SAMPLES ? Math.max(0, size - PROBE_BYTES) : Math.floor((size * j) / SAMPLES);
      const p = await probe(fh, at, task.format, j === SAMPLES);
      if (!p) continue;
      bytes += p.bytes;
      lines += p.lines;
      // a time earlier than one before it (records of one second interleaved) does not move the line back
      if (times.length && p.ms < times.at(-1)!) continue;
      offsets.push(j === SAMPLES ? size : p.offset);
      times.push(p.ms);
    }
    if (times.length < 2 || lines === 0) return undefined;
    return { task: { ...task, ref }, size, offsets, times, costPerByte: cost / (bytes / lines) };
  } finally {
    await fh.close();
  }
}

/** Bytes of the input before the line where its time first reaches `ms`, by the samples. */
function offsetAt(t: Timeline, ms: number): number {
  if (ms <= t.times[0]!) return 0;
  if (ms >= t.times.at(-1)!) return t.size;
  let j = 0;
  while (t.times[j + 1]! < ms) j++;
  const [t0, t1, o0, o1] = [t.times[j]!, t.times[j + 1]!, t.offsets[j]!, t.offsets[j + 1]!];
  return t1 === t0 ? o1 : o0 + ((o1 - o0) * (ms - t0)) / (t1 - t0);
}

/**
 * The first point at or after the line where the input's time reaches `ms` where a reader can
 * start (its size: past its last line; undefined: none near): found by halving between the
 * samples around it.
 */
async function cutAt(fh: FileHandle, t: Timeline, ms: number): Promise<number | undefined> {
  if (ms <= t.times[0]!) return 0;
  if (ms > t.times.at(-1)!) return t.size;
  let j = 0;
  while (t.times[j + 1]! < ms) j++;
  let lo = t.offsets[j]!;
  let hi = t.offsets[j + 1]!;
  while (hi - lo > PROBE_BYTES) {
    const mid = Math.floor((lo + hi) / 2);
    const p = await probe(fh, mid, t.task.format, false);
    if (p && p.ms < ms) lo = p.offset;
    else hi = mid;
  }
  return boundary(fh, (await reaching(fh, lo, ms, t.task.format)) ?? hi, t.task);
}

/** The first line from `at` on (within two probes' bytes) whose time is `ms` or later. */
async function reaching(fh: FileHandle, at: number, ms: number, format: Format): Promise<number | undefined> {
  const p = await wholeLines(fh, at, 2 * PROBE_BYTES);
  for (const [a, b] of p.lines) {
    const t = lineTimeMs(p.buf.toString('latin1', a, Math.min(b, a + 4096)), format);
    if (t !== undefined && t >= ms) return at + a;
  }
  return undefined;
}

/** The lines wholly within the `bytes` read at `at`, not one begun before it: where each starts and ends in `buf`. */
async function wholeLines(fh: FileHandle, at: number, bytes: number): Promise<{ buf: Buffer; lines: [number, number][] }> {
  const buf = Buffer.allocUnsafe(bytes);
  const { bytesRead } = await fh.read(buf, 0, buf.length, at);
  const lines: [number, number][] = [];
  let pos = 0;
  if (at > 0) {
    const nl = buf.indexOf(0x0a);
    if (nl < 0 || nl >= bytesRead) return { buf, lines };
    pos = nl + 1;
  }
  for (let nl = buf.indexOf(0x0a, pos); nl >= 0 && nl < bytesRead; nl = buf.indexOf(0x0a, pos)) {
    lines.push([pos, nl]);
    pos = nl + 1;
  }
  return { buf, lines };
}

function boundary(fh: FileHandle, target: number, task: Task): Promise<number | undefined> {
  if (target === 0) return Promise.resolve(0);
  if (task.kind === 'audit') return eventBoundary(fh, target);
  if (task.format === 'kmsg') return kmsgBoundary(fh, target, task);
  return lineBoundary(fh, target, task.format);
}

/**
 * The first line at or after `target` of `dmesg --time-format iso` before which no kernel report is
 * open: a report ends at its last line ('end') or stays open until a line that is not its own, so
 * a reader that stops at a cut sees it whole only if the decoder holds nothing there. The decoder
 * itself says so (resumePoint, as a range's reader checks at its end: Done.leaned), reading from a
 * line a second or more after the one before it, which opens no report's middle (a kernel writes a
 * report at once).
 */
export async function kmsgBoundary(fh: FileHandle, target: number, task: Task): Promise<number | undefined> {
  const w = await linesAround(fh, target, MAX_KMSG_LINE, 1);
  if (!w) return undefined;
  const ms = (j: number) => {
    const line = text(w, j);
    return KMSG_ISO.test(line) ? lineTimeMs(line, 'kmsg') : undefined;
  };
  const apart = (j: number) => {
    const [a, b] = [ms(j - 1), ms(j)];
    return a !== undefined && b !== undefined && b - a >= 1000;
  };
  let from = w.first;
  while (from > 1 && !apart(from)) from--;
  if (!apart(from)) return undefined;
  const decoder = new Decoder(
    () => undefined,
    () => undefined,
    task.opts,
  );
  for (let j = from; j <= w.hi; j++) {
    if (j > from && j >= w.first && decoder.resumePoint(task.ref.id).offset === undefined) return w.lines[j]!.offset;
    decoder.pushSource(task.ref, { kind: 'line', text: text(w, j), offset: w.lines[j]!.offset, lineNo: j });
  }
  return undefined;
}

/**
 * The time of the first line at or after `at` that has one (`last`: of the last whole line read
 * that has one) and where it starts, with the whole lines and their bytes in the piece read.
 */
async function probe(fh: FileHandle, at: number, format: Format, last: boolean): Promise<{ ms: number; offset: number; lines: number; bytes: number } | undefined> {
  const p = await wholeLines(fh, at, PROBE_BYTES);
  let found: { ms: number; offset: number } | undefined;
  for (const [a, b] of p.lines) {
    if (found && !last) break;
    const ms = lineTimeMs(p.buf.toString('latin1', a, Math.min(b, a + 4096)), format);
    if (ms !== undefined) found = { ms, offset: at + a };
  }
  const n = p.lines.length;
  return found && { ...found, lines: n, bytes: n ? p.lines[n - 1]![1] + 1 - p.lines[0]![0] : 0 };
}

const AUDIT_STAMP = /msg=audit\((\d+)\.(\d+):/;
const LOGFMT_TIME = /^time="([^"]+)"/;
const NANO = /"timeNano":(\d+)/;
const CTR_TIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d) /;
const KMSG_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d+)([+-]\d\d:\d\d) /;

/** A line's own time (ms), to place a slice's bounds: close enough, never what an event says. */
export function lineTimeMs(text: string, format: Format): number | undefined {
  let m: RegExpExecArray | null;
  let ms: number;
  if (format === 'audit') return (m = AUDIT_STAMP.exec(text)) ? Number(m[1]) * 1000 + Number(m[2]!.slice(0, 3).padEnd(3, '0')) : undefined;
  else if (format === 'raw') ms = (m = LOGFMT_TIME.exec(text)) ? Date.parse(m[1]!) : NaN;
  else if (format === 'docker-events') ms = (m = NANO.exec(text)) ? Number(m[1]) / 1e6 : NaN;
  else if (format === 'ctr-events') ms = (m = CTR_TIME.exec(text)) ? Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`) : NaN;
  else if (format === 'kmsg') ms = (m = KMSG_TIME.exec(text)) ? Date.parse(`${m[1]}.${m[2]}${m[3]}`) : NaN;
  else return undefined;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Lines before byte `end` of a file: a slice's ranges number their lines from its first. */
export async function linesBefore(path: string, end: number): Promise<number> {
  if (end === 0) return 0;
  let n = 0;
  for await (const chunk of createReadStream(path, { end: end - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
  }
  return n;
}
