import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { decodeInputs } from '../../ingest/run.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { makeLabHistory } from '../../test/bench/make-lab-data.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import { correlate } from '../analyze.ts';
import type { Attribution } from '../verdict.ts';
import { eventsQueue } from '../../ingest/ship/queue.ts';
import { QueueSink, ingestTriage } from '../../ingest/ship/queue-sink.ts';
import { Redis } from 'ioredis';
import { Client } from '@elastic/elasticsearch';
import { installTemplates, writeBatch } from '../../sinks/elasticsearch/writer.ts';
import { startElasticsearch } from '../../test/helpers/elasticsearch.ts';
import { isEvidence } from '../incidents.ts';
import { AUDIT_TRIAGED, CONTEXT_EVENTS, RUNTIME_TRIAGED } from './indexing.ts';
import type { IndexMode } from './indexing.ts';
import { RedisEvidenceStore } from './store.ts';
import { FINALIZE_QUEUE, correlateWorkers, finalizeId } from './workers.ts';

const FILES = ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(FIXTURES, 'lab', 'containers', f));
const key = (v: Attribution) => `${v.container.id} ${v.cause} ${v.sub_cause ?? ''} ${v.exit_code ?? ''} ${v.died_at}`;

/** The evidence of `events` in a clean Redis database, as correlate workers store it, and the node/minute buckets it falls in. */
async function storedEvidence(connection: { host: string; port: number; db: number }, events: NormalizedEvent[]): Promise<{ admin: Redis; buckets: Map<string, { host: string; bucket: string }> }> {
  const admin = new Redis(connection);
  await admin.flushdb();
  const evidence = events.filter(isEvidence);
  await new RedisEvidenceStore(admin).add(evidence);
  const buckets = new Map<string, { host: string; bucket: string }>();
  for (const e of evidence) {
    const bucket = (BigInt(e.exit137.ts_ns) / 60_000_000_000n).toString();
    buckets.set(`${e.host.name} ${bucket}`, { host: e.host.name, bucket });
  }
  return { admin, buckets };
}

