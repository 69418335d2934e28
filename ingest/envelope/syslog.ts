import { parseIsoNanos } from '../time/instant.ts';
import { parseSyslogClock } from '../time/syslog-time.ts';
import type { Envelope, EnvelopeResult } from './message.ts';
import { fail } from './message.ts';

const PRI = /^<(\d{1,3})>/;
// `Feb 25 22:07:13 host ident[pid]: msg` (RFC 3164 as rsyslog writes it to /var/log/messages)
const BSD = /^([A-Z][a-zéûä]{2,4}\.?\s+\d{1,2}\s+\d\d:\d\d:\d\d(?:\.\d{1,9})?)\s+(\S+)\s+(.*)$/;
// `2024-04-01T00:32:23.142118+00:00 host ident[pid]: msg` (rsyslog high precision)
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d))\s+(\S+)\s+(.*)$/;
// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`
const V1 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[.*?\])+)(?: (.*))?$/;
// `journalctl -o short-unix`: `1582647633.374422 host ident[pid]: msg`
const UNIX = /^(\d{9,11}\.\d{1,9})\s+(\S+)\s+(.*)$/;

/**
 * The envelope of a line's `ident[pid]: message` rest (ident may be absent on continuation lines of
 * some shippers), with its host and time: filled in, not spread, as it runs once per line.
 */
function tagged(rest: string, host: string, time: NonNullable<Envelope['time']>): Envelope {
  const m = /^([^\s:[\]]{1,64})(?:\[(\d+)\])?: ?(.*)$/s.exec(rest);
  const env: Envelope = m ? { text: unescapeControl(m[3]!), app: m[1]!, host, time } : { text: unescapeControl(rest), host, time };
  if (m?.[2]) env.pid = m[2];
  return env;
}

/** rsyslog writes control characters as `#ooo` (octal): a tab-indented Go frame arrives as `#011/go/src/…`. */
function unescapeControl(text: string): string {
  if (!text.includes('#0') && !text.includes('#177')) return text;
  return text.replace(/#(0[0-3][0-7]|177)/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseSyslog(line: string): EnvelopeResult {
  let s = line;
  const pri = PRI.exec(s);
  if (pri) s = s.slice(pri[0].length);
  let m = V1.exec(s);
  if (m) {
    const t = parseIsoNanos(m[1]!);
    const env: Envelope = { text: m[7] ?? '' };
    if (t.ok) env.time = { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes };
    if (m[2] !== '-') env.host = m[2]!;
    if (m[3] !== '-') env.app = m[3]!;
    if (m[4] !== '-') env.pid = m[4]!;
    if (env.text.startsWith('\ufeff')) env.text = env.text.slice(1);
    return { ok: true, env };
  }
  m = ISO.exec(s);
  if (m) {
    const t = parseIsoNanos(m[1]!);
    if (!t.ok) return fail('bad-time', t.error);
    return { ok: true, env: tagged(m[3]!, m[2]!, { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes }) };
  }
  m = BSD.exec(s);
  if (m) {
    const clock = parseSyslogClock(m[1]!.replace(/\s+/g, ' '));
    if (!clock) return fail('bad-time', `unreadable syslog time ${JSON.stringify(m[1])}`);
    return { ok: true, env: tagged(m[3]!, m[2]!, { kind: 'wall', clock }) };
  }
  m = UNIX.exec(s);
  if (m) {
    const [sec, frac = ''] = m[1]!.split('.');
    const ns = BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
    return { ok: true, env: tagged(m[3]!, m[2]!, { kind: 'absolute', ns }) };
  }
  return fail('not-syslog', 'no syslog prefix');
}

export function looksSyslog(line: string): boolean {
  return parseSyslog(line).ok;
}
