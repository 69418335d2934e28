import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from './reassemble.ts';
import { AuditReassembler } from './reassemble.ts';
import { parseAuditRecord } from './record.ts';

function rec(line: string) {
  const p = parseAuditRecord(line);
  assert.ok(p.ok, line);
  return p.record;
}

const BOOT1 = '1700000000.000';
const BOOT2 = '1700000000.500';

describe('AuditReassembler: records find their event by serial and epoch', () => {
  it('keeps two open events of one serial apart by their epochs (serials restarted at a reboot), as each is let go', () => {
    const out: AuditEvent<string>[] = [];
    // one event open at a time: the second event of serial 100 lets the first go
    const r = new AuditReassembler<string>((e) => out.push(e), { maxInFlight: 1, timeoutSeconds: 2 });
    r.push(rec(`type=SYSCALL msg=audit(${BOOT1}:100): arch=c000003e syscall=62 a0=1 a1=9`), 'a');
    r.push(rec(`type=SYSCALL msg=audit(${BOOT2}:100): arch=c000003e syscall=62 a0=2 a1=9`), 'b');
    assert.deepEqual(out.map((e) => [e.epoch, e.records.length]), [[BOOT1, 1]]);
    // the second event's next record joins it, not the first (gone) one
    r.push(rec(`type=PROCTITLE msg=audit(${BOOT2}:100): proctitle=6B696C6C`), 'b2');
    // a straggler of the first: an event of its own, never lost into the one let go
    r.push(rec(`type=PROCTITLE msg=audit(${BOOT1}:100): proctitle=736C656570`), 'a2');
    r.flush();
    assert.deepEqual(
      out.map((e) => [e.epoch, e.origin, e.records.map((x) => x.type)]),
      [
        [BOOT1, 'a', ['SYSCALL']],
        [BOOT2, 'b', ['SYSCALL', 'PROCTITLE']],
        [BOOT1, 'a2', ['PROCTITLE']],
      ],
    );
    assert.equal(r.stats.lateRecords, 1);
    assert.equal(r.openEvents, 0);
  });

  it('joins records of events open side by side, whichever serial each has, and counts a repeated record once', () => {
    const out: AuditEvent<string>[] = [];
    const r = new AuditReassembler<string>((e) => out.push(e), { maxInFlight: 64, timeoutSeconds: 2 });
    for (const s of [7, 5, 6]) r.push(rec(`type=SYSCALL msg=audit(${BOOT1}:${s}): arch=c000003e syscall=62 a0=${s}`), `s${s}`);
    for (const s of [6, 7, 5, 7]) r.push(rec(`type=OBJ_PID msg=audit(${BOOT1}:${s}): opid=${s} ocomm="x"`), `o${s}`);
    r.flush();
    assert.deepEqual(
      out.map((e) => [e.serial, e.records.map((x) => x.type)]),
      [
        [5, ['SYSCALL', 'OBJ_PID']],
        [6, ['SYSCALL', 'OBJ_PID']],
        [7, ['SYSCALL', 'OBJ_PID']],
      ],
    );
    assert.equal(r.stats.duplicateRecords, 1);
  });
});
