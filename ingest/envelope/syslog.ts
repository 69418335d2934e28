import { parseIsoNanos } from '../time/instant.ts';
import { MONTH_TOKEN, parseSyslogClock } from '../time/syslog-time.ts';
import type { Envelope, EnvelopeResult, EnvelopeTime } from './message.ts';
import { fail } from './message.ts';
import { afterPastePrefix } from './paste.ts';
import { wazuhArchiveLine } from '../readers/log-exports.ts';

const PRI = /^<(\d{1,3})>/;
// `Feb 25 22:07:13 host ident[pid]: msg` (RFC 3164 as rsyslog writes it, journalctl's default
// `short` and `short-precise`), in the month names of the reader's locale (`déc.`, `mai`, `8月`)
const BSD = new RegExp(String.raw`^(${MONTH_TOKEN}\s*\d{1,2}\s+\d\d:\d\d:\d\d(?:\.\d{1,9})?)\s+(\S+)\s+(.*)$`, 'su');
// `2024-04-01T00:32:23.142118+00:00 host ident[pid]: msg` (rsyslog high precision, journalctl short-iso[-precise])
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d))\s+(\S+)\s+(.*)$/s;
// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`
const V1 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[.*?\])+)(?: (.*))?$/s;
// `journalctl -o short-unix`: `1582647633.374422 host ident[pid]: msg`
const UNIX = /^(\d{9,11}\.\d{1,9})\s+(\S+)\s+(.*)$/s;
// `journalctl -o short-full`: `Mon 2024-01-01 10:00:00.123456 UTC host ident[pid]: msg`
const FULL = /^\p{L}{2,3}\.? (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?) ([A-Z]{2,5}|[+-]\d\d:?\d\d) (\S+) (.*)$/su;
/** A host field that is really the tag: the poster cut the host (`Dec 29 13:07:05 kubelet[1579]: …`). */
const TAG_ONLY = /^[^\s:[\]]{1,64}(?:\[\d+\])?:$/;
/** A tag with its pid and nothing before it: the poster cut the time and the host (`containerd[1751]: time="…"`). */
const BARE_TAG = /^([A-Za-z][\w.@-]{0,63})\[(\d+)\]: ?(.*)$/s;

/** `kern.notice `, `daemon.info `, `user.err `: a facility and a level, then the tag. */
const FACILITY = /^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\.(?:emerg|alert|crit|err|warn|warning|notice|info|debug) [^\s:]+: /;

