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
import type { ArmedBucket } from './store.ts';

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
/** A finalize that finds its node being finalized by another worker runs again this much later. */
const BUSY_RETRY_MS = 500;
/** Most buckets one finalize of a node takes, and most buckets one read of its evidence spans (an hour). */
const MAX_DUE = 1000;
const MAX_SPAN = 60n;
/** Most rounds of due buckets one finalize of a node takes before it lets the node go. */
const MAX_PASSES = 10;

/** `evidenceAt`: when the latest evidence of the bucket was queued by an ingest worker (epoch ms). */
/** `lastNs`: the latest evidence in the bucket of the batch that armed it (ns, as a string). */
/**
 * `armed`: the bucket was armed in the store (RedisEvidenceStore.arm) before the job was queued.
 * `release`: queued when the node's reading moved past the evidence of due buckets (not the bucket's own settle window).
 */
export type FinalizeJob = { host: string; bucket: string; evidenceAt: number; lastNs?: string; armed?: true; release?: true };

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
        const wm = BigInt(job.data.watermarkNs);
        const hosts = new Set([job.data.node, ...evidence.map((e) => e.host.name)]);
        await Promise.all([...hosts].map(async (h) => release(h, await store.setWatermark(h, job.data.watermarkNs!, WATERMARK_TTL_MS), wm)));
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
      // armed in the store before their jobs are queued: a finalize that finds its bucket armed
      // later than itself waits for that; one that finds it not armed knows it was finalized
      const byNode = new Map<string, FinalizeJob[]>();
      for (const f of buckets.values()) byNode.set(f.host, [...(byNode.get(f.host) ?? []), f]);
      const dueMs = Date.now() + hooks.settleMs;
      await Promise.all([...byNode].map(([h, fs]) => store.arm(h, fs.map((f) => ({ bucket: f.bucket, dueMs, evidenceAt: f.evidenceAt, lastNs: f.lastNs! })))));
      await Promise.all(
        [...buckets.values()].map((f) => {
          const id = finalizeId(f.host, f.bucket);
          return finalizeQueue.add('finalize', { ...f, armed: true }, { delay: hooks.settleMs, deduplication: { id, ttl: hooks.settleMs, extend: true, replace: true } });
        }),
      );
      // an ingest worker that chose what is indexed sent only that (and `all` cannot bring back
      // what it did not send); a batch sent whole is chosen from here
      const { index, skipped } = job.data.skipped ? { index: job.data.events, skipped: job.data.skipped } : selectForIndex(job.data.events, hooks.indexMode ?? 'evidence');
      if (hooks.onEvents) await hooks.onEvents(index, skipped);
      hooks.onBatch?.(job.data.events.length + Object.values(skipped).reduce((a, b) => a + b, 0), Date.now() - job.timestamp);
    },
    // the events of the jobs in hand share Elasticsearch bulks (cli/correlate.ts, eventWriter): with
    // about 330 documents a job, eight fill a bulk of 2,000
    { ...workerOpts, concurrency: 8 },
  );

  /**
   * The node's streams have moved on from `was` to `wm`: buckets already due that waited for them
   * get a finalize of the node now. Their own finalizes wait a settle window each time they find
   * the node's reading behind their evidence, and a node read at many times its real pace (a
   * backlog, the bench's half load) moves past a bucket's evidence well before that.
   */
  async function release(host: string, was: bigint | undefined, wm: bigint): Promise<void> {
    if (was === undefined || wm <= was) return;
    const freed = (await store.dueBuckets(host, Date.now(), MAX_DUE)).find((d) => BigInt(d.lastNs) > was && BigInt(d.lastNs) <= wm);
    if (!freed) return;
    const f: FinalizeJob = { host, bucket: freed.bucket, evidenceAt: freed.evidenceAt, lastNs: freed.lastNs, armed: true, release: true };
    await finalizeQueue.add('finalize', f, { jobId: `rel-${Buffer.from(host).toString('hex')}-${wm}` });
  }

  const finalize = new Worker<FinalizeJob>(
    FINALIZE_QUEUE,
    async (job: Job<FinalizeJob>, token?: string) => {
      const { host, bucket } = job.data;
      // Superseded: the settle window's deduplication lasts settleMs, so under load evidence that
      // arrives while a bucket's finalize waits for a worker queues another one, which then holds
      // the deduplication id and will read all this one would. Finalizing each read the same
      // 15 minutes of evidence again and again: most of a saturated run's finalize work.
      const holder = job.data.release ? undefined : await finalizeQueue.getDeduplicationJobId(finalizeId(host, bucket));
      if (holder && holder !== job.id) return;
      // a job queued before buckets were armed (or by hand): its bucket is due now
      if (!job.data.armed) await store.arm(host, [{ bucket, dueMs: Date.now(), evidenceAt: job.data.evidenceAt, lastNs: job.data.lastNs ?? '0' }]);
      const own = await store.armed(host, bucket);
      // finalized, by this node's finalize of all its due buckets, since the evidence this job was armed for
      if (!own) return;
      const later = async (ms: number) => {
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      };
      // armed again by evidence whose job deduplicated into this one
      if (own.dueMs > Date.now()) return later(own.dueMs - Date.now());
      // the node is still reading a stream that has not reached this bucket's evidence (a backlog
      // read file by file): what that stream holds for these deaths is still to come
      const wm = await store.watermark(host);
      // (held: the node's finalize that takes the bucket once its reading is past removes this job,
      // which would otherwise stay queued a settle window to find nothing to do)
      if (wm !== undefined && wm < BigInt(own.lastNs)) {
        await store.holdFinalize(host, bucket, job.id!);
        return later(Math.max(BUSY_RETRY_MS, hooks.settleMs));
      }
      const lock = await store.lockNode(host, LOCK_MS);
      // another worker is finalizing this node: it may take this bucket too, or this runs after it
      if (!lock) return later(BUSY_RETRY_MS);
      const keep = setInterval(() => void store.refreshNodeLock(host, lock, LOCK_MS).catch(() => {}), LOCK_MS / 3);
      try {
        await finalizeDue(host, wm, job.id!);
      } finally {
        clearInterval(keep);
        await store.unlockNode(host, lock).catch(() => {});
      }
      // armed again while it was being finalized (its evidence's job deduplicated into this one),
      // or left for the next run of a node with more due than one takes: this job is its finalize
      const still = await store.armed(host, bucket);
      if (still) return later(Math.max(0, still.dueMs - Date.now()));
    },
    // a finalize mostly waits (Redis, then Elasticsearch's refresh before its verdict is visible,
    // up to a second): with two at a time a burst of deaths queued behind those waits for many seconds
    { ...workerOpts, concurrency: 8 },
  );

  /**
   * Finalizes every bucket of the node that is due and whose evidence the node's streams have all
   * reached, not only the one whose job runs. A node catching up on a backlog makes hundreds of
   * buckets due at once: each finalized on its own read the 17 minutes of evidence around it and
   * ran findDeaths over them (each piece of evidence read by 17 finalizes), and waited for its own
   * verdict write. Here neighbouring due buckets share one read and one findDeaths, and all their
   * verdicts go in one write.
   */
  async function finalizeDue(host: string, wm: bigint | undefined, self: string): Promise<void> {
    // while it holds the node, buckets that came due meanwhile too: a finalize that found the node
    // busy tries again only BUSY_RETRY_MS later, and a catch-up's buckets come due one after another
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      if (pass > 0) wm = await store.watermark(host);
      const due = (await store.dueBuckets(host, Date.now(), MAX_DUE)).filter((d) => wm === undefined || wm >= BigInt(d.lastNs));
      if (due.length === 0) break;
      due.sort((a, b) => (BigInt(a.bucket) < BigInt(b.bucket) ? -1 : 1));
      // runs of buckets near enough to share a read, each at most MAX_SPAN buckets long
      const runs: ArmedBucket[][] = [];
      for (const d of due) {
        const run = runs.at(-1);
        const n = BigInt(d.bucket);
        if (run && n - BigInt(run.at(-1)!.bucket) <= (BEFORE_S + AFTER_S) / BUCKET_S && n - BigInt(run[0]!.bucket) < MAX_SPAN) run.push(d);
        else runs.push([d]);
      }
      const work: Promise<void>[] = [];
      for (const run of runs) {
        const first = BigInt(run[0]!.bucket) * BUCKET_S * S;
        const last = (BigInt(run.at(-1)!.bucket) + 1n) * BUCKET_S * S;
        const events = await store.window(host, first - BEFORE_S * S, last + AFTER_S * S);
        const found = new Map<string, { host: string; inc: Incident }[]>(run.map((d) => [d.bucket, []]));
        for (const [h, evs] of byHost(events)) {
          for (const death of findDeaths(evs, h)) {
            // each death belongs to the bucket it happened in: a bucket not due (or not in this run)
            // sees it in its own finalize, and its evidence is not gathered here
            const mine = found.get((death.deathNs / (BUCKET_S * S)).toString());
            if (mine) mine.push({ host: h, inc: death.incident() });
          }
        }
        for (const d of run) work.push(writeBucket(host, d, found.get(d.bucket)!));
      }
      await Promise.all(work);
      const stayed = new Set(await store.disarm(host, due));
      await dropHeld(host, due.filter((d) => !stayed.has(d.bucket)).map((d) => d.bucket), self);
    }
    await store.trimArrivedBefore(host, Date.now() - RETAIN_MS);
  }

  /**
   * The finalizes held for buckets just finalized (waiting for the node's reading) are removed: each
   * would stay delayed a settle window and then find its bucket disarmed (a backlog leaves hundreds;
   * the bench waited seconds for them). One whose bucket evidence armed again meanwhile may have
   * taken that evidence's finalize (deduplicated into it): a bucket armed after the removal is
   * queued again, as the events worker would (it arms the store before it queues).
   */
  async function dropHeld(host: string, buckets: string[], self: string): Promise<void> {
    const held = (await store.takeHeld(host, buckets)).filter((h) => h.jobId !== self);
    await Promise.all(
      held.map(async ({ bucket, jobId }) => {
        // 0: running (locked), it finds its bucket disarmed or re-armed on its own
        if ((await finalizeQueue.remove(jobId).catch(() => 0)) !== 1) return;
        const again = await store.armed(host, bucket);
        if (!again) return;
        const f: FinalizeJob = { host, bucket, evidenceAt: again.evidenceAt, lastNs: again.lastNs, armed: true };
        await finalizeQueue.add('finalize', f, { delay: Math.max(0, again.dueMs - Date.now()), jobId: `again-${Buffer.from(host).toString('hex')}-${bucket}-${again.data.split(' ')[2]}` });
      }),
    );
  }

  /** One bucket's verdicts, after its deaths were found: what changed written, what it no longer holds withdrawn. */
  async function writeBucket(host: string, d: ArmedBucket, found: { host: string; inc: Incident }[]): Promise<void> {
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
    const withdrawn = await store.replaceBucketIncidents(host, d.bucket, ids);
    await store.intendBucketIncidents(host, d.bucket, ids);
    if (verdicts.length || withdrawn.length) await hooks.onVerdicts(verdicts, d.evidenceAt, withdrawn);
    // only once the sinks took them: a worker that dies before this writes them again
    await store.rememberVerdicts(changed.map((i) => [ids[i]!, digests[i]!]), withdrawn);
    await store.commitBucketIncidents(host, d.bucket, ids);
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
