import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pasteMutation as pasteMutationOf } from '../../test/helpers/paste-mutation.ts';
import { Decoder } from '../decoder.ts';
import type { Format } from '../detect.ts';
import { FORMATS } from '../detect.ts';
import { NormalizedEvent } from '../event.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { parseDockerCliError } from './docker-cli-error.ts';
import { parseDockerEventText } from './docker-events-text.ts';
import { lenientJson } from './documents.ts';
import { parseEventRow } from './kube-events.ts';

/** The real pastes these readers were written for: their shapes and the field cases that hold them. */
const SHAPES = ['kubectl-describe-pod', 'kubectl-get-events', 'kubectl-get-events-json-yaml', 'kubectl-get-pod-json-yaml', 'docker-inspect', 'crictl-inspect', 'docker-events-text', 'docker-cli-error', 'docker-ps-a', 'crictl-ps-a', 'ctr-tasks-ls', 'containerd-old-events'];
const files = SHAPES.flatMap((s) => {
  const dir = join(FIXTURES, 'field', 'shapes', s);
  return readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => join(dir, f));
});
const pastes = files.map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== ''));
const realLines = pastes.flat();

const charMutation = fc.tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 })).map(([line, a, b, ins]) => {
  const i = a % (line.length + 1);
  const j = Math.min(line.length, i + (b % 16));
  return line.slice(0, i) + ins + line.slice(j);
});

/** What a paste goes through: cut, lines dropped or doubled, re-indented, quoted, a prompt before a line. */
const pasteMutation = pasteMutationOf(pastes, ['drop', 'double', 'indent', 'dedent', 'quote', 'prompt', 'cut', 'tabs']);

function decodeAll(lines: string[], format?: Format) {
  const events: NormalizedEvent[] = [];
  let dead = 0;
  const deadRaw: string[] = [];
  const d = new Decoder(
    (e) => events.push(NormalizedEvent.parse(e)),
    (x) => {
      dead++;
      deadRaw.push(Buffer.from(x.raw_b64, 'base64').toString('utf8'));
    },
  );
  const ref = format ? { id: 'fuzz', format } : { id: 'fuzz' };
  lines.forEach((l, i) => d.pushLine(ref, l, i * 100, i + 1));
  d.endInput(ref);
  d.end();
  return { events, dead, deadRaw, lines: d.counters.get('lines') };
}

describe('pasted CLI output never throws out of the decoder', () => {
  it('mutated real lines of the CLI shapes, any format: every event schema-valid, every line counted', () => {
    fc.assert(
      fc.property(fc.array(charMutation, { minLength: 1, maxLength: 30 }), fc.option(fc.constantFrom(...FORMATS), { nil: undefined }), (lines, format) => {
        assert.equal(decodeAll(lines, format).lines, lines.length);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated whole pastes (lines dropped, doubled, re-indented, quoted, cut): no line an unframed read leaves out', () => {
    fc.assert(
      fc.property(pasteMutation, (lines) => {
        const { events, deadRaw } = decodeAll(lines);
        // a line no reader could read is still a plain log line or a dead letter with its bytes:
        // each is some event's or dead letter's text (a quoted line may be kept as the line it quotes)
        const norm = (l: string) => l.replace(/^(?:> ?)+/, '').trim();
        const seen = new Set([...events.flatMap((e) => e.event.original.split('\n')), ...deadRaw.flatMap((r) => r.split('\n'))].map(norm));
        for (const l of lines) if (norm(l) !== '' && !/^\$ /.test(l)) assert.ok(seen.has(norm(l)), `line left out: ${JSON.stringify(l)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('the readers themselves are total on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), charMutation), (s) => {
        parseEventRow(s);
        lenientJson(s);
        parseDockerEventText(s);
        parseDockerCliError(s);
      }),
      { numRuns: 2000 },
    );
  });
});
