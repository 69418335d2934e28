import { readFileSync } from 'node:fs';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import type { Decoder, DecoderOptions, InputRef } from '../../ingest/decoder.ts';
import { NormalizedEvent } from '../../ingest/event.ts';
import { decodeInputs } from '../../ingest/run.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { Decoder as DecoderClass } from '../../ingest/decoder.ts';

export type Decoded = { events: NormalizedEvent[]; dead: DeadLetter[]; decoder: Decoder };

/** Decodes files exactly as `exit137 decode` does, and checks every event against the schema. */
export async function decodeFiles(paths: string[], opts: DecoderOptions = {}, inputOpts: { host?: string } = {}): Promise<Decoded> {
  const events: NormalizedEvent[] = [];
  const dead: DeadLetter[] = [];
  const decoder = await decodeInputs(await expandInputs(paths, inputOpts), { event: (e) => events.push(NormalizedEvent.parse(e)), deadLetter: (d) => dead.push(d) }, opts);
  return { events, dead, decoder };
}

/** Decodes lines given in memory (one input). */
export function decodeLines(lines: string[], opts: DecoderOptions = {}, ref: InputRef = { id: 'test' }): Decoded {
  const events: NormalizedEvent[] = [];
  const dead: DeadLetter[] = [];
  const decoder = new DecoderClass((e) => events.push(NormalizedEvent.parse(e)), (d) => dead.push(d), opts);
  let offset = 0;
  lines.forEach((l, i) => {
    decoder.pushLine(ref, l, offset, i + 1);
    offset += Buffer.byteLength(l) + 1;
  });
  decoder.endInput(ref);
  decoder.end();
  return { events, dead, decoder };
}

export type CorpusSection = { source: string; lines: string[] };

/** A shared corpus file split at its `# source:` headers, comments and blank lines removed. */
export function corpusSections(path: string): CorpusSection[] {
  const out: CorpusSection[] = [];
  let cur: CorpusSection | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('# source:')) {
      cur = { source: line.slice(10), lines: [] };
      out.push(cur);
    } else if (line.startsWith('#') || line.trim() === '') continue;
    else cur?.lines.push(line);
  }
  return out;
}
