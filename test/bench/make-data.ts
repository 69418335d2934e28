import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.ts';

/**
 * Bench inputs made from real captures: the lab's audit.log (all six signal paths plus auditctl's
 * own events) repeated with fresh serials and advancing times, so the reassembler sees a long,
 * realistic stream; and journald JSON lines of the seed's dockerd messages.
 */
export async function makeAuditLog(path: string, targetBytes: number): Promise<{ bytes: number; lines: number }> {
  const src = readFileSync(join(FIXTURES, 'lab', 'audit-raw.log'), 'utf8').trim().split('\n');
  const out = createWriteStream(path);
  let bytes = 0;
  let lines = 0;
  let serialBase = 0;
  let epochBase = 1_700_000_000;
  const re = /msg=audit\((\d+)\.(\d{3}):(\d+)\)/;
  const stamps = src.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const firstEpoch = Math.min(...stamps.map((m) => Number(m[1])));
  const firstSerial = Math.min(...stamps.map((m) => Number(m[3])));
  while (bytes < targetBytes) {
    let maxSerial = 0;
    let chunk = '';
    for (const l of src) {
      const line = l.replace(re, (_m, e: string, ms: string, s: string) => {
        const serial = serialBase + Number(s) - firstSerial + 1;
        maxSerial = Math.max(maxSerial, serial);
        return `msg=audit(${epochBase + Number(e) - firstEpoch}.${ms}:${serial})`;
      });
      chunk += `${line}\n`;
      lines++;
    }
    serialBase = maxSerial;
    epochBase += 5;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { bytes, lines };
}

export async function makeJournal(path: string, targetBytes: number): Promise<{ bytes: number; lines: number }> {
  const src = readFileSync(join(FIXTURES, 'seed-004', 'messages'), 'utf8').trim().split('\n');
  const out = createWriteStream(path);
  let bytes = 0;
  let lines = 0;
  let us = 1582099207204931n;
  while (bytes < targetBytes) {
    let chunk = '';
    for (const l of src) {
      const m = /^\w+ +\d+ [\d:]+ (\S+) ([^:\[]+)(?:\[\d+\])?: (.*)$/.exec(l)!;
      us += 1000n;
      chunk += `${JSON.stringify({ __CURSOR: `s=bench;i=${lines}`, __REALTIME_TIMESTAMP: String(us), _HOSTNAME: m[1], SYSLOG_IDENTIFIER: m[2], _PID: '1234', _TRANSPORT: 'syslog', MESSAGE: m[3] })}\n`;
      lines++;
    }
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { bytes, lines };
}
