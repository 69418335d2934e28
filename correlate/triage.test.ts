import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditEventCanMatter } from '../ingest/audit/triage.ts';
import { runtimeLineCanMatter } from '../ingest/runtime/triage.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import { FIXTURES, sharedPath } from '../test/helpers/paths.ts';
import { isHealthEvidence } from './health/findings.ts';
import { isEvidence } from './incidents.ts';

/** Every event, and the evidence, of one input: all events built, or only those the triage wants. */
/** Inputs without a clock are placed relative to now: one instant for both decodings. */
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

async function decode(path: string, triage: boolean): Promise<{ evidence: Map<string, NormalizedEvent>; events: number; unwanted: number; unwantedLines: number }> {
  const evidence = new Map<string, NormalizedEvent>();
  let events = 0;
  const d = await decodeInputs(await expandInputs([path]), {
    event: (e) => {
      events++;
      if (isEvidence(e) || isHealthEvidence(e)) evidence.set(e.event.id, e);
    },
    deadLetter: () => {},
  }, { clock: { referenceNs: NOW_NS }, ...(triage ? { wantAudit: auditEventCanMatter, wantRuntimeLine: runtimeLineCanMatter } : {}) });
  return { evidence, events, unwanted: d.counters.get('audit_events_unwanted'), unwantedLines: d.counters.get('runtime_lines_unwanted') };
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
    assert.equal(triaged.events + triaged.unwanted + triaged.unwantedLines, all.events, `${path}: every event is either built or counted as unwanted`);
  }
});

test('on a node with an all-signals rule, the triage lets go of the SIGURG floods before they are events', async () => {
  const busy = await decode(join(FIXTURES, 'lab', 'containers-busy', 'audit.log'), true);
  const full = await decode(join(FIXTURES, 'lab', 'containers-busy', 'audit.log'), false);
  // 1,455 of the capture's 1,609 syscall events are SIGURG tgkills (a2=17)
  assert.ok(busy.unwanted >= 1455, `only ${busy.unwanted} of ${full.events} events let go`);
  assert.ok(busy.evidence.size > 0);
});

test('the daemon-line triage lets go only of lines that could never be evidence, on the lab daemon logs and every field case', async () => {
  const lab = ['containers', 'containers-busy'].flatMap((run) => ['containerd.log', 'dockerd.log'].map((f) => join(FIXTURES, 'lab', run, f)));
  const cases = join(FIXTURES, 'field', 'cases');
  const field = readdirSync(cases).map((c) => join(cases, c));
  let unwanted = 0;
  for (const path of [...lab, ...field]) {
    const all = await decode(path, false);
    const triaged = await decode(path, true);
    assert.deepEqual([...triaged.evidence.keys()].sort(), [...all.evidence.keys()].sort(), `${path}: the evidence must be the same with and without the triage`);
    for (const [id, e] of triaged.evidence) assert.deepEqual(e, all.evidence.get(id), `${path}: evidence ${id} is built the same`);
    assert.equal(triaged.events + triaged.unwanted + triaged.unwantedLines, all.events, `${path}: every event is either built or counted as unwanted`);
    unwanted += triaged.unwantedLines;
  }
  // the lab's containerd runs with debug logging: a third of its lines (plugin loading, gRPC chatter) say nothing of a death
  const containerd = await decode(join(FIXTURES, 'lab', 'containers', 'containerd.log'), true);
  assert.ok(containerd.unwantedLines * 3 > containerd.events + containerd.unwantedLines, `containerd.log: ${containerd.unwantedLines} lines let go, ${containerd.events} events built`);
  assert.ok(unwanted > containerd.unwantedLines);
});
