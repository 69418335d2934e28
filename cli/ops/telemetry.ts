import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Structured JSON logs (pino); secrets are cut out by path wherever they might be logged. */
export function workerLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { pid: process.pid }, redact: ['password', 'apiKey', 'auth', '*.password', '*.apiKey', '*.auth', 'config.EXIT137_REDIS_PASSWORD', 'config.EXIT137_ES_API_KEY'] });
}

/**
 * The metrics every worker exposes. Counters are totals: a rate over them in Prometheus is the
 * lines/s, events/s, verdicts/s. Gauges that cost a Redis round trip are read at scrape time.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly lines = new Counter({ name: 'exit137_lines_total', help: 'Lines read from the node’s sources', registers: [this.registry] });
  readonly events = new Counter({ name: 'exit137_events_total', help: 'Normalized events, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'exit137_dead_letters_total', help: 'Input that could not be decoded or stored, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly batches = new Counter({ name: 'exit137_batches_total', help: 'Event batches sent (ingest) or processed (correlate)', registers: [this.registry] });
  readonly sendFailures = new Counter({ name: 'exit137_send_failures_total', help: 'Attempts to hand a batch on that failed and were retried', labelNames: ['target'], registers: [this.registry] });
  readonly verdicts = new Counter({ name: 'exit137_verdicts_total', help: 'Verdicts written, by cause', labelNames: ['cause'], registers: [this.registry] });
  readonly lag = new Gauge({ name: 'exit137_lag_seconds', help: 'Ingest: wall time minus the newest shipped event’s time. Correlate: how long the last batch waited in the queue', registers: [this.registry] });
  readonly verdictLatency = new Histogram({
    name: 'exit137_verdict_latency_seconds',
    help: 'From the queueing of a death’s latest evidence to its verdict stored, settle window included',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300, 600],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'exit137_queue_depth', help: 'Jobs in the exit137 queues, by queue and state', labelNames: ['queue', 'state'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'exit137_' });
  }

  /** Adds to a counter the growth of a running total kept elsewhere (the decoder's counters). */
  static follow(counter: Counter<string>, labels: Record<string, string>, total: number, seen: Map<string, number>, key: string): void {
    const before = seen.get(key) ?? 0;
    if (total > before) counter.inc(labels, total - before);
    seen.set(key, total);
  }
}

export type Health = () => Promise<{ ok: boolean; detail: Record<string, unknown> }>;

/**
 * `/metrics` (Prometheus text) and `/healthz` (200 or 503 with a JSON body saying why). Refreshes
 * the scrape-time gauges before each scrape.
 */
export function opsServer(port: number, metrics: WorkerMetrics, health: Health, beforeScrape?: () => Promise<void>): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.url === '/metrics') {
          await beforeScrape?.().catch(() => {});
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(await metrics.registry.metrics());
        } else if (req.url === '/healthz') {
          const h = await health();
          res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(h));
        } else {
          res.writeHead(404).end();
        }
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String((e as Error).message));
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

/**
 * Logs a connection's errors (ioredis, BullMQ queues and workers) instead of letting them go
 * unhandled; while Redis is away they repeat every retry, so one line per 10 s per connection.
 */
export function logErrors(emitter: { on(event: 'error', fn: (e: Error) => void): unknown }, log: Logger, what: string): void {
  let last = 0;
  emitter.on('error', (e: Error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    log.warn({ err: e.message, what }, 'connection error; retrying');
  });
}
