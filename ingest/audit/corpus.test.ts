import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { corpusSections, decodeLines } from '../../test/helpers/decode.ts';
import { sharedPath } from '../../test/helpers/paths.ts';

/** Expectations from shared/corpus/audit/EXPECTED.md (peer goldens and derived decodings). */
const corpus = (f: string) => corpusSections(sharedPath('corpus', 'audit', f));
const bySerial = (events: NormalizedEvent[], serial: number) => events.find((e) => e.auditd?.serial === serial);
const section = (f: string, needle: string) => {
  const s = corpus(f).find((x) => x.source.includes(needle));
  assert.ok(s, `section ${needle} in ${f}`);
  return s;
};

describe('kill-signals.log (EXPECTED §1)', () => {
  const all = corpus('kill-signals.log');

  it('K1: a single SYSCALL kill is a self-signal SIGHUP with a set auid', () => {
    const { events } = decodeLines(all[0]!.lines);
    const k = bySerial(events, 1095517)!;
    assert.equal(k['@timestamp'], '2017-04-12T12:42:20.864000000Z');
    assert.equal(k.auditd?.arch, 'x86_64');
    assert.deepEqual(k.exit137.signal, { number: 1, name: 'SIGHUP', syscall: 'kill' });
    assert.equal(k.exit137.target?.process.pid, 8158, 'a0=0x1fde without OBJ_PID');
    assert.equal(k.process?.pid, 8158);
    assert.equal(k.user?.audit?.id, '1000');
    assert.deepEqual(k.auditd?.key, ['kill_signals']);
  });

  it('K2: raw order, hex proctitle, key (null)', () => {
    const k = bySerial(decodeLines(all[1]!.lines).events, 366042)!;
    assert.equal(k.exit137.target?.process.pid, 7677);
    assert.equal(k.exit137.target?.process.name, 'sh');
    assert.equal(k.exit137.target?.process.ses, '7482');
    assert.equal(k.exit137.signal?.name, 'SIGKILL');
    assert.deepEqual(k.process?.args, ['sh', 'xdkill.sh']);
    assert.equal(k.auditd?.key, undefined);
    assert.equal(k.auditd?.tty, 'pts5');
  });

  it('K3: ausearch order without EOE; junk a2 ignored; unset auid means a daemon', () => {
    const k = bySerial(decodeLines(all[2]!.lines).events, 1704)!;
    assert.deepEqual(k.auditd?.records, ['PROCTITLE', 'OBJ_PID', 'SYSCALL']);
    assert.equal(k.exit137.signal?.number, 9);
    assert.equal(k.exit137.target?.process.pid, 169403);
    assert.equal(k.exit137.target?.process.auid, '145696');
    assert.equal(k.process?.name, 'tokio-runtime-w');
    assert.deepEqual(k.process?.args, ['/opt/hurukai-agent/bin/hurukai', '--hierarchical-root-dir=/opt/hurukai-agent/']);
    assert.equal(k.user?.audit, undefined);
    assert.equal(k.auditd?.ses, undefined);
  });

  it('K4: a corrupted key and missing auid still yield the kill', () => {
    const { events, dead } = decodeLines(all[3]!.lines);
    assert.equal(dead.length, 0);
    const k = bySerial(events, 351)!;
    assert.equal(k.exit137.target?.process.pid, 24067);
    assert.equal(k.exit137.target?.process.name, 'python');
    assert.equal(k.exit137.target?.process.auid, undefined);
    assert.equal(k.user?.audit, undefined);
    assert.deepEqual(k.process?.args, ['bash']);
  });

  it('P1: ptrace with an OBJ_PID is not a signal', () => {
    const { events } = decodeLines(all[4]!.lines);
    const p = bySerial(events, 22145057)!;
    assert.equal(p.exit137.kind, 'audit');
    assert.equal(p.auditd?.syscall, 'ptrace');
    assert.equal(p.exit137.signal, undefined);
  });

  it('osquery glog framing: the numeric-type adapter yields the kill', () => {
    const k = bySerial(decodeLines(section('malformed.log', 'osquery').lines).events, 100500)!;
    assert.equal(k.exit137.signal?.name, 'SIGKILL');
    assert.equal(k.exit137.target?.process.pid, 22650);
    assert.equal(k.user?.audit?.id, '345447');
    assert.deepEqual(k.process?.args, ['-bash']);
  });
});

