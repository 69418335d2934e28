import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { parseAuditRecord } from '../../ingest/audit/record.ts';
import { UNKNOWN_HOST } from '../../ingest/decoder.ts';
import type { DecoderOptions, InputRef } from '../../ingest/decoder.ts';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { sniffFormat } from '../../ingest/detect.ts';
import type { Format } from '../../ingest/detect.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { fingerprint } from '../../ingest/source-identity.ts';
import type { Input } from '../../ingest/sources/files.ts';
import type { AnalyzeResult, SliceOptions } from '../analyze.ts';
import type { Slice } from './slices.ts';

/**
 * One byte range of an input (the whole file, or a piece cut where nothing read before it matters)
 * for a worker thread: an audit log's cut at an event boundary, a line log's (`lines`) at a line
 * that carries its own time.
 */
export type Task = {
  id: number;
  /** Index of the input it belongs to. */
  input: number;
  kind: 'audit' | 'lines';
  format: Format;
  path: string;
  ref: InputRef;
  start: number;
  /** Exclusive; undefined: to the end of the file. */
  end: number | undefined;
  /** The input's last range: its end is the input's end. */
  lastRange: boolean;
  /** Which range a free thread takes next: the lowest. */
  rank: number;
  /**
   * Read only for the evidence it gives deaths decided by the reader of a slice of time
   * (correlate/parallel/slices.ts): from before the slice (`lead`), or after it (`tail`). Another
   * slice counts it.
   */
  role?: 'lead' | 'tail';
  opts: Omit<DecoderOptions, 'wantAudit' | 'wantRuntimeLine'>;
};

/** A worker's evidence, each with the newest event time its range had reached when it was made (the watermark). */
export type Batch = { t: 'batch'; id: number; events: [NormalizedEvent, bigint][]; packed?: Packed; dead: DeadLetter[]; upTo: bigint | undefined; at: number; tail: boolean };
/** Evidence as a worker posts it: `events` is empty, this holds them (range.ts packEvents). */
export type Packed = { json: string; at: BigInt64Array };
/**
 * `leaned`: why the range's events are not what one decoder reading all inputs makes of them (a
 * time taken from another input's clock, a report open across the cut); then all is read again.
 */
export type Done = { t: 'done'; id: number; counters: Record<string, number>; lines: number; anchors: [string, bigint][]; leaned?: string };
export type Failed = { t: 'error'; id: number; message: string };
export type FromWorker = Batch | Done | Failed;
/** All the ranges, lowest rank first, and the flags (per task id) that say which a thread has taken. */
export type ToWorker = { tasks: Task[]; claimed: Int32Array };
/** A slice of time for a worker to read and correlate alone (correlate/parallel/slices.ts). */
export type ToSliceWorker = { t: 'slice'; slice: Slice; sizes: number[]; options: SliceOptions };
/** What a slice's worker tells: dead letters as they come, bytes read, and its result (counters apart: a class does not cross). */
export type FromSliceWorker =
  | { t: 'dead'; dead: DeadLetter[] }
  | { t: 'progress'; bytes: number }
  | { t: 'slice-done'; result: Omit<AnalyzeResult, 'decoder'>; counters: Record<string, number> }
  | { t: 'slice-error'; message: string; misread: boolean };

/** Takes a range for this thread: false when another thread has. */
export function claim(claimed: Int32Array, id: number): boolean {
  return Atomics.compareExchange(claimed, id, 0, 1) === 0;
}

/** Below this much input read by threads in all, threads cost more to start than they save. */
export const PARALLEL_FROM_BYTES = 4e6;
/** Ranges a large audit log is split into, per thread. */
const RANGES_PER_THREAD = 4;
/** No piece of a split audit log is smaller than this. */
export const MIN_RANGE_BYTES = 4e6;
/**
 * No piece of a split line log is smaller than this: a daemon's logfmt costs about 20 µs a line
 * to decode against 3 µs for a triaged audit record, so its pieces are smaller for the same time.
 */
export const MIN_LINE_RANGE_BYTES = 1e6;
/** Ranges a large line log is split into, per thread. */
const LINE_RANGES_PER_THREAD = 8;

