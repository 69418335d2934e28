import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditEventCanMatter } from '../ingest/audit/triage.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import { FIXTURES, sharedPath } from '../test/helpers/paths.ts';
import { isEvidence } from './incidents.ts';

/** Every event, and the evidence, of one input: all events built, or only those the triage wants. */
async function decode(path: string, triage: boolean): Promise<{ evidence: Map<string, NormalizedEvent>; events: number; unwanted: number }> {
  const evidence = new Map<string, NormalizedEvent>();
  let events = 0;
  const d = await decodeInputs(await expandInputs([path]), {
    event: (e) => {
      events++;
      if (isEvidence(e)) evidence.set(e.event.id, e);
    },
    deadLetter: () => {},
  }, triage ? { wantAudit: auditEventCanMatter } : {});
  return { evidence, events, unwanted: d.counters.get('audit_events_unwanted') };
}

const AUDIT_INPUTS = [
  join(FIXTURES, 'lab', 'containers-busy', 'audit.log'),
  join(FIXTURES, 'lab', 'containers', 'audit.log'),
  join(FIXTURES, 'lab', 'audit-raw.log'),
  ...readdirSync(sharedPath('corpus', 'audit')).filter((f) => f.endsWith('.log')).map((f) => sharedPath('corpus', 'audit', f)),
];

test('the audit triage lets go only of events that could never be evidence, on real captures and the shared corpus', async () => {
  for (const path of AUDIT_INPUTS) {
    const all = await decode(path, false);
    const triaged = await decode(path, true);
    assert.deepEqual([...triaged.evidence.keys()].sort(), [...all.evidence.keys()].sort(), `${path}: the evidence must be the same with and without the triage`);
    for (const [id, e] of triaged.evidence) assert.deepEqual(e, all.evidence.get(id), `${path}: evidence ${id} is built the same`);
    assert.equal(triaged.events + triaged.unwanted, all.events, `${path}: every event is either built or counted as unwanted`);
  }
});

test('on a node with an all-signals rule, the triage lets go of the SIGURG floods before they are events', async () => {
  const busy = await decode(join(FIXTURES, 'lab', 'containers-busy', 'audit.log'), true);
  const full = await decode(join(FIXTURES, 'lab', 'containers-busy', 'audit.log'), false);
  // 1,455 of the capture's 1,609 syscall events are SIGURG tgkills (a2=17)
  assert.ok(busy.unwanted >= 1455, `only ${busy.unwanted} of ${full.events} events let go`);
  assert.ok(busy.evidence.size > 0);
});