describe('correlate workers on BullMQ and a real Redis give what analyze gives', { timeout: 120_000 }, () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let events: NormalizedEvent[];
  before(async () => {
    redis = await startRedis();
    events = [];
    await decodeInputs(await expandInputs(FILES), { event: (e) => events.push(e), deadLetter: () => {} });
  });
  after(async () => redis.stop());

  it('one finalize of a node at a time: the lock is exclusive, owned, refreshed and expires', async () => {
    const r = new Redis({ host: '127.0.0.1', port: redis.port });
    const store = new RedisEvidenceStore(r, 'locktest:');
    const a = await store.lockNode('n1', 300);
    assert.ok(a);
    assert.equal(await store.lockNode('n1', 300), undefined, 'held: a second finalize waits');
    assert.ok(await store.lockNode('n2', 300), 'another node is free');
    await store.unlockNode('n1', 'not-the-owner');
    assert.equal(await store.lockNode('n1', 300), undefined, 'only the owner releases it');
    assert.equal(await store.refreshNodeLock('n1', a!, 1000), true);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(await store.lockNode('n1', 300), undefined, 'refreshed past its first expiry');
    await store.unlockNode('n1', a!);
    const b = await store.lockNode('n1', 100);
    assert.ok(b);
    await new Promise((res) => setTimeout(res, 250));
    assert.equal(await store.refreshNodeLock('n1', b!, 1000), false, 'expired: a dead holder blocks no one');
    assert.ok(await store.lockNode('n1', 100));
    r.disconnect();
  });

  it('a finalize that dies after writing its verdicts leaves none behind when later evidence re-dates the death', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 2, maxRetriesPerRequest: null };
    const admin = new Redis(connection);
    await admin.flushdb();
    // the kernel's OOM report dates the OOM death first; the runtime's lines, arriving later, re-date it
    const fromDmesg = (e: NormalizedEvent) => e.log.file?.path?.endsWith('dmesg.txt') === true;
    const first = events.filter(fromDmesg);
    const later = events.filter((e) => !fromDmesg(e));
    const q = eventsQueue(connection);
    const verdicts = new Map<string, Attribution>();
    let crashed = false;
    const pool = correlateWorkers(connection, {
      settleMs: 500,
      onVerdicts: async (vs, _at, withdrawn) => {
        for (const v of vs) verdicts.set(v.incident_id, v);
        for (const id of withdrawn) verdicts.delete(id);
        if (!crashed && vs.some((v) => v.cause === 'oom-kill')) {
          crashed = true;
          // written, then the worker dies before it records what it wrote; meanwhile the rest arrives
          const stored = () => admin.zcard(`exit137:ev:${later[0]!.host.name}`);
          const before = await stored();
          await q.add('batch', { node: 'lab', events: later });
          for (let i = 0; i < 100 && (await stored()) === before; i++) await new Promise((r) => setTimeout(r, 50));
          throw new Error('the worker died after writing');
        }
      },
    });
    await q.add('batch', { node: 'lab', events: first });
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    const deadline = Date.now() + 60_000;
    let idleSince = 0;
    while (Date.now() < deadline) {
      const busy = Object.values(await q.getJobCounts('waiting', 'active', 'delayed'))
        .concat(Object.values(await fin.getJobCounts('waiting', 'active', 'delayed')))
        .some((n) => n > 0);
      if (!busy && crashed) {
        if (!idleSince) idleSince = Date.now();
        else if (Date.now() - idleSince > 1500) break;
      } else idleSince = 0;
      await new Promise((r) => setTimeout(r, 200));
    }
    await pool.close();
    await q.close();
    await fin.close();
    admin.disconnect();
    assert.ok(crashed, 'the OOM verdict was written before the rest of the evidence');
    assert.deepEqual([...verdicts.values()].map(key).sort(), correlate(events).map(key).sort());
  });

  it('a finalize with a newer one queued behind it for the same bucket leaves the work to that one', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 5, maxRetriesPerRequest: null };
    const { admin, buckets } = await storedEvidence(connection, events);
    // as under load: a bucket's finalize waits for a worker past its deduplication's life, and
    // evidence arriving meanwhile queues a second one for the same bucket
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now() }, { deduplication: { id: finalizeId(b.host, b.bucket), ttl: 1 } });
    await new Promise((r) => setTimeout(r, 50));
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now() }, { deduplication: { id: finalizeId(b.host, b.bucket), ttl: 60_000 } });
    assert.equal((await fin.getJobCounts('waiting')).waiting, 2 * buckets.size, 'two finalizes queued per bucket');
    const delivered: Attribution[] = [];
    const pool = correlateWorkers(connection, { settleMs: 200, onVerdicts: async (vs) => void delivered.push(...vs) });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && Object.values(await fin.getJobCounts('waiting', 'active', 'delayed')).some((n) => n > 0)) await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    await fin.close();
    admin.disconnect();
    assert.deepEqual(delivered.map(key).sort(), correlate(events).map(key).sort(), 'each death attributed once, by the newer finalize');
  });

  it('the ingest worker lets go of audit events and daemon chatter that can never be evidence before building them, and every one is counted on the way to the correlate workers', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 7, maxRetriesPerRequest: null };
    const admin = new Redis(connection);
    await admin.flushdb();
    // the busy capture: an all-signals rule on a node running Go, SIGURG tgkills by the thousand
    const busy = ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(FIXTURES, 'lab', 'containers-busy', f));
    const whole: NormalizedEvent[] = [];
    await decodeInputs(await expandInputs(busy), { event: (e) => whole.push(e), deadLetter: () => {} }, { host: 'lab' });
    const q = eventsQueue(connection);
    const sink = new QueueSink(q, { node: 'lab', batchSize: 300, flushMs: 60_000, maxInFlight: 4, deadLetterFile: '/dev/null' });
    // as cli/ingest.ts wires it
    const decoder = await decodeInputs(await expandInputs(busy), { event: (e) => sink.event(e), deadLetter: (d) => sink.deadLetter(d) }, { host: 'lab', ...ingestTriage(sink, 'evidence') });
    await sink.durable();
    const unwanted = decoder.counters.values.audit_events_unwanted ?? 0;
    const chatter = decoder.counters.values.runtime_lines_unwanted ?? 0;
    assert.ok(unwanted > whole.length / 4, `most of the SIGURG storm is let go at ingest (${unwanted} of ${whole.length})`);
    assert.ok(chatter > whole.length / 5, `the daemons' debug chatter is let go at ingest (${chatter} of ${whole.length})`);
    assert.equal(sink.stats.letGo, unwanted + chatter);
    const skipped: Record<string, number> = {};
    const handed: NormalizedEvent[] = [];
    const pool = correlateWorkers(connection, {
      settleMs: 200,
      onVerdicts: async () => {},
      onEvents: async (evs, sk) => {
        handed.push(...evs);
        for (const [k, n] of Object.entries(sk)) skipped[k] = (skipped[k] ?? 0) + n;
      },
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await q.getJobCounts('completed')).completed! < sink.stats.batches) await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    await q.close();
    admin.disconnect();
    assert.equal(skipped[AUDIT_TRIAGED], unwanted, 'every audit event let go is counted, under its reason');
    assert.equal(skipped[RUNTIME_TRIAGED], chatter, 'every daemon line let go is counted, under its reason');
    // exactly the debug and info lines of no known wording are let go; what went wrong is built,
    // known wording or not: the context a reader of a death wants
    const unknown = whole.filter((e) => e.exit137.kind === 'runtime-log' && e.exit137.message_id === undefined && !e.message?.includes('/sys/fs/cgroup/'));
    assert.equal(chatter, unknown.filter((e) => ['trace', 'debug', 'info'].includes(e.log.level ?? '')).length);
    assert.ok(unknown.some((e) => ['warning', 'error'].includes(e.log.level ?? '')), 'the capture has unknown warnings or errors, and they are built');
    const counted = Object.values(skipped).reduce((a, b) => a + b, 0);
    assert.equal(handed.length + counted, whole.length, 'every event of the node is indexed or counted');
    const ids = new Set(handed.map((e) => e.event.id));
    assert.deepEqual(whole.filter(isEvidence).filter((e) => !ids.has(e.event.id)).map((e) => e.event.original), [], 'no evidence let go');
  });

  it('a bucket is not finalized while a stream the node is still reading has not reached its evidence', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 8, maxRetriesPerRequest: null };
    const admin = new Redis(connection);
    await admin.flushdb();
    const verdicts = new Map<string, Attribution>();
    const pool = correlateWorkers(connection, { settleMs: 200, onVerdicts: async (vs, _at, withdrawn) => {
      for (const v of vs) verdicts.set(v.incident_id, v);
      for (const id of withdrawn) verdicts.delete(id);
    } });
    const q = eventsQueue(connection);
    // as a node catching up on a backlog: one of its files is still being read, an hour behind
    const first = events.reduce((m, e) => (BigInt(e.exit137.ts_ns) < m ? BigInt(e.exit137.ts_ns) : m), BigInt(events[0]!.exit137.ts_ns));
    const behind = (first - 3600n * 1_000_000_000n).toString();
    await q.add('batch', { node: 'lab', events, watermarkNs: behind });
    await new Promise((r) => setTimeout(r, 1500));
    const early = verdicts.size;
    // it has caught up
    const last = events.reduce((m, e) => (BigInt(e.exit137.ts_ns) > m ? BigInt(e.exit137.ts_ns) : m), 0n);
    await q.add('batch', { node: 'lab', events: [], watermarkNs: (last + 1n).toString() });
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    const expected = correlate(events).map(key).sort();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && verdicts.size < expected.length) await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    await q.close();
    await fin.close();
    admin.disconnect();
    assert.equal(early, 0, 'no verdict while the slow stream had not reached the deaths');
    assert.deepEqual([...verdicts.values()].map(key).sort(), expected, 'then every death, once caught up');
  });

  it('a node with many buckets due at once has them finalized from one read of its evidence, with the verdicts analyze gives', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 10, maxRetriesPerRequest: null };
    // the lab capture three times over, five minutes apart (fresh ids and times): a few hours of a node, shortened
    const dir = mkdtempSync(join(tmpdir(), 'exit137-history-'));
    const history: NormalizedEvent[] = [];
    try {
      await makeLabHistory(dir, 3, { spacingS: 300 });
      await decodeInputs(await expandInputs(FILES.map((f) => join(dir, basename(f)))), { event: (e) => history.push(e), deadLetter: () => {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const events = history;
    const { admin, buckets } = await storedEvidence(connection, events);
    assert.ok(buckets.size >= 5, `the history's evidence spans several buckets (${buckets.size})`);
    // as a node catching up on a backlog: every bucket's settle window over at once
    const store = new RedisEvidenceStore(admin);
    const lastNs = events.reduce((m, e) => (BigInt(e.exit137.ts_ns) > m ? BigInt(e.exit137.ts_ns) : m), 0n).toString();
    const byNode = new Map<string, string[]>();
    for (const b of buckets.values()) byNode.set(b.host, [...(byNode.get(b.host) ?? []), b.bucket]);
    for (const [host, bs] of byNode) await store.arm(host, bs.map((bucket) => ({ bucket, dueMs: Date.now(), evidenceAt: Date.now(), lastNs })));
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now(), lastNs, armed: true });
    const reads: string[] = [];
    const window = RedisEvidenceStore.prototype.window;
    RedisEvidenceStore.prototype.window = function (this: RedisEvidenceStore, host: string, from: bigint, to: bigint) {
      reads.push(host);
      return window.call(this, host, from, to);
    };
    const verdicts = new Map<string, Attribution>();
    try {
      const pool = correlateWorkers(connection, { settleMs: 200, onVerdicts: async (vs, _at, withdrawn) => {
        for (const v of vs) verdicts.set(v.incident_id, v);
        for (const id of withdrawn) verdicts.delete(id);
      } });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && Object.values(await fin.getJobCounts('waiting', 'active', 'delayed')).some((n) => n > 0)) await new Promise((r) => setTimeout(r, 100));
      await pool.close();
    } finally {
      RedisEvidenceStore.prototype.window = window;
    }
    await fin.close();
    assert.equal(await admin.zcard(`exit137:armed:${[...byNode.keys()][0]}`), 0, 'no bucket left armed');
    admin.disconnect();
    assert.deepEqual([...verdicts.values()].map(key).sort(), correlate(events).map(key).sort());
    assert.equal(reads.length, byNode.size, `one read per node, not one per bucket (${buckets.size} buckets)`);
  });

  it('buckets held back by a stream still behind their evidence are finalized as soon as the node has read past it, not a settle window later', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 11, maxRetriesPerRequest: null };
    const { admin, buckets } = await storedEvidence(connection, events);
    const store = new RedisEvidenceStore(admin);
    const host = [...buckets.values()][0]!.host;
    const lastNs = events.reduce((m, e) => (BigInt(e.exit137.ts_ns) > m ? BigInt(e.exit137.ts_ns) : m), 0n);
    // every bucket due, but one of the node's streams is an hour behind
    await store.setWatermark(host, (lastNs - 3600n * 1_000_000_000n).toString(), 60_000);
    await store.arm(host, [...buckets.values()].map((b) => ({ bucket: b.bucket, dueMs: Date.now(), evidenceAt: Date.now(), lastNs: lastNs.toString() })));
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now(), lastNs: lastNs.toString(), armed: true });
    const verdicts = new Map<string, Attribution>();
    // a settle window far longer than the test waits: a finalize held back tries again only after it
    const pool = correlateWorkers(connection, { settleMs: 120_000, onVerdicts: async (vs, _at, withdrawn) => {
      for (const v of vs) verdicts.set(v.incident_id, v);
      for (const id of withdrawn) verdicts.delete(id);
    } });
    const expected = correlate(events).map(key).sort();
    await new Promise((r) => setTimeout(r, 1000));
    const early = verdicts.size;
    // the slow stream has caught up
    const q = eventsQueue(connection);
    await q.add('batch', { node: host, events: [], watermarkNs: (lastNs + 1n).toString() });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && verdicts.size < expected.length) await new Promise((r) => setTimeout(r, 100));
    // the finalizes held back are not left queued for their settle window (two minutes here) once
    // their buckets were finalized: nothing waits on them
    const pending = async () => fin.getJobCounts('waiting', 'active', 'delayed');
    const drained = Date.now() + 5000;
    while (Date.now() < drained && Object.values(await pending()).some((n) => n > 0)) await new Promise((r) => setTimeout(r, 100));
    const left = await pending();
    await pool.close();
    await q.close();
    await fin.close();
    admin.disconnect();
    assert.equal(early, 0, 'held back while the stream was behind');
    assert.deepEqual([...verdicts.values()].map(key).sort(), expected);
    assert.deepEqual(left, { waiting: 0, active: 0, delayed: 0 }, 'no finalize left queued');
  });

  it('an ingest worker whose streams have all gone quiet says how far it has read: its last batch was held back by the streams still being read then', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 12, maxRetriesPerRequest: null };
    const admin = new Redis(connection);
    await admin.flushdb();
    const q = eventsQueue(connection);
    const sink = new QueueSink(q, { node: 'lab', batchSize: 100_000, flushMs: 60_000, maxInFlight: 4, deadLetterFile: '/dev/null' });
    // the files read side by side: audit.log's last event is later than dmesg's
    for (const e of events) sink.event(e);
    await sink.durable();
    const latest = events.reduce((m, e) => (BigInt(e.exit137.ts_ns) > m ? BigInt(e.exit137.ts_ns) : m), 0n).toString();
    const [last] = await q.getJobs(['waiting'], 0, 0);
    assert.ok(BigInt(last!.data.watermarkNs!) < BigInt(latest), 'the batch holds the watermark at the stream furthest behind');
    let quiet: string | undefined;
    for (let i = 0; i < 50 && quiet === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      quiet = (await q.getJobs(['waiting'])).find((j) => j.data.events.length === 0 && j.data.watermarkNs !== undefined)?.data.watermarkNs;
    }
    await q.close();
    admin.disconnect();
    assert.equal(quiet, latest, 'once quiet: everything up to the latest event read');
  });

  it('a bucket finalized again on the same evidence writes no verdict again', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, db: 9, maxRetriesPerRequest: null };
    const { admin, buckets } = await storedEvidence(connection, events);
    const fin = new Queue(FINALIZE_QUEUE, { connection });
    const delivered: Attribution[][] = [];
    const pool = correlateWorkers(connection, { settleMs: 200, onVerdicts: async (vs) => void delivered.push(vs) });
    const settle = async () => {
      const deadline = Date.now() + 30_000;
      await new Promise((r) => setTimeout(r, 100));
      while (Date.now() < deadline && Object.values(await fin.getJobCounts('waiting', 'active', 'delayed')).some((n) => n > 0)) await new Promise((r) => setTimeout(r, 100));
    };
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now() });
    await settle();
    const first = delivered.flat().map(key).sort();
    assert.deepEqual(first, correlate(events).map(key).sort());
    // a neighbour's edge, or late evidence that changes nothing, finalizes them all again
    for (const b of buckets.values()) await fin.add('finalize', { ...b, evidenceAt: Date.now() });
    await settle();
    await pool.close();
    await fin.close();
    admin.disconnect();
    assert.deepEqual(delivered.flat().map(key).sort(), first, 'nothing written the second time');
  });

  for (const workers of [1, 2, 4]) {
    it(`${workers} worker(s): the same verdicts, one per death, from batches in file order`, async () => {
      const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
      const verdicts = new Map<string, Attribution>();
      // each run starts clean: a replay of the same events finds its verdicts already written
      const admin = new Redis(connection);
      await admin.flushdb();
      admin.disconnect();
      const pool = Array.from({ length: workers }, () => correlateWorkers(connection, { settleMs: 1500, onVerdicts: async (vs, _at, withdrawn) => {
        for (const v of vs) verdicts.set(v.incident_id, v);
        for (const id of withdrawn) verdicts.delete(id);
      } }));
      const q = eventsQueue(connection);
      await q.obliterate({ force: true }).catch(() => {});
      for (let i = 0; i < events.length; i += 300) await q.add('batch', { node: 'lab', events: events.slice(i, i + 300) });
      const fin = new Queue(FINALIZE_QUEUE, { connection });
      const deadline = Date.now() + 60_000;
      let idleSince = 0;
      while (Date.now() < deadline) {
        const a = await q.getJobCounts('waiting', 'active', 'delayed');
        const b = await fin.getJobCounts('waiting', 'active', 'delayed');
        const busy = Object.values(a).concat(Object.values(b)).some((n) => n > 0);
        if (!busy && verdicts.size > 0) {
          if (!idleSince) idleSince = Date.now();
          else if (Date.now() - idleSince > 1000) break;
        } else idleSince = 0;
        await new Promise((r) => setTimeout(r, 200));
      }
      await Promise.all(pool.map((p) => p.close()));
      await q.close();
      await fin.close();
      const expected = correlate(events).map(key).sort();
      assert.deepEqual([...verdicts.values()].map(key).sort(), expected);
      assert.equal(new Set([...verdicts.values()].map((v) => v.incident_id)).size, expected.length, 'one verdict per death');
    });
  }
});

