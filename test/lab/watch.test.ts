import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Attribution } from '../../correlate/verdict.ts';
import { STATE_FILE } from '../../correlate/watch/state.ts';
import type { Truth } from '../helpers/lab.ts';
import { REPO } from '../helpers/paths.ts';

/**
 * `exit137 watch` on the lab's real daemons with a Slack receiver on loopback: three deaths, watch
 * killed with SIGKILL inside the second one's settle window and started again. Every death must
 * be printed once and alerted once, across both runs; no service is running but the lab's own.
 */
describe('exit137 watch: three deaths, a kill -9 between two, each printed and alerted exactly once', { timeout: 400_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'exit137-live-watch-'));
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.end('ok');
    });
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  after(() => {
    server.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('prints and alerts each death once, the kill -9 notwithstanding', async () => {
    // asynchronous: the receiver must answer while the script runs
    await new Promise<void>((resolve, reject) => {
      execFile('bash', [join(REPO, 'test', 'lab', 'watch.sh'), out], { env: { ...process.env, EXIT137_SLACK_WEBHOOK_URL: url }, timeout: 380_000, maxBuffer: 64 << 20 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`watch.sh failed on this machine: ${stderr.trim() || err.message}`));
        else resolve();
      });
    });
    const err = readFileSync(join(out, 'watch.err'), 'utf8');
    assert.equal(err.match(/watching as/g)?.length, 2, `watch ran twice:\n${err}`);
    assert.match(err, /watch killed with SIGKILL/);
    const truth = readFileSync(join(out, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Truth);
    const printed = readFileSync(join(out, 'watch.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Attribution);
    assert.equal(printed.length, 3, `three verdicts printed: ${printed.map((v) => `${v.container.id.slice(0, 12)} ${v.cause}`).join(', ')}`);
    for (const t of truth) {
      const mine = printed.filter((v) => v.container.id === t.container);
      assert.equal(mine.length, 1, `${t.scenario}: printed once`);
      assert.equal(mine[0]!.cause, t.cause, `${t.scenario}: ${mine[0]!.headline}`);
      assert.equal(mine[0]!.sub_cause, t.sub_cause, `${t.scenario}: sub-cause`);
      assert.equal(mine[0]!.exit_code, 137, `${t.scenario}: exit code`);
    }
    // Slack: one message per death, naming its incident; none twice
    const alerted = received.map((b) => /incident (inc-[0-9a-f]+)/.exec(b)?.[1]);
    assert.deepEqual([...alerted].sort(), printed.map((v) => v.incident_id).sort(), 'each death alerted exactly once');
    const state = JSON.parse(readFileSync(join(out, 'state', STATE_FILE), 'utf8')) as { pending: { prints: unknown[]; slack: unknown[] }; alerted: Record<string, number> };
    assert.deepEqual(state.pending, { prints: [], slack: [] }, 'nothing left to print or send');
    assert.deepEqual(Object.keys(state.alerted).sort(), printed.map((v) => v.incident_id).sort());
  });
});
