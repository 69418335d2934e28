import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TRIAGED_AT_INGEST } from '../../correlate/distributed/indexing.ts';
import { FINALIZE_QUEUE } from '../../correlate/distributed/workers.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { decodeInputs } from '../../ingest/run.ts';
import { EVENTS_QUEUE } from '../../ingest/ship/queue.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { EVENTS_TEMPLATE, VERDICTS_ALIAS, eventsIndex } from '../../sinks/elasticsearch/templates.ts';
import { installTemplates } from '../../sinks/elasticsearch/writer.ts';
import { startElasticsearch } from '../helpers/elasticsearch.ts';
import { REPO } from '../helpers/paths.ts';
import { freePort, startRedis } from '../helpers/redis.ts';
import { makeLabHistory } from './make-lab-data.ts';

/**
 * Issue 15, target 4: the distributed pipeline against the Elasticsearch node's own ceiling, in
 * one run on one machine. The history is the busy lab capture (rule pack plus an all-signals rule:
 * Go's SIGURG floods, execs, kills, the daemons' logs) repeated with fresh ids and times.
 *
 * 1. The ceiling: every event of the history as the document the pipeline would write, loaded with
 *    the client's bulk helper (5 MB bulks) into the events index with refresh off during the load;
 *    once before the saturated run and once after it, the better taken (the machine is shared).
 * 2. Saturated: the history's files complete before the ingest worker starts; timed until every
 *    event has been through a correlate worker (indexed or counted) and every verdict is in ES.
 * 3. Half load: the same files written line by line at half the rate the saturated run reached
 *    (as a node writes its logs), the ingest worker following them: the verdict latency a node
 *    sees when the pipeline has headroom.
 * Verdict latency is from when the batch holding a death's last evidence was queued to when the
 * verdict is visible in ES (the verdict write waits for a refresh), as the correlate workers log it.
 */

const SETTLE_MS = 2000;
/** The ES node's heap for the bench: more than the tests' 512 MB, as any node taking a bulk load has. */
const ES_HEAP = process.env.BENCH_ES_HEAP ?? '1g';
/** Copies sit further apart than the busy capture is long (about 140 s), so each copy's deaths are its own. */
const SPACING_S = 300;

export type RunFigures = {
  seconds: number;
  events: number;
  indexed: number;
  notIndexed: Record<string, number>;
  verdicts: number;
  byCause: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
  verdictWrites: number;
  /** Redis's peak memory over the run, above what it held at the start (evidence, queues). */
  redisPeakMb: number;
  /** CPU seconds the ES node and Redis used over the run. */
  esCpuSeconds: number;
  redisCpuSeconds: number;
  /** The rate the history's lines were written at (half load), or undefined when written beforehand. */
  feedLinesPerS?: number;
  /** CPU over the run: a correlate worker's start, before the clock starts, is left out. */
  workers: { role: string; peakRssMb: number; cpuSeconds: number }[];
};

export type Ceiling = { docs: number; seconds: number; docsPerS: number; bulkMb: number; concurrency: number; esCpuSeconds: number };

export type DistributedFigures = {
  replicas: number;
  lines: number;
  events: number;
  deaths: number;
  expectedByCause: Record<string, number>;
  inProcess: { seconds: number; linesPerS: number };
  esNode: { heap: string; jvmArgs: string[]; assertions: boolean; testJars: string[] };
  /** The best of the loads before and after the saturated run (other work on the machine slows either). */
  ceiling: Ceiling;
  ceilingRuns: Ceiling[];
  saturated: RunFigures;
  half: RunFigures;
  settleMs: number;
};

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A live child's peak RSS (VmHWM) and CPU time (utime + stime), from /proc. */
function usage(pid: number): { peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which may itself hold spaces and parentheses
  const stat = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return { peakRssMb: Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

/** CPU seconds used so far by the ES node (its process stats) and by Redis (INFO cpu). */
async function serviceCpu(client: Client, admin: Redis): Promise<{ es: number; redis: number }> {
  const st = await client.nodes.stats({ node_id: '_local', metric: 'process' });
  const es = (Object.values(st.nodes)[0]!.process?.cpu?.total_in_millis ?? 0) / 1000;
  const info = await admin.info('cpu');
  const redis = Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]);
  return { es, redis };
}

