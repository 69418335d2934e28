import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { expandInputs } from '../ingest/sources/files.ts';
import { makeLabHistory } from '../test/bench/make-lab-data.ts';
import { analyzeInputs } from './analyze.ts';
import type { Attribution } from './verdict.ts';
import { EvidenceWindow } from './window.ts';

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

test('verdicts told as their deaths are decided are the verdicts of the whole input, none kept, and come nearly in time order', async () => {
  const inputs = async () => expandInputs(FILES.map((f) => join(dir, f)));
  const whole = await analyzeInputs(await inputs(), {}, { deadLetter: () => assert.fail('nothing undecodable') });
  const told: Awaited<ReturnType<typeof analyzeInputs>>['verdicts'] = [];
  const streamed = await analyzeInputs(await inputs(), {}, { deadLetter: () => assert.fail('nothing undecodable') }, { releaseAt: 50, onVerdict: (v) => told.push(v) });
  assert.deepEqual(streamed.verdicts, []);
  assert.ok(streamed.released > 0, 'decided early, before the end');
  const sorted = [...told].sort((a, b) => (a.died_at < b.died_at ? -1 : a.died_at > b.died_at ? 1 : a.container.id.localeCompare(b.container.id)));
  assert.deepEqual(sorted, whole.verdicts);
  // told in the rounds the window decides in: a death is never told before one more than the
  // window's reach (AFTER_S + SAME_DEATH_S plus the lateness) older than it
  let newest = '';
  for (const v of told) {
    if (v.died_at > newest) newest = v.died_at;
    assert.ok(Date.parse(newest) - Date.parse(v.died_at) < 600_000, `${v.died_at} told after ${newest}`);
  }
});

test('inputs given one after the other (as threads give them) are decided as they come, each round reading only what it can use', async () => {
  // deaths half an hour apart: a round's reach (15 minutes around what it decides) holds one or two
  const spaced = join(dir, 'spaced');
  await makeLabHistory(spaced, 12, { spacingS: 1800 });
  const inputs = await expandInputs(FILES.map((f) => join(spaced, f)));
  const whole = await analyzeInputs(inputs, {}, { deadLetter: () => assert.fail('nothing undecodable') }, { keepEvidence: true });
  // each input's evidence in its own order; only the last one's time says what is complete
  const byInput = FILES.map((f) => whole.evidence.filter((e) => e.log?.file?.path === join(spaced, f)));
  assert.equal(byInput.flat().length, whole.evidence.length);
  const told: Attribution[] = [];
  const window = new EvidenceWindow(50, (v) => told.push(v));
  for (const [i, evs] of byInput.entries()) {
    for (const e of evs) {
      if (i === byInput.length - 1) window.advance(BigInt(e.exit137.ts_ns) - 300n * 1_000_000_000n);
      window.add(e);
    }
  }
  const toldBeforeEnd = told.length;
  window.finish();
  assert.ok(toldBeforeEnd > told.length / 2, `${toldBeforeEnd} of ${told.length} decided before the end`);
  const sorted = [...told].sort((a, b) => (a.died_at < b.died_at ? -1 : a.died_at > b.died_at ? 1 : a.container.id.localeCompare(b.container.id)));
  assert.deepEqual(sorted, whole.verdicts);
  // rounds that read all that is held (the inputs before the last, whole) read it over and over
  assert.ok(window.read < 3 * whole.evidence.length, `rounds read ${window.read} events for ${whole.evidence.length}`);
});