describe('multi-record.log (EXPECTED §4): grouping, order, loss', () => {
  const opts = { reassembler: { maxInFlight: 5, timeoutSeconds: 2 } };
  const groups = (needle: string) => {
    const { events, decoder } = decodeLines(section('multi-record.log', needle).lines, opts);
    return { sizes: events.map((e) => [e.auditd!.serial, e.auditd!.records.length]), stats: decoder.reassemblerStats, events };
  };
  const expected = [[58, 2], [59, 5], [60, 5], [61, 4], [62, 1]];

  it('normal and out-of-order records give the same events', () => {
    assert.deepEqual(groups('testdata/normal.log').sizes, expected);
    const o = groups('out_of_order.log');
    assert.deepEqual(o.sizes, expected);
    assert.equal(o.stats.lostSerials, 0);
  });

  it('counts the 9 lost serials', () => {
    const l = groups('lost_messages.log');
    assert.deepEqual(l.sizes, [[49, 2], ...expected.slice(1)]);
    assert.equal(l.stats.lostSerials, 9);
  });

  it('the 2^32 wrap is not a gap', () => {
    const r = groups('rollover.log');
    assert.deepEqual(r.sizes.map((x) => x[0]), [4294967294, 4294967295, 0, 1, 2]);
    assert.equal(r.stats.lostSerials, 0);
  });

  it('test3: interleaved records pair up; a lone EXECVE is kept as partial; SECCOMP i386 names its syscall', () => {
    const { events } = groups('test3.log');
    assert.equal(bySerial(events, 194435)?.process?.title, 'sshd: burn [priv]');
    assert.deepEqual(bySerial(events, 194435)?.process?.args, ['sshd: burn [priv]']);
    assert.ok(bySerial(events, 1865)?.tags.includes('partial'));
    assert.equal(bySerial(events, 10262)?.auditd?.records[0], 'SECCOMP');
  });

  it('laurel reversed records and a 2.4-year backward clock jump', () => {
    const f = groups('fork-sleep-exec');
    assert.deepEqual(f.sizes, [[6104005, 6], [6104007, 1], [6104008, 6]]);
    assert.equal(bySerial(f.events, 6104007)?.auditd?.syscall, 'clone', 'aarch64 220');
    const t = groups('shell-proc-trace-reordered');
    assert.deepEqual(t.sizes.map((x) => x[0]), [29237, 29238, 29239, 29240, 29241, 29242, 29243, 29244, 29245]);
    const u = groups('auparse_test.enriched');
    assert.equal(u.sizes.length, 12);
    const e996 = bySerial(u.events, 996)!;
    assert.deepEqual(e996.auditd?.records, ['SYSCALL', 'TIME_INJOFFSET', 'PROCTITLE']);
    assert.equal(e996.process?.title, 'date -s 2023-01-01 12:00:00');
    assert.equal(bySerial(u.events, 997)?.['@timestamp'], '2023-01-01T17:00:00.001000000Z');
  });
});

describe('enriched.log (EXPECTED §3)', () => {
  it('splits at 0x1d and keeps the interpretations', () => {
    const { events } = decodeLines(section('enriched.log', 'record-execve.txt').lines);
    const e = bySerial(events, 15558)!;
    assert.equal(e.auditd?.enriched?.ARCH, 'x86_64');
    assert.equal(e.auditd?.enriched?.SYSCALL, 'execve');
    assert.equal(e.user?.audit?.name, 'user');
    assert.equal(e.user?.name, 'root');
    assert.deepEqual(e.process?.args, ['whoami']);
  });

  it('aarch64 write, braced SADDR with nested braces', () => {
    assert.equal(bySerial(decodeLines(section('enriched.log', 'record-login').lines).events, 151316)?.auditd?.syscall, 'write');
    const s = bySerial(decodeLines(section('enriched.log', 'sockaddr-unix.txt').lines).events, 1232)!;
    assert.equal(s.auditd?.warnings, undefined);
    assert.match(s.auditd?.enriched?.SADDR ?? '', /^\{ fam=local path=\/tmp\/\.\{FD2DD8D4.*\} \}$/);
  });
});

describe('malformed.log (EXPECTED §5): typed errors, never a crash', () => {
  it('a record without a stamp is a typed dead letter with its raw bytes', () => {
    const { dead } = decodeLines(section('malformed.log', 'audit-rhel7.log').lines);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.reason, 'audit-unknown-type-without-id');
    assert.equal(Buffer.from(dead[0]!.raw_b64, 'base64').toString(), 'type=UNKNOWN[1329] msg=?');
  });

  it('the lost 0x1d: key stays `test`, the glued tail is read as enrichment', () => {
    const e = decodeLines(section('malformed.log', 'wazuh').lines).events[0]!;
    assert.deepEqual(e.auditd?.key, ['test']);
    assert.equal(e.auditd?.enriched?.ARCH, 'x86_64');
    assert.ok(e.auditd?.warnings?.some((w) => w.startsWith('enrichment separator lost')));
  });

  it('lower-case hex proctitle decodes; argc=0 does not bound EXECVE', () => {
    assert.deepEqual(bySerial(decodeLines(section('malformed.log', 'nullkey').lines).events, 225)?.process?.args, ['SomeRandomProcess']);
    const ex = decodeLines(section('malformed.log', 'line-execve.txt').lines).events[0]!;
    assert.deepEqual(ex.process?.args, ['whoami']);
  });

  it('bare values with spaces (AppArmor subj) stay whole', () => {
    const e = decodeLines(section('malformed.log', 'broken-subj2').lines).events[0]!;
    assert.match(e.event.original, /enforce/);
    assert.equal(e.auditd?.warnings, undefined);
  });
});

describe('proctitle-hex.log (EXPECTED §2)', () => {
  it('0x01-separated keys and argv despite a stray quote', () => {
    const e = bySerial(decodeLines(section('proctitle-hex.log', 'ubuntu-17.04').lines).events, 124507)!;
    assert.deepEqual(e.auditd?.key, ['exec', '64bit']);
    assert.deepEqual(e.process?.args, ['docker', 'inspect', '721df12151a7']);
  });

  it('EXECVE chunks a1[0..2] join into one 8192-byte argument; PROCTITLE is cut at 128 bytes', () => {
    const e = bySerial(decodeLines(section('proctitle-hex.log', 'execve-long').lines).events, 21028)!;
    assert.equal(e.process?.args?.[1]?.length, 8192);
    assert.equal(e.auditd?.proctitle_truncated, true);
  });

  it('hex exe with (deleted)', () => {
    const e = bySerial(decodeLines(section('proctitle-hex.log', 'rhel-7-linux').lines).events, 20294)!;
    assert.equal(e.process?.executable, '/usr/lib/systemd/systemd-logind;58f98c85 (deleted)');
  });
});
