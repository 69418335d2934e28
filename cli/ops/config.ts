import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ClientOptions } from '@elastic/elasticsearch';
import type { RedisOptions } from 'bullmq';
import { z } from 'zod';

const bool = z.enum(['0', '1', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().min(0);

/**
 * The workers' configuration, from the environment (the compose file and the Kubernetes way),
 * checked once at start so a typo fails loudly before anything is read or sent.
 */
export const WorkerEnv = z.object({
  EXIT137_REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  EXIT137_REDIS_PASSWORD: z.string().min(1).optional(),
  EXIT137_REDIS_TLS: bool.default(false),
  EXIT137_REDIS_CA: z.string().min(1).optional(),
  /** One or more Elasticsearch URLs, comma-separated. */
  EXIT137_ES_URL: z
    .string()
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ })).min(1))
    .optional(),
  EXIT137_ES_API_KEY: z.string().min(1).optional(),
  /** user:password */
  EXIT137_ES_USER: z.string().regex(/^[^:]+:.+$/, 'expected user:password').optional(),
  EXIT137_ES_CA: z.string().min(1).optional(),
  EXIT137_SLACK_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  EXIT137_KIBANA_URL: z.url().optional(),
  EXIT137_NODE_NAME: z.string().min(1).default(hostname()),
  EXIT137_STATE_DIR: z.string().min(1).default('/var/lib/exit137'),
  EXIT137_METRICS_PORT: port.default(9137),
  EXIT137_SETTLE_MS: ms.default(30_000),
  /** Ingest and correlate: send and index every event, not only evidence and the context around each death. */
  EXIT137_INDEX_ALL_EVENTS: bool.default(false),
  EXIT137_STALLED_MS: ms.default(30_000),
  /** The events' indices' refresh interval (sinks/elasticsearch/templates.ts, EVENTS_REFRESH_DEFAULT): an Elasticsearch time value, or -1. */
  EXIT137_ES_EVENTS_REFRESH: z.string().regex(/^(-1|\d+(ms|s|m|h|d))$/, 'expected an Elasticsearch time value such as 30s, or -1').optional(),
  // Events per job: a job costs BullMQ and Redis the same whatever its size, and its bulk costs
  // Elasticsearch less per document the larger it is (bench, 20 copies: 2000 rather than 500,
  // 310 -> 244 µs of CPU per event over the whole pipeline). A slow node still sends every
  // EXIT137_FLUSH_MS what it has.
  EXIT137_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(2000),
  EXIT137_FLUSH_MS: ms.default(250),
  EXIT137_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** The environment checked; the error names every bad variable (never its value: some are secrets). */
export function workerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  // an empty variable (`FOO=` in a compose file) means unset
  const r = WorkerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!r.success) throw new Error(`bad configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (r.data.EXIT137_ES_API_KEY && r.data.EXIT137_ES_USER) throw new Error('bad configuration: give EXIT137_ES_API_KEY or EXIT137_ES_USER, not both');
  return r.data;
}

/**
 * The events' refresh interval as installTemplates takes it, from EXIT137_ES_EVENTS_REFRESH: the
 * correlate workers and `exit137 setup` both install the templates, and setup must not put back
 * the default an operator changed.
 */
export function eventsRefresh(env: NodeJS.ProcessEnv = process.env): { eventsRefresh?: string } {
  const v = env.EXIT137_ES_EVENTS_REFRESH;
  if (!v) return {};
  const r = WorkerEnv.shape.EXIT137_ES_EVENTS_REFRESH.safeParse(v);
  if (!r.success || !r.data) throw new Error(`bad configuration: EXIT137_ES_EVENTS_REFRESH: ${r.error?.issues[0]?.message ?? 'empty'}`);
  return { eventsRefresh: r.data };
}

export function redisOptions(c: WorkerEnv): RedisOptions {
  const u = new URL(c.EXIT137_REDIS_URL);
  const o: RedisOptions = {
    host: u.hostname,
    port: Number(u.port || 6379),
    // BullMQ workers must wait out a Redis outage rather than fail commands (BullMQ docs).
    maxRetriesPerRequest: null,
  };
  const db = u.pathname.slice(1);
  if (db) o.db = Number(db);
  if (u.username) o.username = decodeURIComponent(u.username);
  const password = c.EXIT137_REDIS_PASSWORD ?? (u.password ? decodeURIComponent(u.password) : undefined);
  if (password) o.password = password;
  if (c.EXIT137_REDIS_TLS || u.protocol === 'rediss:') o.tls = c.EXIT137_REDIS_CA ? { ca: readFileSync(c.EXIT137_REDIS_CA) } : {};
  return o;
}

export function esClientOptions(c: WorkerEnv): ClientOptions | undefined {
  if (!c.EXIT137_ES_URL) return undefined;
  return esConnection({ nodes: c.EXIT137_ES_URL, apiKey: c.EXIT137_ES_API_KEY, user: c.EXIT137_ES_USER, ca: c.EXIT137_ES_CA });
}

/** The client's options from what the workers' environment and the commands' flags both give. */
export function esConnection(o: { nodes: string[]; apiKey?: string | undefined; user?: string | undefined; ca?: string | undefined }): ClientOptions {
  const opts: ClientOptions = { nodes: o.nodes };
  if (o.apiKey) opts.auth = { apiKey: o.apiKey };
  else if (o.user) {
    const i = o.user.indexOf(':');
    opts.auth = { username: o.user.slice(0, i), password: o.user.slice(i + 1) };
  }
  if (o.ca) opts.tls = { ca: readFileSync(o.ca) };
  return opts;
}

/** What may be logged of the configuration: everything but the secrets. */
export function redacted(c: WorkerEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (/PASSWORD|API_KEY|ES_USER|WEBHOOK/.test(k)) out[k] = v === undefined ? undefined : '[redacted]';
    else if (k === 'EXIT137_REDIS_URL') out[k] = String(v).replace(/\/\/[^@/]*@/, '//[redacted]@');
    else out[k] = v;
  }
  return out;
}
