import { parseIsoNanos } from '../time/instant.ts';
import type { Nanos } from '../time/instant.ts';
import { resolveClock } from '../time/syslog-time.ts';
import { zoneOffset } from './journal-banner.ts';
import type { Envelope, EnvelopeResult } from './message.ts';
import { fail } from './message.ts';

/**
 * An entry copied out of a cloud log viewer's table (GKE's Logs Explorer and the like): the
 * viewer's time alone on a line, in the reader's zone when it names none (`2024-02-27 04:42:43.206`
 * and a tab) or in the one it names (`2022-06-23 08:42:16.744 PDT`), then the resource it came from
 * (a node name) when the viewer shows one, then the program's own line:
 *
 *     2022-06-23 08:42:16.744 PDT
 *     gke-dev-default-pool-XXX
 *     I0623 15:42:16.744070    1748 nodeshutdown_manager_linux.go:316] "Shutdown manager killing pod …"
 *
 * Read whole, it is that line with the viewer's time and the node as its host; the time and node
 * lines alone are no events of their own.
 */
const STAMP = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)(?:[ \t]*(Z|[+-]\d\d(?::?\d\d)?|[A-Z]{2,5}))?[ \t]*$/;

/** A node or resource name standing alone: one token that a host name could be. */
const RESOURCE = /^[A-Za-z0-9][\w.-]{0,252}$/;

/** A klog header's clock (`I0227 10:42:43.206377`): the node's own time of the line, without a year. */
const KLOG_CLOCK = /^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? /;

export function isViewerStamp(line: string): boolean {
  const c = line.charCodeAt(0);
  // cheap first: a digit, and the date's dashes where a year ends
  return c >= 48 && c <= 57 && line.charCodeAt(4) === 45 && line.length <= 48 && STAMP.test(line);
}

/** The line after the time: a resource's name (kept as the host), or already the message. */
export function isViewerResource(line: string): boolean {
  return RESOURCE.test(line) && !isViewerStamp(line);
}

/**
 * The entry's lines (time, then resource and message, or the message alone) as one envelope;
 * a time with no message after it is no record.
 */
export function viewerEntry(lines: readonly string[]): EnvelopeResult {
  const m = STAMP.exec(lines[0] ?? '');
  if (!m) return fail('log-viewer', 'not a log viewer time');
  const message = lines.length >= 3 ? lines[2]! : lines[1];
  if (message === undefined || message.trim() === '') return fail('log-viewer', `a log viewer's time (${m[1]}) with no message after it`);
  const zone = m[2] === undefined ? undefined : m[2] === 'Z' ? 'Z' : zoneOffset(m[2]);
  if (m[2] !== undefined && zone === undefined) return fail('log-viewer', `unknown zone ${m[2]}`);
  const t = parseIsoNanos(`${m[1]!.replace(' ', 'T').replace(',', '.')}${zone ?? ''}`);
  if (!t.ok) return fail('log-viewer', t.error);
  const env: Envelope = { text: message };
  if (lines.length >= 3) env.host = lines[1]!;
  if (zone !== undefined) {
    env.time = { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes };
    return { ok: true, env };
  }
  // Without a zone the viewer's time is in the reader's, which the paste does not say; a klog
  // header's clock is the node's own, which the node's files would give: it is kept, in the year
  // the viewer's date says. Either way the zone is assumed.
  env.time = { kind: 'absolute', ns: ownClock(message, t.ns) ?? t.ns };
  env.meta = { zone: 'reader' };
  return { ok: true, env };
}

/** A klog line's own clock placed in the year nearest the viewer's time (read as UTC, as the decoder reads any unzoned clock). */
function ownClock(message: string, viewerNs: Nanos): Nanos | undefined {
  const k = KLOG_CLOCK.exec(message);
  if (!k) return undefined;
  const clock = { month: Number(k[1]), day: Number(k[2]), hour: Number(k[3]), minute: Number(k[4]), second: Number(k[5]), frac9: (k[6] ?? '').padEnd(9, '0') };
  const year = new Date(Number(viewerNs / 1_000_000n)).getUTCFullYear();
  let best: Nanos | undefined;
  for (const y of [year - 1, year, year + 1]) {
    const ns = resolveClock(clock, y, 0);
    if (ns === undefined) continue;
    if (best === undefined || abs(ns - viewerNs) < abs(best - viewerNs)) best = ns;
  }
  // a clock more than a day from the viewer's time is not this entry's
  return best !== undefined && abs(best - viewerNs) <= 86_400_000_000_000n ? best : undefined;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}
