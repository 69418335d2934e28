import { setTimeout as sleep } from 'node:timers/promises';
import { IncomingWebhook } from '@slack/webhook';
import type { SlackMessage } from './message.ts';

/** Slack's incoming webhooks take about one message a second. */
const MIN_INTERVAL_MS = 1100;

export type SenderStats = { sent: number; rateLimited: number; failedAttempts: number };

/**
 * Posts messages to an incoming webhook one at a time, without a queue service: the caller keeps
 * what is still to send (watch's state file). A 429 waits for Slack's Retry-After, any other
 * failure is retried with a growing wait (capped at 5 minutes) until it is delivered or the
 * signal stops it; nothing is given up.
 */
export class WebhookSender {
  readonly stats: SenderStats = { sent: 0, rateLimited: 0, failedAttempts: 0 };
  private readonly hook: IncomingWebhook;
  private retryAfter: number | undefined;
  private lastSentMs = 0;

  constructor(url: string) {
    // the webhook client does not expose the response's headers: a fetch wrapper reads Retry-After
    const fetchWithHeaders: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      this.retryAfter = res.status === 429 ? Number(res.headers.get('retry-after') ?? 1) : undefined;
      return res;
    };
    this.hook = new IncomingWebhook(url, { timeout: 10_000, fetch: fetchWithHeaders } as ConstructorParameters<typeof IncomingWebhook>[1]);
  }

  /** Resolves once Slack took the message; rejects only when the signal aborts. */
  async send(message: SlackMessage, signal?: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const wait = this.lastSentMs + MIN_INTERVAL_MS - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      try {
        this.lastSentMs = Date.now();
        await this.hook.send(message);
        this.stats.sent++;
        return;
      } catch (e) {
        if (this.retryAfter !== undefined) {
          this.stats.rateLimited++;
          await sleep(Math.max(1, this.retryAfter) * 1000, undefined, { signal });
          continue;
        }
        this.stats.failedAttempts++;
        await sleep(Math.min(300_000, 500 * 2 ** Math.min(attempt, 20)), undefined, { signal });
      }
    }
  }
}
