import { parseIsoNanos } from '../time/instant.ts';
import { MONTH_TOKEN, monthNumber } from '../time/syslog-time.ts';
import type { EnvelopeResult } from './message.ts';
import { fail } from './message.ts';
import { monotonicEnvelope } from './monotonic.ts';
import { afterPastePrefix } from './paste.ts';

// The weekday and month as the reader's locale prints them: `[So Nov 15 …]`, `[lun. déc.  7 …]`.
const READER_TIME = new RegExp(String.raw`^\[(?:\p{L}{2,3}\.?\s+)?(${MONTH_TOKEN})\s*(\d{1,2})\s+(\d\d:\d\d:\d\d)\s+(\d{4})\] ?(.*)$`, 'su');

const SYSLOG_REST = /^\S+ (?:kernel|[^\s:[\]]{1,64}(?:\[\d+\])?):/;

/**
 * Kernel messages as the tools print them:
 *   `[  123.456789] text`                       dmesg (seconds since boot)
 *   `[Tue Nov 24 06:30:01 2026] text`           dmesg -T (local time; the zone is the reader's; any locale)
 *   `[ 1234.567890] host ident[pid]: text`      journalctl -o short-monotonic (see monotonic.ts)
 *   `2026-11-24T06:30:01,123456+00:00 text`     dmesg --time-format iso
 *   `6,1234,5678901,-;text`                     /dev/kmsg (microseconds since boot)
 */
export function parseKmsg(line: string, pasted = false): EnvelopeResult {
  // `<6>` (console loglevel) and `[  T38]` (printk caller id) around the stamp; a paste may have
  // cut its `[` (six fraction digits then say it is one)
  let m = /^(?:<\d>)?(?:\[\s*(\d+)\.(\d{1,9})|(\d+)\.(\d{6}))\](?:\[\s*[TC]\d+\])? ?(.*)$/s.exec(line);
  if (m) {
    if (m[1] === undefined) m = [m[0], m[3]!, m[4]!, m[5]!] as unknown as RegExpExecArray;
    else m = [m[0], m[1], m[2]!, m[5]!] as unknown as RegExpExecArray;
    const ns = BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!.padEnd(9, '0'));
    // `journalctl -o short-monotonic` prints the same stamp before a host and a syslog tag
    const journal = monotonicEnvelope(m[3]!, ns);
    if (journal) return { ok: true, env: journal };
    return { ok: true, env: { text: m[3]!, app: 'kernel', time: { kind: 'boot', ns } } };
  }
  m = READER_TIME.exec(line);
  if (m) {
    const month = monthNumber(m[1]!);
    if (month === undefined) return fail('bad-time', `unknown month ${m[1]}`);
    const iso = `${m[4]}-${String(month).padStart(2, '0')}-${m[2]!.padStart(2, '0')}T${m[3]}`;
    const t = parseIsoNanos(iso);
    if (!t.ok) return fail('bad-time', t.error);
    // dmesg -T renders in the reader's zone, which the file does not record: resolved later as a wall clock.
    return { ok: true, env: { text: m[5]!, app: 'kernel', time: { kind: 'absolute', ns: t.ns }, meta: { zone: 'reader' } } };
  }
  // `[2016-02-02 07:09:26]  text`: a wall clock in brackets where dmesg's seconds stood (a wrapper
  // or viewer that renders dmesg's stamps as dates), in the reader's zone as dmesg -T
  m = line.charCodeAt(0) === 91 && line.charCodeAt(5) === 45 ? /^\[(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)\] {0,2}(.*)$/s.exec(line) : null;
  if (m) {
    const t = parseIsoNanos(`${m[1]}T${m[2]!.replace(',', '.')}`);
    if (!t.ok) return fail('bad-time', t.error);
    return { ok: true, env: { text: m[3]!, app: 'kernel', time: { kind: 'absolute', ns: t.ns }, meta: { zone: 'reader' } } };
  }
  m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([.,])\d{1,9}[+-]\d\d:?\d\d) (.*)$/s.exec(line);
  // dmesg writes a comma; rsyslog's and journalctl's ISO prefixes (a dot) go on to a host and a tag
  if (m && (m[2] === ',' || !SYSLOG_REST.test(m[3]!))) {
    m = [m[0], m[1]!, m[3]!] as unknown as RegExpExecArray;
    const t = parseIsoNanos(m[1]!.replace(',', '.'));
    if (!t.ok) return fail('bad-time', t.error);
    return { ok: true, env: { text: m[2]!, app: 'kernel', time: { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes } } };
  }
  m = /^(\d+),(\d+),(\d+),[^;]*;(.*)$/s.exec(line);
  if (m) {
    return { ok: true, env: { text: m[4]!, app: 'kernel', time: { kind: 'boot', ns: BigInt(m[3]!) * 1000n }, meta: { kmsg_seq: m[2]! } } };
  }
  if (!pasted) {
    const inner = afterPastePrefix(line);
    if (inner !== undefined) return parseKmsg(inner, true);
  }
  return fail('not-kmsg', 'no kernel log prefix');
}

/**
 * `kernel: [12345.678901] text` inside syslog: the text without the inner boot-time stamp, and
 * the stamp (ns since boot). Beside the prefix's wall clock it says when the node booted.
 */
export function splitKernelStamp(text: string): { text: string; bootNs?: bigint } {
  const m = /^\[\s*(\d{1,10})\.(\d{1,9})\] ?/.exec(text);
  if (!m) return { text };
  return { text: text.slice(m[0].length), bootNs: BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!.padEnd(9, '0')) };
}

export function stripKernelStamp(text: string): string {
  return splitKernelStamp(text).text;
}
