import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { correlate } from '../../correlate/analyze.ts';
import { FINALIZE_QUEUE } from '../../correlate/distributed/workers.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { decodeInputs } from '../../ingest/run.ts';
import { EVENTS_QUEUE } from '../../ingest/ship/queue.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { VERDICTS_ALIAS } from '../../sinks/elasticsearch/templates.ts';
import { startElasticsearch } from '../helpers/elasticsearch.ts';
import { FIXTURES, REPO } from '../helpers/paths.ts';
import { freePort, startRedis } from '../helpers/redis.ts';

/**
 * The distributed pipeline end to end on real services, with faults: the lab's captured logs are
 * written into files a little at a time and followed by an ingest worker; two correlate workers
 * write to a real Elasticsearch. On the way, the ingest worker and a correlate worker are killed
 * with SIGKILL, Redis drops every client connection, and Elasticsearch is stopped and started
 * again. At the end Elasticsearch must hold exactly the events and verdicts `analyze` finds in the
 * same files: none missing, none twice.
 */
const NODE = 'lab';
const LAB = join(FIXTURES, 'lab', 'containers');
/**
 * Where a file may be cut between two appends: never inside what a writer writes at once (an
 * audit event, a kernel report, a crash dump), which a follower rightly takes as complete when
 * nothing follows it for seconds.
 */
const FILES: Record<string, (line: string, prev: string | undefined) => boolean> = {
  'audit.log': (line, prev) => prev === undefined || serial(line) !== serial(prev),
  // not right after a crash dump either: its end is only known from the next line
  'containerd.log': (line, prev) => line.startsWith('time=') && (prev?.startsWith('time=') ?? true),
  'dockerd.log': (line, prev) => line.startsWith('time=') && (prev?.startsWith('time=') ?? true),
  'ctr-events.txt': () => true,
  'docker-events.json': () => true,
  // audit lines interleave with a kernel report in dmesg: cut only where a new report starts
  'dmesg.txt': (line) => /invoked oom-killer|INFO: task /.test(line),
};
const PARTS = 4;

function serial(line: string): string | undefined {
  return /audit\([\d.]+:(\d+)\)/.exec(line)?.[1];
}

