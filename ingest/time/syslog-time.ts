import { DateTime } from 'luxon';
import type { Nanos } from './instant.ts';
import { NS_PER_S } from './instant.ts';

/**
 * Month names as `%b` prints them in the locales people paste from (journalctl and rsyslog use the
 * reader's or the daemon's LC_TIME): lowercased, without the trailing dot (`déc.`, `févr.`).
 * Where two locales share an abbreviation they mean the same month; a name not listed fails.
 */
const MONTHS: Record<string, number> = {
  // English
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, sept: 9, oct: 10, nov: 11, dec: 12,
  // German
  mär: 3, mrz: 3, mai: 5, okt: 10, dez: 12,
  // French
  janv: 1, fév: 2, févr: 2, mars: 3, avr: 4, juin: 6, juil: 7, aoû: 8, août: 8, déc: 12,
  // Spanish, Portuguese, Italian
  ene: 1, abr: 4, ago: 8, dic: 12, fev: 2, set: 9, out: 10, gen: 1, mag: 5, giu: 6, lug: 7, ott: 10,
  // Dutch, Scandinavian, Polish
  mrt: 3, mei: 5, maj: 5, sty: 1, lut: 2, kwi: 4, cze: 6, lip: 7, sie: 8, wrz: 9, paź: 10, lis: 11, gru: 12,
  // Russian
  янв: 1, фев: 2, мар: 3, апр: 4, май: 5, июн: 6, июл: 7, авг: 8, сен: 9, окт: 10, ноя: 11, дек: 12,
};

/**
 * A month token as it opens a syslog or journalctl line: a word of 3–5 letters in any script, or
 * a CJK number month (`8月`, `8월`). Shared with the envelopes so the two agree on what a month is.
 */
export const MONTH_TOKEN = String.raw`(?:\p{L}{3,5}\.?|\d{1,2}[月월])`;

/** The month a name stands for (1–12), in any locale listed above. */
export function monthNumber(name: string): number | undefined {
  const cjk = /^(\d{1,2})[月월]$/.exec(name);
  if (cjk) {
    const n = Number(cjk[1]);
    return n >= 1 && n <= 12 ? n : undefined;
  }
  const key = name.toLowerCase().replace(/\.$/, '');
  return Object.hasOwn(MONTHS, key) ? MONTHS[key] : undefined;
}

export type LocalClock = { month: number; day: number; hour: number; minute: number; second: number; frac9: string };

const CLOCK = new RegExp(String.raw`^(${MONTH_TOKEN})\s*(\d{1,2})\s+(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$`, 'u');

/** `Feb 25 22:07:13`, `Feb  5 22:07:13.123456`, `déc. 5 …`, `8月 31 …`: a wall-clock time with no year and no zone. */
export function parseSyslogClock(text: string): LocalClock | undefined {
  const m = CLOCK.exec(text);
  if (!m) return undefined;
  const month = monthNumber(m[1]!);
  if (!month) return undefined;
  const day = Number(m[2]);
  if (day < 1 || day > 31) return undefined;
  return { month, day, hour: Number(m[3]), minute: Number(m[4]), second: Number(m[5]), frac9: (m[6] ?? '').padEnd(9, '0') };
}

/** Seconds since the epoch of a local clock in a given year at a fixed UTC offset, or undefined if the date does not exist (Feb 29). */
export function resolveClock(c: LocalClock, year: number, offsetMinutes: number): Nanos | undefined {
  const dt = DateTime.fromObject(
    { year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second },
    { zone: offsetMinutes === 0 ? 'UTC' : `UTC${offsetMinutes > 0 ? '+' : '-'}${fmtOffset(Math.abs(offsetMinutes))}` },
  );
  if (!dt.isValid) return undefined;
  return BigInt(Math.floor(dt.toSeconds())) * NS_PER_S + BigInt(c.frac9);
}

function fmtOffset(min: number): string {
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}`;
}
