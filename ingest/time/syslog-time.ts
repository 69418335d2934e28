import { DateTime } from 'luxon';
import type { Nanos } from './instant.ts';
import { NS_PER_S } from './instant.ts';

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  // localized spellings seen in the wild (FORMATS.md §5); months not listed fail with a clear error
  mai: 5, okt: 10, dez: 12, mär: 3, mrz: 3, avr: 4, juin: 6, juil: 7, aoû: 8, déc: 12, févr: 2, janv: 1,
};

export type LocalClock = { month: number; day: number; hour: number; minute: number; second: number; frac9: string };

/** `Feb 25 22:07:13` or `Feb  5 22:07:13.123456`: a wall-clock time with no year and no zone. */
export function parseSyslogClock(text: string): LocalClock | undefined {
  const m = /^([A-Za-zéûä]{3,5})\.?\s+(\d{1,2})\s+(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS[m[1]!.toLowerCase()];
  if (!month) return undefined;
  return { month, day: Number(m[2]), hour: Number(m[3]), minute: Number(m[4]), second: Number(m[5]), frac9: (m[6] ?? '').padEnd(9, '0') };
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
