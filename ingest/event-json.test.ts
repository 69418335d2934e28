import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { FIXTURES, sharedPath } from '../test/helpers/paths.ts';
import { NormalizedEvent } from './event.ts';
import { eventJson, fragment } from './event-json.ts';
import { decodeInputs } from './run.ts';
import { expandInputs } from './sources/files.ts';

/** Every event the decoder makes of the lab fixtures, the field cases and the shared audit corpus. */
async function decodedEvents(): Promise<NormalizedEvent[]> {
  const corpus = sharedPath('corpus', 'audit');
  const paths = [join(FIXTURES, 'lab'), join(FIXTURES, 'field'), ...readdirSync(corpus).filter((f) => f.endsWith('.log')).map((f) => join(corpus, f))];
  const events: NormalizedEvent[] = [];
  for (const p of paths) await decodeInputs(await expandInputs([p]), { event: (e) => events.push(e), deadLetter: () => {} });
  return events;
}

/** Text that JSON must escape, and text it must not touch. */
const AWKWARD = 'a "quoted" back\\slash\ttab\nline\u0001\u001d\u007f é ☃ \u2028 \ud83d\ude00 lone \ud800 end';

/** A value for every key of a schema, optional ones included: what no decoded event has all at once. */
function filled(schema: z.ZodType, depth = 0): unknown {
  const d = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (d.type) {
    case 'optional':
      return filled(d.innerType as z.ZodType, depth);
    case 'string':
      return `${AWKWARD} ${depth}`;
    case 'number':
      return depth + 0.5;
    case 'boolean':
      return depth % 2 === 0;
    case 'enum':
      return Object.values(d.entries as Record<string, string>).at(-1);
    case 'literal':
      return (d.values as unknown[])[0];
    case 'array':
      return [filled(d.element as z.ZodType, depth + 1), filled(d.element as z.ZodType, depth + 2)];
    case 'record':
      return { [AWKWARD]: filled(d.valueType as z.ZodType, depth + 1), plain: filled(d.valueType as z.ZodType, depth + 2) };
    case 'object':
      return Object.fromEntries(Object.entries(d.shape as Record<string, z.ZodType>).map(([k, v]) => [k, filled(v, depth + 1)]));
    default:
      throw new Error(`no sample for zod type ${d.type}`);
  }
}

