import { createReadStream } from 'node:fs';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { Decoder } from '../../ingest/decoder.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { readLineBatches } from '../../ingest/sources/lines.ts';
import { EVIDENCE_TRIAGE, isEvidence } from '../incidents.ts';
import type { Batch, Done, Packed, Task } from './plan.ts';

/**
 * Read size. Not 128 KiB (READ_CHUNK_BYTES): a buffer of exactly glibc's mmap threshold is a
 * fresh mapping each time, and with two threads of one process unmapping, reads of it cost three
 * times the system time of 64 KiB or 1 MiB ones (166 MB read, 1 worker beside: 440 ms against
 * 126-153 ms). Larger reads also wait less on the thread pool: on one thread, this analyze of
 * 166 MB of audit log in ranges took 1.33 s with 512 KiB reads, 1.64 s with 64 KiB.
 */
const READ_BYTES = 512 << 10;

/** Evidence and dead letters per batch: few messages, none holding much. */
const BATCH = 256;
/** A batch at least this often (bytes read), for the progress bar and the watermark. */
const BATCH_BYTES = 8 << 20;

/**
 * Decodes one range of an input as analyze does (audit triage on), with a decoder of its own,
 * and gives only what analyze keeps: the evidence, the dead letters, the counters and each node's
 * latest instant. What the decoder lets go only at its end (audit events still open) comes in a
 * batch marked `tail`: analyze puts it where one decoder reading everything would have let it go.
 * A line log's range (`lines`) says whether it leaned on what this decoder could not know: an
 * event whose time is not its own line's (a year or zone from the node's clock, kernel seconds
 * placed on it), or a report still open where the range was cut.
 * Runs on a worker thread (worker.ts), whose messages are copies, or on the main thread, which
 * takes ranges too and `keep`s a copy of each piece of evidence: the decoder's strings are slices
 * of the chunk they were read from.
 */
export async function readRange(task: Task, post: (m: Batch | Done) => void, keep: (e: NormalizedEvent) => NormalizedEvent = (e) => e, pack = false): Promise<void> {
  for await (const m of rangeBatches(task, keep, pack)) post(m);
}

/** readRange's messages as they are made, for a reader on the same thread (correlate/parallel/slices.ts). */
export async function* rangeBatches(task: Task, keep: (e: NormalizedEvent) => NormalizedEvent = (e) => e, pack = false): AsyncGenerator<Batch | Done> {
  let events: Batch['events'] = [];
  let dead: DeadLetter[] = [];
  let upTo: bigint | undefined;
  let tail = false;
  let at = task.start;
  let sentAt = at;
  const batch = (): Batch => {
    const m: Batch = pack && events.length ? { t: 'batch', id: task.id, events: [], packed: packEvents(events), dead, upTo, at, tail } : { t: 'batch', id: task.id, events, dead, upTo, at, tail };
    events = [];
    dead = [];
    sentAt = at;
    return m;
  };
  let leaned: string | undefined;
  const lines = task.kind === 'lines';
  const decoder = new Decoder(
    (e: NormalizedEvent) => {
      if (lines && leaned === undefined) leaned = ownTime(e);
      const ns = BigInt(e.exit137.ts_ns);
      if (upTo === undefined || ns > upTo) upTo = ns;
      if (isEvidence(e)) events.push([keep(e), upTo]);
    },
    (d) => dead.push(d),
    { ...task.opts, ...EVIDENCE_TRIAGE },
  );
  const stream = createReadStream(task.path, { start: task.start, end: task.end === undefined ? Infinity : task.end - 1, highWaterMark: READ_BYTES });
  let read = 0;
  for await (const lineBatch of readLineBatches(stream, decoder.maxLineBytes, task.start)) {
    for (const l of lineBatch) decoder.pushSource(task.ref, l);
    const last = lineBatch.at(-1)!;
    read = last.lineNo;
    at = last.offset;
    if (events.length + dead.length >= BATCH || at - sentAt >= BATCH_BYTES) yield batch();
  }
  // one decoder reading the whole file ends the input only at its end
  if (task.lastRange) decoder.endInput(task.ref);
  else if (lines && leaned === undefined) {
    const held = decoder.resumePoint(task.ref.id).offset;
    if (held !== undefined) leaned = `a report begun at byte ${held} was still open where the input was cut at ${task.end}`;
  }
  yield batch();
  tail = true;
  upTo = undefined;
  decoder.end();
  yield batch();
  const done: Done = { t: 'done', id: task.id, counters: decoder.counters.values, lines: read, anchors: [...decoder.anchors()] };
  if (leaned !== undefined) done.leaned = `${task.path}: ${leaned}`;
  yield done;
}

/**
 * A batch's evidence as one JSON text and its times: a string crosses to another thread as bytes,
 * and waits there as one object until it is fed (`unpack`). Posted as objects, the queue of them
 * waiting was copied by every young-generation collection of the main thread: its scavenges cost
 * 23 ms each against 9 ms on one thread, and correlation twice its time.
 */
function packEvents(events: [NormalizedEvent, bigint][]): Packed {
  return { json: JSON.stringify(events.map(([e]) => e)), at: BigInt64Array.from(events, ([, ns]) => ns) };
}

/** A packed batch's evidence, each with its time. */
export function unpack(p: Packed): [NormalizedEvent, bigint][] {
  const events = JSON.parse(p.json) as NormalizedEvent[];
  return events.map((e, i) => [e, p.at[i]!]);
}

/** Why an event's time is not its own line's alone (undefined: it is). */
function ownTime(e: NormalizedEvent): string | undefined {
  const t = e.exit137.time;
  if (t.year_inferred) return `line ${e.log.line}: its year was inferred from the node's clock`;
  if (t.basis === 'relative' || t.basis === 'anchored' || t.basis === 'learned') return `line ${e.log.line}: its time is ${t.basis}, placed from the node's clock`;
  return undefined;
}
