import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { expandInputs } from '../../ingest/sources/files.ts';

export type Truth = { scenario: string; container: string; cause: string; sub_cause: string };

/** The daemons' logs as they wrote them, or the same lines as the syslog daemon (+08:00) wrote them. */
export type LogRendering = 'raw' | 'syslog';

/** Runs `analyze` over a lab bundle and checks every scenario's verdict against what the lab did. */
export async function checkLabBundle(dir: string, rendering: LogRendering = 'raw'): Promise<{ verdicts: Attribution[]; truth: Truth[] }> {
  const truth = readFileSync(join(dir, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Truth);
  const logs = rendering === 'raw' ? ['containerd.log', 'dockerd.log'] : ['messages'];
  const files = ['audit.log', ...logs, 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(dir, f));
  const dead: string[] = [];
  const { verdicts } = await analyzeInputs(await expandInputs(files), {}, { deadLetter: (d) => dead.push(`${d.reason}: ${d.preview}`) });
  assert.deepEqual(dead, [], 'every captured line decodes');
  for (const t of truth) {
    const mine = verdicts.filter((v) => v.container.id === t.container);
    if (t.cause === 'none') {
      // an orderly end may be said (normal-exit), never a cause of death
      assert.deepEqual(mine.filter((v) => v.cause !== 'normal-exit').map((v) => `${v.cause}: ${v.headline}`), [], `${t.scenario}: a decoy must not be given a cause of death`);
      continue;
    }
    assert.equal(mine.length, 1, `${t.scenario}: one death = one verdict (got ${mine.length})`);
    const v = mine[0]!;
    assert.equal(v.cause, t.cause, `${t.scenario}: ${v.headline}`);
    assert.equal(v.sub_cause, t.sub_cause, `${t.scenario}: sub-cause`);
    assert.equal(v.exit_code, 137, `${t.scenario}: exit code`);
    assert.ok(v.evidence.length >= 2, `${t.scenario}: evidence chain`);
  }
  assert.equal(verdicts.filter((v) => v.cause !== 'normal-exit').length, truth.filter((t) => t.cause !== 'none').length, 'no cause of death for anything the lab did not do');
  return { verdicts, truth };
}
