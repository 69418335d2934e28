import type { Nanos } from '../time/instant.ts';
import { parseIsoNanos } from '../time/instant.ts';
import type { TaskPayload } from './payload.ts';
import { parseTaskPayload } from './payload.ts';

/** One line of `docker events --format '{{json .}}'` or `ctr events`. */
export type ContainerEventLine = {
  source: 'docker-events' | 'containerd-events';
  ns?: Nanos;
  action: string;
  containerId?: string;
  name?: string;
  image?: string;
  exitCode?: number;
  signal?: number;
  namespace?: string;
  payload?: TaskPayload;
  attributes?: Record<string, string>;
  /** The node a SIEM's record names (a Wazuh alert's agent): docker's own event does not say. */
  host?: string;
};

export type EventLineResult = { ok: true; event: ContainerEventLine } | { ok: false; reason: string; message: string };

export function parseDockerEvent(line: string): EventLineResult {
  let o: Record<string, unknown>;
  let host: string | undefined;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch (e) {
    // a SIEM's alert cut by a terminal's wrap after its full_log: the event it carries is whole
    const carried = fullLogOf(line);
    if (!carried) return { ok: false, reason: 'bad-json', message: (e as Error).message };
    o = carried;
    host = AGENT_NAME.exec(line)?.[1];
  }
  host ??= siemHost(o);
  o = siemCarried(o);
  const action = typeof o.Action === 'string' ? o.Action : typeof o.status === 'string' ? o.status : undefined;
  if (!action) return { ok: false, reason: 'not-docker-event', message: 'no Action or status' };
  const actor = (o.Actor ?? {}) as { ID?: string; Attributes?: Record<string, string> };
  const attrs = actor.Attributes ?? {};
  const ev: ContainerEventLine = { source: 'docker-events', action: action.split(':')[0]!.trim(), attributes: attrs };
  if (typeof o.Type === 'string' && o.Type !== 'container') ev.action = `${o.Type}-${ev.action}`;
  const id = actor.ID ?? (typeof o.id === 'string' ? o.id : undefined);
  if (id) ev.containerId = id;
  if (attrs.name) ev.name = attrs.name;
  if (attrs.image ?? o.from) ev.image = (attrs.image ?? o.from) as string;
  if (attrs.exitCode !== undefined && /^\d+$/.test(attrs.exitCode)) ev.exitCode = Number(attrs.exitCode);
  if (attrs.signal !== undefined && /^\d+$/.test(attrs.signal)) ev.signal = Number(attrs.signal);
  // docker writes timeNano as a JSON number past 2^53: JSON.parse rounds it to 256 ns, so the digits are read as written
  if (typeof o.timeNano === 'number' && !Number.isSafeInteger(o.timeNano)) ev.ns = BigInt(TIME_NANO.exec(line)?.[1] ?? Math.trunc(o.timeNano));
  else if (typeof o.timeNano === 'number' || typeof o.timeNano === 'string') ev.ns = BigInt(String(o.timeNano).split('.')[0]!);
  else if (typeof o.time === 'number') ev.ns = BigInt(o.time) * 1_000_000_000n;
  if (host) ev.host = host;
  return { ok: true, event: ev };
}

const TIME_NANO = /timeNano\\?"\s*:\s*(\d{16,20})\b/;
const AGENT_NAME = /"agent":\{[^{}]*?"name":"([^"]+)"/;

/** A Wazuh alert's node: the host its predecoder read from a syslog header, else the agent that sent it. */
function siemHost(o: Record<string, unknown>): string | undefined {
  if (o.full_log === undefined && o.data === undefined) return undefined;
  const pre = isRecord(o.predecoder) ? o.predecoder.hostname : undefined;
  const agent = isRecord(o.agent) ? o.agent.name : undefined;
  return [pre, agent].find((v): v is string => typeof v === 'string' && v !== '');
}

/**
 * A docker event as a SIEM's docker listener keeps it: the event object under `docker` of its
 * integration record (`{"integration": "docker", "docker": {…}}`), and that record under a Wazuh
 * alert's `data` or, as the text it read, its `full_log`. The event is docker's own, unchanged.
 */
function siemCarried(o: Record<string, unknown>): Record<string, unknown> {
  for (let depth = 0; depth < 3 && o.Action === undefined && o.status === undefined; depth++) {
    // full_log before data: data's numbers went through a float (timeNano `…688.000000`)
    const inner = isRecord(o.docker) ? o.docker : typeof o.full_log === 'string' ? parsed(o.full_log) : isRecord(o.data) && isRecord(o.data.docker) ? o.data.docker : undefined;
    if (!inner) break;
    o = inner;
  }
  return o;
}

/** The `"full_log":"…"` string of an alert whose JSON does not parse as a whole, parsed. */
function fullLogOf(line: string): Record<string, unknown> | undefined {
  const at = line.indexOf('"full_log":');
  if (at < 0) return undefined;
  const m = /^"full_log":\s*("(?:[^"\\]|\\.)*")/.exec(line.slice(at));
  if (!m) return undefined;
  try {
    const text = JSON.parse(m[1]!) as unknown;
    return typeof text === 'string' ? parsed(text) : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const CTR = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?) ([+-]\d{4}) \w+ (\S+) (\/\S+) ?(.*)$/;

/** `2026-11-24 06:33:54.123456789 +0000 UTC moby /tasks/exit {"container_id":"…","exit_status":137,…}` */
export function parseCtrEvent(line: string): EventLineResult {
  const m = CTR.exec(line);
  if (!m) return { ok: false, reason: 'not-ctr-event', message: 'no `time zone ns /topic` prefix' };
  const t = parseIsoNanos(`${m[1]!.replace(' ', 'T')}${m[2]}`);
  const topic = m[4]!;
  const ev: ContainerEventLine = { source: 'containerd-events', action: topic.replace(/^\//, '').replace(/\//g, '-'), namespace: m[3]! };
  if (t.ok) ev.ns = t.ns;
  const payload = parseTaskPayload(m[5] ?? '', topic);
  if (payload) {
    ev.payload = payload;
    if (payload.containerId) ev.containerId = payload.containerId;
    if (payload.exitStatus !== undefined && topic === '/tasks/exit') ev.exitCode = payload.exitStatus;
  } else {
    const id = /"(?:container_id|id)":"([^"]+)"/.exec(m[5] ?? '');
    if (id) ev.containerId = id[1]!;
  }
  return { ok: true, event: ev };
}

export function looksCtrEvent(line: string): boolean {
  return CTR.test(line);
}