/**
 * Lines either side of a cut whose audit serials must differ: records of one event interleave
 * with others' (112 lines apart at most in the lab's busy capture), so a cut where the serial
 * merely changes could still part an event's records.
 */
const CUT_LINES = 256;
/**
 * Lines before a cut in a daemon's logfmt log that must all be its own timed lines: a Go crash
 * dump's lines (no time of their own, they take the last line's) and a relayed one's end before
 * it, so the piece before the cut closes them as the whole file does.
 */
const LOGFMT_CUT_LINES = 16;
const LOOK_BACK = 256 << 10;
const LOOK_AHEAD = 1 << 20;

/** The audit stamp of a raw or ENRICHED line: its node and serial name its event. */
const RECORD = /^(?:node=(\S+) )?type=\S+ msg=audit\(\d+\.\d+:(\d+)\)/;
/** A daemon's logfmt line with a zoned RFC 3339 time (dockerd, containerd): its time is its own. */
const LOGFMT_TIMED = /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"/;
/** `ctr events`: a full date and zone before each event. */
const CTR_TIMED = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4} /;
/** `dmesg --time-format iso`: a full date and zone on each line. */
export const KMSG_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d+[+-]\d\d:\d\d /;

export type PlanOptions = { threads: number; parallelFrom?: number; rangeBytes?: number };

/** What threads read, and whether that is every input (then nothing is read on the main thread's own decoder). */
export type Plan = { tasks: Task[]; everything: boolean };

type Readable = { index: number; input: Input; head: string; kind: Task['kind']; format: Format };

/**
 * Which inputs worker threads read. An input goes to a thread when its events' times are its
 * own, so a decoder of its own makes of it what one decoder reading every input makes:
 * audit logs (one line per record, the kernel's stamp), and, when every input is such, the
 * daemons' logfmt logs (RFC 3339 `time=`), docker and ctr event streams and `dmesg --time-format
 * iso`. What a thread read is checked (Done.leaned): a line whose time came from another input's
 * clock, or a report open across a cut, has all read again on one thread. Anything else (syslog
 * without a year, dmesg's seconds since boot, journals) is read on the main thread, in order, and
 * then only audit logs go to threads: those inputs' times lean on what was read before them.
 * Large inputs are split into ranges: audit logs at event boundaries, line logs at a line with
 * its own time (not dmesg: its OOM reports run over many lines). Undefined: too little to gain.
 */
export async function planThreads(inputs: Input[], opts: DecoderOptions, plan: PlanOptions): Promise<Plan | undefined> {
  const readable: Readable[] = [];
  for (const [index, input] of inputs.entries()) {
    const path = input.ref.path;
    if (!path || path.endsWith('.gz') || input.size === undefined) continue;
    const head = await firstLine(path);
    if (head === undefined) continue;
    const format = sniffFormat(head);
    if (input.ref.format !== undefined && input.ref.format !== format) continue;
    const kind = kindOf(head, format);
    if (kind) readable.push({ index, input, head, kind, format });
  }
  const everything = readable.length === inputs.length && inputs.length > 0;
  const chosen = everything ? readable : readable.filter((r) => r.kind === 'audit');
  const bytes = chosen.reduce((n, a) => n + a.input.size!, 0);
  if (chosen.length === 0 || bytes < (plan.parallelFrom ?? PARALLEL_FROM_BYTES)) return undefined;
  // the triage's functions cannot cross to a thread: range.ts sets its own
  const { wantAudit: _, wantRuntimeLine: __, ...taskOpts } = opts;
  const tasks: Task[] = [];
  for (const { index, input, head, kind, format } of chosen) {
    const size = input.size!;
    const path = input.ref.path!;
    // more ranges than threads: whoever is free takes the next, so none waits long for another
    const [perThread, least] = kind === 'audit' ? [RANGES_PER_THREAD, MIN_RANGE_BYTES] : [LINE_RANGES_PER_THREAD, MIN_LINE_RANGE_BYTES];
    const pieces = kind === 'lines' && format === 'kmsg' ? 1 : Math.max(1, Math.min(plan.threads * perThread, Math.floor(size / (plan.rangeBytes ?? least))));
    const cuts = pieces > 1 ? await cutsAt(path, size, pieces, kind === 'audit' ? eventBoundary : (fh, target) => lineBoundary(fh, target, format)) : [];
    // a range after the first does not begin with the file's first line, which names the file in event ids
    const ref: InputRef = input.ref.key !== undefined || cuts.length === 0 ? input.ref : { ...input.ref, key: fingerprint(Buffer.from(head, 'utf8')) };
    const bounds = [0, ...cuts, undefined];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const start = bounds[k]!;
      // all inputs side by side: the ranges at the same share of each input come together, as
      // their times do; audit logs beside other inputs: one after the other, as they are fed
      const rank = everything ? start / size : index + start / size;
      tasks.push({ id: tasks.length, input: index, kind, format, path, ref, start, end: bounds[k + 1], lastRange: k + 2 === bounds.length, rank, opts: taskOpts });
    }
  }
  return { tasks, everything };
}

