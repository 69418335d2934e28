import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { expandInputs } from '../ingest/sources/files.ts';
import { makeLabHistory } from '../test/bench/make-lab-data.ts';
import { analyzeInputs } from './analyze.ts';

const dir = mkdtempSync(join(tmpdir(), 'exit137-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FILES = ['containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt', 'audit.log'];

test('correlating in a window that lets evidence go gives the verdicts of correlating the whole input at once', async () => {
  // 30 copies of the real lab run, two minutes apart: 180 deaths of six causes, and decoys
  const truth = await makeLabHistory(dir, 30);
  const inputs = async () => expandInputs(FILES.map((f) => join(dir, f)));
  const whole = await analyzeInputs(await inputs(), {}, { deadLetter: () => assert.fail('nothing undecodable') }, { keepEvidence: true });
  const windowed = await analyzeInputs(await inputs(), {}, { deadLetter: () => assert.fail('nothing undecodable') }, { releaseAt: 50 });
  assert.ok(windowed.released > 0.2 * windowed.evidenceEvents, `the window let go of ${windowed.released} of ${windowed.evidenceEvents} events`);
  assert.equal(whole.released, 0);
  assert.deepEqual(windowed.verdicts, whole.verdicts);
  const byCause: Record<string, number> = {};
  for (const v of windowed.verdicts) byCause[v.cause] = (byCause[v.cause] ?? 0) + 1;
  for (const [cause, n] of Object.entries(truth.deaths)) assert.equal(byCause[cause], n, `${cause}: ${byCause[cause]} of ${n}`);
});
