import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../ingest/event.ts';

// compare-and-act on a lock's token, atomically (the lock may have expired and been taken by another worker)
const IF_OWNER_THEN_DEL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const IF_OWNER_THEN_PEXPIRE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Arms buckets: KEYS[1] the node's due times (zset), KEYS[2] their data ("evidenceAt lastNs
 * arming"), ARGV[1] the keys' life (s), then bucket, dueMs, evidenceAt, lastNs for each. The due
 * time only moves later; evidenceAt and lastNs keep the latest (lastNs: decimal strings, compared
 * by length, then digits, as a number would be beyond what a Lua number holds exactly); `arming`
 * counts the armings, so a finalize can tell that evidence came after it read the bucket.
 */
const ARM = `
local later = function(a, b) if #a ~= #b then return #a > #b end return a > b end
for i = 2, #ARGV, 4 do
  local b, due, at, last = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('zadd', KEYS[1], 'GT', due, b)
  local old = redis.call('hget', KEYS[2], b)
  local n = 1
  if old then
    local oat, olast, on = string.match(old, '^(%S+) (%S+) (%S+)$')
    if later(oat, at) then at = oat end
    if later(olast, last) then last = olast end
    n = tonumber(on) + 1
  end
  redis.call('hset', KEYS[2], b, at .. ' ' .. last .. ' ' .. n)
end
redis.call('expire', KEYS[1], ARGV[1])
redis.call('expire', KEYS[2], ARGV[1])
return 0`;

/** Disarms buckets not armed again since they were read (bucket, data pairs); returns those that were. */
const DISARM = `
local stayed = {}
for i = 1, #ARGV, 2 do
  local d = redis.call('hget', KEYS[2], ARGV[i])
  if d == ARGV[i + 1] then
    redis.call('zrem', KEYS[1], ARGV[i])
    redis.call('hdel', KEYS[2], ARGV[i])
  elseif d then
    table.insert(stayed, ARGV[i])
  end
end
return stayed`;

/** A bucket armed for finalizing (RedisEvidenceStore.arm); `data` as read, to tell a later arming. */
export type ArmedBucket = { bucket: string; dueMs: number; evidenceAt: number; lastNs: string; data: string };

function armedBucket(bucket: string, score: string, data: string): ArmedBucket {
  const [at, last] = data.split(' ');
  return { bucket, dueMs: Number(score), evidenceAt: Number(at), lastNs: last!, data };
}

/**
 * Each node's evidence in Redis, so any correlate worker can finish any incident and a worker
 * that dies loses nothing: per node, a sorted set of event ids (score = epoch milliseconds) and
 * a hash of the events by id. Writing the same event twice changes nothing.
 */
/** Parsed evidence kept per worker, by id and digest: a few windows' worth. */
const PARSED_CACHE = 20_000;

export class RedisEvidenceStore {
  private readonly parsed = new Map<string, { e: NormalizedEvent; ns: bigint }>();

  constructor(private readonly redis: Redis, private readonly prefix = 'exit137:') {}

  async add(events: NormalizedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const arrived = String(Date.now());
    // one command of many members per key, not four per event: each command costs ioredis and Redis the same
    const byHost = new Map<string, { ev: string[]; arrived: string[]; doc: string[]; dig: string[] }>();
    for (const e of events) {
      let h = byHost.get(e.host.name);
      if (!h) byHost.set(e.host.name, (h = { ev: [], arrived: [], doc: [], dig: [] }));
      const id = e.event.id;
      const doc = JSON.stringify(slim(e));
      h.ev.push(String(BigInt(e.exit137.ts_ns) / 1_000_000n), id);
      h.arrived.push(arrived, id);
      h.doc.push(id, doc);
      h.dig.push(id, digest(doc));
    }
    const m = this.redis.multi();
    for (const [host, h] of byHost) {
      m.zadd(`${this.prefix}ev:${host}`, ...h.ev);
      m.zadd(`${this.prefix}arrived:${host}`, ...h.arrived);
      m.hset(`${this.prefix}evdoc:${host}`, ...h.doc);
      m.hset(`${this.prefix}evdig:${host}`, ...h.dig);
    }
    await m.exec();
  }