function kindOf(head: string, format: Format): Task['kind'] | undefined {
  if (format === 'audit') return /^(?:type|node)=/.test(head) ? 'audit' : undefined;
  if (format === 'raw') return LOGFMT_TIMED.test(head) ? 'lines' : undefined;
  if (format === 'docker-events') return 'lines';
  if (format === 'ctr-events') return CTR_TIMED.test(head) ? 'lines' : undefined;
  if (format === 'kmsg') return KMSG_ISO.test(head) ? 'lines' : undefined;
  return undefined;
}

export async function firstLine(path: string): Promise<string | undefined> {
  const fh = await open(path);
  try {
    const buf = Buffer.alloc(64 << 10);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0 && bytesRead === buf.length) return undefined;
    return (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  } finally {
    await fh.close();
  }
}

/** Byte offsets near `size * k / pieces` where the input can be cut (`boundary`); a point with none near it is not cut. */
async function cutsAt(path: string, size: number, pieces: number, boundary: (fh: FileHandle, target: number) => Promise<number | undefined>): Promise<number[]> {
  const fh = await open(path);
  try {
    const cuts: number[] = [];
    for (let k = 1; k < pieces; k++) {
      const at = await boundary(fh, Math.floor((size * k) / pieces));
      if (at !== undefined && at > (cuts.at(-1) ?? 0) && at < size) cuts.push(at);
    }
    return cuts;
  } finally {
    await fh.close();
  }
}

/** The whole lines of a window around `target` (text only up to `head` characters), and which of them a cut may fall on. */
/** Lines of a window around a target: where each starts in the file, its text on demand (`text`). */
export type Window = { lines: { offset: number; a: number; b: number }[]; buf: Buffer; first: number; lo: number; hi: number };

/** A window's line `i` (as far as its `head`), as text: made only for the lines a search reaches. */
export const text = (w: Window, i: number): string => w.buf.toString('latin1', w.lines[i]!.a, w.lines[i]!.b);

export async function linesAround(fh: FileHandle, target: number, head: number, context: number): Promise<Window | undefined> {
  const from = Math.max(0, target - LOOK_BACK);
  const buf = Buffer.allocUnsafe(target - from + LOOK_AHEAD);
  const { bytesRead } = await fh.read(buf, 0, buf.length, from);
  const lines: Window['lines'] = [];
  let pos = 0;
  // the first piece is part of a line begun before the window (unless the window starts the file)
  if (from > 0) {
    const nl = buf.indexOf(0x0a);
    if (nl < 0 || nl >= bytesRead) return undefined;
    pos = nl + 1;
  }
  // a window that reaches the end of the file reads its last line even without a newline
  const atEnd = bytesRead < buf.length;
  while (pos < bytesRead) {
    let nl = buf.indexOf(0x0a, pos);
    if (nl < 0 || nl >= bytesRead) {
      // a last line cut by the window's end is not read
      if (!atEnd) break;
      nl = bytesRead;
    }
    lines.push({ offset: from + pos, a: pos, b: Math.min(nl, pos + head) });
    pos = nl + 1;
  }
  const first = lines.findIndex((l) => l.offset >= target && l.offset > 0);
  if (first < 0) return undefined;
  // near either end of the file, the lines there are all there are
  return { lines, buf, first, lo: from === 0 ? 1 : context, hi: atEnd ? lines.length - 1 : lines.length - context };
}

