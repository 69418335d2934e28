import type { NormalizedEvent, TimeBasis } from '../../ingest/event.ts';

/**
 * An instant as the input knew it. A line whose basis is `relative` had no wall clock: its
 * @timestamp is only where the reader placed it (the read time), so it is never shown as a date,
 * and it is compared with other lines only through the kernel's seconds since boot.
 */
export type Instant = { ns: bigint; basis: TimeBasis; sinceBootNs?: bigint; tie?: string };

export function instantOf(iso: string, e?: NormalizedEvent): Instant {
  const t = e?.exit137.time;
  const i: Instant = { ns: e ? BigInt(e.exit137.ts_ns) : isoToNs(iso), basis: t?.basis ?? 'absolute' };
  if (t?.since_boot_ns !== undefined) i.sinceBootNs = BigInt(t.since_boot_ns);
  if (t?.tie) i.tie = t.tie;
  return i;
}

/** `2026-11-24T06:59:46.918499263Z` → epoch ns, exact (a Date keeps milliseconds only). */
export function isoToNs(iso: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) return BigInt(Date.parse(iso)) * 1_000_000n;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** How far b is after a, when the input lets the two be compared at all. */
export function between(a: Instant, b: Instant): bigint | undefined {
  if (a.basis !== 'relative' && b.basis !== 'relative') return b.ns - a.ns;
  if (a.sinceBootNs !== undefined && b.sinceBootNs !== undefined) return b.sinceBootNs - a.sinceBootNs;
  return undefined;
}

export function formatDuration(ns: bigint): string {
  const n = ns < 0n ? -ns : ns;
  if (n < 1_000n) return `${n} ns`;
  if (n < 1_000_000n) return `${sig3(Number(n) / 1e3)} µs`;
  if (n < 1_000_000_000n) return `${sig3(Number(n) / 1e6)} ms`;
  const s = Number(n) / 1e9;
  if (s < 60) return `${sig3(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function formatOffset(ns: bigint): string {
  if (ns === 0n) return '0';
  return `${ns < 0n ? '−' : '+'}${formatDuration(ns)}`;
}

function sig3(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function isoOf(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac}Z`;
}

function sinceBoot(ns: bigint): string {
  return `boot + ${(Number(ns / 1000n) / 1e6).toFixed(6)} s`;
}

const BASIS_WORDS: Record<TimeBasis, string> = {
  absolute: 'the line states this instant with its zone',
  learned: 'the line has no zone: read with the UTC offset and year learned from the node’s own zoned lines',
  configured: 'the line has no zone: read with the offset and year given on the command line',
  assumed: 'the line states no zone or year: read as UTC in the assumed year, so this time may be off by hours',
  anchored: 'the kernel’s seconds since boot, placed on the wall clock by a line that states both',
  relative: 'no wall-clock time in the input: only the kernel’s seconds since boot, so no date is shown',
};

export function basisWords(i: Instant): string {
  const tie = i.basis === 'anchored' && i.tie ? ` (${i.tie})` : '';
  return `${BASIS_WORDS[i.basis]}${tie}`;
}

/** Text of a timeline's time cell: the time of day (the date above it), ≈ when it is a reading, never a made-up date. */
export function clockText(i: Instant, day: string | undefined): { text: string; title: string } {
  if (i.basis === 'relative') {
    return { text: i.sinceBootNs !== undefined ? sinceBoot(i.sinceBootNs) : 'no clock', title: basisWords(i) };
  }
  const iso = isoOf(i.ns);
  const tod = iso.slice(11, 26);
  const text = `${i.basis === 'anchored' || i.basis === 'assumed' ? '≈ ' : ''}${day && iso.slice(0, 10) !== day ? `${iso.slice(0, 10)} ` : ''}${tod}`;
  return { text, title: `${iso} — ${basisWords(i)}${i.sinceBootNs !== undefined ? `; the kernel said ${sinceBoot(i.sinceBootNs)}` : ''}` };
}

/** The day a timeline's times are on, when the input gives one. */
export function dayOf(i: Instant): string | undefined {
  return i.basis === 'relative' ? undefined : isoOf(i.ns).slice(0, 10);
}

/** The death as the verdict's time basis allows it to be told. */
export function diedText(i: Instant): { text: string; note: string } {
  if (i.basis === 'relative') return { text: i.sinceBootNs !== undefined ? sinceBoot(i.sinceBootNs) : 'time unknown', note: basisWords(i) };
  const iso = isoOf(i.ns);
  const when = `${iso.slice(0, 10)} ${iso.slice(11, 29)} UTC`;
  return { text: i.basis === 'anchored' || i.basis === 'assumed' ? `≈ ${when}` : when, note: basisWords(i) };
}
