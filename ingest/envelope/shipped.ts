import { exportedLine } from '../readers/log-exports.ts';
import { parseIsoNanos } from '../time/instant.ts';
import type { EnvelopeTime } from './message.ts';

/**
 * A line as a log shipper or a cloud log viewer exports it: a JSON object that carries the
 * program's own line in `message` (Cloud Logging, fluent-bit, Loki exports), `log` (docker's
 * json-file driver) or `textPayload`, often after the viewer's own time and a tab
 * (`2024-11-30 20:42:02.782\t{"message":"I1130 …"}`). The shipper's time is absolute; the inner
 * line's own (a klog time without a year) is the same instant seen by the node.
 */
export type Shipped = { text: string; time?: EnvelopeTime; host?: string; zoneless?: boolean };

const LEAD = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)[\t ]+(?=\{)/;

export function unwrapShipped(line: string): Shipped | undefined {
  let json = line;
  let lead: string | undefined;
  if (line.charCodeAt(0) !== 123) {
    const m = LEAD.exec(line);
    if (!m) return undefined;
    lead = m[1];
    json = line.slice(m[0].length);
  }
  // logrus's own JSON lines are not a shipper's
  if (json.includes('"level":') && json.includes('"msg":')) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  // a Kubernetes Event (a log store's events log keeps them whole) is a document its reader knows
  if ('involvedObject' in r || 'regarding' in r) return undefined;
  // a log store's or a SIEM's own record layout first (readers/log-exports.ts), then the shippers' common keys
  const exp = exportedLine(r);
  const inner = exp?.text ?? [r.message, r.log, r.textPayload, r.MESSAGE].find((v): v is string => typeof v === 'string');
  if (inner === undefined) return undefined;
  const out: Shipped = { text: inner.replace(/\r?\n$/, '') };
  if (typeof exp?.stamp === 'number') out.time = { kind: 'absolute', ns: BigInt(Math.trunc(exp.stamp)) * 1_000_000n, offsetMinutes: 0 };
  const stamp = typeof exp?.stamp === 'string' ? exp.stamp : ([r.time, r.timestamp, r['@timestamp'], r.receiveTimestamp].find((v): v is string => typeof v === 'string') ?? lead);
  if (stamp && !out.time) {
    const t = parseIsoNanos(stamp.replace(' ', 'T').replace(',', '.'));
    if (t.ok) {
      out.time = { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes };
      // a viewer's time without a zone is in the viewer's zone, which the paste does not say (as dmesg -T)
      if (!/(?:Z|[+-]\d\d:?\d\d)$/.test(stamp)) out.zoneless = true;
    }
  }
  const host = exp?.host ?? [r.host, r.hostname, r.node, r.nodename].find((v): v is string => typeof v === 'string');
  if (host) out.host = host;
  return out;
}
