import { parseIsoNanos } from '../time/instant.ts';
import type { EnvelopeResult } from './message.ts';
import { fail } from './message.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Kernel messages as the tools print them:
 *   `[  123.456789] text`                       dmesg (seconds since boot)
 *   `[Tue Nov 24 06:30:01 2026] text`           dmesg -T (local time; the zone is the reader's)
 *   `2026-11-24T06:30:01,123456+00:00 text`     dmesg --time-format iso
 *   `6,1234,5678901,-;text`                     /dev/kmsg (microseconds since boot)
 */
export function parseKmsg(line: string): EnvelopeResult {
  let m = /^\[\s*(\d+)\.(\d{1,9})\] ?(.*)$/s.exec(line);
  if (m) {
    const ns = BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!.padEnd(9, '0'));
    return { ok: true, env: { text: m[3]!, app: 'kernel', time: { kind: 'boot', ns } } };
  }
  m = /^\[(?:[A-Za-z]{2,3}\s+)?([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d\d:\d\d:\d\d)\s+(\d{4})\] ?(.*)$/s.exec(line);
  if (m) {
    const month = MONTHS.indexOf(m[1]!) + 1;
    if (month === 0) return fail('bad-time', `unknown month ${m[1]}`);
    const iso = `${m[4]}-${String(month).padStart(2, '0')}-${m[2]!.padStart(2, '0')}T${m[3]}`;
    const t = parseIsoNanos(iso);
    if (!t.ok) return fail('bad-time', t.error);
    // dmesg -T renders in the reader's zone, which the file does not record: resolved later as a wall clock.
    return { ok: true, env: { text: m[5]!, app: 'kernel', time: { kind: 'absolute', ns: t.ns }, meta: { zone: 'reader' } } };
  }
  m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.,]\d{1,9}[+-]\d\d:?\d\d) (.*)$/s.exec(line);
  if (m) {
    const t = parseIsoNanos(m[1]!.replace(',', '.'));
    if (!t.ok) return fail('bad-time', t.error);
    return { ok: true, env: { text: m[2]!, app: 'kernel', time: { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes } } };
  }
  m = /^(\d+),(\d+),(\d+),[^;]*;(.*)$/s.exec(line);
  if (m) {
    return { ok: true, env: { text: m[4]!, app: 'kernel', time: { kind: 'boot', ns: BigInt(m[3]!) * 1000n }, meta: { kmsg_seq: m[2]! } } };
  }
  return fail('not-kmsg', 'no kernel log prefix');
}

/** `kernel: [12345.678901] text` inside syslog: the inner boot-time stamp is noise once the prefix has a time. */
export function stripKernelStamp(text: string): string {
  const m = /^\[\s*\d+\.\d+\] ?/.exec(text);
  return m ? text.slice(m[0].length) : text;
}