/** BENCH_TRACE: where the ES node's time goes (cumulative totals, ms or counts). */
async function nodeWork(client: Client): Promise<Record<string, number>> {
  const st = Object.values((await client.nodes.stats({ node_id: '_local', metric: ['indices', 'jvm', 'http', 'process'] })).nodes)[0]!;
  const ix = st.indices!;
  const gc = Object.values(st.jvm?.gc?.collectors ?? {}).reduce((n, c) => n + (c.collection_time_in_millis ?? 0), 0);
  return {
    cpu_ms: st.process?.cpu?.total_in_millis ?? 0,
    index_ms: ix.indexing?.index_time_in_millis ?? 0,
    docs: ix.indexing?.index_total ?? 0,
    refresh_ms: ix.refresh?.total_time_in_millis ?? 0,
    refreshes: ix.refresh?.total ?? 0,
    merge_ms: ix.merges?.total_time_in_millis ?? 0,
    flush_ms: ix.flush?.total_time_in_millis ?? 0,
    query_ms: ix.search?.query_time_in_millis ?? 0,
    queries: ix.search?.query_total ?? 0,
    gc_ms: gc,
    http_opened: st.http?.total_opened ?? 0,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sums a Prometheus counter (all its label sets, or by one label) from a worker's /metrics. */
async function counter(port: number, name: string): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{reason="([^"]*)"\\})? (\\S+)$`, 'gm'))) out[m[1] ?? ''] = (out[m[1] ?? ''] ?? 0) + Number(m[2]);
  return out;
}

/**
 * The whole section: builds the history, measures the ceiling and both pipeline runs, prints the
 * figures and returns them. `BENCH_ONLY=distributed npm run bench` calls it from run.ts; alone:
 * `npx tsx test/bench/distributed.ts [replicas] [workers]`.
 */
