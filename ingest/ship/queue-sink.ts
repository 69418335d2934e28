import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { selectForIndex } from '../../correlate/distributed/indexing.ts';
import { AUDIT_TRIAGED, RUNTIME_TRIAGED } from '../../correlate/distributed/indexing.ts';
import type { IndexMode } from '../../correlate/distributed/indexing.ts';
import type { AuditEvent } from '../audit/reassemble.ts';
import { auditEventCanMatter } from '../audit/triage.ts';
import { isRuntimeChatter } from '../runtime/triage.ts';
import type { DecoderOptions } from '../decoder.ts';
import type { DeadLetter } from '../dead-letter.ts';
import type { NormalizedEvent } from '../event.ts';
import type { FollowSink } from '../follow-run.ts';
import { eventId } from '../source-identity.ts';
import type { EventsJob } from './queue.ts';

/** A stream that sent nothing for this long is not being read: it holds no finalize back. */
const ACTIVE_MS = 2000;

export type QueueSinkStats = { batches: number; events: number; letGo: number; sendFailures: number; deadLetters: number; lastEventNs: bigint | undefined };

export type QueueSinkOptions = {
  node: string;
  /** Events per job. */
  batchSize: number;
  /** Longest an event waits in the buffer before its batch is sent. */
  flushMs: number;
  /** Batches sent but not yet acknowledged before the readers are asked to wait. */
  maxInFlight: number;
  /**
   * `evidence` (the default): only evidence and the context around deaths are sent, the rest of
   * each batch counted by reason: most of a node's lines are neither, and carrying them through
   * Redis to be dropped by the correlate workers was most of what the pipeline spent on them.
   * `all`: every event is sent, for the correlate workers to index.
   */
  indexMode?: IndexMode;
  /** NDJSON file the dead letters are appended to (before the position that covers them is saved). */
  deadLetterFile: string;
  onError?: (e: Error, attempt: number) => void;
};

/**
 * The ingest worker's sink: events in batches onto the events queue, in order. A batch that
 * Redis does not take is sent again, with backoff, until it is taken: while that goes on the
 * buffer fills, `backlogged` turns true and the followers stop reading. Nothing is dropped.
 */
export class QueueSink implements FollowSink {
  readonly stats: QueueSinkStats = { batches: 0, events: 0, letGo: 0, sendFailures: 0, deadLetters: 0, lastEventNs: undefined };
  private buffer: NormalizedEvent[] = [];
  private dead: DeadLetter[] = [];
  /** Events let go before they were built (the decoder's triage), by reason, for the next batch. */
  private letGoCounts: Record<string, number> = {};
  private letGoPending = 0;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Each stream's last event sent (its time) and when it was sent. */
  private readonly streams = new Map<string, { ns: string; at: number }>();
  /** The latest event time any stream has reached: the watermark once every stream is quiet. */
  private latestNs: bigint | undefined;
  private quiet: NodeJS.Timeout | undefined;
  private watermarkSent: string | undefined;

  constructor(private readonly queue: Queue<EventsJob>, private readonly opts: QueueSinkOptions) {}

