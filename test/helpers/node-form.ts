import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import type { Truth } from './lab.ts';

/** What a node still holds after the fact: every captured file but containerd's event stream, which has no history. */
export const NODE_HELD = ['audit.log', 'messages', 'docker-events.json', 'dmesg.txt'];

const key = (v: Attribution | undefined) => (v ? `${v.cause}/${v.sub_cause ?? '-'}` : 'no verdict');

/**
 * `analyze` in node form, run by the lab before its teardown (node-verdicts.ndjson, and on stderr
 * node-sources.txt), against the captured files: the same verdict for every death the files a node
 * keeps can tell; where the captured verdict needed containerd's events (an init's pid ties an
 * audited kill by pid to its container), the node's verdict says in `missing` that they were lost.
 */
export async function checkNodeForm(dir: string, captured: Attribution[]): Promise<{ node: Attribution[]; needCtr: string[] }> {
  const truth = readFileSync(join(dir, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Truth);
  const sources = readFileSync(join(dir, 'node-sources.txt'), 'utf8');
  for (const s of ['audit', 'syslog', 'dmesg', 'docker events', 'docker inspect', 'node state']) assert.match(sources, new RegExp(`^exit137: source ${s}: read: `, 'm'), `the node form says it read ${s}:\n${sources}`);
  for (const s of ['journal', 'containerd events', 'crictl']) assert.match(sources, new RegExp(`^exit137: source ${s}: not read: \\S`, 'm'), `the node form says why it did not read ${s}`);
  const node = readFileSync(join(dir, 'node-verdicts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Attribution & { finding?: string }).filter((v) => v.incident_id !== undefined);
  const { verdicts: held } = await analyzeInputs(await expandInputs(NODE_HELD.map((f) => join(dir, f))), {}, { deadLetter: () => {} });
  const needCtr: string[] = [];
  for (const t of truth) {
    const mine = (list: Attribution[]) => list.filter((v) => v.container.id === t.container);
    const n = mine(node);
    const h = mine(held);
    const c = mine(captured);
    assert.deepEqual(n.map(key), h.map(key), `${t.scenario}: the node form and the files a node keeps agree`);
    for (const [a, b] of n.map((v, i) => [v, h[i]!] as const)) {
      // (what the node form read of docker and what it used, to tell a lost inspect from a lost event)
      if (b.exit_code !== undefined) assert.equal(a.exit_code, b.exit_code, `${t.scenario}: exit status\n${sources.split('\n').filter((l) => l.includes('docker')).join('\n')}\nnode form's evidence:\n${a.evidence.map((x) => `${x.ts} ${x.source} ${x.action} ${x.summary.slice(0, 100)}`).join('\n')}`);
      assert.ok(Math.abs(a.confidence - b.confidence) <= 0.05, `${t.scenario}: confidence ${a.confidence} vs ${b.confidence}`);
    }
    if (n.map(key).join() !== c.map(key).join()) {
      needCtr.push(t.scenario);
      for (const v of n) assert.ok(v.missing.some((m) => m.startsWith('containerd events was not read')), `${t.scenario}: ${key(v)} instead of ${c.map(key).join()}; missing must say containerd's events were lost: ${v.missing.join(' | ')}`);
    }
  }
  // what differs from the full capture is only what containerd's events alone told
  assert.ok(needCtr.every((s) => /user-kill|logged-in-kill/.test(s)), `only the kills by pid need containerd's events: ${needCtr.join(', ')}`);
  assert.equal(node.filter((v) => v.cause !== 'normal-exit').length, held.filter((v) => v.cause !== 'normal-exit').length, 'no extra deaths in the node form');
  return { node, needCtr };
}
