import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAuditRecord } from './audit/record.ts';
import { Decoder } from './decoder.ts';
import type { Format } from './detect.ts';
import { FORMATS } from './detect.ts';
import { NormalizedEvent } from './event.ts';
import { readLines } from './sources/lines.ts';
import { base36x11, eventId } from './source-identity.ts';
import { formatNanos } from './time/instant.ts';
import { FIXTURES, sharedPath } from '../test/helpers/paths.ts';

/** Real lines to mutate: the seed, the shared audit corpus. */
const realLines = [
  ...readFileSync(join(FIXTURES, 'seed-004', 'messages'), 'utf8').split('\n'),
  ...readFileSync(join(FIXTURES, 'seed-004', 'ausearch.txt'), 'utf8').split('\n'),
  ...['kill-signals.log', 'malformed.log', 'enriched.log', 'proctitle-hex.log'].flatMap((f) => readFileSync(sharedPath('corpus', 'audit', f), 'utf8').split('\n')),
].filter((l) => l && !l.startsWith('#'));

const mutation = fc.tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 })).map(([line, a, b, ins]) => {
  const i = a % (line.length + 1);
  const j = Math.min(line.length, i + (b % 16));
  return line.slice(0, i) + ins + line.slice(j);
});

function decodeAll(lines: string[], format?: Format) {
  let events = 0;
  let dead = 0;
  const d = new Decoder(
    (e) => {
      NormalizedEvent.parse(e);
      events++;
    },
    () => dead++,
  );
  const ref = format ? { id: 'fuzz', format } : { id: 'fuzz' };
  lines.forEach((l, i) => d.pushLine(ref, l, i * 100, i + 1));
  d.endInput(ref);
  d.end();
  return { events, dead, lines: d.counters.get('lines') };
}

describe('bad input never throws out of a decoder', () => {
  it('mutated real lines, every format, every event schema-valid', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 30 }), fc.option(fc.constantFrom(...FORMATS), { nil: undefined }), (lines, format) => {
        const r = decodeAll(lines, format);
        assert.equal(r.lines, lines.length);
      }),
      { numRuns: 400 },
    );
  });

  it('random text', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 200 }), { maxLength: 20 }), (lines) => {
        decodeAll(lines);
      }),
      { numRuns: 300 },
    );
  });

  it('the audit(epoch:serial) stamp: read exactly when well formed, refused otherwise', () => {
    const digits = (max: number) => fc.array(fc.constantFrom(...'0123456789'), { maxLength: max }).map((d) => d.join(''));
    fc.assert(
      fc.property(fc.constantFrom('msg=', ''), digits(14), fc.option(digits(11)), digits(12), fc.boolean(), (prefix, whole, frac, serial, colon) => {
        const epoch = frac === null ? whole : `${whole}.${frac}`;
        const r = parseAuditRecord(`${prefix === '' ? 'audit: type=1300 ' : 'type=SYSCALL '}${prefix}audit(${epoch}:${serial})${colon ? ':' : ''} pid=1`);
        const wellFormed = whole.length >= 1 && whole.length <= 12 && (frac === null || (frac.length >= 1 && frac.length <= 9)) && serial.length >= 1 && serial.length <= 10 && Number(serial) <= 0xffffffff;
        assert.equal(r.ok, wellFormed, epoch + ':' + serial);
        if (r.ok) {
          assert.equal(r.record.epoch, epoch);
          assert.equal(r.record.serial, Number(serial));
          const ms = Number(epoch) * 1000;
          assert.ok(Math.abs(r.record.ms - ms) <= 1e-3 + ms * 1e-12, `${r.record.ms} for ${epoch}`);
          assert.equal(r.record.ns, BigInt(whole) * 10n ** 9n + BigInt((frac ?? '').padEnd(9, '0')));
          assert.deepEqual(r.record.fields, [{ key: 'pid', value: '1', form: 'bare' }]);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parseAuditRecord is total', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      const r = parseAuditRecord(`type=SYSCALL msg=audit(1.1:1): ${s}`);
      assert.ok(r.ok || r.error.reason.length > 0);
    }));
  });

  it('random bytes through the line reader: every line accounted for', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), fc.integer({ min: 8, max: 256 }), async (bytes, max) => {
        const buf = Buffer.from(bytes);
        const lines = [];
        for await (const l of readLines([buf.subarray(0, 1000), buf.subarray(1000)], max)) lines.push(l);
        const expected = buf.length === 0 ? 0 : buf.toString('latin1').split('\n').length - (buf[buf.length - 1] === 0x0a ? 1 : 0);
        assert.equal(lines.length, expected);
        for (const l of lines) if (l.kind === 'oversize') assert.ok(l.length > max);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the line reader gives the same lines however the bytes are chunked', () => {
  // the ASCII fast path and the byte path must agree: same text, offsets, kinds and line numbers
  const piece = fc.oneof(
    fc.constantFrom('type=SYSCALL msg=audit(1.1:1): a0=9', '\r', 'é', '\u00ff', '😀', '', 'x'.repeat(40)),
    fc.string({ maxLength: 30 }),
    fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')),
  );
  const input = fc.array(fc.tuple(fc.array(piece, { maxLength: 4 }), fc.boolean()), { maxLength: 30 }).map((ls) =>
    Buffer.concat(ls.map(([parts, raw]) => Buffer.concat([Buffer.from(parts.join(''), raw ? 'latin1' : 'utf8'), Buffer.from('\n')]))),
  );
  const read = async (chunks: Buffer[], max: number) => {
    const out = [];
    for await (const l of readLines(chunks, max)) out.push(l);
    return out;
  };

  it('random cuts against one byte per chunk', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 8, max: 120 }), async (buf, cuts, max) => {
        const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i, all) => buf.subarray(from, all[i + 1] ?? buf.length)).filter((c) => c.length > 0);
        const bytewise = await read([...buf].map((b) => Buffer.from([b])), max);
        assert.deepEqual(await read(chunks, max), bytewise);
        assert.deepEqual(await read([buf], max), bytewise);
      }),
      { numRuns: 400 },
    );
  });
});

