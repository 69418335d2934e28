import { createHash } from 'node:crypto';
import { DelayedError, Queue, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { EVENTS_QUEUE, cappedBackoff } from '../../ingest/ship/queue.ts';
import type { EventsJob } from '../../ingest/ship/queue.ts';
import { attribute } from '../attribute.ts';
import { S } from '../context.ts';
import { byHost, findDeaths, isEvidence } from '../incidents.ts';
import type { Incident } from '../incidents.ts';
import type { Attribution } from '../verdict.ts';
import { selectForIndex } from './indexing.ts';
import type { IndexMode } from './indexing.ts';
import { RedisEvidenceStore } from './store.ts';

export const FINALIZE_QUEUE = 'exit137-finalize';

/** What a verdict says, whatever its version. */
function verdictDigest(v: Attribution): string {
  return createHash('sha1').update(JSON.stringify({ ...v, version: 0 })).digest('base64url');
}

/** Deaths are attributed per node and time bucket; a bucket is re-attributed when late evidence arrives. */
const BUCKET_S = 60n;
const BEFORE_S = 900n;
const AFTER_S = 120n;
/** How near a bucket's edge evidence re-arms the neighbouring bucket too. */
const EDGE_S = 10n;
/**
 * How long evidence stays in Redis after it arrived: longer than any source of one node lags
 * another, and than a death's settle window can be re-armed for.
 */
const RETAIN_MS = 2 * 3600_000;
/** A bucket's finalize lock lives this long unless its holder refreshes it (a third of it at a time). */
const LOCK_MS = 15_000;
/** How long a node's watermark holds finalizes back once its ingest worker stops sending. */
const WATERMARK_TTL_MS = 5000;
/** A finalize that finds its bucket being finalized by another worker runs again this much later. */
const BUSY_RETRY_MS = 500;

/** `evidenceAt`: when the latest evidence of the bucket was queued by an ingest worker (epoch ms). */
/** `lastNs`: the latest evidence in the bucket of the batch that armed it (ns, as a string). */
export type FinalizeJob = { host: string; bucket: string; evidenceAt: number; lastNs?: string };

/** The settle window's deduplication id of a bucket's finalize. */
export const finalizeId = (host: string, bucket: string) => `fin-${Buffer.from(host).toString('hex')}-${bucket}`;

export type CorrelateHooks = {
  settleMs: number;
  /**
   * The events of a batch to index (the Elasticsearch sink), as `indexMode` selects them, and how
   * many of the rest were left out, by reason. Throwing retries the batch.
   */
  onEvents?: (events: NormalizedEvent[], skipped: Record<string, number>) => Promise<void>;
  /** `evidence` (the default): evidence and the context around each death; `all`: every event. */
  indexMode?: IndexMode;
  /**
   * The verdicts of one finalized bucket, when its latest evidence was queued (for the verdict
   * latency), and the incidents an earlier finalize of the bucket gave that the evidence no longer
   * supports (a death first dated by one source and re-dated by a later one): to be withdrawn.
   * Throwing retries the bucket.
   */
  onVerdicts: (verdicts: Attribution[], evidenceAt: number, withdrawn: string[]) => Promise<void>;
  /** How long the events waited in the queue (for the lag metric). */
  onBatch?: (events: number, queuedForMs: number) => void;
  /** Bullmq's stalled-job check: how soon a job of a worker that died is taken over by another. */
  stalledIntervalMs?: number;
};

/**
 * A correlate worker: stores each batch's evidence in Redis, and (re)arms the settle window of
 * every node/time bucket the batch touched — a delayed finalize job, deduplicated by bucket, whose
 * delay restarts with each new piece of evidence. Finalize reads the bucket's evidence back from
 * Redis, attributes its deaths and hands the verdicts on. Any number of these may run; a job of
 * a worker killed mid-way is stalled and taken over, and every step is idempotent.
 */
export function correlateWorkers(connection: ConnectionOptions, hooks: CorrelateHooks) {
  const redis = new Redis({ ...(connection as object), maxRetriesPerRequest: null });
  // reported by the workers' own 'error' events; an unhandled one would only be printed raw
  redis.on('error', () => {});
  const store = new RedisEvidenceStore(redis);
  const finalizeQueue = new Queue<FinalizeJob>(FINALIZE_QUEUE, { connection, defaultJobOptions: { attempts: 100_000, backoff: { type: 'capped' }, removeOnComplete: true, removeOnFail: false } });
  finalizeQueue.on('error', () => {});
  const workerOpts = { connection, settings: { backoffStrategy: cappedBackoff }, ...(hooks.stalledIntervalMs ? { stalledInterval: hooks.stalledIntervalMs, lockDuration: hooks.stalledIntervalMs } : {}) };

  const ingest = new Worker<EventsJob>(
    EVENTS_QUEUE,
    async (job: Job<EventsJob>) => {
      const evidence = job.data.events.filter(isEvidence);
      await store.add(evidence);
      if (job.data.watermarkNs) {
        const hosts = new Set([job.data.node, ...evidence.map((e) => e.host.name)]);
        await Promise.all([...hosts].map((h) => store.setWatermark(h, job.data.watermarkNs!, WATERMARK_TTL_MS)));
      }
      const buckets = new Map<string, FinalizeJob>();
      for (const e of evidence) {
        const ns = BigInt(e.exit137.ts_ns);
        const b = ns / (BUCKET_S * S);
        const arm = (x: bigint) => {
          const k = `${e.host.name}\0${x}`;
          const had = buckets.get(k)?.lastNs;
          buckets.set(k, { host: e.host.name, bucket: x.toString(), evidenceAt: job.timestamp, lastNs: had !== undefined && BigInt(had) > ns ? had : e.exit137.ts_ns });
        };
        arm(b);
        // Sources date one death a little apart: evidence near a bucket's edge may re-date a death
        // of the neighbour into this one, and the neighbour must withdraw what it said.
        const into = ns - b * BUCKET_S * S;
        if (into < EDGE_S * S) arm(b - 1n);
        if (into > (BUCKET_S - EDGE_S) * S) arm(b + 1n);
      }
      await Promise.all(
        [...buckets.values()].map((f) => {
          const id = finalizeId(f.host, f.bucket);
          return finalizeQueue.add('finalize', f, { delay: hooks.settleMs, deduplication: { id, ttl: hooks.settleMs, extend: true, replace: true } });
        }),
      );
      // an ingest worker that chose what is indexed sent only that (and `all` cannot bring back
      // what it did not send); a batch sent whole is chosen from here
      const { index, skipped } = job.data.skipped ? { index: job.data.events, skipped: job.data.skipped } : selectForIndex(job.data.events, hooks.indexMode ?? 'evidence');
      if (hooks.onEvents) await hooks.onEvents(index, skipped);
      hooks.onBatch?.(job.data.events.length + Object.values(skipped).reduce((a, b) => a + b, 0), Date.now() - job.timestamp);
    },
    { ...workerOpts, concurrency: 4 },
  );

  const finalize = new Worker<FinalizeJob>(
    FINALIZE_QUEUE,
    async (job: Job<FinalizeJob>, token?: string) => {
      const { host, bucket } = job.data;
      // Superseded: the settle window's deduplication lasts settleMs, so under load evidence that
      // arrives while a bucket's finalize waits for a worker queues another one, which then holds
      // the deduplication id and will read all this one would. Finalizing each read the same
      // 15 minutes of evidence again and again: most of a saturated run's finalize work.
      const holder = await finalizeQueue.getDeduplicationJobId(finalizeId(host, bucket));
      if (holder && holder !== job.id) return;
      // the node is still reading a stream that has not reached this bucket's evidence (a backlog
      // read file by file): what that stream holds for these deaths is still to come
      const wm = job.data.lastNs ? await store.watermark(host) : undefined;
      if (wm !== undefined && wm < BigInt(job.data.lastNs!)) {
        await job.moveToDelayed(Date.now() + Math.max(BUSY_RETRY_MS, hooks.settleMs), token);
        throw new DelayedError();
      }
      const lock = await store.lockBucket(host, bucket, LOCK_MS);
      if (!lock) {
        // another worker is finalizing this bucket on older evidence: run after it, on all of it
        await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
        throw new DelayedError();
      }
      const keep = setInterval(() => void store.refreshBucketLock(host, bucket, lock, LOCK_MS).catch(() => {}), LOCK_MS / 3);
      try {
        await finalizeBucket(job);
      } finally {
        clearInterval(keep);
        await store.unlockBucket(host, bucket, lock).catch(() => {});
      }
    },
    // a finalize mostly waits (Redis, then Elasticsearch's refresh before its verdict is visible,
    // up to a second): with two at a time a burst of deaths queued behind those waits for many seconds
    { ...workerOpts, concurrency: 8 },
  );

  async function finalizeBucket(job: Job<FinalizeJob>): Promise<void> {
    const start = BigInt(job.data.bucket) * BUCKET_S * S;
    const end = start + BUCKET_S * S;
    const events = await store.window(job.data.host, start - BEFORE_S * S, end + AFTER_S * S);
    const found: { host: string; inc: Incident }[] = [];
    for (const [host, evs] of byHost(events)) {
      for (const death of findDeaths(evs, host)) {
        // each death belongs to the bucket it happened in: the neighbours' windows see it but do
        // not attribute it, nor gather its evidence (most of the 17 minutes read are neighbours')
        if (death.deathNs < start || death.deathNs >= end) continue;
        found.push({ host, inc: death.incident() });
      }
    }
    // A bucket finalized again (late evidence of one of its deaths, a neighbour's edge) mostly
    // says again what it said: a verdict the same as the one last written is not written again,
    // nor versioned, nor alerted. Each write waits for a refresh of the verdicts' index, which
    // cost Elasticsearch more than indexing the events (bench: about 15 ms of its CPU a write).
    const drafts = found.map(({ inc }) => attribute(inc, 0));
    const ids = drafts.map((v) => v.incident_id);
    const digests = drafts.map((v) => verdictDigest(v));
    const written = await store.verdictDigests(ids);
    const changed = ids.flatMap((_, i) => (written[i] === digests[i] ? [] : [i]));
    const versions = await store.nextVersions(changed.map((i) => `${found[i]!.host}|${found[i]!.inc.containerId}|${found[i]!.inc.deathNs}`));
    const verdicts: Attribution[] = changed.map((i, k) => ({ ...drafts[i]!, version: versions[k]! }));
    const withdrawn = await store.replaceBucketIncidents(job.data.host, job.data.bucket, ids);
    await store.intendBucketIncidents(job.data.host, job.data.bucket, ids);
    if (verdicts.length || withdrawn.length) await hooks.onVerdicts(verdicts, job.data.evidenceAt, withdrawn);
    // only once the sinks took them: a worker that dies before this writes them again
    await store.rememberVerdicts(changed.map((i) => [ids[i]!, digests[i]!]), withdrawn);
    await store.commitBucketIncidents(job.data.host, job.data.bucket, ids);
    await store.trimArrivedBefore(job.data.host, Date.now() - RETAIN_MS);
  }

  return {
    ingest,
    finalize,
    store,
    close: async () => {
      await Promise.all([ingest.close(), finalize.close()]);
      await finalizeQueue.close();
      redis.disconnect();
    },
  };
}
