import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from './event.ts';
import { decodeInputsInTimeOrder } from './interleave.ts';
import { decodeInputs } from './run.ts';
import { expandInputs } from './sources/files.ts';
import { FIXTURES } from '../test/helpers/paths.ts';
import { makeLabHistory } from '../test/bench/make-lab-data.ts';
import { captureShape } from '../test/bench/make-audit-capture.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** The lateness analyze allows an input behind its own newest event. */
const LATENESS_NS = 300n * 1_000_000_000n;

async function both(paths: string[]) {
  const inputs = await expandInputs(paths);
  const seq: NormalizedEvent[] = [];
  await decodeInputs(inputs, { event: (e) => seq.push(e), deadLetter: () => assert.fail('dead letter') });
  const inTime: NormalizedEvent[] = [];
  const marks: { at: number; ns: bigint }[] = [];
  await decodeInputsInTimeOrder(await expandInputs(paths), { event: (e) => inTime.push(e), deadLetter: () => assert.fail('dead letter'), watermark: (ns) => marks.push({ at: inTime.length, ns }) });
  return { seq, inTime, marks };
}

const byId = (evs: NormalizedEvent[]) => new Map(evs.map((e) => [e.event.id, JSON.stringify(e)]));

describe('reading inputs side by side in time', () => {
  it('gives the very events of reading them one after the other (lab busy capture: audit, daemons, kernel, syslog)', async () => {
    // the node's logs, not truth.ndjson: an undated line is placed by the newest time read before it
    const busy = join(FIXTURES, 'lab', 'containers-busy');
    const { seq, inTime } = await both(['audit.log', 'containerd.log', 'ctr-events.txt', 'dmesg.txt', 'docker-events.json', 'dockerd.log', 'messages'].map((f) => join(busy, f)));
    assert.ok(seq.length > 5000, `${seq.length} events`);
    assert.equal(inTime.length, seq.length);
    assert.deepEqual(byId(inTime), byId(seq));
  });

  it('on a node history, reads the inputs interleaved, and nothing comes older than a watermark already given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit137-interleave-'));
    try {
      await makeLabHistory(dir, 6, { source: 'containers-busy', spacingS: captureShape().spanS + 300 });
      const { seq, inTime, marks } = await both([dir]);
      assert.deepEqual(byId(inTime), byId(seq));
      // one after the other, the audit log is read whole before the next input starts (bar the
      // events still open at the end); in time, most of it comes after the other inputs' first lines
      const auditAfterOthers = (evs: NormalizedEvent[]) => {
        const first = evs.findIndex((e) => !e.log?.file?.path?.endsWith('audit.log'));
        return evs.slice(first).filter((e) => e.log?.file?.path?.endsWith('audit.log')).length;
      };
      const audit = seq.filter((e) => e.log?.file?.path?.endsWith('audit.log')).length;
      assert.ok(auditAfterOthers(seq) < audit / 20, `one after the other: ${auditAfterOthers(seq)}`);
      assert.ok(auditAfterOthers(inTime) > audit / 2, `in time: ${auditAfterOthers(inTime)} of ${audit}`);
      // the promise analyze relies on: after a watermark w, no event older than w less the lateness
      assert.ok(marks.length > 10, `${marks.length} watermarks`);
      for (let i = 1; i < marks.length; i++) assert.ok(marks[i]!.ns >= marks[i - 1]!.ns, 'watermarks only move on');
      let m = 0;
      let late = 0;
      for (let i = 0; i < inTime.length; i++) {
        while (m < marks.length && marks[m]!.at <= i) m++;
        const w = m > 0 ? marks[m - 1]!.ns : undefined;
        if (w !== undefined && BigInt(inTime[i]!.exit137.ts_ns) < w - LATENESS_NS) late++;
      }
      assert.equal(late, 0, 'events older than the watermark less the lateness');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a rotated audit log read beside its successor', () => {
  it('gives the events of the whole log read at once, whichever order the files are given in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit137-rotated-'));
    try {
      await makeLabHistory(dir, 4, { source: 'containers-busy', spacingS: captureShape().spanS + 300 });
      const lines = readFileSync(join(dir, 'audit.log'), 'utf8').replace(/\n$/, '').split('\n');
      // auditd rotates between events: cut where no serial of the lines before comes again after
      const serial = (l: string) => /:(\d+)\)/.exec(l)?.[1];
      let cut = Math.floor(lines.length / 2);
      while (lines.slice(cut - 200, cut).some((l) => lines.slice(cut, cut + 200).some((m) => serial(m) === serial(l)))) cut++;
      writeFileSync(join(dir, 'audit.log.1'), `${lines.slice(0, cut).join('\n')}\n`);
      writeFileSync(join(dir, 'audit.log.0'), `${lines.slice(cut).join('\n')}\n`);
      const whole: NormalizedEvent[] = [];
      await decodeInputs(await expandInputs([join(dir, 'audit.log')]), { event: (e) => whole.push(e), deadLetter: () => assert.fail('dead letter') });
      // ids and positions name the file a line was read from: compare what the records say
      const said = (evs: NormalizedEvent[]) => evs.map((e) => e.event.original).sort();
      for (const order of [['audit.log.1', 'audit.log.0'], ['audit.log.0', 'audit.log.1']]) {
        const split: NormalizedEvent[] = [];
        await decodeInputsInTimeOrder(await expandInputs(order.map((f) => join(dir, f))), { event: (e) => split.push(e), deadLetter: () => assert.fail('dead letter') });
        assert.equal(split.length, whole.length, order.join(' then '));
        assert.deepEqual(said(split), said(whole), order.join(' then '));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