export async function benchDistributedSection(opts: { dir: string; replicas: number; workers: number }): Promise<DistributedFigures> {
  const { dir, replicas, workers } = opts;
  // the workers run compiled, from one build made now: a source edited by someone mid-run cannot
  // switch a worker to tsx (bin/exit137.js would) and change what is measured
  process.stderr.write('bench: distributed: npm run build\n');
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const cli = join(REPO, 'dist', 'cli', 'main.js');

  const history = join(dir, 'dist-history');
  process.stderr.write(`bench: distributed: ${replicas} copies of the busy lab capture in ${history}\n`);
  const h = await makeLabHistory(history, replicas, { source: 'containers-busy', spacingS: SPACING_S });
  const files = readdirSync(history).sort();

  // the verdicts the pipeline must give: analyze, in one process, on the same history
  const ref = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'analyze-only.ts'), history], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const inProc = JSON.parse(ref.stdout.trim().split('\n').at(-1)!) as { seconds: number; lines: number; deaths: number; byCause: Record<string, number> };

  const redis = await startRedis();
  const esHome = mkdtempSync(join(tmpdir(), 'exit137-bench-es-'));
  chmodSync(esHome, 0o755);
  const es = await startElasticsearch({ home: esHome, heap: ES_HEAP });
  const client = new Client({ node: es.url });
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const admin = new Redis(connection);
  const queues = [new Queue(EVENTS_QUEUE, { connection }), new Queue(FINALIZE_QUEUE, { connection })];
  try {
    const esNode = await checkNode(client);
    const ceilingLoad = await prepareCeiling(client, admin, history, files);
    const ceilingRuns = [await ceilingLoad()];
    // every event the ingest worker reads, decoded here the same way (analyze's counters leave out
    // the records its triage drops before they become events; the pipeline counts them all)
    const expected = ceilingRuns[0]!.docs;

    /** Empty Redis, ES, state: each run starts as a new deployment would. */
    const fresh = async () => {
      await admin.flushall();
      const old = Object.keys(await client.indices.get({ index: 'exit137-*', allow_no_indices: true, expand_wildcards: 'all' }));
      // by name: the node refuses to delete by wildcard (action.destructive_requires_name)
      if (old.length) await client.indices.delete({ index: old });
    };

    const run = async (feed: 'complete' | number): Promise<RunFigures> => {
      await fresh();
      const state = mkdtempSync(join(tmpdir(), 'exit137-bench-state-'));
      const inputs = feed === 'complete' ? history : join(dir, 'dist-feed');
      if (feed !== 'complete') {
        rmSync(inputs, { recursive: true, force: true });
        mkdirSync(inputs);
        for (const f of files) writeFileSync(join(inputs, f), '');
      }
      const children: { child: ChildProcess; role: string; port: number }[] = [];
      const latencies: number[] = [];
      let tRun: number | undefined;
      const env = { ...process.env, EXIT137_REDIS_URL: `redis://127.0.0.1:${redis.port}`, EXIT137_ES_URL: es.url, EXIT137_NODE_NAME: 'bench', EXIT137_STATE_DIR: state, EXIT137_SETTLE_MS: String(SETTLE_MS), EXIT137_LOG_LEVEL: 'info' };
      const start = async (args: string[]) => {
        const port = await freePort();
        // BENCH_CPU_PROF=dir: a CPU profile of each worker, written when it stops
        const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${args[0]}-${children.length}-${Date.now()}.cpuprofile`] : [];
        const child = spawn(process.execPath, [...prof, cli, ...args], { env: { ...env, EXIT137_METRICS_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
        let carry = '';
        child.stdout!.on('data', (d: Buffer) => {
          const lines = (carry + d.toString()).split('\n');
          carry = lines.pop()!;
          for (const l of lines) {
            const m = /"latency_ms":(\d+)/.exec(l);
            if (m) latencies.push(Number(m[1]));
            // the ingest worker's start-up and first batch, on the run's clock
            else if (process.env.BENCH_TRACE && args[0] === 'ingest' && tRun !== undefined) process.stderr.write(`${((performance.now() - tRun) / 1000).toFixed(2)} s: ingest: ${l.replace(/"config":\{[^}]*\},/, '').slice(0, 240)}\n`);
          }
        });
        children.push({ child, role: args[0]!, port });
      };
      try {
        for (let i = 0; i < workers; i++) await start(['correlate', '--no-slack-sender']);
        // the correlate workers install the templates: wait for them, so the timing is the pipeline's
        for (let i = 0; i < 600 && !(await client.indices.existsIndexTemplate({ name: 'exit137-attributions' }).catch(() => false)); i++) await sleep(100);
        // and for each to be up (its workers running: it serves /healthz once they are), as a
        // deployment's are when a node's backlog arrives: a worker still loading its modules took the
        // cores from the ingest worker's start (bench: 3.2 s to the first batch, against 1.2 s)
        const up = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true;
        for (let i = 0; i < 600 && !(await Promise.all(children.map((c) => up(c.port)))).every(Boolean); i++) await sleep(100);
        const redisMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
        const redisBase = await redisMemory();
        let redisPeak = redisBase;
        const cpu0 = await serviceCpu(client, admin);
        // the correlate workers' start (loading their modules, connecting) is not work per event
        const startCpu = new Map(children.map((c) => [c.child.pid!, usage(c.child.pid!).cpuSeconds]));
        const node0 = process.env.BENCH_TRACE ? await nodeWork(client) : undefined;
        const t0 = performance.now();
        tRun = t0;
        await start(['ingest', ...files.map((f) => join(inputs, f))]);
        const feeding = feed === 'complete' ? Promise.resolve() : feedFiles(history, inputs, files, feed, h.lines);

        let handled = 0;
        let indexed = 0;
        let notIndexed: Record<string, number> = {};
        let verdicts = 0;
        let last = { handled: -1, at: performance.now() };
        const deadline = Date.now() + 1_800_000;
        for (;;) {
          await sleep(250);
          redisPeak = Math.max(redisPeak, await redisMemory());
          const correlates = children.filter((c) => c.role === 'correlate');
          const ix = await Promise.all(correlates.map((c) => counter(c.port, 'exit137_events_indexed_total')));
          const nx = await Promise.all(correlates.map((c) => counter(c.port, 'exit137_events_not_indexed_total')));
          indexed = ix.reduce((n, c) => n + (c[''] ?? 0), 0);
          notIndexed = {};
          for (const c of nx) for (const [k, v] of Object.entries(c)) notIndexed[k] = (notIndexed[k] ?? 0) + v;
          handled = indexed + Object.values(notIndexed).reduce((a, b) => a + b, 0);
          // no refresh here: a verdict write returns once its verdict is visible (refresh=wait_for)
          verdicts = (await client.count({ index: VERDICTS_ALIAS }).catch(() => ({ count: 0 }))).count;
          const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed')));
          const busy = counts.some((c) => c.waiting! + c.active! + c.delayed! > 0);
          if (process.env.BENCH_TRACE) process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${handled}/${expected} events handled, ${indexed} indexed, ${verdicts}/${inProc.deaths} verdicts; queues ${JSON.stringify(counts)}\n`);
          if (handled !== last.handled) last = { handled, at: performance.now() };
          if (!busy && handled >= expected && verdicts >= inProc.deaths) break;
          // the ingest worker may decode a history into a few events more or fewer than a batch
          // read does; then the run ends once nothing has moved for 10 s, timed to the last move
          if (!busy && verdicts >= inProc.deaths && performance.now() - last.at > 10_000) break;
          if (Date.now() > deadline) throw new Error(`distributed bench: after 30 min ${handled}/${expected} events handled and ${verdicts}/${inProc.deaths} verdicts in ES`);
        }
        const seconds = (Math.min(performance.now(), handled >= expected ? performance.now() : last.at) - t0) / 1000;
        const cpu1 = await serviceCpu(client, admin);
        if (node0) {
          const node1 = await nodeWork(client);
          process.stderr.write(`ES node's work over the run: ${JSON.stringify(Object.fromEntries(Object.entries(node1).map(([k, v]) => [k, v - node0[k]!])))}\n`);
        }
        await feeding;
        const stored = await client.search<{ cause: string }>({ index: VERDICTS_ALIAS, size: 10_000, _source: ['cause'], query: { match_all: {} } });
        const byCause: Record<string, number> = {};
        for (const x of stored.hits.hits) byCause[x._source!.cause] = (byCause[x._source!.cause] ?? 0) + 1;
        latencies.sort((a, b) => a - b);
        return {
          seconds,
          events: handled,
          indexed,
          notIndexed,
          verdicts,
          byCause,
          latencyP50Ms: percentile(latencies, 50),
          latencyP99Ms: percentile(latencies, 99),
          verdictWrites: latencies.length,
          redisPeakMb: (redisPeak - redisBase) / 2 ** 20,
          esCpuSeconds: cpu1.es - cpu0.es,
          redisCpuSeconds: cpu1.redis - cpu0.redis,
          ...(feed === 'complete' ? {} : { feedLinesPerS: feed }),
          workers: children.map((c) => {
            const u = usage(c.child.pid!);
            return { role: c.role, peakRssMb: u.peakRssMb, cpuSeconds: u.cpuSeconds - (startCpu.get(c.child.pid!) ?? 0) };
          }),
        };
      } finally {
        for (const c of children) c.child.kill('SIGTERM');
        await Promise.all(children.map((c) => (c.child.exitCode === null ? new Promise((r) => c.child.once('exit', r)) : undefined)));
        rmSync(state, { recursive: true, force: true });
      }
    };

    process.stderr.write(`bench: distributed: saturated run (${workers} correlate workers)\n`);
    const saturated = await run('complete');
    await fresh();
    ceilingRuns.push(await ceilingLoad());
    const ceiling = ceilingRuns.reduce((a, b) => (b.docsPerS > a.docsPerS ? b : a));
    const halfRate = h.lines / saturated.seconds / 2;
    process.stderr.write(`bench: distributed: half-load run, the history written at ${fmt(halfRate)} lines/s\n`);
    const half = await run(halfRate);

    const figures: DistributedFigures = {
      replicas,
      lines: h.lines,
      events: expected,
      deaths: inProc.deaths,
      expectedByCause: inProc.byCause,
      inProcess: { seconds: inProc.seconds, linesPerS: inProc.lines / inProc.seconds },
      esNode,
      ceiling,
      ceilingRuns,
      saturated,
      half,
      settleMs: SETTLE_MS,
    };
    printFigures(figures, workers);
    return figures;
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    admin.disconnect();
    await client.close();
    es.stop();
    await redis.stop();
    rmSync(esHome, { recursive: true, force: true });
  }
}

