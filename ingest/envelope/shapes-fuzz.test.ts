import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Decoder } from '../decoder.ts';
import { FORMATS } from '../detect.ts';
import { NormalizedEvent } from '../event.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

/**
 * The journal, kernel-text and ausearch shapes mutated (bytes replaced, lines cut, joined,
 * reordered): no reader throws, every event is schema-valid, none is dated 1970, and every line
 * read is accounted for.
 */
const SHAPES = join(FIXTURES, 'field', 'shapes');
const MINE = /^(ausearch|dmesg|journal|kernel|oom-cut|proc-stack|sysrq)/;
const examples = readdirSync(SHAPES)
  .filter((d) => MINE.test(d))
  .flatMap((d) => readdirSync(join(SHAPES, d)).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(SHAPES, d, f), 'utf8').split('\n').filter((l) => l.length > 0)));
const allLines = examples.flat();

const mutate = (line: string, a: number, b: number, ins: string) => {
  const i = a % (line.length + 1);
  return line.slice(0, i) + ins + line.slice(Math.min(line.length, i + (b % 24)));
};

function decodeAll(lines: string[], format?: (typeof FORMATS)[number], tick = false): void {
  let dead = 0;
  const d = new Decoder(
    (e) => {
      NormalizedEvent.parse(e);
      assert.ok(!e['@timestamp'].startsWith('1970'), e.event.original.slice(0, 120));
    },
    () => dead++,
    { clock: { referenceNs: 1_796_083_200_000_000_000n } },
  );
  const ref = format ? { id: 'fuzz', format } : { id: 'fuzz' };
  lines.forEach((l, i) => {
    d.pushLine(ref, l, i * 100, i + 1);
    if (tick && i % 7 === 3) d.tick();
  });
  d.endInput(ref);
  d.end();
  assert.equal(d.counters.get('lines'), lines.length);
}

describe('mutated journal, kernel and ausearch shapes never throw out of the decoder', () => {
  it('a real example with lines mutated, dropped, doubled or swapped, any forced format, ticks between', () => {
    const example = fc.constantFrom(...examples);
    const edit = fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('mutate', 'drop', 'double', 'swap', 'join'));
    fc.assert(
      fc.property(example, fc.array(edit, { maxLength: 6 }), fc.option(fc.constantFrom(...FORMATS), { nil: undefined }), fc.boolean(), (lines, edits, format, tick) => {
        const ls = [...lines];
        for (const [at, a, b, ins, op] of edits) {
          if (ls.length === 0) break;
          const i = at % ls.length;
          if (op === 'mutate') ls[i] = mutate(ls[i]!, a, b, ins);
          else if (op === 'drop') ls.splice(i, 1);
          else if (op === 'double') ls.splice(i, 0, ls[i]!);
          else if (op === 'swap' && i + 1 < ls.length) [ls[i], ls[i + 1]] = [ls[i + 1]!, ls[i]!];
          else if (op === 'join' && i + 1 < ls.length) ls.splice(i, 2, ls[i]! + ins + ls[i + 1]!);
        }
        decodeAll(ls, format, tick);
      }),
      { numRuns: 300 },
    );
  });

  it('single mutated lines of every example, mixed into one paste', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...allLines), fc.nat(), fc.nat(), fc.string({ unit: 'grapheme', maxLength: 8 })), { minLength: 1, maxLength: 40 }), (picked) => {
        decodeAll(picked.map(([l, a, b, ins]) => mutate(l, a, b, ins)));
      }),
      { numRuns: 300 },
    );
  });
});