/** The file's lines in PARTS pieces, each cut where the predicate allows. */
function split(text: string, cuttable: (line: string, prev: string | undefined) => boolean): string[] {
  const lines = text.split(/(?<=\n)/);
  const parts: string[] = [];
  let from = 0;
  for (let p = 1; p < PARTS; p++) {
    let at = Math.max(from, Math.floor((lines.length * p) / PARTS));
    while (at < lines.length && !cuttable(lines[at]!, lines[at - 1])) at++;
    parts.push(lines.slice(from, at).join(''));
    from = at;
  }
  parts.push(lines.slice(from).join(''));
  return parts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (v: Attribution) => `${v.container.id} ${v.cause} ${v.sub_cause ?? ''} ${v.exit_code ?? ''} ${v.died_at}`;

describe('ingest → Redis → correlate → Elasticsearch, through crashes and outages', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-pipeline-'));
  const logs = join(dir, 'logs');
  // the node runs as its own user: its data directory must be reachable by that user
  const esHome = mkdtempSync(join(tmpdir(), 'exit137-es-data-'));
  chmodSync(esHome, 0o755);
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let es: Awaited<ReturnType<typeof startElasticsearch>>;
  const children = new Set<ChildProcess>();
  const output: string[] = [];

  before(async () => {
    redis = await startRedis();
    es = await startElasticsearch({ home: esHome });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    es?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(esHome, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    EXIT137_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    EXIT137_ES_URL: es.url,
    EXIT137_NODE_NAME: NODE,
    EXIT137_STATE_DIR: join(dir, 'state'),
    EXIT137_SETTLE_MS: '2000',
    EXIT137_STALLED_MS: '3000',
    EXIT137_BATCH_SIZE: '100',
    EXIT137_LOG_LEVEL: 'warn',
    // every event, not only evidence: what this test proves is that none is lost or doubled
    EXIT137_INDEX_ALL_EVENTS: '1',
    ...extra,
  });
  const worker = async (args: string[]): Promise<ChildProcess> => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(REPO, 'bin', 'exit137.js'), ...args], { env: env({ EXIT137_METRICS_PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => output.push(`[${args[0]} ${child.pid}] ${d.toString()}`);
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const killHard = async (c: ChildProcess) => {
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };

  it('every event once and every verdict once, as analyze gives them', async (t) => {
    const parts = Object.fromEntries(Object.entries(FILES).map(([f, cut]) => [f, split(readFileSync(join(LAB, f), 'utf8'), cut)]));
    const files = Object.keys(FILES).map((f) => join(logs, f));
    const append = (p: number) => {
      for (const f of Object.keys(FILES)) appendFileSync(join(logs, f), parts[f]![p]!);
    };
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const events = new Queue(EVENTS_QUEUE, { connection });
    const client = new Client({ node: es.url });
    const admin = new Redis(connection);
    const finalize = new Queue(FINALIZE_QUEUE, { connection });
    // closed whether the test passes or not: a client left open keeps reconnecting to the stopped Redis
    t.after(async () => {
      await Promise.all([events.close(), finalize.close(), client.close()]);
      admin.disconnect();
    });
    const completed = async () => (await events.getJobCounts('completed')).completed ?? 0;
    // part 1, and a worker of each kind
    mkdirSync(logs, { recursive: true });
    append(0);
    let ingest = await worker(['ingest', ...files]);
    const correlateA = await worker(['correlate']);
    await worker(['correlate']);
    for (let i = 0; i < 300 && (await completed()) === 0; i++) await sleep(100);
    assert.ok((await completed()) > 0, `no batch went through:\n${output.join('')}`);

    // the ingest worker dies with its buffers; part 2 is written while it is down
    await killHard(ingest);
    append(1);
    ingest = await worker(['ingest', ...files]);

    // Redis drops every client; a correlate worker dies mid-job and another takes its place
    await sleep(1500);
    await admin.client('KILL', 'TYPE', 'normal');
    await killHard(correlateA);
    await worker(['correlate']);

    // Elasticsearch goes away while part 3 arrives, then comes back with its data
    es.stop();
    append(2);
    await sleep(8000);
    es = await startElasticsearch({ port: es.port, home: esHome });
    append(3);

    // expected: what analyze reads in the same files, on the same node
    const expectedEvents: NormalizedEvent[] = [];
    await decodeInputs(await expandInputs(files, { host: NODE }), { event: (e) => expectedEvents.push(e), deadLetter: () => {} });
    const expectedIds = new Set(expectedEvents.map((e) => e.event.id));
    const expectedVerdicts = correlate(expectedEvents).map(key).sort();
    assert.ok(expectedVerdicts.length >= 7, 'the lab bundle has its seven deaths');

    let counts = { events: 0, verdicts: 0 };
    const deadline = Date.now() + 240_000;
    for (;;) {
      await client.indices.refresh({ index: 'exit137-*' }).catch(() => {});
      const ev = await client.count({ index: 'exit137-events-*' }).catch(() => ({ count: -1 }));
      const vd = await client.count({ index: VERDICTS_ALIAS }).catch(() => ({ count: -1 }));
      counts = { events: ev.count, verdicts: vd.count };
      const busy = Object.values(await events.getJobCounts('waiting', 'active', 'delayed', 'prioritized'))
        .concat(Object.values(await finalize.getJobCounts('waiting', 'active', 'delayed', 'prioritized')))
        .some((n) => n > 0);
      if (!busy && counts.events === expectedIds.size && counts.verdicts === expectedVerdicts.length) break;
      if (Date.now() > deadline) break;
      await sleep(1000);
    }

    const stored = await client.search<NormalizedEvent>({ index: 'exit137-events-*', size: 10_000, _source: ['event.original', 'exit137.kind', 'log'], query: { match_all: {} } });
    const storedIds = stored.hits.hits.map((h) => h._id!);
    const extra = stored.hits.hits.filter((h) => !expectedIds.has(h._id!)).map((h) => `${h._source!.exit137.kind} ${h._source!.log.file?.path ?? ''}@${h._source!.log.offset}: ${h._source!.event.original.slice(0, 160)}`);
    const missing = [...expectedIds].filter((id) => !storedIds.includes(id));
    assert.deepEqual(missing.length, 0, `${missing.length} events missing from Elasticsearch (${counts.events} stored, ${expectedIds.size} expected); not expected: ${extra.length}, e.g. ${extra.slice(0, 3).join(' | ')}\n${output.join('').slice(-3000)}`);
    assert.equal(storedIds.length, new Set(storedIds).size, 'no event stored twice');
    assert.deepEqual(extra, [], 'no event that analyze does not find');
    assert.equal(counts.events, expectedIds.size);

    const verdicts = await client.search<Attribution>({ index: VERDICTS_ALIAS, size: 1000, query: { match_all: {} } });
    const got = verdicts.hits.hits.map((h) => h._source!);
    assert.deepEqual(got.map(key).sort(), expectedVerdicts, 'the verdicts analyze gives for the same files');
    assert.equal(new Set(got.map((v) => v.incident_id)).size, got.length, 'one verdict document per incident');
    // the outage was real: writes failed and were retried
    assert.match(output.join(''), /job failed; it will be retried/);

    for (const c of [...children]) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  });
});