describe('what the correlate workers index in a real Elasticsearch', { timeout: 900_000 }, () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let es: Awaited<ReturnType<typeof startElasticsearch>>;
  let client: Client;
  let events: NormalizedEvent[];
  before(async () => {
    [redis, es] = await Promise.all([startRedis(), startElasticsearch()]);
    client = new Client({ node: es.url });
    await installTemplates(client);
    events = [];
    await decodeInputs(await expandInputs(FILES), { event: (e) => events.push(e), deadLetter: () => {} });
  });
  after(async () => {
    await client?.close();
    es?.stop();
    await redis?.stop();
  });

  /**
   * The lab's events through the workers in batches of 300; what ES then holds. `via: 'sink'`: sent
   * by the ingest worker's sink, which chooses what is indexed before anything goes to Redis;
   * `'queue'`: whole batches put on the queue, for the correlate workers to choose from.
   */
  async function run(mode: IndexMode | undefined, db: number, via: 'queue' | 'sink' = 'queue') {
    const connection = { host: '127.0.0.1', port: redis.port, db, maxRetriesPerRequest: null };
    // by name: the node refuses to delete by wildcard (action.destructive_requires_name)
    const old = Object.keys(await client.indices.get({ index: 'exit137-events-*', allow_no_indices: true }));
    if (old.length) await client.indices.delete({ index: old });
    const skipped: Record<string, number> = {};
    let handed = 0;
    const pool = correlateWorkers(connection, {
      settleMs: 200,
      ...(mode ? { indexMode: mode } : {}),
      onVerdicts: async () => {},
      onEvents: async (evs, sk) => {
        const r = await writeBatch(client, evs, []);
        assert.deepEqual(r.rejected, []);
        handed += evs.length;
        for (const [k, n] of Object.entries(sk)) skipped[k] = (skipped[k] ?? 0) + n;
      },
    });
    const q = eventsQueue(connection);
    await q.obliterate({ force: true });
    if (via === 'queue') for (let i = 0; i < events.length; i += 300) await q.add('batch', { node: 'lab', events: events.slice(i, i + 300) });
    else {
      const sink = new QueueSink(q, { node: 'lab', batchSize: 300, flushMs: 60_000, maxInFlight: 4, deadLetterFile: '/dev/null', ...(mode ? { indexMode: mode } : {}) });
      for (const e of events) sink.event(e);
      await sink.durable();
    }
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await q.getJobCounts('completed')).completed! < Math.ceil(events.length / 300)) await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    await client.indices.refresh({ index: 'exit137-events-*' });
    const stored = await client.search<NormalizedEvent>({ index: 'exit137-events-*', size: 10_000, _source: ['event.id'], query: { match_all: {} } });
    // what went through Redis, and what the correlate workers were handed
    const sent = (await q.getCompleted(0, -1)).reduce((n, j) => n + j.data.events.length, 0);
    await q.close();
    return { ids: new Set(stored.hits.hits.map((h) => h._source!.event.id)), skipped, handed, sent };
  }

  for (const via of ['queue', 'sink'] as const) it(`by default (${via === 'sink' ? 'chosen by the ingest worker' : 'chosen by the correlate workers'}): every piece of evidence and a bounded context around each death; the rest counted by reason`, async () => {
    const { ids, skipped, handed, sent } = await run(undefined, via === 'sink' ? 6 : 3, via);
    if (via === 'sink') assert.equal(sent, handed, 'only what is indexed is sent through Redis');
    else assert.equal(sent, events.length);
    assert.equal(ids.size, handed, 'each event handed to the sink is stored once');
    const evidence = events.filter(isEvidence);
    assert.deepEqual(evidence.filter((e) => !ids.has(e.event.id)).map((e) => e.event.original), [], 'no evidence left out');
    const context = events.filter((e) => ids.has(e.event.id) && !isEvidence(e));
    assert.ok(context.length > 0, 'lines around a death are kept with it');
    // each context event lies within CONTEXT_EVENTS events of its stream from a death
    const byFile = new Map<string, NormalizedEvent[]>();
    for (const e of events) byFile.set(e.log.file?.path ?? e.exit137.source, [...(byFile.get(e.log.file?.path ?? e.exit137.source) ?? []), e]);
    for (const e of context) {
      const stream = byFile.get(e.log.file?.path ?? e.exit137.source)!;
      const i = stream.indexOf(e);
      const near = stream.slice(Math.max(0, i - CONTEXT_EVENTS), i + CONTEXT_EVENTS + 1);
      assert.ok(near.some((x) => x.exit137.exit?.code === 137 || x.exit137.signal?.name === 'SIGKILL' || ['kernel-oom', 'go-crash', 'kernel-hung-task', 'container-event'].includes(x.exit137.kind)), `context without a death near it: ${e.event.original}`);
    }
    const left = events.filter((e) => !ids.has(e.event.id));
    assert.ok(left.length > events.length / 2, `most of the node's lines are not evidence (${left.length} of ${events.length} left out)`);
    assert.equal(Object.values(skipped).reduce((a, b) => a + b, 0), left.length, 'everything left out is counted');
    const logs = left.filter((e) => e.exit137.kind === 'log').length;
    assert.ok(logs > 0);
    assert.equal(skipped['log-unrecognised'], logs, 'counted under its reason');
  });

  it('indexing everything is one setting: every event is stored, none counted as left out', async () => {
    const { ids, skipped } = await run('all', 4);
    assert.equal(ids.size, new Set(events.map((e) => e.event.id)).size);
    assert.deepEqual(events.filter((e) => !ids.has(e.event.id)), []);
    assert.deepEqual(skipped, {});
  });
});
