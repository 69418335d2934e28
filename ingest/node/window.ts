import { NS_PER_S, parseEpochSeconds, parseIsoNanos } from '../time/instant.ts';
import type { Nanos } from '../time/instant.ts';

/**
 * The stretch of time a node-form run covers: deaths between `sinceNs` and `untilNs` are reported;
 * evidence is read from `fromNs` (a lead-in before `since`: a stop's SIGTERM, a slow OOM, a shim's
 * crash may precede a death at the window's start) to `toNs` (late lines after `until`).
 */
export type NodeWindow = { sinceNs: Nanos; untilNs: Nanos; fromNs: Nanos; toNs: Nanos };

const UNITS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n };

/** `90s`, `15m`, `2h`, `1d` as nanoseconds; undefined when it is not a duration. */
export function parseDuration(v: string): Nanos | undefined {
  const m = /^(\d+)(s|m|h|d)?$/.exec(v.trim());
  if (!m) return undefined;
  return BigInt(m[1]!) * UNITS[m[2] ?? 's']! * NS_PER_S;
}

/** A point in time as the user gives it: a duration back from now (`2h`), an ISO time, or `@epoch`. */
export function parseWhen(v: string, nowNs: Nanos): Nanos {
  const d = parseDuration(v);
  if (d !== undefined) return nowNs - d;
  if (v.startsWith('@')) {
    const e = parseEpochSeconds(v.slice(1));
    if (e !== undefined) return e;
  }
  const t = parseIsoNanos(v);
  if (t.ok) return t.ns;
  throw new Error(`not a time: ${JSON.stringify(v)} (give a duration back from now like 2h or 30m, an ISO time, or @epoch-seconds)`);
}

/** The window from the options; `until` defaults to now, `since` to two hours back. */
export function nodeWindow(o: { since?: string; until?: string; leadIn?: string }, nowNs: Nanos = BigInt(Date.now()) * 1_000_000n): NodeWindow {
  const untilNs = o.until ? parseWhen(o.until, nowNs) : nowNs;
  const sinceNs = parseWhen(o.since ?? '2h', nowNs);
  if (sinceNs > untilNs) throw new Error('--since is after --until');
  const lead = parseDuration(o.leadIn ?? '15m');
  if (lead === undefined) throw new Error(`--lead-in: not a duration: ${o.leadIn}`);
  // a kill that never completes is attributed up to 90 s after it (correlate/incidents.ts)
  return { sinceNs, untilNs, fromNs: sinceNs - lead, toNs: untilNs + 120n * NS_PER_S };
}

/** Seconds since the epoch with a fraction, as docker and journalctl (`@…`) take them. */
export function epochArg(ns: Nanos): string {
  const s = ns / NS_PER_S;
  return `${s}.${(ns % NS_PER_S).toString().padStart(9, '0')}`;
}
