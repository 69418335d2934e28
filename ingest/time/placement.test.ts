import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Decoder } from '../decoder.ts';
import { NormalizedEvent } from '../event.ts';
import { decodeFiles, decodeLines } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { parseIsoNanos } from './instant.ts';
import { MAX_HELD } from './placement.ts';

/**
 * Time when the input does not say it (issue #13): a yearless line takes the year of the input's
 * own instants, kernel seconds since boot are placed by what ties them to the wall clock, and
 * nothing is dated 1970. Real examples: field shapes and the lab's captures.
 */
const READ_AT = 1_796_083_200_000_000_000n; // 2026-12-01T00:00:00Z
const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
const iso = (s: string) => {
  const t = parseIsoNanos(s);
  assert.ok(t.ok);
  return t.ns;
};
const near = (a: bigint, b: bigint, ns: bigint) => (a > b ? a - b : b - a) <= ns;

describe('a wall clock without a year', () => {
  it('takes the year of an instant further down the same input (k8s#91914: kubelet before dockerd’s 2020)', async () => {
    const { events } = await decodeFiles([shape('journal-short', 2)], { clock: { referenceNs: READ_AT } });
    const kubelet = events.find((e) => e.exit137.source === 'kubelet')!;
    assert.equal(kubelet['@timestamp'], '2020-06-08T15:36:12.678326000Z');
    assert.equal(kubelet.exit137.time.year_inferred, true);
  });

  it('without one, keeps the year the read time gives, and says it was inferred', () => {
    const { events } = decodeLines(lines(shape('journal-short', 5)), { clock: { referenceNs: READ_AT } });
    for (const e of events) {
      assert.equal(e['@timestamp'], '2025-12-11T18:55:43.000000000Z');
      assert.ok(e.tags.includes('year_inferred') && e.tags.includes('zone_assumed'));
    }
  });

  it('a year the user configured is used as given, never moved', () => {
    const { events } = decodeLines(lines(shape('journal-short', 2)), { clock: { year: 2019 } });
    assert.equal(events.find((e) => e.exit137.source === 'kubelet')!['@timestamp'], '2019-06-08T15:36:12.678326000Z');
  });
});

describe('kernel seconds since boot', () => {
  it('with nothing to tie them: order and spacing kept, the last line at the read time, basis relative, never 1970', () => {
    const { events } = decodeLines(lines(shape('dmesg-plain', 7)), { clock: { referenceNs: READ_AT } });
    assert.equal(events.length, 5);
    const last = events.at(-1)!;
    assert.equal(last['@timestamp'], '2026-12-01T00:00:00.000000000Z');
    assert.equal(last.exit137.time.since_boot_ns, '625412489837000');
    for (const e of events) {
      assert.equal(e.exit137.time.basis, 'relative');
      assert.ok(e.tags.includes('time_relative'));
      assert.equal(BigInt(last.exit137.ts_ns) - BigInt(e.exit137.ts_ns), 625412489837000n - BigInt(e.exit137.time.since_boot_ns!));
    }
  });

  it('--boot-time places them as given (absolute)', () => {
    const boot = iso('2026-11-24T05:59:50Z');
    const { events } = decodeLines(lines(shape('dmesg-plain', 3)), { bootNs: boot });
    assert.equal(events[0]!.exit137.time.basis, 'absolute');
    assert.equal(BigInt(events[0]!.exit137.ts_ns), boot + 7063247407000n);
  });

  it('tied by a syslog kernel line that carries both the wall clock and its own [secs] (containerd#8921)', () => {
    // journal-short/4 has `Aug  5 07:27:14 DOCKER-RYZEN kernel: [86813.898404] br-…`; dmesg on that node
    // prints the same line as `[86813.898466] veth51903d5: renamed from eth0`
    const events: NormalizedEvent[] = [];
    const dec = new Decoder((e) => events.push(NormalizedEvent.parse(e)), () => {}, { clock: { referenceNs: READ_AT } });
    const syslog = { id: 'messages' };
    lines(shape('journal-short', 4)).forEach((l, i) => dec.pushLine(syslog, l, i * 300, i + 1));
    dec.endInput(syslog);
    const dmesg = { id: 'dmesg', host: 'DOCKER-RYZEN' };
    dec.pushLine(dmesg, '[86813.898466] veth51903d5: renamed from eth0', 0, 1);
    dec.endInput(dmesg);
    dec.end();
    const tied = events.find((e) => e.log.file === undefined && e.event.original.startsWith('[86813'))!;
    assert.equal(tied.exit137.time.basis, 'anchored');
    assert.equal(tied.exit137.time.tie, 'kernel-line');
    assert.equal(tied.exit137.time.since_boot_ns, '86813898466000');
    assert.ok(!tied.tags.includes('time_relative'));
    // 07:27:14 +02:00 (the zone containerd's lines taught), to the second the syslog prefix has
    assert.ok(near(BigInt(tied.exit137.ts_ns), iso('2023-08-05T05:27:14Z'), 1_000_000_000n), tied['@timestamp']);
  });

  it('tied by the same kernel lines read with dmesg’s stamp and with a wall clock (the lab’s dmesg and dmesg --time-format iso)', async () => {
    const dir = join(FIXTURES, 'lab', 'kernel');
    const { events } = await decodeFiles([join(dir, 'dmesg.txt'), join(dir, 'dmesg-iso.txt')], { clock: { referenceNs: READ_AT } });
    const ooms = events.filter((e) => e.exit137.kind === 'kernel-oom');
    const relative = ooms.filter((e) => e.exit137.time.since_boot_ns !== undefined);
    const wall = ooms.filter((e) => e.exit137.time.since_boot_ns === undefined);
    assert.equal(relative.length, 3);
    for (const [i, e] of relative.entries()) {
      assert.equal(e.exit137.time.basis, 'anchored');
      assert.equal(e.exit137.time.tie, 'dmesg-T');
      assert.ok(near(BigInt(e.exit137.ts_ns), BigInt(wall[i]!.exit137.ts_ns), 1_000_000n), `${e['@timestamp']} vs ${wall[i]!['@timestamp']}`);
    }
  });

  it('tied by the runtime’s record of the same OOM kill (the lab’s docker oom event and its kernel report)', () => {
    // the lab's dmesg as plain dmesg prints it: the same buffer, stamps in seconds since a boot
    const boot = iso('2026-11-24T05:59:50Z');
    const plain = lines(join(FIXTURES, 'lab', 'containers', 'dmesg.txt')).map((l) => {
      const m = /^(\S+) (.*)$/.exec(l)!;
      const ns = iso(m[1]!.replace(',', '.')) - boot;
      return `[${String(ns / 1_000_000_000n).padStart(5)}.${String((ns % 1_000_000_000n) / 1000n).padStart(6, '0')}] ${m[2]}`;
    });
    const events: NormalizedEvent[] = [];
    const dec = new Decoder((e) => events.push(NormalizedEvent.parse(e)), () => {}, { clock: { referenceNs: READ_AT } });
    const kmsg = { id: 'dmesg' };
    plain.forEach((l, i) => dec.pushLine(kmsg, l, i * 200, i + 1));
    dec.endInput(kmsg);
    const docker = { id: 'docker-events.json' };
    lines(join(FIXTURES, 'lab', 'containers', 'docker-events.json')).forEach((l, i) => dec.pushLine(docker, l, i * 400, i + 1));
    dec.endInput(docker);
    dec.end();
    const oom = events.find((e) => e.exit137.kind === 'kernel-oom' && e.container?.id === 'c03bd789cf44e7b43a5719aeceb61dd58243e0a9f733b2c78125b7003d12ecab')!;
    assert.equal(oom.exit137.time.basis, 'anchored');
    assert.equal(oom.exit137.time.tie, 'runtime-oom');
    // the kernel wrote it at 06:59:57.248; docker reported it a moment later
    assert.ok(near(BigInt(oom.exit137.ts_ns), iso('2026-11-24T06:59:57.248Z'), 2_000_000_000n), oom['@timestamp']);
  });
});

