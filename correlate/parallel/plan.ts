import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { parseAuditRecord } from '../../ingest/audit/record.ts';
import { UNKNOWN_HOST } from '../../ingest/decoder.ts';
import type { DecoderOptions, InputRef } from '../../ingest/decoder.ts';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { sniffFormat } from '../../ingest/detect.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { fingerprint } from '../../ingest/source-identity.ts';
import type { Input } from '../../ingest/sources/files.ts';

/** One byte range of an audit log (the whole file, or a piece cut at an event boundary) for a worker thread. */
export type Task = {
  id: number;
  /** Index of the input it belongs to. */
  input: number;
  path: string;
  ref: InputRef;
  start: number;
  /** Exclusive; undefined: to the end of the file. */
  end: number | undefined;
  /** The input's last range: its end is the input's end. */
  lastRange: boolean;
  opts: Omit<DecoderOptions, 'wantAudit'>;
};

/** A worker's evidence, each with the newest event time its range had reached when it was made (the watermark). */
export type Batch = { t: 'batch'; id: number; events: [NormalizedEvent, bigint][]; dead: DeadLetter[]; upTo: bigint | undefined; at: number; tail: boolean };
export type Done = { t: 'done'; id: number; counters: Record<string, number>; lines: number; anchors: [string, bigint][] };
export type Failed = { t: 'error'; id: number; message: string };
export type FromWorker = Batch | Done | Failed;

/** Below this much audit log in all, threads cost more to start than they save. */
export const PARALLEL_FROM_BYTES = 4e6;
/** Ranges a large audit log is split into, per thread. */
const RANGES_PER_THREAD = 4;
/** No piece of a split file is smaller than this. */
export const MIN_RANGE_BYTES = 4e6;

/**
 * Lines either side of a cut whose audit serials must differ: records of one event interleave
 * with others' (112 lines apart at most in the lab's busy capture), so a cut where the serial
 * merely changes could still part an event's records.
 */
const CUT_LINES = 256;
const LOOK_BACK = 256 << 10;
const LOOK_AHEAD = 1 << 20;

/** The audit stamp of a raw or ENRICHED line: its node and serial name its event. */
const RECORD = /^(?:node=(\S+) )?type=\S+ msg=audit\(\d+\.\d+:(\d+)\)/;

export type PlanOptions = { threads: number; parallelFrom?: number; rangeBytes?: number };

/**
 * Which inputs worker threads read: audit logs, one line per record, whose events do not depend
 * on what other inputs said (their time is their own), split into `threads` ranges when large.
 * Everything else (daemon logs, syslog without a year, dmesg's relative times, multi-line dumps)
 * is read on the main thread in order, as before: its times lean on what was read before it.
 * Undefined: too little to gain from threads.
 */
export async function planThreads(inputs: Input[], opts: DecoderOptions, plan: PlanOptions): Promise<Task[] | undefined> {
  const audit: { index: number; input: Input; head: string }[] = [];
  for (const [index, input] of inputs.entries()) {
    const path = input.ref.path;
    if (!path || path.endsWith('.gz') || input.size === undefined || (input.ref.format !== undefined && input.ref.format !== 'audit')) continue;
    const head = await firstLine(path);
    if (head !== undefined && /^(?:type|node)=/.test(head) && sniffFormat(head) === 'audit') audit.push({ index, input, head });
  }
  const bytes = audit.reduce((n, a) => n + a.input.size!, 0);
  if (audit.length === 0 || bytes < (plan.parallelFrom ?? PARALLEL_FROM_BYTES)) return undefined;
  const { wantAudit: _, ...taskOpts } = opts;
  const tasks: Task[] = [];
  for (const { index, input, head } of audit) {
    const size = input.size!;
    const path = input.ref.path!;
    // more ranges than threads: whoever is free takes the next, so none waits long for another
    const pieces = Math.max(1, Math.min(plan.threads * RANGES_PER_THREAD, Math.floor(size / (plan.rangeBytes ?? MIN_RANGE_BYTES))));
    const cuts = pieces > 1 ? await cutsAt(path, size, pieces) : [];
    // a range after the first does not begin with the file's first line, which names the file in event ids
    const ref: InputRef = input.ref.key !== undefined || cuts.length === 0 ? input.ref : { ...input.ref, key: fingerprint(Buffer.from(head, 'utf8')) };
    const bounds = [0, ...cuts, undefined];
    for (let k = 0; k + 1 < bounds.length; k++) {
      tasks.push({ id: tasks.length, input: index, path, ref, start: bounds[k]!, end: bounds[k + 1], lastRange: k + 2 === bounds.length, opts: taskOpts });
    }
  }
  return tasks;
}

async function firstLine(path: string): Promise<string | undefined> {
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

/** Byte offsets near `size * k / pieces` where one event ends and the next begins; a point with none near it is not cut. */
async function cutsAt(path: string, size: number, pieces: number): Promise<number[]> {
  const fh = await open(path);
  try {
    const cuts: number[] = [];
    for (let k = 1; k < pieces; k++) {
      const at = await eventBoundary(fh, Math.floor((size * k) / pieces));
      if (at !== undefined && at > (cuts.at(-1) ?? 0) && at < size) cuts.push(at);
    }
    return cuts;
  } finally {
    await fh.close();
  }
}

/**
 * The first line at or after `target` that starts an event: an audit record whose serial no
 * record in the CUT_LINES lines before it shares with any record in the CUT_LINES lines from it.
 */
export async function eventBoundary(fh: FileHandle, target: number): Promise<number | undefined> {
  const from = Math.max(0, target - LOOK_BACK);
  const buf = Buffer.alloc(target - from + LOOK_AHEAD);
  const { bytesRead } = await fh.read(buf, 0, buf.length, from);
  const lines: { offset: number; key: string | undefined }[] = [];
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
    const m = RECORD.exec(buf.toString('latin1', pos, Math.min(nl, pos + 200)));
    lines.push({ offset: from + pos, key: m ? `${m[1] ?? ''} ${m[2]}` : undefined });
    pos = nl + 1;
  }
  const first = lines.findIndex((l) => l.offset >= target && l.offset > 0);
  if (first < 0) return undefined;
  // near either end of the file, the lines there are all there are
  const lo = from === 0 ? 1 : CUT_LINES;
  const hi = atEnd ? lines.length - 1 : lines.length - CUT_LINES;
  for (let i = Math.max(first, lo); i <= hi; i++) {
    const before = new Set<string>();
    let ok = true;
    for (let j = Math.max(0, i - CUT_LINES); j < i && ok; j++) {
      const key = lines[j]!.key;
      if (key === undefined) ok = false;
      else before.add(key);
    }
    for (let j = i; j < Math.min(lines.length, i + CUT_LINES) && ok; j++) {
      const key = lines[j]!.key;
      if (key === undefined || before.has(key)) ok = false;
    }
    if (ok) return lines[i]!.offset;
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
