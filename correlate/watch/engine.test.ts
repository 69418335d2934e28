import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { FileLedger } from '../../sinks/slack/file-ledger.ts';
import { planAlerts } from '../../sinks/slack/plan.ts';
import { correlate } from '../analyze.ts';
import type { Attribution } from '../verdict.ts';
import { LocalCorrelator } from './engine.ts';
import { WatchState } from './state.ts';

const LAB = join(FIXTURES, 'lab', 'containers-busy');
const FILES = ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(LAB, f));
const SETTLE_MS = 30_000;

const key = (v: Attribution) => `${v.container.id} ${v.cause}/${v.sub_cause ?? '-'} ${v.exit_code ?? '?'}`;
const ms = (e: NormalizedEvent) => Number(BigInt(e.exit137.ts_ns) / 1_000_000n);

/** The lab's evidence as it happened: each event arrives at its own instant, windows close as the clock runs. */
async function labEvents(): Promise<NormalizedEvent[]> {
  const { events } = await decodeFiles(FILES);
  return events.sort((a, b) => ms(a) - ms(b));
}

describe('watch’s correlation: settle windows on one node, no services', async () => {
  const events = await labEvents();
  const batch = correlate(events.filter((e) => e.exit137.kind !== 'log'));

  it('decides every death of the lab run once, as analyze does on the whole files', () => {
    const c = new LocalCorrelator(SETTLE_MS);
    const out: Attribution[] = [];
    for (const e of events) {
      c.add(e, ms(e));
      out.push(...c.due(ms(e)));
    }
    out.push(...c.due(ms(events.at(-1)!) + 10 * SETTLE_MS));
    assert.equal(c.open, 0);
    assert.deepEqual(out.map(key).sort(), batch.map(key).sort());
    assert.equal(new Set(out.map((v) => v.incident_id)).size, out.length);
  });

  it('a restart from the saved state, reading the last lines again, decides nothing twice and loses nothing', () => {
    const half = Math.floor(events.length / 2);
    const first = new LocalCorrelator(SETTLE_MS);
    const out: Attribution[] = [];
    for (const e of events.slice(0, half)) {
      first.add(e, ms(e));
      out.push(...first.due(ms(e)));
    }
    // what the state file holds, through JSON as it is written
    const saved = JSON.parse(JSON.stringify(first.state())) as ReturnType<LocalCorrelator['state']>;
    const second = new LocalCorrelator(SETTLE_MS, saved);
    // a position is saved behind the lines the decoder still held: some are read again
    for (const e of events.slice(half - 300)) {
      second.add(e, ms(e));
      out.push(...second.due(ms(e)));
    }
    out.push(...second.due(ms(events.at(-1)!) + 10 * SETTLE_MS));
    assert.deepEqual(out.map(key).sort(), batch.map(key).sort());
  });
});

describe('watch’s state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-watch-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps positions, the evidence, what is to print and send, and the alert ledger across a restart', async () => {
    const events = await labEvents();
    const state = await WatchState.load(dir);
    assert.equal(state.fresh, true);
    const c = new LocalCorrelator(SETTLE_MS, state.correlator);
    for (const e of events) c.add(e, ms(e));
    const verdicts = c.due(ms(events.at(-1)!) + 10 * SETTLE_MS);
    await state.positions<{ offset: number }>('file:/var/log/audit/audit.log').save({ offset: 1234 });
    const ledger = new FileLedger(state);
    const planned = await planAlerts(verdicts, ledger);
    assert.ok(planned.length >= 7);
    state.pending.prints.push({ incident: verdicts[0]!.incident_id, line: 'x' });
    await state.flush(() => c.state(), true);

    const again = await WatchState.load(dir);
    assert.equal(again.fresh, false);
    assert.deepEqual(await again.positions('file:/var/log/audit/audit.log').load(), { offset: 1234 });
    assert.deepEqual(again.pending.prints, [{ incident: verdicts[0]!.incident_id, line: 'x' }]);
    // the ledger remembers: the same verdicts plan no alert after the restart
    assert.deepEqual(await planAlerts(verdicts, new FileLedger(again)), []);
    // and the deaths stay decided: their evidence read anew (its held copy gone) decides none again
    const c2 = new LocalCorrelator(SETTLE_MS, { evidence: [], buckets: [], decided: again.correlator.decided });
    for (const e of events) c2.add(e, ms(e));
    assert.deepEqual(c2.due(ms(events.at(-1)!) + 20 * SETTLE_MS), []);
  });
});
