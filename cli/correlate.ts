import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { FINALIZE_QUEUE, correlateWorkers } from '../correlate/distributed/workers.ts';
import type { Attribution } from '../correlate/verdict.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { EVENTS_QUEUE } from '../ingest/ship/queue.ts';
import { Counter } from 'prom-client';
import { RedisLedger, enqueueAlerts, slackQueue, slackWorker } from '../sinks/slack/delivery.ts';
import { planAlerts } from '../sinks/slack/plan.ts';
import { eventWriter, installTemplates, verdictWriter } from '../sinks/elasticsearch/writer.ts';
import type { WriteResult } from '../sinks/elasticsearch/writer.ts';
import { esClientOptions, eventsRefresh, redacted, redisOptions, workerEnv } from './ops/config.ts';
import { WorkerMetrics, logErrors, opsServer, workerLogger } from './ops/telemetry.ts';

/** Where documents Elasticsearch refused for what they are (400) are kept, with the reason. */
export const ES_DEAD_LETTERS = 'exit137:dead-letters:es';

/**
 * `exit137 correlate`: one of any number of correlate workers. Evidence lives in Redis, so any
 * worker finishes any incident; events and verdicts go to Elasticsearch, attributed 137s to Slack.
 * A write that fails (ES down, 429) fails the job, which BullMQ retries with backoff.
 */
