import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { collectInto } from '../ingest/collectors/run.ts';
import { Decoder } from '../ingest/decoder.ts';
import type { PositionSaver } from '../ingest/follow-run.ts';
import { commandInto, followInto } from '../ingest/follow-run.ts';
import { QueueSink, ingestTriage } from '../ingest/ship/queue-sink.ts';
import { EVENTS_QUEUE, eventsQueue } from '../ingest/ship/queue.ts';
import { containerdEvents, resumableDockerEvents, resumableJournal } from '../ingest/sources/commands.ts';
import { PositionStore } from '../ingest/sources/follow.ts';
import { eventId } from '../ingest/source-identity.ts';
import { redacted, redisOptions, workerEnv } from './ops/config.ts';
import { WorkerMetrics, logErrors, opsServer, workerLogger } from './ops/telemetry.ts';
import type { IngestCliOptions } from './options.ts';
import { decoderOptions, ingestOptions } from './options.ts';

type IngestOptions = IngestCliOptions & { indexAllEvents?: boolean; journal?: boolean; unit?: string[]; dockerEvents?: string | true; ctrEvents?: string | true; collect?: boolean; procRoot: string; cgroupRoot: string };

/** A position that is a plain string (journal cursor, docker time), written atomically. */
class TokenFile implements PositionSaver<string> {
  constructor(private readonly file: string) {}
  async load(): Promise<string | undefined> {
    return readFile(this.file, 'utf8').then((s) => s.trim() || undefined, () => undefined);
  }
  async save(token: string): Promise<void> {
    await writeFile(`${this.file}.tmp`, token);
    await rename(`${this.file}.tmp`, this.file);
  }
}

/**
 * `exit137 ingest`: the per-node worker. Follows the node's sources, decodes them, and ships the
 * events in batches to the events queue; each source's position is saved only after Redis has
 * taken every event before it, so a restart resumes where it stopped and repeats at most a batch.
 */