describe('lines with no clock at all', () => {
  it('the first lines of an input take the first time it gives (a prompt before a syslog excerpt)', () => {
    const { events } = decodeLines(['$ journalctl -u docker', ...lines(shape('journal-short', 1))], { clock: { referenceNs: READ_AT } });
    assert.equal(events[0]!.message, '$ journalctl -u docker');
    assert.equal(events[0]!['@timestamp'], events[1]!['@timestamp']);
    assert.equal(events[0]!.exit137.time.basis, 'absolute');
    assert.deepEqual(events.map((e) => e.log.line), [1, 2, 3], 'in the order they were read');
  });

  it('an input with no time anywhere is placed at the read time, relative', () => {
    const { events } = decodeLines(lines(shape('proc-stack', 2)), { clock: { referenceNs: READ_AT } });
    assert.equal(events.length, 1);
    assert.equal(events[0]!['@timestamp'], '2026-12-01T00:00:00.000000000Z');
    assert.equal(events[0]!.exit137.time.basis, 'relative');
    assert.equal(events[0]!.exit137.time.since_boot_ns, undefined);
  });
});

describe('a follower holds nothing past its idle tick', () => {
  it('lines in seconds since boot go out at the tick, their placement fixed for what follows; the resume point covers them until then', () => {
    const out: NormalizedEvent[] = [];
    const d = new Decoder((e) => out.push(e), () => {}, { clock: { referenceNs: READ_AT } });
    const ref = { id: 'journal' };
    const mono = lines(shape('journal-short-monotonic', 1));
    mono.slice(0, 6).forEach((l, i) => d.pushLine(ref, l, i * 100, i + 1));
    assert.equal(out.length, 0, 'held: a tie may still come');
    assert.equal(d.resumePoint('journal').offset, 0, 'a restart reads them again');
    d.tick();
    assert.equal(out.length, 6);
    assert.equal(out[5]!['@timestamp'], '2026-12-01T00:00:00.000000000Z', 'the last line read is placed at the read time');
    mono.slice(6).forEach((l, i) => d.pushLine(ref, l, (i + 6) * 100, i + 7));
    d.tick();
    assert.equal(out.length, 12);
    // the later lines keep to the placement fixed at the first tick: spacing as the stamps say
    assert.equal(BigInt(out[11]!.exit137.ts_ns) - BigInt(out[5]!.exit137.ts_ns), 21147092000n - 21045077000n);
    assert.equal(d.resumePoint('journal').offset, undefined, 'nothing held');
  });

  it('at most MAX_HELD events wait, whatever the input', () => {
    let n = 0;
    const d = new Decoder(() => n++, () => {}, { clock: { referenceNs: READ_AT } });
    const ref = { id: 'big' };
    for (let i = 0; i < MAX_HELD + 10; i++) d.pushLine(ref, `[${1000 + i}.000000] line ${i}`, i * 30, i + 1);
    assert.ok(n >= MAX_HELD, `${n} events out before the end`);
    d.end();
    assert.equal(n, MAX_HELD + 10);
  });
});