/**
 * That the node is a production one: no -ea (Elasticsearch's test framework runs with assertions
 * on, and many of the server's checks are asserts), and none of the test framework's runtime on
 * its classpath (JUnit, randomized testing, Lucene's test framework, Mockito).
 */
async function checkNode(client: Client): Promise<DistributedFigures['esNode']> {
  const r = await client.nodes.info({ node_id: '_local', metric: 'jvm' });
  const jvm = Object.values(r.nodes)[0]!.jvm!;
  const jvmArgs = jvm.input_arguments ?? [];
  const assertions = jvmArgs.some((a) => /^-(ea|enableassertions|esa|enablesystemassertions)(:|$)/.test(a));
  const lib = '/tmp/exit137-es-node/lib';
  const testJars = existsSync(lib) ? readdirSync(lib).filter((j) => /junit|randomizedtesting|lucene-test-framework|mockito|hamcrest/.test(j)) : ['(no lib directory)'];
  if (assertions || testJars.length) throw new Error(`the ES bench node is not a production node: ${JSON.stringify({ jvmArgs, testJars })}`);
  return { heap: `${fmt((jvm.mem?.heap_max_in_bytes ?? 0) / 2 ** 20)} MB`, jvmArgs, assertions, testJars };
}

/**
 * The node's own bulk ceiling for the pipeline's documents: every event of the history, decoded
 * here as the ingest worker decodes it and serialized as the correlate workers write it, loaded
 * with the client's bulk helper into the events index (its template installed), refresh off
 * during the load and back on after it. The documents are serialized before the clock starts.
 * Returns the timed load, to run on an empty node (after `fresh`) as often as wanted.
 */
