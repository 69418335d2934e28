import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pasteMutation as pasteMutationOf } from '../../test/helpers/paste-mutation.ts';
import { Decoder } from '../decoder.ts';
import { NormalizedEvent } from '../event.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { countTarget } from './cgroup-count.ts';
import { cgroupCreateError } from './cgroup-errors.ts';
import { parseRow as parseCgroupsRow } from './proc-cgroups.ts';
import { headerColumns, parseRow, shimContainerId } from './ps-tree.ts';

/** The real pastes of the node-state shapes, and the field cases that hold them. */
const SHAPES = ['proc-cgroups', 'cgroup-ls-count', 'cgroup-leak-errors', 'ps-tree', 'systemd-cgls', 'proc-stack', 'sysrq-dump'];
const CASES = ['memcg-leak-cri-o-1839', 'memcg-leak-moby-30909', 'memcg-leak-moby-35545', 'memcg-leak-moby-27576-b', 'memcg-leak-cloud-atlas-cannot-allocate-memory', 'stuck-kill-moby-31007', 'stuck-kill-moby-42883', 'stuck-kill-moby-35910', 'cgroup-teardown-freeze-kernel-bugzilla-30432', 'cgroup-teardown-freeze-lkml-wait-dying-rmdir-a', 'cgroup-teardown-freeze-linux-79f919a89c9d'];
const files = [
  ...SHAPES.flatMap((s) => readdirSync(join(FIXTURES, 'field', 'shapes', s)).filter((f) => f.endsWith('.txt')).map((f) => join(FIXTURES, 'field', 'shapes', s, f))),
  ...CASES.flatMap((c) => readdirSync(join(FIXTURES, 'field', 'cases', c)).filter((f) => f !== 'case.json').map((f) => join(FIXTURES, 'field', 'cases', c, f))),
];
const read = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '');
const pastes = files.map(read);
const realLines = pastes.flat();
/** The shapes' own examples, with no daemon line whose envelope another reader owns. */
const shapePastes = files.filter((f) => f.includes(`${join('field', 'shapes')}`)).map(read);

const charMutation = fc.tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 })).map(([line, a, b, ins]) => {
  const i = a % (line.length + 1);
  const j = Math.min(line.length, i + (b % 16));
  return line.slice(0, i) + ins + line.slice(j);
});

/** What a paste goes through: lines dropped or doubled, re-indented, quoted, cut, columns squeezed. */
const pasteMutation = pasteMutationOf(shapePastes, ['drop', 'double', 'indent', 'dedent', 'quote', 'cut', 'squeeze']);

function decodeAll(lines: string[]) {
  const events: NormalizedEvent[] = [];
  const d = new Decoder((e) => events.push(NormalizedEvent.parse(e)), () => {});
  lines.forEach((l, i) => d.pushLine({ id: 'fuzz' }, l, i * 100, i + 1));
  d.endInput({ id: 'fuzz' });
  d.end();
  return { events, lines: d.counters.get('lines') };
}

describe('pasted node state never throws out of the decoder', () => {
  it('mutated real lines: every event schema-valid, every line counted', () => {
    fc.assert(
      fc.property(fc.array(charMutation, { minLength: 1, maxLength: 30 }), (lines) => {
        assert.equal(decodeAll(lines).lines, lines.length);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated whole pastes: each line is some event’s text (a block keeps its lines, a count without its answer stays a line)', () => {
    fc.assert(
      fc.property(pasteMutation, (lines) => {
        const { events } = decodeAll(lines);
        const norm = (l: string) => l.trim().replace(/^(?:> ?)+/, '').trim();
        const seen = new Set(events.flatMap((e) => e.event.original.split('\n').map(norm)));
        for (const l of lines) if (norm(l) !== '') assert.ok(seen.has(norm(l)), `line left out: ${JSON.stringify(l)}`);
      }),
      { numRuns: 200 },
    );
  });

  it('the readers’ own parsers are total on any text', () => {
    fc.assert(
      fc.property(fc.oneof(charMutation, fc.string({ unit: 'grapheme', maxLength: 300 })), (t) => {
        cgroupCreateError(t);
        countTarget(t);
        parseCgroupsRow(t);
        shimContainerId(t);
        const cols = headerColumns(t);
        parseRow(t, cols ?? ['PID', 'TTY', 'STAT', 'TIME', 'COMMAND']);
      }),
      { numRuns: 2000 },
    );
  });
});
