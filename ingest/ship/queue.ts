import { Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import type { NormalizedEvent } from '../event.ts';

/**
 * The ingest stage's output when distributed: batches of normalized events on a BullMQ queue,
 * read by the correlate workers. Jobs are retried for a long time with backoff: an event that
 * reached this queue is never given up on.
 */
export const EVENTS_QUEUE = 'exit137-events';

/**
 * `skipped` present: the ingest worker already chose what is indexed (correlate/distributed/indexing.ts):
 * `events` holds only evidence and the context around deaths, and the rest of the batch is counted
 * here by reason, never sent. Absent: `events` is the whole batch.
 */
export type EventsJob = {
  node: string;
  events: NormalizedEvent[];
  skipped?: Record<string, number>;
  /**
   * Where the node's reading stands (ns since the epoch, as a string): the earliest time any of its
   * streams still being read has reached. A node catching up on a backlog reads its files at their
   * own paces, and a bucket finalized before its slowest stream reached it was finalized again
   * for each stream that came later (bench, 60 copies: 3.5 attributions per death).
   */
  watermarkNs?: string;
};

/**
 * Waits between attempts of a job whose sink was down: doubling from half a second, capped so that
 * a sink back after an hour is written to within half a minute (the 'capped' backoff type).
 */
export function cappedBackoff(attemptsMade: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(attemptsMade - 1, 16));
}

export function eventsQueue(connection: ConnectionOptions): Queue<EventsJob> {
  return new Queue<EventsJob>(EVENTS_QUEUE, {
    connection,
    defaultJobOptions: { attempts: 100_000, backoff: { type: 'capped' }, removeOnComplete: { age: 3600 }, removeOnFail: false },
  });
}