async function prepareCeiling(client: Client, admin: Redis, history: string, files: string[]): Promise<() => Promise<Ceiling>> {
  const docs: string[] = [];
  const actions: string[] = [];
  const indices = new Set<string>();
  await decodeInputs(
    await expandInputs(files.map((f) => join(history, f))),
    {
      event: (e: NormalizedEvent) => {
        const index = eventsIndex(e['@timestamp']);
        indices.add(index);
        actions.push(index, e.event.id);
        docs.push(JSON.stringify(e));
      },
      deadLetter: () => {},
    },
    { host: 'bench' },
  );
  const bulkMb = 5;
  const concurrency = 5;
  const load = async (into?: string) => {
    let i = 0;
    return client.helpers.bulk({
      datasource: docs,
      onDocument: () => {
        const at = i++ * 2;
        return { create: { _index: into ?? actions[at]!, _id: actions[at + 1]! } };
      },
      flushBytes: bulkMb * 1_000_000,
      concurrency,
      refreshOnCompletion: false,
    });
  };
  await installTemplates(client);
  // once into a scratch index first: a node just started runs its indexing code interpreted, and
  // the pipeline's runs come after this one, on a warm node
  const scratch = 'exit137-events-warmup';
  await client.indices.create({ index: scratch, settings: { refresh_interval: '-1' } });
  await load(scratch);
  await client.indices.delete({ index: scratch });
  return async () => {
    await installTemplates(client);
    for (const index of indices) {
      if (!(await client.indices.exists({ index }))) await client.indices.create({ index });
      await client.indices.putSettings({ index, settings: { refresh_interval: '-1' } });
    }
    const cpu0 = await serviceCpu(client, admin);
    const t0 = performance.now();
    const stats = await load();
    const seconds = (performance.now() - t0) / 1000;
    const esCpuSeconds = (await serviceCpu(client, admin)).es - cpu0.es;
    for (const index of indices) await client.indices.putSettings({ index, settings: { refresh_interval: EVENTS_TEMPLATE.template.settings.refresh_interval } });
    await client.indices.refresh({ index: [...indices] });
    const stored = (await client.count({ index: [...indices] })).count;
    if (stats.failed > 0 || stored !== docs.length) throw new Error(`ceiling load: ${stats.failed} failed, ${stored} of ${docs.length} stored`);
    return { docs: docs.length, seconds, docsPerS: docs.length / seconds, bulkMb, concurrency, esCpuSeconds };
  };
}

/**
 * Writes the history's files into `into` as a node writes its logs: every 100 ms each file grows
 * to the share of its lines that the elapsed time at `linesPerS` (over all files) reaches.
 */
async function feedFiles(from: string, into: string, files: string[], linesPerS: number, totalLines: number): Promise<void> {
  const texts = files.map((f) => readFileSync(join(from, f), 'utf8').replace(/\n$/, '').split('\n'));
  const done = texts.map(() => 0);
  const t0 = performance.now();
  const duration = totalLines / linesPerS;
  for (;;) {
    const share = Math.min(1, (performance.now() - t0) / 1000 / duration);
    texts.forEach((lines, k) => {
      const upto = Math.round(lines.length * share);
      if (upto > done[k]!) {
        appendFileSync(join(into, files[k]!), `${lines.slice(done[k], upto).join('\n')}\n`);
        done[k] = upto;
      }
    });
    if (share >= 1) return;
    await sleep(100);
  }
}

