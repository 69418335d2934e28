import type { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../ingest/event.ts';

/**
 * Each node's evidence in Redis, so any correlate worker can finish any incident and a worker
 * that dies loses nothing: per node, a sorted set of event ids (score = epoch milliseconds) and
 * a hash of the events by id. Writing the same event twice changes nothing.
 */
export class RedisEvidenceStore {
  constructor(private readonly redis: Redis, private readonly prefix = 'exit137:') {}

  async add(events: NormalizedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const m = this.redis.multi();
    for (const e of events) {
      const ms = Number(BigInt(e.exit137.ts_ns) / 1_000_000n);
      m.zadd(`${this.prefix}ev:${e.host.name}`, ms, e.event.id);
      m.hset(`${this.prefix}evdoc:${e.host.name}`, e.event.id, JSON.stringify(e));
    }
    await m.exec();
  }

  /** The node's evidence between two instants (inclusive), in nanosecond order. */
  async window(host: string, fromNs: bigint, toNs: bigint): Promise<NormalizedEvent[]> {
    const ids = await this.redis.zrangebyscore(`${this.prefix}ev:${host}`, Number(fromNs / 1_000_000n), Number(toNs / 1_000_000n));
    if (ids.length === 0) return [];
    const docs = await this.redis.hmget(`${this.prefix}evdoc:${host}`, ...ids);
    const events = docs.filter((d): d is string => d !== null).map((d) => JSON.parse(d) as NormalizedEvent);
    return events.sort((a, b) => {
      const x = BigInt(a.exit137.ts_ns);
      const y = BigInt(b.exit137.ts_ns);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  /**
   * Forgets the node's evidence older than an instant (in log time: a node catching up on old
   * logs keeps what its own deaths need). Returns how many events went.
   */
  async trimBefore(host: string, beforeNs: bigint): Promise<number> {
    const key = `${this.prefix}ev:${host}`;
    const max = Number(beforeNs / 1_000_000n) - 1;
    const ids = await this.redis.zrangebyscore(key, '-inf', max);
    if (ids.length === 0) return 0;
    await this.redis.multi().hdel(`${this.prefix}evdoc:${host}`, ...ids).zremrangebyscore(key, '-inf', max).exec();
    return ids.length;
  }

  /** The next version number of an incident's verdict (1 the first time it is attributed). */
  async nextVersion(incidentId: string): Promise<number> {
    return this.redis.hincrby(`${this.prefix}ver`, incidentId, 1);
  }

  /** Events held, over all nodes: what a correlate worker costs Redis. */
  async size(): Promise<number> {
    let n = 0;
    for (const k of await this.redis.keys(`${this.prefix}ev:*`)) n += await this.redis.zcard(k);
    return n;
  }
}
