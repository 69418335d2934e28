import { createReadStream } from 'node:fs';
import { auditEventCanMatter } from '../../ingest/audit/triage.ts';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { Decoder } from '../../ingest/decoder.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { readLineBatches } from '../../ingest/sources/lines.ts';
import { isEvidence } from '../incidents.ts';
import type { Batch, Done, Task } from './plan.ts';

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
 * Decodes one range of an audit log as analyze does (audit triage on), with a decoder of its own,
 * and gives only what analyze keeps: the evidence, the dead letters, the counters and each node's
 * latest instant. What the decoder lets go only at its end (audit events still open) comes in a
 * batch marked `tail`: analyze puts it where one decoder reading everything would have let it go.
 * Runs on a worker thread (worker.ts), whose messages are copies, or on the main thread, which
 * takes ranges too and `keep`s a copy of each piece of evidence: the decoder's strings are slices
 * of the chunk they were read from.
 */
export async function readRange(task: Task, post: (m: Batch | Done) => void, keep: (e: NormalizedEvent) => NormalizedEvent = (e) => e): Promise<void> {
  let events: Batch['events'] = [];
  let dead: DeadLetter[] = [];
  let upTo: bigint | undefined;
  let tail = false;
  let at = task.start;
  let sentAt = at;
  const send = () => {
    post({ t: 'batch', id: task.id, events, dead, upTo, at, tail });
    events = [];
    dead = [];
    sentAt = at;
  };
  const decoder = new Decoder(
    (e: NormalizedEvent) => {
      const ns = BigInt(e.exit137.ts_ns);
      if (upTo === undefined || ns > upTo) upTo = ns;
      if (isEvidence(e)) events.push([keep(e), upTo]);
    },
    (d) => dead.push(d),
    { ...task.opts, wantAudit: auditEventCanMatter },
  );
  const stream = createReadStream(task.path, { start: task.start, end: task.end === undefined ? Infinity : task.end - 1, highWaterMark: READ_BYTES });
  let lines = 0;
  for await (const batch of readLineBatches(stream, decoder.maxLineBytes, task.start)) {
    for (const l of batch) decoder.pushSource(task.ref, l);
    const last = batch.at(-1)!;
    lines = last.lineNo;
    at = last.offset;
    if (events.length + dead.length >= BATCH || at - sentAt >= BATCH_BYTES) send();
  }
  // one decoder reading the whole file ends the input only at its end
  if (task.lastRange) decoder.endInput(task.ref);
  send();
  tail = true;
  upTo = undefined;
  decoder.end();
  send();
  post({ t: 'done', id: task.id, counters: decoder.counters.values, lines, anchors: [...decoder.anchors()] });
}