export function correlateCommand(program: Command): void {
  program
    .command('correlate')
    .description('correlate worker: attribute deaths from the events queue; events and verdicts to Elasticsearch, alerts to Slack (EXIT137_* environment variables)')
    .option('--no-slack-sender', 'queue Slack alerts but leave sending them to other workers')
    .option('--index-all-events', 'index every event in Elasticsearch, not only evidence and the context around each death (or EXIT137_INDEX_ALL_EVENTS=1; the ingest workers must send every event: set it for them too)')
    .action(async (o: { slackSender: boolean; indexAllEvents?: boolean }) => {
      const config = workerEnv();
      const log = workerLogger('exit137-correlate', config.EXIT137_LOG_LEVEL);
      log.info({ config: redacted(config) }, 'starting');
      const connection = redisOptions(config);
      const redis = new Redis(connection);
      const metrics = new WorkerMetrics();
      const indexMode = o.indexAllEvents || config.EXIT137_INDEX_ALL_EVENTS ? 'all' : 'evidence';
      const indexed = new Counter({ name: 'exit137_events_indexed_total', help: 'Events written to Elasticsearch', registers: [metrics.registry] });
      const notIndexed = new Counter({ name: 'exit137_events_not_indexed_total', help: 'Events not written to Elasticsearch (neither evidence nor context of a death), by reason', labelNames: ['reason'], registers: [metrics.registry] });
      // the same totals in the log, every 30 s while they change: what was left out is never silent
      const totals = { indexed: 0, not_indexed: {} as Record<string, number> };
      let logged = '';
      const tally = setInterval(() => {
        const now = JSON.stringify(totals);
        if (now !== logged) log.info({ index_mode: indexMode, events: totals }, 'events indexed and left out so far');
        logged = now;
      }, 30_000);
      tally.unref();
      const esOpts = esClientOptions(config);
      const es = esOpts ? new Client(esOpts) : undefined;
      if (es) await retryForever(() => installTemplates(es, eventsRefresh()), (e) => log.warn({ err: e.message }, 'Elasticsearch not ready for the templates; retrying'));
      else log.warn('EXIT137_ES_URL is not set: verdicts are logged only');

      const slack = config.EXIT137_SLACK_WEBHOOK_URL ? slackQueue(connection) : undefined;
      const sender = slack && o.slackSender ? slackWorker(connection, config.EXIT137_SLACK_WEBHOOK_URL!) : undefined;
      const ledger = new RedisLedger(redis);

      const kept = async (r: WriteResult, docs: Map<string, unknown>) => {
        for (const x of r.rejected) {
          metrics.deadLetters.inc({ reason: `es-${x.status}` });
          log.error({ id: x.id, status: x.status, reason: x.reason }, 'Elasticsearch refused a document; kept in the dead letters');
          await redis.rpush(ES_DEAD_LETTERS, JSON.stringify({ ...x, doc: docs.get(x.id) }));
        }
      };
      const writeVerdicts = es ? verdictWriter(es) : undefined;
      const writeEvents = es ? eventWriter(es) : undefined;
      const onEvents = es
        ? async (events: NormalizedEvent[], skipped: Record<string, number>) => {
            try {
              await kept(await writeEvents!(events), new Map(events.map((e) => [e.event.id, e])));
            } catch (e) {
              metrics.sendFailures.inc({ target: 'elasticsearch' });
              throw e;
            }
            // counted once the batch is done: a batch retried after a failed write is not counted twice
            indexed.inc(events.length);
            totals.indexed += events.length;
            for (const [reason, n] of Object.entries(skipped)) {
              notIndexed.inc({ reason }, n);
              totals.not_indexed[reason] = (totals.not_indexed[reason] ?? 0) + n;
            }
          }
        : undefined;
      const onVerdicts = async (verdicts: Attribution[], evidenceAt: number, withdrawn: string[]) => {
        if (es) {
          try {
            // visible before it returns: the latency logged below is to the verdict visible in ES
            await kept(await writeVerdicts!(verdicts, withdrawn), new Map(verdicts.map((v) => [v.incident_id, v])));
          } catch (e) {
            metrics.sendFailures.inc({ target: 'elasticsearch' });
            throw e;
          }
        }
        for (const id of withdrawn) log.info({ incident: id }, 'verdict withdrawn: later evidence re-dated this death');
        const latencyMs = Date.now() - evidenceAt;
        for (const v of verdicts) {
          metrics.verdicts.inc({ cause: v.cause });
          metrics.verdictLatency.observe(latencyMs / 1000);
          log.info({ incident: v.incident_id, host: v.host, container: v.container.id, cause: v.cause, sub_cause: v.sub_cause, confidence: v.confidence, version: v.version, latency_ms: latencyMs }, v.headline);
        }
        if (slack) await enqueueAlerts(slack, await planAlerts(verdicts, ledger), config.EXIT137_KIBANA_URL ? { kibanaUrl: config.EXIT137_KIBANA_URL } : {});
      };
      const workers = correlateWorkers(connection, {
        settleMs: config.EXIT137_SETTLE_MS,
        stalledIntervalMs: config.EXIT137_STALLED_MS,
        indexMode,
        onVerdicts,
        ...(onEvents ? { onEvents } : {}),
        onBatch: (n, waitedMs) => {
          metrics.batches.inc();
          metrics.lag.set(waitedMs / 1000);
        },
      });
      logErrors(redis, log, 'redis');
      for (const w of [workers.ingest, workers.finalize]) logErrors(w, log, `worker ${w.name}`);
      if (slack) logErrors(slack, log, 'slack queue');
      for (const w of [workers.ingest, workers.finalize]) w.on('failed', (job, e) => log.warn({ queue: w.name, job: job?.id, attempt: job?.attemptsMade, err: e.message }, 'job failed; it will be retried'));

      const queues = [new Queue(EVENTS_QUEUE, { connection }), new Queue(FINALIZE_QUEUE, { connection })];
      for (const q of queues) logErrors(q, log, `queue ${q.name}`);
      const refresh = async () => {
        for (const q of queues) {
          const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue: q.name, state }, n);
        }
      };
      const server = await opsServer(config.EXIT137_METRICS_PORT, metrics, async () => {
        const ok = redis.status === 'ready' && workers.ingest.isRunning() && workers.finalize.isRunning();
        return { ok, detail: { redis: redis.status, events_worker: workers.ingest.isRunning(), finalize_worker: workers.finalize.isRunning() } };
      }, refresh);

      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      log.info('stopping: letting the jobs in hand finish');
      clearInterval(tally);
      // Bounded: a job that does not finish in time is stalled and taken over by another worker,
      // and with Redis away the connections would wait for it forever.
      const closed = (async () => {
        await Promise.all([workers.close(), sender?.close()]);
        await Promise.all([...queues.map((q) => q.close()), slack?.close()]);
        redis.disconnect();
        await es?.close();
      })();
      const inTime = await Promise.race([closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000).unref())]);
      server.close();
      if (!inTime) {
        log.warn('could not close cleanly within 20 s (Redis away?); exiting anyway: unfinished jobs are retried elsewhere');
        process.exit(process.exitCode ?? 0);
      }
      log.info({ index_mode: indexMode, events: totals }, 'stopped');
    });
}

async function retryForever(op: () => Promise<unknown>, onError: (e: Error) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await op();
      return;
    } catch (e) {
      onError(e as Error);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6))));
    }
  }
}
