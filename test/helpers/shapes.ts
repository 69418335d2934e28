import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { decodeFiles } from './decode.ts';
import { FIXTURES } from './paths.ts';

export const SHAPES = join(FIXTURES, 'field', 'shapes');
export const shape = (dir: string, n: number) => join(SHAPES, dir, `${n}.txt`);

/** A fixed read time: where a line with no clock goes, and the year a yearless line is guessed in. */
export const READ_AT = 1_796_083_200_000_000_000n; // 2026-12-01T00:00:00Z

/** A shape example through the whole decoder at READ_AT: no dead letter, nothing dated 1970. */
export async function decodeShape(dir: string, n: number): Promise<NormalizedEvent[]> {
  const r = await decodeFiles([shape(dir, n)], { clock: { referenceNs: READ_AT } });
  assert.deepEqual(r.dead.map((d) => `${d.reason}: ${d.message}`), [], 'no dead letters');
  for (const e of r.events) assert.ok(!e['@timestamp'].startsWith('1970'), `no 1970: ${e.event.original.slice(0, 80)}`);
  return r.events;
}

export const byAction = (events: NormalizedEvent[], action: string) => events.filter((e) => e.event.action === action);
