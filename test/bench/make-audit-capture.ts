import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.ts';

/**
 * The speed issue's audit file: the lab's busy capture (the rule pack plus an all-signals rule, so
 * Go's SIGURG tgkill floods, kills by runtimes and users, execs, auditctl's own events, ENRICHED)
 * repeated with fresh serials and times per copy, never generated records. Copies sit further
 * apart than the capture is long, so each copy's deaths are deaths of their own.
 */
export const CAPTURE = join(FIXTURES, 'lab', 'containers-busy', 'audit.log');
const STAMP = /audit\((\d+)\.(\d{3}):(\d+)\)/;

export function captureShape(): { lines: string[]; spanS: number; serials: number; firstEpoch: number; firstSerial: number } {
  const lines = readFileSync(CAPTURE, 'utf8').replace(/\n$/, '').split('\n');
  let firstEpoch = Infinity;
  let lastEpoch = 0;
  let firstSerial = Infinity;
  let lastSerial = 0;
  for (const l of lines) {
    const m = STAMP.exec(l);
    if (!m) continue;
    firstEpoch = Math.min(firstEpoch, Number(m[1]));
    lastEpoch = Math.max(lastEpoch, Number(m[1]));
    firstSerial = Math.min(firstSerial, Number(m[3]));
    lastSerial = Math.max(lastSerial, Number(m[3]));
  }
  return { lines, spanS: lastEpoch - firstEpoch + 1, serials: lastSerial - firstSerial + 1, firstEpoch, firstSerial };
}

/** Writes `copies` copies of the capture; returns its size and the number of lines. */
export async function makeAuditCapture(path: string, copies: number): Promise<{ bytes: number; lines: number; copies: number }> {
  const shape = captureShape();
  const spacing = shape.spanS + 300;
  const out = createWriteStream(path);
  let bytes = 0;
  let lines = 0;
  for (let k = 0; k < copies; k++) {
    let chunk = '';
    for (const l of shape.lines) {
      chunk += `${l.replace(STAMP, (_m, e: string, ms: string, s: string) => `audit(${Number(e) + k * spacing}.${ms}:${Number(s) + k * shape.serials})`)}\n`;
    }
    lines += shape.lines.length;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { bytes, lines, copies };
}

/** Copies for about `mb` megabytes. */
export function copiesFor(mb: number): number {
  return Math.max(1, Math.round((mb * 1e6) / Buffer.byteLength(readFileSync(CAPTURE))));
}
