import { Queue, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { attribute } from '../attribute.ts';
import { S } from '../context.ts';
import { byHost, findIncidents, isEvidence } from '../incidents.ts';
import type { Attribution } from '../verdict.ts';
import { RedisEvidenceStore } from './store.ts';

export const EVENTS_QUEUE = 'exit137-events';
export const FINALIZE_QUEUE = 'exit137-finalize';

/** Deaths are attributed per node and time bucket; a bucket is re-attributed when late evidence arrives. */
const BUCKET_S = 60n;
const BEFORE_S = 900n;
const AFTER_S = 120n;

export type EventsJob = { events: NormalizedEvent[] };
export type FinalizeJob = { host: string; bucket: string };

export function eventsQueue(connection: ConnectionOptions): Queue<EventsJob> {
  return new Queue<EventsJob>(EVENTS_QUEUE, { connection, defaultJobOptions: { attempts: 1000, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: false } });
}

/**
 * A correlate worker: stores each batch's evidence in Redis, and (re)arms the settle window of
 * every node/time bucket the batch touched — a delayed finalize job, deduplicated by bucket, whose
 * delay restarts with each new piece of evidence. Finalize reads the bucket's evidence back from
 * Redis, attributes its deaths and hands the verdicts on. Any number of these may run.
 */
export function correlateWorkers(connection: ConnectionOptions, opts: { settleMs: number; onVerdict: (v: Attribution) => Promise<void> }) {
  const redis = new Redis({ ...(connection as object), maxRetriesPerRequest: null });
  const store = new RedisEvidenceStore(redis);
  const finalizeQueue = new Queue<FinalizeJob>(FINALIZE_QUEUE, { connection, defaultJobOptions: { attempts: 1000, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: false } });

  const ingest = new Worker<EventsJob>(
    EVENTS_QUEUE,
    async (job: Job<EventsJob>) => {
      const evidence = job.data.events.filter(isEvidence);
      await store.add(evidence);
      const buckets = new Map<string, FinalizeJob>();
      for (const e of evidence) {
        const b = (BigInt(e.exit137.ts_ns) / (BUCKET_S * S)).toString();
        buckets.set(`${e.host.name}\0${b}`, { host: e.host.name, bucket: b });
      }
      for (const f of buckets.values()) {
        const id = `fin-${Buffer.from(f.host).toString('hex')}-${f.bucket}`;
        await finalizeQueue.add('finalize', f, { delay: opts.settleMs, deduplication: { id, ttl: opts.settleMs, extend: true, replace: true } });
      }
    },
    { connection, concurrency: 4 },
  );

  const finalize = new Worker<FinalizeJob>(
    FINALIZE_QUEUE,
    async (job: Job<FinalizeJob>) => {
      const start = BigInt(job.data.bucket) * BUCKET_S * S;
      const end = start + BUCKET_S * S;
      const events = await store.window(job.data.host, start - BEFORE_S * S, end + AFTER_S * S);
      for (const [host, evs] of byHost(events)) {
        for (const inc of findIncidents(evs, host)) {
          // each death belongs to the bucket it happened in: the neighbours' windows see it but do not attribute it
          if (inc.deathNs < start || inc.deathNs >= end) continue;
          const v = attribute(inc, await store.nextVersion(`${host}|${inc.containerId}|${inc.deathNs}`));
          await opts.onVerdict(v);
        }
      }
    },
    { connection, concurrency: 2 },
  );

  return {
    ingest,
    finalize,
    close: async () => {
      await Promise.all([ingest.close(), finalize.close()]);
      await finalizeQueue.close();
      redis.disconnect();
    },
  };
}