describe('eventJson (ingest/event-json.ts)', async () => {
  const events = await decodedEvents();

  it('writes every decoded event as JSON.stringify does: audit events byte for byte, the others key for key', () => {
    const kinds = new Set(events.map((e) => e.exit137.kind));
    for (const k of ['audit', 'audit-signal', 'runtime-log', 'container-event', 'kernel-oom', 'go-crash', 'kernel']) assert.ok(kinds.has(k as never), `no ${k} event among ${[...kinds].join(', ')}`);
    let audit = 0;
    for (const e of events) {
      const mine = eventJson(e);
      const theirs = JSON.stringify(e);
      if (e.auditd) {
        audit++;
        assert.equal(mine, theirs);
      } else assert.deepEqual(JSON.parse(mine), JSON.parse(theirs));
    }
    assert.ok(audit > 1000, `${audit} audit events`);
  });

  it('writes every key the schema has, with the strings escaped as JSON.stringify escapes them', () => {
    const e = filled(NormalizedEvent) as NormalizedEvent;
    const line = eventJson(e);
    assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(e)));
    assert.ok(!line.includes('\n'), 'one line');
    assert.ok(line.includes('\\ud800'), 'a lone surrogate is escaped');
  });

  it('leaves out what is undefined, and writes a value of a type the schema does not expect as JSON.stringify would', () => {
    const e = structuredClone(events.find((x) => x.exit137.kind === 'audit-signal')!) as Record<string, unknown> & NormalizedEvent;
    e.message = undefined;
    (e.event as Record<string, unknown>).sequence = Number.NaN;
    (e.log as Record<string, unknown>).line = 'twelve';
    e.tags = [1 as never, 'x'];
    assert.deepEqual(JSON.parse(eventJson(e)), JSON.parse(JSON.stringify(e)));
    // where a string is written between quotes held by the text around it
    (e as Record<string, unknown>)['@timestamp'] = 12;
    e.exit137.ts_ns = 'a "quoted" \\ one';
    assert.deepEqual(JSON.parse(eventJson(e)), JSON.parse(JSON.stringify(e)));
    (e.event as Record<string, unknown>).id = null;
    e.exit137.ts_ns = 7 as never;
    assert.deepEqual(JSON.parse(eventJson(e)), JSON.parse(JSON.stringify(e)));
  });

  it('writes each event as it comes out of the decoder (its original escaped from the records it was read from) as JSON.stringify does', async () => {
    const corpus = sharedPath('corpus', 'audit');
    const paths = [join(FIXTURES, 'lab'), join(FIXTURES, 'field'), ...readdirSync(corpus).filter((f) => f.endsWith('.log')).map((f) => join(corpus, f))];
    let audit = 0;
    // decode's transient events (originals put together, not copied) write as the kept ones do
    const lines: Record<string, string[]> = { kept: [], transient: [] };
    for (const transient of [false, true]) {
      for (const p of paths) {
        await decodeInputs(
          await expandInputs([p]),
          {
            event: (e) => {
              if (!e.auditd) return assert.deepEqual(JSON.parse(eventJson(e)), JSON.parse(JSON.stringify(e)));
              audit++;
              const line = eventJson(e);
              assert.equal(line, JSON.stringify(e));
              lines[transient ? 'transient' : 'kept']!.push(line);
            },
            deadLetter: () => {},
          },
          { transient },
        );
      }
    }
    assert.ok(audit > 2000, `${audit} audit events`);
    assert.deepEqual(lines.transient, lines.kept);
  });

  it('writes what an event holds now, whatever the event before it held: the JSON kept between events is never stale', () => {
    const audit = events.filter((e) => e.auditd !== undefined);
    // the same events in other orders: each kept run meets other values before its own again
    for (const order of [[...audit].reverse(), audit.filter((_, i) => i % 3 === 0), audit.filter((_, i) => i % 7 !== 0).reverse()]) {
      for (const e of order) assert.equal(eventJson(e), JSON.stringify(e));
    }
    // an event changed in place after it was written, in every part that is kept by value
    const e = structuredClone(audit.find((x) => x.exit137.kind === 'audit-signal' && x.auditd?.key && x.exit137.target)!);
    assert.equal(eventJson(e), JSON.stringify(e));
    e.auditd!.records[0] = 'CHANGED';
    e.auditd!.key![0] = 'changed_key';
    e.exit137.target!.process.name = 'changed';
    e.log.file = { path: '/changed' };
    e.event.type.push('change');
    e.exit137.time.tie = 'dmesg-T';
    assert.equal(eventJson(e), JSON.stringify(e));
    delete e.log.file;
    delete e.log.syslog;
    e.event.outcome = undefined;
    assert.equal(eventJson(e), JSON.stringify(e));
  });

  it('shares one frozen process, user and target among the events of one sender, and refuses a fragment that could change', () => {
    // the lab's busy capture: dockerd's Go runtime preempting its own threads with SIGURG
    const storm = events.filter((e) => e.exit137.kind === 'audit-signal' && e.log.file?.path?.endsWith('containers-busy/audit.log') && e.process?.name === 'dockerd' && e.exit137.signal?.name === 'SIGURG');
    assert.ok(storm.length > 10, `${storm.length} SIGURGs from dockerd`);
    assert.equal(storm[0]!.process, storm[1]!.process);
    assert.equal(storm[0]!.user, storm[1]!.user);
    assert.equal(storm[0]!.auditd!.enriched, storm[1]!.auditd!.enriched);
    assert.equal(storm[0]!.exit137.target!.process, storm[1]!.exit137.target!.process);
    assert.ok(Object.isFrozen(storm[0]!.process) && Object.isFrozen(storm[0]!.process!.args) && Object.isFrozen(storm[0]!.user));
    assert.throws(() => {
      storm[0]!.process!.name = 'changed';
    }, TypeError);
    assert.throws(() => fragment({ a: 1 }), /frozen/);
  });
});