function printFigures(f: DistributedFigures, workers: number): void {
  const target = f.settleMs + 2000;
  const rssOf = (r: RunFigures) => r.workers.map((w) => `${w.role} ${fmt(w.peakRssMb)} MB (${fmt(w.cpuSeconds, 1)} s CPU)`).join(', ');
  const same = (r: RunFigures) => r.verdicts === f.deaths && Object.entries(f.expectedByCause).every(([c, n]) => r.byCause[c] === n);
  console.log('');
  console.log(`distributed (issue 15, target 4): ${fmt(f.replicas)} copies of the busy lab capture, ${fmt(f.lines)} lines, ${fmt(f.events)} events, ${fmt(f.deaths)} deaths; ${workers} correlate workers, 1 ingest worker, Redis and one ES node on this machine's ${cpus().length} cores`);
  console.log(`ES node: heap ${f.esNode.heap}, JVM args ${f.esNode.jvmArgs.join(' ')}; assertions ${f.esNode.assertions ? 'ON' : 'off'}; test-framework jars on its classpath: ${f.esNode.testJars.length ? f.esNode.testJars.join(', ') : 'none'}`);
  console.log(`ES bulk ceiling, the same documents (every event), client bulk helper, ${f.ceiling.bulkMb} MB bulks, ${f.ceiling.concurrency} in flight, refresh off: ${fmt(f.ceiling.docsPerS)} docs/s, the better of before and after the saturated run (${f.ceilingRuns.map((c) => `${fmt(c.docsPerS)} docs/s, ${fmt(c.seconds, 2)} s, the node ${fmt(c.esCpuSeconds, 1)} s CPU`).join('; ')})`);
  console.log(`exit137 analyze, one process, for scale: ${fmt(f.inProcess.linesPerS)} lines/s (${fmt(f.inProcess.seconds, 2)} s); the pipeline: ${fmt(f.lines / f.saturated.seconds)} lines/s saturated`);
  const header = ['pipeline run', 'seconds', 'events/s', 'indexed docs/s', 'events/s ÷ ceiling', 'verdict p50 ms', 'p99 ms', 'p99 target ms', 'verdicts'];
  const rows = [
    ['saturated (files written beforehand)', f.saturated],
    [`half load (written at ${fmt(f.half.feedLinesPerS ?? 0)} lines/s)`, f.half],
  ].map(([name, r]) => {
    const x = r as RunFigures;
    return [
      name as string,
      fmt(x.seconds, 2),
      fmt(x.events / x.seconds),
      fmt(x.indexed / x.seconds),
      `${fmt((100 * x.events) / x.seconds / f.ceiling.docsPerS)}%`,
      fmt(x.latencyP50Ms),
      fmt(x.latencyP99Ms),
      name === 'saturated (files written beforehand)' ? '' : fmt(target),
      `${same(x) ? `${fmt(x.verdicts)}, as analyze` : `WRONG ${JSON.stringify(x.byCause)}`} (${fmt(x.verdictWrites)} writes)`,
    ];
  });
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const s = f.saturated;
  const share = (r: RunFigures) => {
    const triaged = TRIAGED_AT_INGEST.reduce((n, k) => n + (r.notIndexed[k] ?? 0), 0);
    return `${fmt(r.indexed)} of ${fmt(r.events)} events indexed (${fmt((100 * r.indexed) / r.events, 1)}%), ${fmt(triaged)} let go by the ingest worker's triage before they were built (${fmt((100 * triaged) / r.events, 1)}%), the rest left out by reason: ${JSON.stringify(Object.fromEntries(Object.entries(r.notIndexed).filter(([k]) => !TRIAGED_AT_INGEST.includes(k))))}`;
  };
  console.log(`indexed, saturated: ${share(s)}`);
  console.log(`indexed, half load: ${share(f.half)}`);
  console.log(`target 4: pipeline events/s ÷ ES ceiling ${fmt((100 * s.events) / s.seconds / f.ceiling.docsPerS)}% (≥ 80%: ${(s.events / s.seconds) / f.ceiling.docsPerS >= 0.8 ? 'met' : 'NOT met'}); indexed docs/s ÷ ceiling ${fmt((100 * s.indexed) / s.seconds / f.ceiling.docsPerS)}%; half-load p99 ${fmt(f.half.latencyP99Ms)} ms ≤ settle ${fmt(f.settleMs)} ms + 2 s: ${f.half.latencyP99Ms <= target ? 'met' : 'NOT met'}`);
  console.log(`Redis peak above idle: saturated ${fmt(s.redisPeakMb, 1)} MB, half load ${fmt(f.half.redisPeakMb, 1)} MB`);
  console.log(`CPU seconds, saturated: ES ${fmt(s.esCpuSeconds, 1)}, Redis ${fmt(s.redisCpuSeconds, 1)}, workers ${fmt(s.workers.reduce((n, w) => n + w.cpuSeconds, 0), 1)}; half load: ES ${fmt(f.half.esCpuSeconds, 1)}, Redis ${fmt(f.half.redisCpuSeconds, 1)}, workers ${fmt(f.half.workers.reduce((n, w) => n + w.cpuSeconds, 0), 1)}`);
  // what the machine's other work cannot move: CPU per event, the pipeline's (all of it) beside the node's per document at its ceiling
  const perEvent = (r: RunFigures) => (1e6 * (r.esCpuSeconds + r.redisCpuSeconds + r.workers.reduce((n, w) => n + w.cpuSeconds, 0))) / r.events;
  const atCeiling = (1e6 * f.ceiling.esCpuSeconds) / f.ceiling.docs;
  console.log(`CPU per event, saturated: ${fmt(perEvent(s))} µs (ES ${fmt((1e6 * s.esCpuSeconds) / s.events)}, Redis ${fmt((1e6 * s.redisCpuSeconds) / s.events)}, workers ${fmt((1e6 * s.workers.reduce((n, w) => n + w.cpuSeconds, 0)) / s.events)}); ES alone at its ceiling: ${fmt(atCeiling)} µs per document`);
  console.log(`peak RSS per worker, saturated: ${rssOf(s)}`);
  console.log(`peak RSS per worker, half load: ${rssOf(f.half)}`);
}

