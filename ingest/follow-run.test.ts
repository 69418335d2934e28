import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../test/helpers/paths.ts';
import { Decoder } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { FollowSink } from './follow-run.ts';
import { followInto } from './follow-run.ts';
import { decodeInputs } from './run.ts';
import { expandInputs } from './sources/files.ts';
import { PositionStore } from './sources/follow.ts';

/**
 * A follower stopped at any moment and started again from its saved position gives, together,
 * exactly the events of reading the whole file at once: the same ids, the same times. The lab's
 * containerd log is cut inside the shim's crash dump, whose lines carry no time of their own.
 */
const LOG = readFileSync(join(FIXTURES, 'lab', 'containers', 'containerd.log'), 'utf8');

function sink(into: Map<string, NormalizedEvent>): FollowSink {
  return { event: (e) => void into.set(e.event.id, e), deadLetter: () => {}, backlogged: false, durable: async () => {} };
}

/** Follows until the file has been read and the follower has been idle a while, then stops it. */
async function followFor(path: string, positions: PositionStore, into: Map<string, NormalizedEvent>, ms: number): Promise<void> {
  const ac = new AbortController();
  const decoder = new Decoder((e) => into.set(e.event.id, e), () => {}, { host: 'lab' });
  const run = followInto(decoder, path, { id: path, path }, sink(into), { positions, signal: ac.signal, pollMs: 20 });
  await new Promise((r) => setTimeout(r, ms));
  ac.abort();
  await run;
  // what the decoder still held is lost with it, as in a crash: the position must cover it
}

describe('a follower stopped and resumed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-resume-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the events of one whole read: cut inside a crash dump, and across a rotation', async () => {
    const lines = LOG.split(/(?<=\n)/);
    const inDump = lines.findIndex((l) => l.startsWith('goroutine 1 ['));
    assert.ok(inDump > 0, 'the lab log has the shim crash dump');
    const log = join(dir, 'containerd.log');
    const positions = new PositionStore(join(dir, 'pos.json'));
    const got = new Map<string, NormalizedEvent>();

    writeFileSync(log, lines.slice(0, inDump).join(''));
    await followFor(log, positions, got, 300);
    const saved = await positions.load();
    assert.ok(saved && saved.offset < Buffer.byteLength(lines.slice(0, inDump).join('')), 'the position stays before the open crash dump');
    assert.ok(saved.stamp, 'with the time in effect there');

    // the rest is written while the follower is down, then the file is rotated and a new one begun
    const rest = lines.slice(inDump);
    const half = Math.floor(rest.length / 2);
    appendFileSync(log, rest.slice(0, half).join(''));
    renameSync(log, `${log}.1`);
    writeFileSync(log, rest.slice(half).join(''));
    // long enough for the wall-clock idle expiry of what is left open at the end (5 s)
    await followFor(log, positions, got, 6000);

    const whole = new Map<string, NormalizedEvent>();
    await decodeInputs(await expandInputs([`${log}.1`, log], { host: 'lab' }), { event: (e) => void whole.set(e.event.id, e), deadLetter: () => {} });
    assert.deepEqual([...got.keys()].filter((id) => !whole.has(id)), [], 'no event a whole read does not give');
    assert.deepEqual([...whole.keys()].filter((id) => !got.has(id)), [], 'none missing');
    for (const [id, e] of whole) assert.equal(got.get(id)!['@timestamp'], e['@timestamp'], `same time for ${e.event.action} at ${e.log.offset}`);
    const crash = [...got.values()].find((e) => e.exit137.kind === 'go-crash');
    assert.ok(crash && crash.exit137.time.basis !== 'relative', 'the crash dump has the time of the line before it');
  });
});

describe('the zone learned from a node’s zoned lines survives a restart', () => {
  // rsyslog in Asia/Shanghai: the prefix is local time without a zone; containerd's time= is UTC
  const zoned = 'Nov 24 14:59:45 vm containerd: time="2026-11-24T06:59:45.139625745Z" level=info msg="starting containerd"';
  const unzoned = 'Nov 24 15:00:50 vm kernel: something the kernel said';

  it('a resumed decoder reads unzoned lines with the saved offset, as the first one did', () => {
    const ref = { id: 'messages', key: 'fp:test' };
    const decoder = () => {
      const events: NormalizedEvent[] = [];
      return { d: new Decoder((e) => events.push(e), () => {}), events };
    };
    const read = (d: Decoder, lines: string[], from: number) => lines.forEach((l, i) => d.pushLine(ref, l, from + i * 200, i + 1));
    const first = decoder();
    read(first.d, [zoned], 0);
    const saved = first.d.resumePoint('messages').stamp!;
    assert.deepEqual(saved.zones, { vm: 480 });

    const resumed = decoder();
    resumed.d.primeInput(ref, JSON.parse(JSON.stringify(saved)));
    read(resumed.d, [unzoned], 200);
    resumed.d.end();
    assert.deepEqual(resumed.events.map((e) => [e.exit137.time.basis, e['@timestamp']]), [['learned', '2026-11-24T07:00:50.000000000Z']]);

    // without the saved zone the same line is read as UTC, and says it assumed so
    const cold = decoder();
    read(cold.d, [unzoned], 200);
    cold.d.end();
    assert.deepEqual(cold.events.map((e) => e.exit137.time.basis), ['assumed']);
  });
});
