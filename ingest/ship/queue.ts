import { Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import type { NormalizedEvent } from '../event.ts';

/**
 * The ingest stage's output when distributed: batches of normalized events on a BullMQ queue,
 * read by the correlate workers. Jobs are retried for a long time with backoff: an event that
 * reached this queue is never given up on.
 */
export const EVENTS_QUEUE = 'exit137-events';

export type EventsJob = { node: string; events: NormalizedEvent[] };

export function eventsQueue(connection: ConnectionOptions): Queue<EventsJob> {
  return new Queue<EventsJob>(EVENTS_QUEUE, {
    connection,
    defaultJobOptions: { attempts: 1000, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: false },
  });
}
