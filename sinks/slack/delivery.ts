import { createHash } from 'node:crypto';
import { IncomingWebhook } from '@slack/webhook';
import { Queue, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertLedger, Planned } from './plan.ts';
import type { MessageOptions, SlackMessage } from './message.ts';
import { alertMessage, digestMessage } from './message.ts';

export const SLACK_QUEUE = 'exit137-slack';
/** Slack's incoming webhooks take about one message a second. */
const LIMIT = { max: 1, duration: 1100 };

type SlackJob = { message: SlackMessage; incidents: string[] };

/** A Redis set of alerted incident ids: the ledger every producer shares. */
export class RedisLedger implements AlertLedger {
  constructor(private readonly redis: Redis, private readonly key = 'exit137:slack:alerted') {}
  async first(id: string): Promise<boolean> {
    return (await this.redis.sadd(this.key, id)) === 1;
  }
}

export function slackQueue(connection: ConnectionOptions): Queue<SlackJob> {
  return new Queue<SlackJob>(SLACK_QUEUE, {
    connection,
    defaultJobOptions: {
      // Slack down for hours loses nothing: retry with growing waits (capped, see the worker) and keep what fails.
      attempts: 10_000,
      backoff: { type: 'capped' },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: false,
    },
  });
}

/** Queues the planned messages; job ids make a replayed plan a no-op. */
export async function enqueueAlerts(queue: Queue<SlackJob>, planned: Planned[], opts: MessageOptions = {}): Promise<number> {
  const jobs = planned.map((p) => {
    const incidents = p.kind === 'alert' ? [p.verdict.incident_id] : p.verdicts.map((v) => v.incident_id);
    const message = p.kind === 'alert' ? alertMessage(p.verdict, opts) : digestMessage(p.verdicts, p.scope);
    const jobId = p.kind === 'alert' ? `slack-${p.verdict.incident_id}` : `digest-${createHash('sha256').update(incidents.sort().join(',')).digest('hex').slice(0, 32)}`;
    return { name: p.kind, data: { message, incidents }, opts: { jobId } };
  });
  if (jobs.length) await queue.addBulk(jobs);
  return jobs.length;
}

export type DeliveryStats = { sent: number; rateLimited: number; failedAttempts: number };

/**
 * Posts queued messages to the webhook, one a second across all workers; a 429 pauses the queue
 * for Slack's Retry-After (the webhook client does not expose headers, so a fetch wrapper reads it).
 */
export function slackWorker(connection: ConnectionOptions, webhookUrl: string, stats: DeliveryStats = { sent: 0, rateLimited: 0, failedAttempts: 0 }): Worker<SlackJob> {
  let retryAfter: number | undefined;
  const fetchWithHeaders: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const ra = res.headers.get('retry-after');
    retryAfter = res.status === 429 ? Number(ra ?? 1) : undefined;
    return res;
  };
  const hook = new IncomingWebhook(webhookUrl, { timeout: 10_000, fetch: fetchWithHeaders } as ConstructorParameters<typeof IncomingWebhook>[1]);
  const worker: Worker<SlackJob> = new Worker<SlackJob>(
    SLACK_QUEUE,
    async (job: Job<SlackJob>) => {
      try {
        await hook.send(job.data.message);
        stats.sent++;
      } catch (e) {
        if (retryAfter !== undefined) {
          stats.rateLimited++;
          await worker.rateLimit(Math.max(1, retryAfter) * 1000);
          throw Worker.RateLimitError();
        }
        stats.failedAttempts++;
        throw e;
      }
    },
    {
      connection,
      limiter: LIMIT,
      settings: { backoffStrategy: (attempts: number) => Math.min(300_000, 500 * 2 ** Math.min(attempts, 20)) },
    },
  );
  return worker;
}
