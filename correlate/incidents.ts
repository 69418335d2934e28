import { auditEventCanMatter, isHarmlessSignal } from '../ingest/audit/triage.ts';
import type { DecoderOptions } from '../ingest/decoder.ts';
import { runtimeLineCanMatter } from '../ingest/runtime/triage.ts';
import { UNKNOWN_HOST } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { isContainerId, isHexId } from '../ingest/ids.ts';
import type { Ev, IncidentContext } from './context.ts';
import { NO_CONTAINER, S, isKill, isRuntimeProcess, sameContainer } from './context.ts';
import { CAUSE_MODULES } from './causes/index.ts';
import { STUCK_AFTER_S } from './causes/stuck-kill.ts';
import { nameTypedKillTargets } from './causes/typed-kill.ts';

/** Evidence is looked for this long before a death (a stop's grace period, a slow OOM)… */
export const BEFORE_S = 900n;
/** …and this long after (late lines, a kill that never completes). */
export const AFTER_S = STUCK_AFTER_S + 60n;
/** Node-wide evidence (a shim's dump, a kill by pid, an engine restart) counts only this close before a death. */
const NODE_BEFORE_S = 120n;
const NODE_WIDE_KINDS = new Set(['audit-signal', 'go-crash', 'kernel-oom', 'kernel-hung-task', 'task-stack']);
const NODE_WIDE_MESSAGES = new Set(['containerd-start', 'docker-start', 'docker-shutdown', 'docker-live-restore', 'kubelet-node-shutdown', 'systemd-oomd-kill', 'talos-oom-kill', 'earlyoom-kill']);
/** Lines that say a container's process ended, without its status (podman's `container died`). */
const DIED_IDS = new Set(['podman-container-died']);
/** A userspace OOM killer's kill line is a death even when no exit of the container is in the input. */
const KILLED_IDS = new Set(['talos-oom-kill', 'earlyoom-kill']);
/** Triggers of one container this close together are one death. */
export const SAME_DEATH_S = 60n;

/** Event kinds that can be evidence; plain log lines and kernel chatter are not kept. */
export function isEvidence(e: NormalizedEvent): boolean {
  const k = e.exit137.kind;
  if (k === 'log' || k === 'kernel') return false;
  if (k === 'runtime-log') return e.exit137.message_id !== undefined;
  // create/start/attach events say nothing about a death (the die event carries name and image)
  if (k === 'container-event') return e.event.type.includes('end');
  // other audit events (execve, config changes) are not evidence of a death
  if (k === 'audit') return e.event.action === 'crashed-program';
  // a signal whose default action does not end a process is never evidence of a death
  // (ingest/audit/triage.ts lets most of them go before they are events at all)
  if (k === 'audit-signal') return e.exit137.signal === undefined || !isHarmlessSignal(e.exit137.signal.number, e.exit137.signal.name);
  return true;
}

/**
 * What analyze lets the decoder drop before building an event, wherever it decodes (this thread or
 * a worker's): an audit event or a daemon's line that could never pass isEvidence or be health
 * evidence. Counted by the decoder, never built.
 */
export const EVIDENCE_TRIAGE: Pick<DecoderOptions, 'wantAudit' | 'wantRuntimeLine'> = { wantAudit: auditEventCanMatter, wantRuntimeLine: runtimeLineCanMatter };

export type Incident = {
  host: string;
  containerId: string;
  idIsPrefix: boolean;
  deathNs: bigint;
  /** The earliest of its triggers (the death's own time may be a later exit line). */
  firstNs: bigint;
  /** How the death's time was known: a verdict from kernel seconds since boot with no tie is not dated as if it were an instant. */
  deathTime: Ev['exit137']['time'];
  exitCode: number | undefined;
  trigger: string;
  context: IncidentContext;
  name?: string;
  image?: string;
  pod?: string;
  namespace?: string;
  sandbox?: boolean;
};

/**
 * What correlation has learnt of a node from evidence it has since let go (correlate/window.ts):
 * which sources the input had at all, and the full ids prefixes may stand for.
 */
