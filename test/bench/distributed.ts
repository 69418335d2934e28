import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FINALIZE_QUEUE } from '../../correlate/distributed/workers.ts';
import { EVENTS_QUEUE } from '../../ingest/ship/queue.ts';
import { VERDICTS_ALIAS } from '../../sinks/elasticsearch/templates.ts';
import { startElasticsearch } from '../helpers/elasticsearch.ts';
import { REPO } from '../helpers/paths.ts';
import { freePort, startRedis } from '../helpers/redis.ts';

export type DistributedRun = {
  seconds: number;
  events: number;
  verdicts: number;
  verdictWrites: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  settleMs: number;
  redisPeakMb: number;
  evidenceBytesPerIncident: number;
  incidentsHeld: number;
  byCause: Record<string, number>;
  /** Each worker's peak RSS and CPU time over the run: what deploy/kubernetes sizes its pods from. */
  workers: { role: string; peakRssMb: number; cpuSeconds: number }[];
};

/** A live child's peak RSS (VmHWM) and CPU time (utime + stime), from /proc. */
function usage(pid: number): { peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name, which may itself hold spaces and parentheses
  const stat = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return { peakRssMb: Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

const SETTLE_MS = 2000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The whole distributed pipeline on real services: one ingest worker following the history's
 * files, `workers` correlate workers, Redis and an Elasticsearch node on this machine. Timed from
 * the ingest worker's start until Elasticsearch holds every event and every verdict.
 */
export async function benchDistributed(history: string, expect: { events: number; deaths: number }, workers: number): Promise<DistributedRun> {
  const state = mkdtempSync(join(tmpdir(), 'exit137-bench-state-'));
  const esHome = mkdtempSync(join(tmpdir(), 'exit137-bench-es-'));
  chmodSync(esHome, 0o755);
  const redis = await startRedis();
  const es = await startElasticsearch({ home: esHome });
  const children: ChildProcess[] = [];
  const roles: string[] = [];
  const latencies: number[] = [];
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const admin = new Redis(connection);
  const client = new Client({ node: es.url });
  const queues = [new Queue(EVENTS_QUEUE, { connection }), new Queue(FINALIZE_QUEUE, { connection })];
  try {
    const env = { ...process.env, EXIT137_REDIS_URL: `redis://127.0.0.1:${redis.port}`, EXIT137_ES_URL: es.url, EXIT137_NODE_NAME: 'bench', EXIT137_STATE_DIR: state, EXIT137_SETTLE_MS: String(SETTLE_MS), EXIT137_LOG_LEVEL: 'info' };
    const start = async (args: string[]) => {
      const child = spawn(process.execPath, [join(REPO, 'bin', 'exit137.js'), ...args], { env: { ...env, EXIT137_METRICS_PORT: String(await freePort()) }, stdio: ['ignore', 'pipe', 'inherit'] });
      let carry = '';
      child.stdout!.on('data', (d: Buffer) => {
        const lines = (carry + d.toString()).split('\n');
        carry = lines.pop()!;
        for (const l of lines) {
          const m = /"latency_ms":(\d+)/.exec(l);
          if (m) latencies.push(Number(m[1]));
        }
      });
      children.push(child);
      roles.push(args[0]!);
    };
    for (let i = 0; i < workers; i++) await start(['correlate']);
    // the correlate workers install the templates: wait for them, so the timing is the pipeline's
    for (let i = 0; i < 300 && !(await client.indices.existsIndexTemplate({ name: 'exit137-attributions' }).catch(() => false)); i++) await new Promise((r) => setTimeout(r, 100));
    const baseline = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    const t0 = performance.now();
    await start(['ingest', ...readdirSync(history).map((f) => join(history, f))]);

    let peak = baseline;
    let events = 0;
    let verdicts = 0;
    let heldBytes = 0;
    let heldRange: [number, number] = [0, 0];
    const deadline = Date.now() + 1_800_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]));
      await client.indices.refresh({ index: 'exit137-*' }).catch(() => {});
      events = (await client.count({ index: 'exit137-events-*' }).catch(() => ({ count: 0 }))).count;
      verdicts = (await client.count({ index: VERDICTS_ALIAS }).catch(() => ({ count: 0 }))).count;
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'completed')));
      if (process.env.BENCH_TRACE) process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s: ES ${events} events ${verdicts} verdicts; queues ${JSON.stringify(counts)}\n`);
      const busy = counts.some((c) => c.waiting! + c.active! + c.delayed! > 0);
      if (!busy && events >= expect.events && verdicts >= expect.deaths) break;
      if (Date.now() > deadline) throw new Error(`distributed bench: after 30 min ES holds ${events}/${expect.events} events and ${verdicts}/${expect.deaths} verdicts`);
    }
    const seconds = (performance.now() - t0) / 1000;

    // what the evidence held in Redis costs, per death whose evidence it holds
    heldBytes = 0;
    for (const k of await admin.keys('exit137:ev*')) heldBytes += Number(await admin.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    const scores = await admin.zrange('exit137:ev:bench', 0, -1, 'WITHSCORES');
    if (scores.length) heldRange = [Number(scores[1]), Number(scores.at(-1))];
    const deaths = await client.search<{ died_at: string; cause: string }>({ index: VERDICTS_ALIAS, size: 10_000, _source: ['died_at', 'cause'], query: { match_all: {} } });
    const byCause: Record<string, number> = {};
    for (const h of deaths.hits.hits) byCause[h._source!.cause] = (byCause[h._source!.cause] ?? 0) + 1;
    const incidentsHeld = deaths.hits.hits.filter((h) => {
      const t = Date.parse(h._source!.died_at.slice(0, 23) + 'Z');
      return t >= heldRange[0] && t <= heldRange[1];
    }).length;
    latencies.sort((a, b) => a - b);
    return {
      seconds,
      events,
      verdicts,
      verdictWrites: latencies.length,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      settleMs: SETTLE_MS,
      redisPeakMb: (peak - baseline) / 1e6,
      evidenceBytesPerIncident: incidentsHeld ? heldBytes / incidentsHeld : NaN,
      incidentsHeld,
      byCause,
      workers: children.map((c, i) => ({ role: roles[i]!, ...usage(c.pid!) })),
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await Promise.all(queues.map((q) => q.close()));
    admin.disconnect();
    await client.close();
    es.stop();
    await redis.stop();
    rmSync(state, { recursive: true, force: true });
    rmSync(esHome, { recursive: true, force: true });
  }
}
