import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { startRedis } from '../../test/helpers/redis.ts';
import { RedisLedger, enqueueAlerts, slackQueue, slackWorker } from './delivery.ts';
import { codeSlack, escapeSlack } from './escape.ts';
import { alertMessage } from './message.ts';
import { DEFAULT_POLICY, MemoryLedger, planAlerts } from './plan.ts';
import { Redis } from 'ioredis';

async function labVerdicts(): Promise<Attribution[]> {
  const dir = join(FIXTURES, 'lab', 'containers');
  const files = ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(dir, f));
  return (await analyzeInputs(await expandInputs(files), {}, { deadLetter: () => {} })).verdicts;
}

/** A verdict whose log-derived text is hostile, as any process can name itself anything. */
function hostile(v: Attribution): Attribution {
  return { ...v, container: { ...v.container, name: '<!channel> `rm` *bold*' }, headline: 'SIGKILL from <@U123> <https://evil.example|click me> &lt;!here&gt; \n\u0007 '.concat('x'.repeat(10_000)), killer: { executable: '<!everyone>', pid: 1 } };
}

describe('Slack messages: nothing from the logs can ping, link or break the layout', async () => {
  const verdicts = await labVerdicts();

  it('escapes &, < and > (in that order), strips control characters, caps the length', () => {
    assert.equal(escapeSlack('<!channel>'), '&lt;!channel&gt;');
    assert.equal(escapeSlack('&lt;!here&gt;'), '&amp;lt;!here&amp;gt;');
    assert.equal(escapeSlack('<https://evil|ok>'), '&lt;https://evil|ok&gt;');
    assert.equal(escapeSlack('a\nb\u0000c\u2028d'), 'a b c d');
    assert.equal(escapeSlack('y'.repeat(10_000)).length, 300);
    assert.equal(codeSlack('a`b'), '`aˋb`');
  });

  it('an alert built from a hostile verdict carries no mention, no foreign link, no raw newline', () => {
    const m = alertMessage(hostile(verdicts[0]!), { kibanaUrl: 'https://kibana.example' });
    const body = JSON.stringify(m);
    assert.doesNotMatch(body, /<[!@#]/, 'no <!…>, <@…>, <#…>');
    const links = [...body.matchAll(/<(https?:[^|>]*)\|/g)].map((x) => x[1]!);
    assert.ok(links.length === 1 && links[0]!.startsWith('https://kibana.example/app/discover'), `only our Kibana link: ${links}`);
    assert.ok(m.blocks.length <= 50);
    const header = m.blocks[0] as { text: { text: string } };
    assert.ok(header.text.text.length <= 150);
    assert.equal(m.unfurl_links, false);
  });

  it('says the cause in words, the container, the node, the killer and the remedy', () => {
    const v = verdicts.find((x) => x.sub_cause === 'logged-in-user')!;
    const body = JSON.stringify(alertMessage(v));
    assert.match(body, /a kill from outside the runtime/);
    assert.match(body, /login uid 1000/);
    assert.match(body, /Remedy/);
    assert.match(body, new RegExp(v.container.id.slice(0, 12)));
  });
});

describe('alert planning: once per incident, storms folded into digests', async () => {
  const verdicts = await labVerdicts();

  it('alerts each attributed death once, even re-attributed or replayed', async () => {
    const ledger = new MemoryLedger();
    const first = await planAlerts(verdicts, ledger);
    // a normal exit is said in the verdicts but is nobody's page
    assert.equal(first.length, verdicts.filter((v) => v.cause !== 'normal-exit' && v.cause !== 'unknown').length);
    assert.ok(first.length >= 7);
    assert.ok(first.every((p) => p.kind === 'alert'));
    const again = await planAlerts(verdicts.map((v) => ({ ...v, version: 2, confidence: 0.99 })), ledger);
    assert.deepEqual(again, []);
  });

  it('many deaths of one cause on one node become one digest; across nodes, one fleet digest', async () => {
    const base = verdicts.find((v) => v.cause === 'oom-kill')!;
    const many = Array.from({ length: 12 }, (_, i) => ({ ...base, incident_id: `inc-storm-${i}`, host: 'node-a' }));
    const node = await planAlerts(many, new MemoryLedger());
    assert.equal(node.length, 1);
    assert.equal(node[0]!.kind === 'digest' && node[0]!.scope, 'node-a');
    const fleet = Array.from({ length: 30 }, (_, i) => ({ ...base, incident_id: `inc-fleet-${i}`, host: `node-${i % 6}` }));
    const f = await planAlerts(fleet, new MemoryLedger(), DEFAULT_POLICY);
    assert.deepEqual(f.map((p) => p.kind === 'digest' && p.scope), ['fleet']);
  });
});

describe('delivery through BullMQ on a real Redis to a webhook receiver on loopback', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const received: { status: number; body: unknown }[] = [];
  let script: number[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      received.push({ status, body: JSON.parse(data) });
      if (status === 429) res.setHeader('Retry-After', '1');
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'no');
    });
  });
  let url = '';
  before(async () => {
    redis = await startRedis();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  after(async () => {
    server.close();
    await redis.stop();
  });

  it('delivers every alert exactly once, through a 429 and a Slack outage, without losing one', { timeout: 60_000 }, async () => {
    const verdicts = (await labVerdicts()).slice(0, 4);
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = slackQueue(connection);
    const ledgerRedis = new Redis({ host: '127.0.0.1', port: redis.port });
    const ledger = new RedisLedger(ledgerRedis);
    // Slack answers: rate-limited once, then down for three attempts, then fine
    script = [429, 500, 503, 500];
    const stats = { sent: 0, rateLimited: 0, failedAttempts: 0 };
    const worker = slackWorker(connection, url, stats);
    await enqueueAlerts(queue, await planAlerts(verdicts, ledger));
    // a replay of the same verdicts queues nothing new
    await enqueueAlerts(queue, await planAlerts(verdicts, ledger));
    const deadline = Date.now() + 50_000;
    while (stats.sent < verdicts.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await worker.close();
    await queue.close();
    ledgerRedis.disconnect();
    assert.equal(stats.sent, verdicts.length, `sent ${stats.sent} of ${verdicts.length}`);
    assert.equal(stats.rateLimited, 1);
    assert.equal(stats.failedAttempts, 3);
    const delivered = received.filter((r) => r.status === 200).map((r) => (r.body as { text: string }).text);
    assert.equal(delivered.length, verdicts.length, 'each exactly once');
    assert.equal(new Set(delivered).size, verdicts.length);
    assert.deepEqual(received.slice(0, 4).map((r) => r.status), [429, 500, 503, 500]);
  });
});