export type HostMemory = { sources: IncidentContext['sources']; fullIds: Set<string> };

export function newHostMemory(): HostMemory {
  return { sources: { audit: false, runtimeLogs: false, kernel: false, containerEvents: false, kubelet: false }, fullIds: new Set() };
}

/**
 * Finds the deaths in one node's evidence and gathers, for each, what concerns it. Deaths open on
 * an exit with 137, a SIGKILL to a container's init, an OOM kill in a container's memcg, or
 * containerd's dead-shim cleanup; everything seen of the same container around it is one incident.
 */
export function findIncidents(hostEvents: Ev[], host: string, memory: HostMemory = newHostMemory()): Incident[] {
  return findDeaths(hostEvents, host, memory).map((d) => d.incident());
}

/**
 * A death found in a node's evidence, before what concerns it is gathered: where it starts and
 * ends in time, for a caller that decides only some of them (correlate/window.ts).
 */
export type Death = {
  containerId: string;
  deathNs: bigint;
  /** Its first and last triggers: a later trigger of the same death may still come after the last. */
  firstNs: bigint;
  lastNs: bigint;
  /** The incident, its evidence gathered (the costly part). */
  incident: () => Incident;
};

/** findIncidents, each death's evidence gathered only when asked for. */
export function findDeaths(hostEvents: Ev[], host: string, memory: HostMemory = newHostMemory()): Death[] {
  const events = [...hostEvents].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  const fullIds = memory.fullIds;
  for (const e of events) {
    if (e.container?.id && isContainerId(e.container.id)) fullIds.add(e.container.id);
    for (const r of e.exit137.related_ids ?? []) if (isContainerId(r)) fullIds.add(r);
  }
  // docker API calls name containers by name: map names to ids from lines that carry both. A name
  // is reused by the next container of the same name, so it names the id seen nearest in time.
  const byName = new Map<string, { id: string; ns: bigint }[]>();
  for (const e of events) {
    if (!e.container?.name || !e.container.id) continue;
    const name = e.container.name.replace(/^\//, '');
    const seen = byName.get(name) ?? [];
    if (seen.at(-1)?.id !== e.container.id) seen.push({ id: e.container.id, ns: e.ns });
    else seen[seen.length - 1]!.ns = e.ns;
    byName.set(name, seen);
  }
  for (const e of events) {
    if (e.container && !e.container.id && e.container.name) {
      let best: { id: string; d: bigint } | undefined;
      for (const s of byName.get(e.container.name.replace(/^\//, '')) ?? []) {
        const d = s.ns > e.ns ? s.ns - e.ns : e.ns - s.ns;
        if (d <= BEFORE_S * S && (!best || d < best.d)) best = { id: s.id, d };
      }
      if (best) e.container = { ...e.container, alias: best.id };
    }
  }
  markShimCrashes(events);
  nameTypedKillTargets(events);
  const sortedIds = [...fullIds].sort();
  const canonicalCache = new Map<string, string>();
  // ids a paste mangled (longer than an id can be) stand for the container of their short id
  const byShortId = new Map<string, string>();
  const canonical = (id: string): string => {
    if (fullIds.has(id)) return id;
    let c = canonicalCache.get(id);
    if (c === undefined && id.length > 64 && /^[0-9a-f]+$/.test(id)) {
      const short = id.slice(0, 12);
      const i = lowerBoundBy(sortedIds, short, (x) => x);
      c = sortedIds[i]?.startsWith(short) ? sortedIds[i]! : byShortId.get(short) ?? id;
      byShortId.set(short, c);
      canonicalCache.set(id, c);
    }
    if (c === undefined) {
      // the full ids that start with this prefix sit together in sorted order
      let i = lowerBoundBy(sortedIds, id, (x) => x);
      const first = sortedIds[i];
      const unique = first?.startsWith(id) && !sortedIds[++i]?.startsWith(id);
      c = unique ? first! : id;
      canonicalCache.set(id, c);
    }
    return c;
  };
  const idsOf = (e: Ev): string[] => {
    const out: string[] = [];
    // a CLI's output (kubectl describe, docker ps) may name a container only by its name
    const own = e.container?.id ?? e.container?.alias ?? e.container?.name?.replace(/^\//, '') ?? e.orchestrator?.resource?.name;
    if (own) out.push(canonical(own));
    for (const r of e.exit137.related_ids ?? []) if (r.length >= 12) out.push(canonical(r));
    return out;
  };

  // Which pid is which container's init: from exit events, and from runtime commands that name the container.
  const initPids = new Map<string, Set<number>>();
  // Pids are reused: a pid names a container only near the time it was seen as that container's.
  const pidSeen = new Map<number, { id: string; ns: bigint }[]>();
  const addInit = (id: string, pid: number, ns: bigint) => {
    let s = initPids.get(id);
    if (!s) initPids.set(id, (s = new Set()));
    s.add(pid);
    const seen = pidSeen.get(pid) ?? [];
    seen.push({ id, ns });
    pidSeen.set(pid, seen);
  };
  for (const e of events) {
    const id = e.container?.id ? canonical(e.container.id) : undefined;
    if (id && e.exit137.exit?.pid !== undefined && !e.exit137.exit.exec_id) addInit(id, e.exit137.exit.pid, e.ns);
    if (isKill(e) && isRuntimeProcess(e.process?.executable, e.process?.name)) {
      const named = idsOf(e)[0];
      const t = e.exit137.target?.process.pid;
      if (named && t !== undefined) addInit(named, t, e.ns);
    }
  }
  const containerOfPid = (pid: number | undefined, ns: bigint): string | undefined => {
    if (pid === undefined) return undefined;
    let best: { id: string; d: bigint } | undefined;
    for (const s of pidSeen.get(pid) ?? []) {
      const d = s.ns > ns ? s.ns - ns : ns - s.ns;
      if (d <= BEFORE_S * S && (!best || d < best.d)) best = { id: s.id, d };
    }
    return best?.id;
  };

  type Trigger = { id: string; ns: bigint; time: Ev['exit137']['time']; exit?: number; what: string };
  const triggers: Trigger[] = [];
  for (const e of events) {
    const ids = idsOf(e);
    const code = e.exit137.exit?.code;
    // an exit 137 that names no container (an orchestrator's task events) is still a death
    if (code === 137 && !e.exit137.exit?.exec_id) triggers.push({ id: ids[0] ?? NO_CONTAINER, ns: e.ns, time: e.exit137.time, exit: code, what: 'exit 137' });
    else if (DIED_IDS.has(e.exit137.message_id ?? '')) triggers.push({ id: ids[0] ?? NO_CONTAINER, ns: e.ns, time: e.exit137.time, what: 'the container died' });
    else if (KILLED_IDS.has(e.exit137.message_id ?? '')) triggers.push({ id: ids[0] ?? NO_CONTAINER, ns: e.ns, time: e.exit137.time, what: 'a userspace OOM killer killed' });
    else if (isKill(e) && (containerOfPid(e.exit137.target?.process.pid, e.ns) ?? ids[0]) !== undefined) {
      triggers.push({ id: (containerOfPid(e.exit137.target?.process.pid, e.ns) ?? ids[0])!, ns: e.ns, time: e.exit137.time, what: 'SIGKILL to the container' });
    } else if (e.exit137.kind === 'kernel-oom' && (ids[0] ?? containerOfPid(e.exit137.oom?.victim?.pid, e.ns))) {
      triggers.push({ id: (ids[0] ?? containerOfPid(e.exit137.oom?.victim?.pid, e.ns))!, ns: e.ns, time: e.exit137.time, what: 'OOM kill' });
    } else {
      // what a cause's own evidence says alone: a stop escalation, a probe failure, a shim's dump
      for (const m of CAUSE_MODULES) {
        const what = m.opens?.(e);
        if (what === undefined) continue;
        triggers.push({ id: ids[0] ?? NO_CONTAINER, ns: e.ns, time: e.exit137.time, what });
        break;
      }
    }
  }

  // One death = one incident: group a container's triggers that are close in time.
  const groups: Trigger[][] = [];
  const open = new Map<string, Trigger[]>();
  for (const t of triggers) {
    // triggers come in time order, so only a container's latest group can take this one
    let g = open.get(t.id);
    if (!g && !isContainerId(t.id)) for (const [id, x] of open) if (sameContainer(id, t.id)) g = x;
    if (g && t.ns - g[g.length - 1]!.ns <= SAME_DEATH_S * S) g.push(t);
    else {
      g = [t];
      groups.push(g);
      open.set(t.id, g);
    }
  }

  // A death of no known container (a shim's crash dump without an id) close to a named one is that
  // one's evidence, not a second death.
  // When that named death is the only one near, the lines that name no container are its own (an
  // events table pasted without its header: every row is the same pod's).
  for (let i = groups.length - 1; i >= 0; i--) {
    const g = groups[i]!;
    if (g[0]!.id !== NO_CONTAINER) continue;
    const named = (t: Trigger) => t.id !== NO_CONTAINER && g.some((u) => (t.ns > u.ns ? t.ns - u.ns : u.ns - t.ns) <= SAME_DEATH_S * S);
    const near = groups.filter((h) => h !== g && h.some(named));
    if (near.length === 0) continue;
    groups.splice(i, 1);
    const owners = new Set(near.map((h) => h[0]!.id));
    if (owners.size !== 1) continue;
    const owner = [...owners][0]!;
    const from = g[0]!.ns - SAME_DEATH_S * S;
    const to = g[g.length - 1]!.ns + SAME_DEATH_S * S;
    for (const e of events) if (e.ns >= from && e.ns <= to && idsOf(e).length === 0 && e.exit137.kind === 'runtime-log') e.container = { ...(e.container ?? {}), alias: owner };
  }

  // Evidence per container, and node-wide evidence (kills, dumps, kernel reports, engine restarts).
  const byContainer = new Map<string, Ev[]>();
  const nodeWide: Ev[] = [];
  for (const e of events) {
    const ids = idsOf(e);
    // lines that name no container are the evidence of a death whose container is unknown
    if (ids.length === 0) ids.push(NO_CONTAINER);
    for (const id of new Set(ids)) {
      const list = byContainer.get(id) ?? [];
      list.push(e);
      byContainer.set(id, list);
    }
    if (NODE_WIDE_KINDS.has(e.exit137.kind) || NODE_WIDE_MESSAGES.has(e.exit137.message_id ?? '')) nodeWide.push(e);
  }

  const sources = memory.sources;
  for (const e of events) {
    const src = e.exit137.source;
    if (src === 'auditd') sources.audit = true;
    else if (src === 'dockerd' || src === 'containerd') sources.runtimeLogs = true;
    else if (src === 'kernel') sources.kernel = true;
    else if (src === 'kubelet') sources.kubelet = true;
    if (e.exit137.kind === 'container-event') sources.containerEvents = true;
  }

  const incident = (g: Trigger[], id: string, exitT: Trigger | undefined, deathNs: bigint): Incident => {
    const own = byContainer.get(id) ?? [];
    const evidence = mergeByTime(
      own.slice(lowerBound(own, deathNs - BEFORE_S * S), lowerBound(own, deathNs + AFTER_S * S + 1n)),
      nodeWide.slice(lowerBound(nodeWide, deathNs - NODE_BEFORE_S * S), lowerBound(nodeWide, deathNs + AFTER_S * S + 1n)),
    );
    const pids = initPids.get(id) ?? new Set<number>();
    const firstExit = evidence.find((e) => e.exit137.exit !== undefined && !e.exit137.exit.exec_id && idsOf(e).some((x) => sameContainer(x, id)));
    const inc: Incident = {
      host,
      containerId: id,
      idIsPrefix: isHexId(id) && !isContainerId(id),
      deathNs,
      firstNs: g[0]!.ns,
      deathTime: (exitT ?? g[0]!).time,
      exitCode: firstExit?.exit137.exit?.code ?? exitT?.exit,
      trigger: g.map((t) => t.what).filter((w, i, a) => a.indexOf(w) === i).join(', '),
      context: { host, containerId: id, deathNs, exitCode: firstExit?.exit137.exit?.code ?? exitT?.exit, initPids: pids, evidence, sources },
    };
    for (const e of evidence) {
      if (!idsOf(e).some((x) => sameContainer(x, id))) continue;
      if (e.container?.name && !inc.name) inc.name = e.container.name;
      if (e.container?.image?.name && !inc.image) inc.image = e.container.image.name;
      const f = e.exit137.fields ?? {};
      if (!inc.pod && (f['io.kubernetes.pod.name'] ?? e.orchestrator?.resource?.name)) inc.pod = f['io.kubernetes.pod.name'] ?? e.orchestrator?.resource?.name;
      if (!inc.namespace && f['io.kubernetes.pod.namespace']) inc.namespace = f['io.kubernetes.pod.namespace'];
      if (f['io.kubernetes.docker.type']) inc.sandbox = f['io.kubernetes.docker.type'] === 'podsandbox';
    }
    return inc;
  };
  return groups.map((g) => {
    const id = g.map((t) => t.id).sort((a, b) => b.length - a.length)[0]!;
    const exitT = g.find((t) => t.exit !== undefined);
    const deathNs = exitT?.ns ?? g[0]!.ns;
    return { containerId: id, deathNs, firstNs: g[0]!.ns, lastNs: g[g.length - 1]!.ns, incident: () => incident(g, id, exitT, deathNs) };
  });
}

function mergeByTime(a: Ev[], b: Ev[]): Ev[] {
  const out: Ev[] = [];
  const seen = new Set<Ev>();
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]!.ns <= b[j]!.ns) ? a[i++]! : b[j++]!;
    if (!seen.has(next)) {
      seen.add(next);
      out.push(next);
    }
  }
  return out;
}

/** First index whose value is not below `target` in an array sorted by that value. */
function lowerBoundBy<T, K>(items: T[], target: K, value: (x: T) => K): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value(items[mid]!) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const lowerBound = (events: Ev[], ns: bigint) => lowerBoundBy(events, ns, (e) => e.ns);

/**
 * Groups evidence by node. Lines that named no node (audit.log without node=, a daemon's own log
 * file read without --host) belong to the only node the input names, when it names exactly one.
 */
export function byHost(events: NormalizedEvent[]): Map<string, Ev[]> {
  const out = new Map<string, Ev[]>();
  for (const e of events) {
    // a copy: correlation must not change the events the sinks are given
    const ev: Ev = { ...e, ns: BigInt(e.exit137.ts_ns) };
    const list = out.get(e.host.name) ?? [];
    list.push(ev);
    out.set(e.host.name, list);
  }
  const unknown = out.get(UNKNOWN_HOST);
  const named = [...out.keys()].filter((h) => h !== UNKNOWN_HOST);
  if (unknown && named.length === 1) {
    out.get(named[0]!)!.push(...unknown);
    out.delete(UNKNOWN_HOST);
  }
  return out;
}

/** A shim's crash dump comes this soon after its own lines in the same stream (start, then panic). */
const SHIM_CRASH_AFTER_NS = 2n * S;

/**
 * A crash dump cut before its frames, right after a shim's own lines in the same program's stream,
 * is the shim's, and belongs to the container those lines name. A dump with frames says itself
 * whose it is: containerd's stream interleaves many shims, so the lines before it prove nothing.
 */
function markShimCrashes(events: Ev[]): void {
  const lastShimLine = new Map<string, Ev>();
  for (const e of events) {
    const stream = `${e.exit137.source}\0${e.log.file?.path ?? ''}`;
    if (e.exit137.message_id === 'shim-own-log') lastShimLine.set(stream, e);
    else if (e.exit137.kind === 'go-crash') {
      const shim = lastShimLine.get(stream);
      if (!shim || e.ns - shim.ns > SHIM_CRASH_AFTER_NS || (e.exit137.crash?.frames.length ?? 0) > 0) continue;
      e.shimCrash = true;
      const id = shim.container?.id ?? shim.exit137.related_ids?.[0];
      if (id && !e.container?.id) e.container = { ...(e.container ?? {}), id };
    }
  }
}