  event(e: NormalizedEvent): void {
    this.buffer.push(e);
    if (this.buffer.length >= this.opts.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  /**
   * An event the decoder let go before building it (ingest/audit/triage.ts, only when not every
   * event is indexed): counted by reason in the next batch's `skipped`, so the correlate workers'
   * not-indexed counters (and the log) hold it like any other event left out, never silently.
   */
  letGo(reason: string): void {
    this.letGoCounts[reason] = (this.letGoCounts[reason] ?? 0) + 1;
    this.letGoPending++;
    // a flood of them alone still reaches the counters within flushMs
    if (this.letGoPending >= this.opts.batchSize * 10) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  deadLetter(d: DeadLetter): void {
    this.dead.push(d);
    this.stats.deadLetters++;
  }

  get backlogged(): boolean {
    return this.inFlight >= this.opts.maxInFlight || this.buffer.length >= this.opts.batchSize;
  }

  durable(): Promise<void> {
    return this.flush();
  }

  /** Sends what is buffered; resolves when it and every earlier batch are acknowledged. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.buffer;
    const dead = this.dead;
    const letGo = this.letGoPending ? this.letGoCounts : undefined;
    this.buffer = [];
    this.dead = [];
    this.letGoCounts = {};
    this.letGoPending = 0;
    if (events.length === 0 && dead.length === 0 && !letGo) return this.chain;
    this.inFlight++;
    this.chain = this.chain.then(async () => {
      try {
        if (dead.length) await this.retrying(() => appendFile(this.opts.deadLetterFile, dead.map((d) => `${JSON.stringify(d)}\n`).join('')));
        if (events.length || letGo) await this.send(events, letGo);
      } finally {
        this.inFlight--;
      }
    });
    return this.chain;
  }

  private async send(events: NormalizedEvent[], letGo: Record<string, number> | undefined): Promise<void> {
    // The same batch sent again after a lost reply is the same job: BullMQ keeps one per id. A
    // batch of counts alone is told apart by when it was cut (a retry reuses this id).
    const jobId = `b-${eventId(events.length ? `${events[0]!.event.id}-${events.at(-1)!.event.id}-${events.length}` : `counts-${this.opts.node}-${process.pid}-${Date.now()}-${this.stats.batches}`)}`;
    const job: EventsJob = (this.opts.indexMode ?? 'evidence') === 'all' ? { node: this.opts.node, events } : { node: this.opts.node, ...selected(events) };
    const watermark = this.watermark(events);
    if (watermark !== undefined) job.watermarkNs = watermark;
    if (letGo) {
      job.skipped ??= {};
      for (const [reason, n] of Object.entries(letGo)) job.skipped[reason] = (job.skipped[reason] ?? 0) + n;
    }
    await this.retrying(() => this.queue.add('batch', job, { jobId }));
    if (job.watermarkNs !== undefined) this.watermarkSent = job.watermarkNs;
    this.whenQuiet();
    this.stats.batches++;
    this.stats.events += events.length;
    if (letGo) for (const n of Object.values(letGo)) this.stats.letGo += n;
    for (const e of events) {
      const ns = BigInt(e.exit137.ts_ns);
      if (this.stats.lastEventNs === undefined || ns > this.stats.lastEventNs) this.stats.lastEventNs = ns;
    }
  }

  /**
   * Once nothing has been sent for ACTIVE_MS, the watermark every stream having gone quiet gives
   * (the latest time reached), sent on its own: the last batch's watermark was held back by the
   * streams still being read then, and the last deaths of a backlog read to its end waited for the
   * correlate workers to forget it (seconds on every catch-up; bench: the last verdicts 4 s late).
   */
  private whenQuiet(): void {
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      if (this.buffer.length || this.inFlight) return this.whenQuiet();
      const wm = this.watermark([], true);
      if (wm === undefined || wm === this.watermarkSent) return;
      // a hint, not data: tried once (the next batch carries a watermark again). Retried like a
      // batch, it kept a worker whose queue had been closed alive, sleeping between tries forever.
      this.chain = this.chain.then(async () => {
        const job: EventsJob = { node: this.opts.node, events: [], watermarkNs: wm };
        try {
          await this.queue.add('batch', job, { jobId: `b-${eventId(`quiet-${this.opts.node}-${process.pid}-${wm}`)}` });
          this.watermarkSent = wm;
        } catch (e) {
          this.stats.sendFailures++;
          this.opts.onError?.(e as Error, 1);
        }
      });
    }, ACTIVE_MS + 100);
    this.quiet.unref();
  }

  /**
   * The earliest time reached by the streams (files, sources) this worker is still reading: those
   * that gave events within ACTIVE_MS. A stream gone quiet holds nothing back (a node's dmesg may
   * say nothing for hours); one catching up on a backlog does, until it has caught up. `quiet`:
   * nothing at all was sent for ACTIVE_MS (not even counts of events let go): with every stream
   * quiet, the latest time any reached.
   */
  private watermark(events: NormalizedEvent[], quiet = false): string | undefined {
    const now = Date.now();
    for (const e of events) {
      this.streams.set(e.log.file?.path ?? e.exit137.source, { ns: e.exit137.ts_ns, at: now });
      const ns = BigInt(e.exit137.ts_ns);
      if (this.latestNs === undefined || ns > this.latestNs) this.latestNs = ns;
    }
    let min: bigint | undefined;
    for (const [k, s] of this.streams) {
      if (now - s.at > ACTIVE_MS) {
        this.streams.delete(k);
        continue;
      }
      const ns = BigInt(s.ns);
      if (min === undefined || ns < min) min = ns;
    }
    return (min ?? (quiet ? this.latestNs : undefined))?.toString();
  }

  private async retrying(op: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await op();
        return;
      } catch (e) {
        this.stats.sendFailures++;
        this.opts.onError?.(e as Error, attempt);
        await sleep(Math.min(30_000, 100 * 2 ** Math.min(attempt, 9)));
      }
    }
  }
}

function selected(events: NormalizedEvent[]): { events: NormalizedEvent[]; skipped: Record<string, number> } {
  const { index, skipped } = selectForIndex(events, 'evidence');
  return { events: index, skipped };
}

/**
 * The decoder options an ingest worker shipping into `sink` takes: with evidence and context only
 * indexed (the default), an audit event that can never be evidence (a Go runtime's SIGURG storm)
 * is let go before it is built, as analyze does, and so is a daemon's debug or info line that can
 * never be evidence (a third of the busy capture's events); each is counted by the sink. The lines
 * built around a death still give it its context, the daemons' unknown warnings and errors among
 * them. With every event indexed, every event is built and sent.
 */
export function ingestTriage(sink: QueueSink, mode: IndexMode): Pick<DecoderOptions, 'wantAudit' | 'wantRuntimeLine'> {
  if (mode === 'all') return {};
  return {
    wantAudit: (ev: AuditEvent<unknown>) => auditEventCanMatter(ev) || (sink.letGo(AUDIT_TRIAGED), false),
    wantRuntimeLine: (msg, matched, level) => !isRuntimeChatter(msg, matched, level) || (sink.letGo(RUNTIME_TRIAGED), false),
  };
}