describe('event ids', () => {
  it('the base-36 digits are exactly what toString(36) gives, so ids stored before stay the same', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => assert.equal(base36x11(n), n.toString(36).padStart(11, '0'))), { numRuns: 20_000 });
    for (const n of [0, 35, 36, 36 ** 4 - 1, 36 ** 4, 36 ** 8, Number.MAX_SAFE_INTEGER]) assert.equal(base36x11(n), n.toString(36).padStart(11, '0'));
    // an id Elasticsearch already holds for this key
    assert.equal(eventId('a|b|c:1'), '18k6km7lb290p72s11d513');
  });

  it('timestamps read off the digits are what BigInt arithmetic gives, on both sides of 2001 and the epoch', () => {
    const reference = (ns: bigint): string => {
      let sec = ns / 1_000_000_000n;
      let frac = ns % 1_000_000_000n;
      if (frac < 0n) {
        frac += 1_000_000_000n;
        sec -= 1n;
      }
      return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
    };
    const instants = fc.bigInt({ min: -(10n ** 18n), max: 4102444800n * 10n ** 9n });
    fc.assert(fc.property(fc.array(instants, { minLength: 1, maxLength: 4 }), (list) => {
      for (const ns of list) assert.equal(formatNanos(ns), reference(ns), ns.toString());
    }), { numRuns: 5000 });
    for (const ns of [0n, 1n, -1n, 999_999_999n, 10n ** 18n - 1n, 10n ** 18n, 1_582_099_207_232_000_000n]) assert.equal(formatNanos(ns), reference(ns));
  });
});

describe('bounded memory on hostile input', () => {
  it('a panic that never ends is cut, reported as cut, and the stream goes on', () => {
    const lines = ['panic: boom', 'goroutine 1 [running]:', ...Array.from({ length: 10_000 }, (_, i) => (i % 2 ? '/go/src/x.go:1 +0x1' : 'main.f(...)')), 'time="2020-01-01T00:00:00Z" level=info msg="after"'];
    const events: NormalizedEvent[] = [];
    const d = new Decoder((e) => events.push(e), () => {});
    lines.forEach((l, i) => d.pushLine({ id: 'x' }, l, i, i + 1));
    d.end();
    const crashes = events.filter((e) => e.exit137.kind === 'go-crash');
    assert.equal(crashes.length, 1);
    assert.ok(crashes[0]!.tags.includes('incomplete'));
    assert.equal(crashes[0]!.event.original.split('\n').length, 4000, 'held at most MAX_BLOCK_LINES');
    assert.equal(d.counters.get('block_cut_go-crash'), 1);
    // The lines past the cut are still read, as plain lines: nothing is dropped.
    assert.equal(events.length, 1 + (lines.length - 4000));
    assert.equal(events.at(-1)?.message, 'after');
  });

  it('a gigantic line goes to the dead letters with its head and length', async () => {
    const big = Buffer.alloc(3 << 20, 0x61);
    const out = [];
    for await (const l of readLines([Buffer.from('ok\n'), big, Buffer.from('\nnext\n')], 1 << 20)) out.push(l);
    assert.deepEqual(out.map((l) => l.kind), ['line', 'oversize', 'line']);
    assert.equal(out[1]!.kind === 'oversize' && out[1]!.length, 3 << 20);
    assert.equal(out[2]!.offset, 3 + (3 << 20) + 1);
  });
});
