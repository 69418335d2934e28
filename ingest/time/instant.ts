import { DateTime } from 'luxon';

/**
 * An absolute UTC instant in nanoseconds since the epoch. BigInt because a Number cannot hold
 * 19 digits exactly, and logfmt times carry nanoseconds that order events within one millisecond.
 */
export type Nanos = bigint;

export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

export type TimeResult = { ok: true; ns: Nanos; offsetMinutes: number } | { ok: false; error: string };

// Luxon keeps only milliseconds, so the fraction is split off and kept as digits.
const ISO_RE = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d{1,12}))?\s?(Z|UTC|[+-]\d\d:?\d\d)?$/;

/**
 * Parses RFC 3339 / ISO 8601 with up to nanosecond precision (digits past 9 are cut).
 * A time without a zone is read in `defaultZone` (an IANA name or a fixed offset like "UTC+8").
 */
export function parseIsoNanos(text: string, defaultZone = 'UTC'): TimeResult {
  const m = ISO_RE.exec(text.trim());
  if (!m) return { ok: false, error: `not an ISO time: ${JSON.stringify(text.slice(0, 64))}` };
  const [, date, clock, frac, zoneRaw] = m;
  const frac9 = (frac ?? '').slice(0, 9).padEnd(9, '0');
  if (zoneRaw || /^UTC([+-]\d\d?(:\d\d)?)?$/.test(defaultZone)) {
    // A fixed offset: plain arithmetic (hot path; luxon is for named zones only).
    const offsetMinutes = zoneRaw ? fixedOffset(zoneRaw) : fixedOffset(defaultZone.slice(3) || 'Z');
    const y = Number(date!.slice(0, 4));
    const mo = Number(date!.slice(5, 7));
    const d = Number(date!.slice(8, 10));
    const h = Number(clock!.slice(0, 2));
    const mi = Number(clock!.slice(3, 5));
    const sec = Number(clock!.slice(6, 8));
    const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
    const back = new Date(ms);
    if (Number.isNaN(ms) || back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || sec > 60) {
      return { ok: false, error: `invalid time ${JSON.stringify(text.slice(0, 64))}` };
    }
    return { ok: true, ns: BigInt(ms / 1000 - offsetMinutes * 60) * NS_PER_S + BigInt(frac9), offsetMinutes };
  }
  let zone = defaultZone;
  if (zoneRaw && zoneRaw !== 'Z' && zoneRaw !== 'UTC') {
    const z = zoneRaw.includes(':') ? zoneRaw : `${zoneRaw.slice(0, 3)}:${zoneRaw.slice(3)}`;
    zone = `UTC${z}`;
  } else if (zoneRaw) zone = 'UTC';
  const dt = DateTime.fromISO(`${date}T${clock}`, { zone });
  if (!dt.isValid) return { ok: false, error: `invalid time ${JSON.stringify(text.slice(0, 64))}: ${dt.invalidExplanation ?? dt.invalidReason}` };
  return { ok: true, ns: BigInt(Math.floor(dt.toSeconds())) * NS_PER_S + BigInt(frac9), offsetMinutes: dt.offset };
}

/** `Z`, `UTC`, `+08:00`, `-0700`, `+8` → minutes east of UTC. */
function fixedOffset(z: string): number {
  if (z === 'Z' || z === 'UTC' || z === '') return 0;
  const m = /^([+-])(\d\d?):?(\d\d)?$/.exec(z);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/** `1582099207.232` (audit) or any decimal seconds string, without going through a float. */
export function parseEpochSeconds(text: string): Nanos | undefined {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  if (whole.length === 0 || whole.length > 12 || frac.length > 9 || !isDigits(whole) || !isDigits(frac)) return undefined;
  // Audit stamps have milliseconds: epoch-ms fits a Number exactly, so one BigInt conversion.
  if (frac.length <= 3) return BigInt(Number(whole) * 1000 + Number(frac.padEnd(3, '0'))) * NS_PER_MS;
  return BigInt(whole) * NS_PER_S + BigInt(frac.padEnd(9, '0'));
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `2020-02-19T08:00:07.232000000Z`: always nine digits, so ES date_nanos keeps them and strings sort as times. */
export function formatNanos(ns: Nanos, digits = ns.toString()): string {
  // Any instant from 2001-09-09 on has 19 digits: the second and the fraction are the digits
  // themselves (hot path: BigInt division and modulo allocate, once per event).
  if (digits.length === 19 && ns > 0n) return `${secondText(digits.slice(0, 10))}.${digits.slice(10)}Z`;
  let sec = ns / NS_PER_S;
  let frac = ns % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    sec -= 1n;
  }
  return `${secondText(sec.toString())}.${frac.toString().padStart(9, '0')}Z`;
}

/**
 * `2020-02-19T08:00:07` for a second since the epoch, in decimal. Date renders the second
 * exactly (luxon's formatter costs microseconds per event); consecutive events mostly share
 * their second, so the last one is remembered.
 */
function secondText(sec: string): string {
  if (sec !== lastSec) {
    lastSec = sec;
    lastSecText = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  }
  return lastSecText;
}

let lastSec = '';
let lastSecText = '';

export function nanosFromMillis(ms: number): Nanos {
  return BigInt(Math.round(ms)) * NS_PER_MS;
}