/** A clock time somewhere in a cut or unknown stamp, then a host and `ident[pid]:`. */
const CUT_STAMP = /^[^\s\]]{0,12}(?: [^\s\]]{1,12}){0,3}?[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?\S{0,6}\s+\S+\s+([A-Za-z][\w.@-]{0,63}\[\d+\]: ?.*)$/s;

/** Zone abbreviations that name one offset (journalctl short-full prints the reader's); others are read as the reader's unknown zone. */
const ZONES: Record<string, number> = { UTC: 0, GMT: 0, Z: 0, WET: 0, WEST: 60, CET: 60, CEST: 120, EET: 120, EEST: 180, MSK: 180, EST: -300, EDT: -240, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420, AKST: -540, HST: -600, JST: 540, KST: 540, HKT: 480, SGT: 480, AEST: 600, AEDT: 660, NZST: 720, NZDT: 780 };

/**
 * The envelope of a line's `ident[pid]: message` rest (ident may be absent on continuation lines of
 * some shippers), with its host and time: filled in, not spread, as it runs once per line.
 */
function tagged(rest: string, host: string | undefined, time: NonNullable<Envelope['time']> | undefined): Envelope {
  // busybox syslogd (Alpine, VM images) writes the facility and level before the tag: `kern.notice kernel: …`
  if (rest.charCodeAt(0) >= 97 && FACILITY.test(rest)) rest = rest.slice(rest.indexOf(' ') + 1);
  const m = /^([^\s:[\]]{1,64})(?:\[(\d+)\])?: ?(.*)$/s.exec(rest);
  const env: Envelope = m ? { text: unescapeControl(m[3]!), app: m[1]! } : { text: unescapeControl(rest) };
  if (host !== undefined) env.host = host;
  if (time !== undefined) env.time = time;
  if (m?.[2]) env.pid = m[2];
  return env;
}

/** rsyslog writes control characters as `#ooo` (octal): a tab-indented Go frame arrives as `#011/go/src/…`. */
function unescapeControl(text: string): string {
  if (!text.includes('#0') && !text.includes('#177')) return text;
  return text.replace(/#(0[0-3][0-7]|177)/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** `host rest` after a prefix, or `tag: rest` when the host was cut from the line. */
function hostAndRest(host: string, rest: string, time: NonNullable<Envelope['time']>): Envelope {
  return TAG_ONLY.test(host) ? tagged(`${host} ${rest}`, undefined, time) : tagged(rest, host, time);
}

export function parseSyslog(line: string, pasted = false): EnvelopeResult {
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
    return { ok: true, env: hostAndRest(m[2]!, m[3]!, { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes }) };
  }
  m = BSD.exec(s);
  if (m) {
    const clock = parseSyslogClock(m[1]!.replace(/\s+/g, ' '));
    // a word that is no month (`Error 12 10:00:00 …`) is not a syslog prefix: try the other forms
    if (clock) return { ok: true, env: hostAndRest(m[2]!, m[3]!, { kind: 'wall', clock }) };
  }
  m = UNIX.exec(s);
  if (m) {
    const [sec, frac = ''] = m[1]!.split('.');
    const ns = BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
    return { ok: true, env: hostAndRest(m[2]!, m[3]!, { kind: 'absolute', ns }) };
  }
  m = FULL.exec(s);
  if (m) {
    const zone = m[2]!;
    const known = /^[+-]/.test(zone) ? zone : ZONES[zone] !== undefined ? offsetText(ZONES[zone]!) : undefined;
    const t = parseIsoNanos(`${m[1]}${known ?? 'Z'}`);
    if (!t.ok) return fail('bad-time', t.error);
    const env = hostAndRest(m[3]!, m[4]!, { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes });
    // an abbreviation we cannot place is the reader's zone, unknown to us: as dmesg -T
    if (known === undefined) env.meta = { zone: 'reader' };
    return { ok: true, env };
  }
  // Wazuh's archives.log (`2023 Dec 01 15:04:51 (agent) any->/var/log/syslog …`): before the
  // paste prefixes, which would take its year for an editor's line number
  const archived = s.charCodeAt(0) <= 57 ? wazuhArchiveLine(s) : undefined;
  if (archived) return { ok: true, env: archivedEnvelope(archived.text, archived.host, archived.stamp) };
  if (!pasted) {
    const inner = afterPastePrefix(s);
    if (inner !== undefined) {
      const r = parseSyslog(inner, true);
      if (r.ok) return r;
    }
  }
  // a stamp this reader cannot take (its first letters lost to a terminal selection, `ct 03 22:42:24`,
  // or a viewer's own form) before `host ident[pid]: `: the rest is still syslog's, its time unknown
  m = s.length < 4096 && s.includes(']: ') ? CUT_STAMP.exec(s) : null;
  if (m) return { ok: true, env: tagged(m[1]!, undefined, undefined) };
  m = BARE_TAG.exec(s);
  if (m) {
    const env: Envelope = { text: unescapeControl(m[3]!), app: m[1]!, pid: m[2]! };
    return { ok: true, env };
  }
  return fail('not-syslog', 'no syslog prefix');
}

/**
 * The agent's line under the archive's header: a file's line keeps its own syslog header (its host
 * is the node's name as the node wrote it), read for its tag; the archive's time is kept, as it has
 * the year the inner one lacks. A module's record (the docker listener's JSON) is the text.
 */
function archivedEnvelope(text: string, agent: string, stamp: string): Envelope {
  const t = parseIsoNanos(stamp);
  const time: EnvelopeTime | undefined = t.ok ? { kind: 'absolute', ns: t.ns } : undefined;
  const inner = text.charCodeAt(0) === 123 || text.startsWith('type=') ? undefined : parseSyslog(text, true);
  const env: Envelope = inner?.ok ? inner.env : { text };
  if (inner?.ok && inner.env.time?.kind === 'absolute') return { ...env, host: env.host ?? agent };
  if (time) {
    env.time = time;
    // the manager's zone, which the line does not name: as dmesg -T
    env.meta = { ...(env.meta ?? {}), zone: 'reader' };
  } else delete env.time;
  env.host ??= agent;
  return env;
}

function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function looksSyslog(line: string): boolean {
  return parseSyslog(line).ok;
}