export function ingestCommand(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('per-node worker: follow the node’s logs and ship normalized events to Redis (configured by EXIT137_* environment variables)')
    .argument('[files...]', 'log files to follow across rotation (audit.log, daemon logs, kern.log)');
  for (const o of ingestOptions()) cmd.addOption(o);
  cmd
    .option('--journal', 'follow the journal (journalctl -f -o json), resuming from the saved cursor')
    .option('--unit <unit...>', 'with --journal: only these units (default: everything, the kernel and audit included)')
    .option('--docker-events [host]', 'follow docker events, resuming from the last event’s time')
    .option('--ctr-events [address]', 'follow containerd events (no resume: ctr cannot replay)')
    .option('--index-all-events', 'send every event to the correlate workers for Elasticsearch, not only evidence and the context around each death (or EXIT137_INDEX_ALL_EVENTS=1; set it for the correlate workers too)')
    .option('--collect', 'also sample tasks blocked in state D and memory cgroup counts every 30 s')
    .option('--proc-root <dir>', 'with --collect: where /proc is', '/proc')
    .option('--cgroup-root <dir>', 'with --collect: where the cgroup hierarchies are', '/sys/fs/cgroup');
  cmd.action(async (files: string[], o: IngestOptions) => {
    const config = workerEnv();
    const log = workerLogger('exit137-ingest', config.EXIT137_LOG_LEVEL);
    const node = o.host ?? config.EXIT137_NODE_NAME;
    // start-up is paid on every (re)start and delays every event behind it: logged, with when the first batch left
    log.info({ uptime_ms: Math.round(process.uptime() * 1000), config: redacted(config), files, node }, 'starting');
    const state = config.EXIT137_STATE_DIR;
    mkdirSync(join(state, 'positions'), { recursive: true });

    const connection = redisOptions(config);
    const queue = eventsQueue(connection);
    const redis = new Redis(connection);
    logErrors(redis, log, 'redis');
    logErrors(queue, log, 'events queue');
    const metrics = new WorkerMetrics();
    const indexMode = o.indexAllEvents || config.EXIT137_INDEX_ALL_EVENTS ? 'all' : 'evidence';
    const sink = new QueueSink(queue, {
      node,
      batchSize: config.EXIT137_BATCH_SIZE,
      flushMs: config.EXIT137_FLUSH_MS,
      maxInFlight: 4,
      indexMode,
      deadLetterFile: o.deadLetter ?? join(state, 'dead-letters.ndjson'),
      onError: (e, attempt) => {
        metrics.sendFailures.inc({ target: 'redis' });
        log.warn({ err: e.message, attempt }, 'Redis did not take a batch; retrying');
      },
    });
    const firstBatch = setInterval(() => {
      if (sink.stats.batches === 0) return;
      clearInterval(firstBatch);
      log.info({ uptime_ms: Math.round(process.uptime() * 1000), events: sink.stats.events, triaged: sink.stats.letGo }, 'first batch queued');
    }, 20);
    firstBatch.unref();
    const decoder = new Decoder((e) => sink.event(e), (d) => sink.deadLetter(d), { ...decoderOptions(o), host: node, ...ingestTriage(sink, indexMode) });

    const seen = new Map<string, number>();
    const refresh = async () => {
      const c = decoder.counters.values;
      WorkerMetrics.follow(metrics.lines, {}, c.lines ?? 0, seen, 'lines');
      for (const [k, v] of Object.entries(c)) {
        if (k.startsWith('events_')) WorkerMetrics.follow(metrics.events, { kind: k.slice(7) }, v, seen, k);
        if (k.startsWith('dead_')) WorkerMetrics.follow(metrics.deadLetters, { reason: k.slice(5) }, v, seen, k);
      }
      WorkerMetrics.follow(metrics.batches, {}, sink.stats.batches, seen, 'batches');
      if (sink.stats.lastEventNs !== undefined) metrics.lag.set(Math.max(0, Date.now() / 1000 - Number(sink.stats.lastEventNs / 1_000_000n) / 1000));
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue: EVENTS_QUEUE, state }, n);
    };
    const ac = new AbortController();
    const server = await opsServer(config.EXIT137_METRICS_PORT, metrics, async () => {
      const ok = redis.status === 'ready' && !ac.signal.aborted;
      return { ok, detail: { redis: redis.status, batches: sink.stats.batches, events: sink.stats.events, triaged: sink.stats.letGo, send_failures: sink.stats.sendFailures, dead_letters: sink.stats.deadLetters } };
    }, refresh);

    const stop = () => {
      log.info('stopping: finishing the batch in flight');
      ac.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);

    const positionFile = (what: string) => join(state, 'positions', `${eventId(what)}.json`);
    const runs: Promise<void>[] = files.map((f) => {
      const path = resolve(f);
      return followInto(decoder, path, { id: path, path, ...(o.format ? { format: o.format } : {}) }, sink, { positions: new PositionStore(positionFile(path)), signal: ac.signal });
    });
    if (o.journal) runs.push(commandInto(decoder, resumableJournal(o.unit ?? []), sink, { positions: new TokenFile(positionFile('journal')), signal: ac.signal }));
    if (o.dockerEvents) {
      const host = o.dockerEvents === true ? undefined : o.dockerEvents;
      runs.push(commandInto(decoder, resumableDockerEvents(host), sink, { positions: new TokenFile(positionFile(`docker-events ${host ?? ''}`)), signal: ac.signal }));
    }
    if (o.ctrEvents) runs.push(commandInto(decoder, containerdEvents(o.ctrEvents === true ? undefined : o.ctrEvents), sink, { signal: ac.signal }));
    if (o.collect) runs.push(collectInto(sink, { intervalSeconds: 30, thresholdSeconds: 30, procRoot: o.procRoot, cgroupRoot: o.cgroupRoot, host: node }, ac.signal));
    if (runs.length === 0) throw new Error('nothing to ingest: give files, --journal, --docker-events, --ctr-events or --collect');

    // A source that fails stops the worker (after saving what it can): a supervisor restarts it whole.
    let failed = 0;
    const finished = Promise.all(
      runs.map((r) =>
        r.catch((e: unknown) => {
          failed++;
          log.error({ err: (e as Error).message }, 'a source failed; stopping');
          ac.abort();
        }),
      ),
    ).then(() => sink.durable());
    await new Promise<void>((resolve) => {
      void finished.then(resolve);
      ac.signal.addEventListener('abort', () => resolve());
    });
    // Once asked to stop, the batches in flight get a while to reach Redis. Those that do not are
    // not lost: no position past them was saved, so they are read again at the next start.
    const inTime = await Promise.race([finished.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref())]);
    server.close();
    if (!inTime) {
      log.warn({ ...decoder.counters.values, batches: sink.stats.batches }, 'Redis did not take the last batches within 15 s; exiting: they are read again at the next start');
      process.exit(1);
    }
    await refresh().catch(() => {});
    log.info({ ...decoder.counters.values, batches: sink.stats.batches }, 'stopped');
    await queue.close();
    redis.disconnect();
    if (failed) process.exitCode = 1;
  });
}