  /**
   * The node's evidence between two instants (inclusive), in nanosecond order. A bucket's window
   * reaches 15 minutes back, so each piece of evidence is read by every finalize of the buckets
   * after it: fetching and parsing every document again each time was most of a correlate
   * worker's time (and of Redis's traffic). The window's ids come with each document's digest,
   * and only documents this worker has not parsed under that digest are fetched. A document
   * rewritten under the same id (a report finished early by the idle timeout and finished again
   * after a restart) has another digest, so every worker reads the last one.
   */
  async window(host: string, fromNs: bigint, toNs: bigint): Promise<NormalizedEvent[]> {
    const ids = await this.redis.zrangebyscore(`${this.prefix}ev:${host}`, Number(fromNs / 1_000_000n), Number(toNs / 1_000_000n));
    if (ids.length === 0) return [];
    const digests = await this.redis.hmget(`${this.prefix}evdig:${host}`, ...ids);
    const out: { e: NormalizedEvent; ns: bigint }[] = [];
    const missing: string[] = [];
    ids.forEach((id, i) => {
      const d = digests[i];
      const hit = d ? this.cached(`${id} ${d}`) : undefined;
      if (hit) out.push(hit);
      else missing.push(id);
    });
    if (missing.length) {
      const docs = await this.redis.hmget(`${this.prefix}evdoc:${host}`, ...missing);
      missing.forEach((id, i) => {
        const doc = docs[i];
        // trimmed meanwhile: gone from the window too
        if (doc === null || doc === undefined) return;
        // keyed by the digest of what was read, not of what the digest hash said a moment before
        out.push(this.remember(`${id} ${digest(doc)}`, doc));
      });
    }
    return out.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0)).map((x) => x.e);
  }

  /** Callers must not change what they are given (byHost copies). */
  private cached(key: string): { e: NormalizedEvent; ns: bigint } | undefined {
    const hit = this.parsed.get(key);
    if (hit) {
      // most recently used last: the oldest go first when the cache is full
      this.parsed.delete(key);
      this.parsed.set(key, hit);
    }
    return hit;
  }

  private remember(key: string, doc: string): { e: NormalizedEvent; ns: bigint } {
    const e = JSON.parse(doc) as NormalizedEvent;
    const hit = { e, ns: BigInt(e.exit137.ts_ns) };
    if (this.parsed.size >= PARSED_CACHE) this.parsed.delete(this.parsed.keys().next().value!);
    this.parsed.set(key, hit);
    return hit;
  }

  /**
   * Forgets the node's evidence that arrived before a wall-clock instant. Arrival, not log time:
   * a node catching up on hours of logs sends each source at its own pace, and evidence dated
   * long ago may still wait for the other sources' share of the same deaths.
   */
  async trimArrivedBefore(host: string, wallMs: number): Promise<number> {
    const arrivedKey = `${this.prefix}arrived:${host}`;
    const ids = await this.redis.zrangebyscore(arrivedKey, '-inf', wallMs - 1, 'LIMIT', 0, 10_000);
    if (ids.length === 0) return 0;
    await this.redis.multi().hdel(`${this.prefix}evdoc:${host}`, ...ids).hdel(`${this.prefix}evdig:${host}`, ...ids).zrem(`${this.prefix}ev:${host}`, ...ids).zrem(arrivedKey, ...ids).exec();
    return ids.length;
  }

  /** The incidents a bucket's last finalize gave that this one does not (nothing is written yet). */
  async replaceBucketIncidents(host: string, bucket: string, ids: string[]): Promise<string[]> {
    const before = await this.redis.smembers(this.bucketKey(host, bucket));
    const now = new Set(ids);
    return before.filter((id) => !now.has(id));
  }

  /**
   * Before the sinks see them: the bucket may now hold these too. A worker that dies between
   * writing a verdict and committing would otherwise leave a verdict no later finalize knows to
   * withdraw; with this, the next one withdraws whatever the evidence no longer supports.
   */
  async intendBucketIncidents(host: string, bucket: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const key = this.bucketKey(host, bucket);
    await this.redis.multi().sadd(key, ...ids).expire(key, 2 * 86400).exec();
  }

  /** After the sinks took them: the bucket's incidents are these. */
  async commitBucketIncidents(host: string, bucket: string, ids: string[]): Promise<void> {
    const key = this.bucketKey(host, bucket);
    const m = this.redis.multi().del(key);
    if (ids.length) m.sadd(key, ...ids);
    // a bucket is finalized again only while its evidence is kept (RETAIN_MS): two days is plenty
    await m.expire(key, 2 * 86400).exec();
  }

  /**
   * One finalize of a node at a time: two at once would each read the incidents a bucket had
   * before either wrote, and a verdict one of them replaced would never be withdrawn. Returns the
   * lock's token, or undefined when another worker holds it. The lock expires on its own if its
   * holder dies; `refreshNodeLock` keeps it while the holder works. Per node, not per bucket: the
   * holder finalizes every bucket of the node that is due (`dueBuckets`).
   */
  async lockNode(host: string, ttlMs: number): Promise<string | undefined> {
    const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const ok = await this.redis.set(this.lockKey(host), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async refreshNodeLock(host: string, token: string, ttlMs: number): Promise<boolean> {
    const r = await this.redis.eval(IF_OWNER_THEN_PEXPIRE, 1, this.lockKey(host), token, ttlMs);
    return r === 1;
  }

  async unlockNode(host: string, token: string): Promise<void> {
    await this.redis.eval(IF_OWNER_THEN_DEL, 1, this.lockKey(host), token);
  }

  private lockKey(host: string): string {
    return `${this.prefix}lock:${host}`;
  }

  /**
   * Evidence of these buckets was stored: each may be finalized from `dueMs` on (a later arming
   * moves it later, never earlier), and must not be before the node's streams have reached
   * `lastNs` (the latest of its evidence so far). `evidenceAt`: when the latest was queued.
   */
  async arm(host: string, buckets: { bucket: string; dueMs: number; evidenceAt: number; lastNs: string }[]): Promise<void> {
    if (buckets.length === 0) return;
    await this.redis.eval(ARM, 2, this.armedKey(host), this.armedDataKey(host), 2 * 86400, ...buckets.flatMap((b) => [b.bucket, b.dueMs, b.evidenceAt, b.lastNs]));
  }

  /** When a bucket may be finalized and what it waits for; undefined: not armed (finalized since its last evidence). */
  async armed(host: string, bucket: string): Promise<ArmedBucket | undefined> {
    const [score, data] = await this.redis.multi().zscore(this.armedKey(host), bucket).hget(this.armedDataKey(host), bucket).exec().then((r) => r!.map(([, v]) => v as string | null));
    return score == null || data == null ? undefined : armedBucket(bucket, score, data);
  }

  /** The node's buckets due by `nowMs` (at most `limit`, oldest due first). */
  async dueBuckets(host: string, nowMs: number, limit: number): Promise<ArmedBucket[]> {
    const r = await this.redis.zrangebyscore(this.armedKey(host), '-inf', nowMs, 'WITHSCORES', 'LIMIT', 0, limit);
    if (r.length === 0) return [];
    const buckets = r.filter((_, i) => i % 2 === 0);
    const data = await this.redis.hmget(this.armedDataKey(host), ...buckets);
    return buckets.flatMap((b, i) => (data[i] == null ? [] : [armedBucket(b, r[2 * i + 1]!, data[i]!)]));
  }

  /**
   * Finalized: these buckets are no longer armed, unless evidence armed one again since it was
   * read (its due time moved): then it stays, for a finalize that reads that evidence too. Returns
   * the buckets that stayed.
   */
  async disarm(host: string, buckets: ArmedBucket[]): Promise<string[]> {
    if (buckets.length === 0) return [];
    const stayed = (await this.redis.eval(DISARM, 2, this.armedKey(host), this.armedDataKey(host), ...buckets.flatMap((b) => [b.bucket, b.data]))) as string[];
    return stayed;
  }

  /**
   * A finalize of the bucket waits, delayed, for the node's streams to reach its evidence: once the
   * bucket is finalized by another (the node's release), `takeHeld` hands its id over for removal.
   */
  async holdFinalize(host: string, bucket: string, jobId: string): Promise<void> {
    const key = this.heldKey(host, bucket);
    await this.redis.multi().sadd(key, jobId).expire(key, 2 * 86400).exec();
  }

  /** The finalizes held for these buckets (holdFinalize), forgotten as they are handed over. */
  async takeHeld(host: string, buckets: string[]): Promise<{ bucket: string; jobId: string }[]> {
    if (buckets.length === 0) return [];
    const m = this.redis.multi();
    for (const b of buckets) m.smembers(this.heldKey(host, b)).del(this.heldKey(host, b));
    const r = (await m.exec())!;
    return buckets.flatMap((bucket, i) => (r[2 * i]![1] as string[]).map((jobId) => ({ bucket, jobId })));
  }

  private heldKey(host: string, bucket: string): string {
    return `${this.prefix}held:${host}:${bucket}`;
  }

  private armedKey(host: string): string {
    return `${this.prefix}armed:${host}`;
  }

  private armedDataKey(host: string): string {
    return `${this.prefix}armeddata:${host}`;
  }

  private bucketKey(host: string, bucket: string): string {
    return `${this.prefix}bucket:${host}:${bucket}`;
  }

  /**
   * Where a node's reading stands (EventsJob.watermarkNs), kept only while its ingest worker keeps
   * sending: a worker that stops or dies holds nothing back for longer than `ttlMs`. Returns the
   * one it replaces.
   */
  async setWatermark(host: string, ns: string, ttlMs: number): Promise<bigint | undefined> {
    const was = (await this.redis.call('SET', `${this.prefix}wm:${host}`, ns, 'PX', String(ttlMs), 'GET')) as string | null;
    return was ? BigInt(was) : undefined;
  }

  async watermark(host: string): Promise<bigint | undefined> {
    const v = await this.redis.get(`${this.prefix}wm:${host}`);
    return v ? BigInt(v) : undefined;
  }

  /** The digest of each incident's verdict as last handed to the sinks (null: none yet, or forgotten). */
  async verdictDigests(incidentIds: string[]): Promise<(string | null)[]> {
    if (incidentIds.length === 0) return [];
    return this.redis.mget(...incidentIds.map((id) => `${this.prefix}vdig:${id}`));
  }

  /**
   * The sinks took these verdicts, and withdrew those: a verdict withdrawn and found again is
   * written again. Kept as long as a bucket's incidents are (a bucket is finalized again only
   * while its evidence is kept).
   */
  async rememberVerdicts(written: [string, string][], withdrawn: string[]): Promise<void> {
    if (written.length === 0 && withdrawn.length === 0) return;
    const m = this.redis.multi();
    for (const [id, d] of written) m.set(`${this.prefix}vdig:${id}`, d, 'EX', 2 * 86400);
    if (withdrawn.length) m.del(...withdrawn.map((id) => `${this.prefix}vdig:${id}`));
    await m.exec();
  }

  /** The next version number of an incident's verdict (1 the first time it is attributed). */
  async nextVersion(incidentId: string): Promise<number> {
    return this.redis.hincrby(`${this.prefix}ver`, incidentId, 1);
  }

  /** nextVersion of each incident, in one round trip. */
  async nextVersions(incidentIds: string[]): Promise<number[]> {
    if (incidentIds.length === 0) return [];
    const m = this.redis.multi();
    for (const id of incidentIds) m.hincrby(`${this.prefix}ver`, id, 1);
    const r = await m.exec();
    return r!.map(([err, v]) => {
      if (err) throw err;
      return Number(v);
    });
  }
}

/**
 * The evidence as correlation reads it: the raw text stays in Elasticsearch. Correlation only
 * falls back on it for an event without a message, and then on its first 300 characters.
 */
function slim(e: NormalizedEvent): NormalizedEvent {
  if (e.message !== undefined) return { ...e, event: { ...e.event, original: '' } };
  return { ...e, event: { ...e.event, original: e.event.original.slice(0, 300) } };
}

/** A document's identity in the parse cache: the same text, the same digest. */
function digest(doc: string): string {
  return createHash('sha1').update(doc).digest('base64url').slice(0, 16);
}