/** A row of the issue's targets table (test/bench/measure.ts's Target). */
type Target = { target: string; figure: string; met: boolean };

/**
 * The entry point `npm run bench` calls: the section printed, then target 4's rows. Sizes:
 * BENCH_DIST_REPLICAS copies of the busy capture (default 60, about 480,000 lines),
 * BENCH_DIST_WORKERS correlate workers (default 2).
 */
export async function benchDistributedTargets(dir: string): Promise<Target[]> {
  const workers = Number(process.env.BENCH_DIST_WORKERS ?? 2);
  const f = await benchDistributedSection({ dir, replicas: Number(process.env.BENCH_DIST_REPLICAS ?? 60), workers });
  const rate = f.saturated.events / f.saturated.seconds;
  const target = f.settleMs + 2000;
  const right = (r: RunFigures) => r.verdicts === f.deaths && Object.entries(f.expectedByCause).every(([c, n]) => r.byCause[c] === n);
  return [
    { target: '4. pipeline events/s ≥ 80% of the ES node’s bulk ceiling', figure: `${fmt(rate)} ÷ ${fmt(f.ceiling.docsPerS)} docs/s = ${fmt((100 * rate) / f.ceiling.docsPerS)}%`, met: rate >= 0.8 * f.ceiling.docsPerS },
    { target: '4. verdict latency p99 at half load ≤ settle + 2 s', figure: `${fmt(f.half.latencyP99Ms)} ms ≤ ${fmt(target)} ms (saturated: ${fmt(f.saturated.latencyP99Ms)} ms)`, met: f.half.latencyP99Ms <= target },
    { target: '   pipeline verdicts, saturated and half load', figure: right(f.saturated) && right(f.half) ? 'as analyze' : 'WRONG', met: right(f.saturated) && right(f.half) },
    { target: '   ES bench node: no -ea, no test framework', figure: f.esNode.assertions || f.esNode.testJars.length ? 'test costs present' : 'production node', met: !f.esNode.assertions && !f.esNode.testJars.length },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-bench-dist-'));
  try {
    await benchDistributedSection({ dir, replicas: Number(process.argv[2] ?? process.env.BENCH_DIST_REPLICAS ?? 60), workers: Number(process.argv[3] ?? process.env.BENCH_DIST_WORKERS ?? 2) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