/**
 * The first line at or after `target` that starts an event: an audit record whose serial no
 * record in the CUT_LINES lines before it shares with any record in the CUT_LINES lines from it.
 */
export async function eventBoundary(fh: FileHandle, target: number): Promise<number | undefined> {
  const w = await linesAround(fh, target, 200, CUT_LINES);
  if (!w) return undefined;
  // read only as far as the search goes: the first fitting line is usually a few hundred in
  const memo: (string | null | undefined)[] = [];
  const keyAt = (j: number): string | undefined => {
    let k = memo[j];
    if (k === undefined) {
      const m = RECORD.exec(text(w, j));
      memo[j] = k = m ? `${m[1] ?? ''} ${m[2]}` : null;
    }
    return k ?? undefined;
  };
  for (let i = Math.max(w.first, w.lo); i <= w.hi; i++) {
    const before = new Set<string>();
    let ok = true;
    for (let j = Math.max(0, i - CUT_LINES); j < i && ok; j++) {
      const key = keyAt(j);
      if (key === undefined) ok = false;
      else before.add(key);
    }
    for (let j = i; j < Math.min(w.lines.length, i + CUT_LINES) && ok; j++) {
      const key = keyAt(j);
      if (key === undefined || before.has(key)) ok = false;
    }
    if (ok) return w.lines[i]!.offset;
  }
  return undefined;
}

/**
 * The first line at or after `target` where a line log can be cut: a line of the file's format
 * with its own time, so a decoder starting there reads it as the whole file's decoder does; in a
 * daemon's logfmt log, after LOGFMT_CUT_LINES more of them, so no dump is open across the cut.
 */
export async function lineBoundary(fh: FileHandle, target: number, format: Format): Promise<number | undefined> {
  const timed = format === 'raw' ? LOGFMT_TIMED : format === 'ctr-events' ? CTR_TIMED : /^\{"/;
  const context = format === 'raw' ? LOGFMT_CUT_LINES : 1;
  const w = await linesAround(fh, target, 4096, context);
  if (!w) return undefined;
  const memo: (boolean | undefined)[] = [];
  const ok = (j: number) => (memo[j] ??= timed.test(text(w, j)) && sniffFormat(text(w, j)) === format);
  for (let i = Math.max(w.first, w.lo); i <= w.hi; i++) {
    let all = ok(i);
    for (let j = Math.max(0, i - context); j < i && all; j++) all = ok(j);
    if (all) return w.lines[i]!.offset;
  }
  return undefined;
}

/** ingest/decoder.ts's floor: an audit stamp before 2000 is a dead letter, never an instant a clock takes. */
const AUDIT_EPOCH_FLOOR_MS = 946_684_800_000;
const TAIL_BYTES = 1 << 20;

/**
 * What the node clocks will have read last in an audit log (its last record per node), from the
 * file's end: the inputs read on the main thread after it are read with this before the workers
 * are done with it, and checked against what they report (`Done.anchors`).
 */
export async function tailAnchors(path: string, ref: InputRef, opts: DecoderOptions): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const fh = await open(path);
  try {
    const { size } = await fh.stat();
    const from = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    const lines = buf.subarray(0, bytesRead).toString('utf8').split('\n');
    // the first piece may be part of a line begun before the window
    for (let i = lines.length - 1; i >= (from > 0 ? 1 : 0); i--) {
      const text = lines[i]!.replace(/\r$/, '');
      if (!text.startsWith('type=') && !text.startsWith('node=')) continue;
      const p = parseAuditRecord(text);
      if (!p.ok || p.record.ms < AUDIT_EPOCH_FLOOR_MS) continue;
      const host = p.record.node ?? ref.host ?? opts.host ?? UNKNOWN_HOST;
      if (!out.has(host)) out.set(host, p.record.ns);
    }
    return out;
  } finally {
    await fh.close();
  }
}

export function sameAnchors(a: Map<string, bigint>, b: Map<string, bigint>): boolean {
  return a.size === b.size && [...a].every(([h, ns]) => b.get(h) === ns);
}
