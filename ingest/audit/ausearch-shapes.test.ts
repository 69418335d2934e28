import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

/**
 * ausearch output as people paste it (test/fixtures/field/shapes/ausearch-*): the raw form with
 * its `----` and `time->` framing and its records in reverse order, and the `-i` form with names
 * for numbers and the reader's local time. Both must be the same normalized kill event.
 */
const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);

async function kills(dir: string, n: number): Promise<NormalizedEvent[]> {
  const r = await decodeFiles([shape(dir, n)]);
  assert.deepEqual(r.dead, [], 'no dead letters');
  assert.equal(r.decoder.counters.get('dead_audit-malformed-header'), 0);
  return r.events.filter((e) => e.exit137.kind === 'audit-signal');
}

describe('ausearch raw output', () => {
  it('`----`, `time->` and PROCTITLE, OBJ_PID, SYSCALL in reverse order are one kill event (xiaodongQ blog)', async () => {
    const r = await decodeFiles([shape('ausearch-raw', 1)]);
    assert.equal(r.decoder.counters.get('framing_lines'), 3, 'two ---- and one time-> are framing');
    const [k] = r.events.filter((e) => e.exit137.kind === 'audit-signal');
    assert.equal(k!['@timestamp'], '2023-09-26T06:37:31.567000000Z');
    assert.equal(k!.exit137.time.basis, 'absolute');
    assert.deepEqual(k!.exit137.signal, { number: 9, name: 'SIGKILL', syscall: 'kill' });
    assert.deepEqual(k!.exit137.target?.process, { pid: 7677, name: 'sh', uid: '0', auid: '0', ses: '7482' });
    assert.equal(k!.process?.pid, 7885);
    assert.equal(k!.process?.executable, '/usr/bin/bash');
    assert.deepEqual(k!.auditd?.records, ['PROCTITLE', 'OBJ_PID', 'SYSCALL']);
    assert.equal(k!.auditd?.serial, 366042);
  });

  it('an event without its `----` (apptainer#2650): a daemon’s SIGKILL to an apptainer build', async () => {
    const [k] = await kills('ausearch-raw', 2);
    assert.equal(k!['@timestamp'], '2025-05-01T11:07:21.965000000Z');
    assert.equal(k!.exit137.signal?.number, 9);
    assert.equal(k!.exit137.target?.process.pid, 169403);
    assert.equal(k!.exit137.target?.process.name, 'apptainer');
    assert.equal(k!.process?.pid, 8206);
    assert.equal(k!.process?.name, 'tokio-runtime-w');
    assert.equal(k!.process?.parent?.pid, 1);
    assert.deepEqual(k!.auditd?.key, ['sigkill_events']);
    assert.equal(k!.user?.audit, undefined, 'auid 4294967295 is unset');
  });
});

describe('ausearch -i (interpreted)', () => {
  it('German locale `13.01.2021 09:00:12.243` (univention bug 52518): a SIGTERM by name to 0x1312 = 4882', async () => {
    const [k] = await kills('ausearch-interpreted', 1);
    // the reader's local time, its zone unknown: read as UTC and said so
    assert.equal(k!['@timestamp'], '2021-01-13T09:00:12.243000000Z');
    assert.equal(k!.exit137.time.basis, 'assumed');
    assert.deepEqual(k!.exit137.signal, { number: 15, name: 'SIGTERM', syscall: 'kill' });
    assert.deepEqual(k!.auditd?.target_arg, { pid: 4882, scope: 'process' });
    assert.equal(k!.exit137.target?.process.pid, 4882);
    assert.equal(k!.exit137.target?.process.name, 'univention-mana');
    assert.equal(k!.exit137.target?.process.auid, undefined, 'oauid=unset');
    assert.equal(k!.process?.pid, 5965);
    assert.equal(k!.process?.executable, '/usr/bin/python2.7');
    assert.equal(k!.process?.title, '/usr/bin/python2.7 /usr/sbin/univention-management-console-server start');
    assert.deepEqual(k!.process?.args, ['/usr/bin/python2.7', '/usr/sbin/univention-management-console-server', 'start']);
    assert.equal(k!.auditd?.serial, 7148742);
    assert.equal(k!.auditd?.arch, 'x86_64');
    assert.equal(k!.auditd?.syscall, 'kill');
    assert.deepEqual(k!.auditd?.key, ['Bug_52518']);
  });

  it('ISO-date locale (ghak90 thread): one kill(2) of a process group reaching three processes', async () => {
    const [k] = await kills('ausearch-interpreted', 2);
    assert.equal(k!['@timestamp'], '2020-10-21T10:31:16.655000000Z');
    assert.equal(k!.exit137.signal?.number, 15);
    assert.deepEqual(k!.auditd?.target_arg, { pid: 115580, scope: 'process-group' });
    assert.deepEqual(
      [k!.exit137.target?.process.pid, ...(k!.exit137.target?.others ?? []).map((o) => o.pid)],
      [115583, 115580, 115582],
    );
    assert.equal(k!.process?.pid, 115567);
    assert.equal(k!.process?.title, '/usr/bin/perl -w containerid/test');
    assert.deepEqual(k!.auditd?.records, ['PROCTITLE', 'CONTAINER_ID', 'OBJ_PID', 'CONTAINER_ID', 'OBJ_PID', 'CONTAINER_ID', 'OBJ_PID', 'SYSCALL']);
  });

  it('the same event raw and interpreted gives the same kill: signal, target, sender', async () => {
    const raw = (await kills('ausearch-raw', 2))[0]!;
    // ausearch -i of the raw record, as the reader's locale (C) prints it
    const interpreted = [
      'type=PROCTITLE msg=audit(05/01/25 11:07:21.965:1704) : proctitle=/opt/hurukai-agent/bin/hurukai --hierarchical-root-dir=/opt/hurukai-agent/',
      'type=OBJ_PID msg=audit(05/01/25 11:07:21.965:1704) : opid=169403 oauid=145696 ouid=145696 oses=3 ocomm=apptainer',
      'type=SYSCALL msg=audit(05/01/25 11:07:21.965:1704) : arch=x86_64 syscall=kill success=yes exit=0 a0=0x295bb a1=SIGKILL a2=0x1900000000 a3=0x0 items=0 ppid=1 pid=8206 auid=unset uid=root gid=root euid=root suid=root fsuid=root egid=root sgid=root fsgid=root tty=(none) ses=unset comm=tokio-runtime-w exe=/opt/hurukai-agent/bin/hurukai subj=unconfined key=sigkill_events',
    ];
    const { decodeLines } = await import('../../test/helpers/decode.ts');
    const [i] = decodeLines(interpreted).events.filter((e) => e.exit137.kind === 'audit-signal');
    assert.equal(i!['@timestamp'], raw['@timestamp']);
    assert.deepEqual(i!.exit137.signal, raw.exit137.signal);
    assert.deepEqual(i!.auditd?.target_arg, raw.auditd?.target_arg);
    assert.equal(i!.exit137.target?.process.pid, raw.exit137.target?.process.pid);
    assert.equal(i!.exit137.target?.process.name, raw.exit137.target?.process.name);
    assert.equal(i!.process?.pid, raw.process?.pid);
    assert.equal(i!.process?.executable, raw.process?.executable);
    assert.deepEqual(i!.process?.args, raw.process?.args);
  });
});
