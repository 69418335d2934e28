import type { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../ingest/event.ts';

// compare-and-act on a lock's token, atomically (the lock may have expired and been taken by another worker)
const IF_OWNER_THEN_DEL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const IF_OWNER_THEN_PEXPIRE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Each node's evidence in Redis, so any correlate worker can finish any incident and a worker
 * that dies loses nothing: per node, a sorted set of event ids (score = epoch milliseconds) and
 * a hash of the events by id. Writing the same event twice changes nothing.
 */
/** Parsed evidence kept per worker: a few windows' worth (about 3 KB each with its text). */
const PARSED_CACHE = 20_000;

export class RedisEvidenceStore {
  private readonly parsed = new Map<string, { e: NormalizedEvent; ns: bigint }>();

  constructor(private readonly redis: Redis, private readonly prefix = 'exit137:') {}

  async add(events: NormalizedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const m = this.redis.multi();
    const arrived = Date.now();
    for (const e of events) {
      const ms = Number(BigInt(e.exit137.ts_ns) / 1_000_000n);
      m.zadd(`${this.prefix}ev:${e.host.name}`, ms, e.event.id);
      m.zadd(`${this.prefix}arrived:${e.host.name}`, arrived, e.event.id);
      m.hset(`${this.prefix}evdoc:${e.host.name}`, e.event.id, JSON.stringify(slim(e)));
    }
    await m.exec();
  }

  /** The node's evidence between two instants (inclusive), in nanosecond order. */
  async window(host: string, fromNs: bigint, toNs: bigint): Promise<NormalizedEvent[]> {
    const ids = await this.redis.zrangebyscore(`${this.prefix}ev:${host}`, Number(fromNs / 1_000_000n), Number(toNs / 1_000_000n));
    if (ids.length === 0) return [];
    // No cache of parsed events: a report finished early by the idle timeout and finished again
    // after a restart is the same id with other content, and every worker must see the last.
    const docs = await this.redis.hmget(`${this.prefix}evdoc:${host}`, ...ids);
    const events = docs.filter((d): d is string => d !== null).map((d) => this.parse(d));
    return events.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0)).map((x) => x.e);
  }

  /**
   * Parsed by the document's text: a bucket's window reaches 15 minutes back, so each piece of
   * evidence is read by every finalize of the buckets after it, and parsing them again and again
   * was most of a correlate worker's time. Keyed by the text, not the id, so a document rewritten
   * under the same id is parsed anew. Callers must not change what they are given (byHost copies).
   */
  private parse(doc: string): { e: NormalizedEvent; ns: bigint } {
    let hit = this.parsed.get(doc);
    if (hit) {
      // most recently used last: the oldest go first when the cache is full
      this.parsed.delete(doc);
    } else {
      const e = JSON.parse(doc) as NormalizedEvent;
      hit = { e, ns: BigInt(e.exit137.ts_ns) };
      if (this.parsed.size >= PARSED_CACHE) this.parsed.delete(this.parsed.keys().next().value!);
    }
    this.parsed.set(doc, hit);
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
    await this.redis.multi().hdel(`${this.prefix}evdoc:${host}`, ...ids).zrem(`${this.prefix}ev:${host}`, ...ids).zrem(arrivedKey, ...ids).exec();
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
   * One finalize of a bucket at a time: two at once would each read the incidents the bucket had
   * before either wrote, and a verdict one of them replaced would never be withdrawn. Returns the
   * lock's token, or undefined when another worker holds it. The lock expires on its own if its
   * holder dies; `refreshBucketLock` keeps it while the holder works.
   */
  async lockBucket(host: string, bucket: string, ttlMs: number): Promise<string | undefined> {
    const token = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const ok = await this.redis.set(this.lockKey(host, bucket), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async refreshBucketLock(host: string, bucket: string, token: string, ttlMs: number): Promise<boolean> {
    const r = await this.redis.eval(IF_OWNER_THEN_PEXPIRE, 1, this.lockKey(host, bucket), token, ttlMs);
    return r === 1;
  }

  async unlockBucket(host: string, bucket: string, token: string): Promise<void> {
    await this.redis.eval(IF_OWNER_THEN_DEL, 1, this.lockKey(host, bucket), token);
  }

  private lockKey(host: string, bucket: string): string {
    return `${this.prefix}lock:${host}:${bucket}`;
  }

  private bucketKey(host: string, bucket: string): string {
    return `${this.prefix}bucket:${host}:${bucket}`;
  }

  /** The next version number of an incident's verdict (1 the first time it is attributed). */
  async nextVersion(incidentId: string): Promise<number> {
    return this.redis.hincrby(`${this.prefix}ver`, incidentId, 1);
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
