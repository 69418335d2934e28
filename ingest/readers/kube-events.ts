import { kernelOom } from '../blocks/kernel-oom.ts';
import type { Source } from '../event.ts';
import { containerIdsIn, isHexId } from '../ids.ts';
import { matchWording } from '../runtime/wordings.ts';
import type { Draft, LineReader } from './draft.ts';
import type { At } from './paste.ts';
import { AGE, cells, instant, podRef, startsWithIsoStamp } from './paste.ts';

/** What the kubelet set on a pod (`status.reason` / `.message`, describe's Reason and Message). */
export type PodStatus = { status?: string; reason?: string; message?: string; pod?: string; namespace?: string; node?: string; containerIds?: string[] };

/**
 * A Kubernetes event as any CLI shows it: a row of `kubectl describe`'s Events table or of
 * `kubectl get events` (every column layout since 2015), or an Event object of `-o json|yaml`.
 */
export type KubeEvent = {
  type?: string;
  reason?: string;
  message: string;
  /** The reporting component as printed: `kubelet`, `kubelet, node-1`, `{kubelet 10.0.0.1}`, `default-scheduler`. */
  from?: string;
  count?: number;
  /** A relative age (`2m`, `3m (x4 over 10m)`): not an instant, kept as said. */
  age?: string;
  /** The instant the event states (lastTimestamp, eventTime, a TIME column). */
  at?: At;
  /** A time in a form that places nothing (a web console's `6/11/2020, 17:52:33.000`), kept as said. */
  time?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  /** `spec.containers{name}`: the container the event is about. */
  fieldPath?: string;
};

/** Context a table gives its rows: the pod a describe is about. */
export type EventContext = { pod?: string; namespace?: string };

/** Event reasons a row may carry without a Type column (custom columns, 2015 rows, jsonpath). */
const KNOWN_REASONS = new Set([
  'Killing', 'Unhealthy', 'Evicted', 'Preempted', 'Preempting', 'OOMKilling', 'SystemOOM', 'BackOff', 'Created', 'Started', 'Pulled', 'Pulling',
  'Scheduled', 'FailedScheduling', 'FailedSync', 'FailedKillPod', 'FailedPreStopHook', 'ExceededGracePeriod', 'NodeNotReady', 'Shutdown', 'Terminated',
  'ContainerGCFailed', 'EvictionThresholdMet', 'NodeHasDiskPressure', 'NodeHasInsufficientMemory', 'TaintManagerEviction', 'Failed', 'Rebooted',
  'killing', 'created', 'started', 'pulled', 'pulling', 'scheduled', 'failedSync', 'unhealthy', 'failed', 'backOff',
]);

const TYPE = /^(Normal|Warning)$/;
const TYPE_REASON = /^(Normal|Warning) ([A-Z][A-Za-z]+)$/;
const REASON_WORD = /^[A-Z][A-Za-z]+$|^[a-z][a-zA-Z]+$/;
/** `kubelet`, `kubelet, node-1`, `{kubelet 10.0.0.1}`, `default-scheduler`: one token, lowercase. */
const FROM = /^\{[a-z][\w-]*(?: [^}]*)?\}$|^[a-z][a-z0-9-]*(?:, \S+)?$/;
const OBJECT = /^([a-z][a-z.]*)\/(\S+)$/;
const FIELD_PATH = /^spec\.(?:init|ephemeral)?[cC]ontainers\{[^}]+\}$/;
const KINDS = /^(Pod|Node|ReplicaSet|Deployment|StatefulSet|DaemonSet|Job|CronJob|Service|Endpoints|PersistentVolumeClaim|ReplicationController|HorizontalPodAutoscaler)$/;
const EVENT_NAME = /\.[0-9a-f]{10,}$/;
const COUNT = /^\d+$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Reads one row of an events table whatever its columns: Type and Reason anchor it (or a reason
 * that only events have, for layouts without Type); the cells around them are told apart by
 * their look (ages, instants, counts, `kind/name`, `spec.containers{…}`, the reporting
 * component); what follows is the message. Undefined when the line is no event row.
 */
export function parseEventRow(line: string): KubeEvent | undefined {
  const cs = cells(line);
  if (cs.length < 2) return undefined;
  let ri = -1;
  let type: string | undefined;
  for (let i = 0; i + 1 < cs.length && i < 12; i++) {
    if (TYPE.test(cs[i]!.text) && REASON_WORD.test(cs[i + 1]!.text)) {
      type = cs[i]!.text;
      ri = i + 1;
      break;
    }
    // re-typed with one space between them: `Warning OOMKilling  Memory cgroup out of memory: …`
    const joined = TYPE_REASON.exec(cs[i]!.text);
    if (joined) {
      type = joined[1]!;
      cs.splice(i, 1, { text: type, start: cs[i]!.start }, { text: joined[2]!, start: cs[i]!.start + type.length + 1 });
      ri = i + 1;
      break;
    }
  }
  if (ri < 0) {
    for (let i = 0; i < cs.length && i < 10; i++) {
      if (KNOWN_REASONS.has(cs[i]!.text)) {
        ri = i;
        break;
      }
    }
  }
  if (ri < 0) return undefined;
  const ev: KubeEvent = { reason: cs[ri]!.text, message: '' };
  if (type) ev.type = type;
  let classified = 0;
  const unknown: string[] = [];
  // before the reason, a lowercase dashed cell is a namespace or a pod; the reporter is marked
  let beforeReason = true;
  const see = (t: string): boolean => {
    if (AGE.test(t)) {
      ev.age ??= t;
      const x = /\(x(\d+) over /.exec(t);
      if (x) ev.count = Number(x[1]);
    } else if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^[A-Z][a-z]{2}, \d\d /.test(t)) {
      // first and last seen: the later one is when the event was last seen
      const at = instant(t);
      if (at && (!ev.at || at.ns > ev.at.ns)) ev.at = at;
    } else if (COUNT.test(t) && ev.count === undefined) ev.count = Number(t);
    else if (FIELD_PATH.test(t)) ev.fieldPath = t;
    else if (KINDS.test(t)) ev.kind = t;
    else if (OBJECT.test(t)) {
      const m = OBJECT.exec(t)!;
      ev.kind = m[1]!;
      ev.name = m[2]!;
    } else if (FROM.test(t) && ev.from === undefined && (t.includes('kubelet') || t.includes('{') || t.includes(', ') || (!beforeReason && t.includes('-')))) ev.from = t;
    else return false;
    classified++;
    return true;
  };
  for (let i = 0; i < ri; i++) {
    const t = cs[i]!.text;
    if (type && i === ri - 1) continue;
    if (!see(t)) unknown.push(t);
  }
  // After the reason: the columns some layouts put before the message (Age From; OBJECT; SOURCE).
  beforeReason = false;
  let mi = ri + 1;
  while (mi < cs.length - 1 && see(cs[mi]!.text)) mi++;
  if (mi < cs.length) {
    let end = line.length;
    const n = cs.length;
    // `-o wide` puts FIRST SEEN, COUNT and the event's own name after the message
    if (n - mi >= 4 && EVENT_NAME.test(cs[n - 1]!.text) && COUNT.test(cs[n - 2]!.text) && AGE.test(cs[n - 3]!.text)) {
      end = cs[n - 3]!.start;
      ev.count = Number(cs[n - 2]!.text);
    }
    // a lone trailing cell that the columns before already filled (FROM then MESSAGE) is the message
    if (mi === cs.length - 1 || end > cs[mi]!.start) ev.message = line.slice(cs[mi]!.start, end).trim();
  }
  // The pod: a `kind/name` object, a NAME before a KIND column, else a lone name-like cell.
  if (ev.kind && !ev.name && unknown.length) ev.name = unknown.pop()!;
  if (unknown.length && !ev.name && DNS_NAME.test(unknown[unknown.length - 1]!) && unknown[unknown.length - 1]!.includes('-')) ev.name = unknown.pop()!;
  if (unknown.length === 1 && DNS_NAME.test(unknown[0]!) && ev.name) ev.namespace = unknown[0]!;
  // Enough of an event to be one: a Type column, or a known reason with the look of a table around it.
  const wording = ev.message ? matchWording(ev.message, {}) : undefined;
  if (!type && classified === 0 && !wording) return undefined;
  if (!type && unknown.length > 1) return undefined;
  return ev;
}

/** What an event's reason alone says, when its message is in no wording (2015's `killing` with a docker id). */
const REASON_IDS: Record<string, string> = { killing: 'kubelet-kill-grace', evicted: 'kubelet-eviction', preempted: 'kubelet-preemption', preempting: 'kubelet-preemption' };

/** The container an event message names, in the kubelet's wordings since 2015. */
export function containerInMessage(message: string): { id?: string; name?: string } {
  // (a KillContainerError relays containerd's error with its quotes escaped: `container \"<id>\"`)
  let m = /container \\?"([^"\\]+)\\?"/.exec(message);
  if (m && isHexId(m[1]!) && m[1]!.length === 64) {
    const named = /"(?:KillContainer|StopContainer)" for "([^"]+)"/.exec(message);
    return named ? { id: m[1]!, name: named[1]! } : { id: m[1]! };
  }
  if (m) return { name: m[1]! };
  m = /^Killing container with id (?:[a-z-]+:\/\/)?([^:\s]+):/.exec(message);
  if (m) return isHexId(m[1]!) ? { id: m[1]! } : { name: m[1]! };
  m = /^(?:Killing|Created with docker id|Started with docker id|Killing container with docker id) ([0-9a-f]{12,64})\b/.exec(message);
  if (m) return { id: m[1]! };
  m = /^Container (\S+) (?:failed (?:liveness|startup|readiness) probe|definition changed|is unhealthy)/.exec(message) ?? /\bContainer (\S+) was using\b/.exec(message);
  if (m) return { name: m[1]! };
  m = /"(?:KillContainer|StopContainer|StartContainer|CreateContainer)" for "([^"]+)"/.exec(message);
  if (m) return { name: m[1]! };
  m = /^(?:Stopping|Created|Started|Killing|Creating|Starting|Pulling|Pulled) container (\S+)/.exec(message) ?? /^Back-off restarting failed container (\S+) in pod/.exec(message);
  if (m && m[1] !== 'with') return { name: m[1]! };
  return {};
}

function sourceOf(from: string | undefined, wordingComponent: string | undefined): Source {
  if (from?.includes('kubelet')) return 'kubelet';
  if (!from && wordingComponent === 'kubelet') return 'kubelet';
  // a scheduler's or a controller's event, or one whose writer the columns left out: shown by kubectl
  return 'kubectl';
}

/**
 * One event as the facts it states. A node-problem-detector OOMKilling event carries the kernel's
 * own victim line: that is the kernel's OOM report (cut to its victim), not a kubelet message.
 */
export function eventDraft(ev: KubeEvent, ctx: EventContext = {}): Draft {
  const fields: Record<string, string> = {};
  if (ev.reason) fields.reason = ev.reason;
  if (ev.type) fields.type = ev.type;
  if (ev.count !== undefined) fields.count = String(ev.count);
  if (ev.age) fields.age = ev.age;
  if (ev.time) fields.time = ev.time;
  if (ev.from) fields.from = ev.from;
  if (ev.kind || ev.name) fields.object = `${ev.kind ?? '?'}/${ev.name ?? '?'}`;
  if (ev.fieldPath) fields.field_path = ev.fieldPath;
  const isPod = ev.kind === undefined || /^pods?$/i.test(ev.kind);
  // the kubelet's ≤1.10 messages name the pod as `pod "name_namespace(uid)"`
  const quoted = /\bpod "([^"_]+)_([^"_(]+)\(/.exec(ev.message);
  const orchestrator = podRef(isPod ? (ev.name ?? ctx.pod ?? quoted?.[1]) : ctx.pod, ev.namespace ?? ctx.namespace ?? quoted?.[2]);
  const inPath = ev.fieldPath ? /\{([^}]+)\}/.exec(ev.fieldPath)?.[1] : undefined;
  const named = containerInMessage(ev.message);
  const container: NonNullable<Draft['container']> = {};
  if (named.id) container.id = named.id;
  const name = inPath ?? named.name;
  if (name) container.name = name;

  if (/Kill(?:ed)? process \d+/.test(ev.message)) {
    const oom = kernelOom.finish([ev.message.replace(/^.*?((?:Memory cgroup out of memory|Out of memory)(?: \([^)]*\))?: Kill)/, '$1')], false);
    if (oom.victim ?? oom.chosen) {
      const d = kernelOom.drafts(oom, false)[0]!;
      if (Object.keys(fields).length) d.fields = fields;
      if (ev.at) d.at = ev.at;
      if (orchestrator) d.orchestrator = orchestrator;
      if (container.name || container.id) d.container = { ...(d.container ?? {}), ...container };
      return d;
    }
  }

  const match = ev.message ? matchWording(ev.message, {}) : undefined;
  const id = match?.wording.id ?? (ev.reason ? REASON_IDS[ev.reason.toLowerCase()] : undefined);
  const d: Draft = {
    kind: 'runtime-log',
    source: sourceOf(ev.from, match?.wording.component),
    action: id ?? 'k8s-event',
    type: id && /exit|kill|stop|oom|finished|dead|reaped|disconnected|timeout/.test(id) ? 'end' : 'info',
    message: ev.message || `${ev.reason ?? 'event'}`,
  };
  if (Object.keys(fields).length) d.fields = fields;
  if (ev.type) d.level = ev.type === 'Warning' ? 'warning' : 'info';
  if (id) d.message_id = id;
  // the kubelet's OOM events name the victim process
  if (match?.captures.pid && /^\d+$/.test(match.captures.pid)) d.process = { pid: Number(match.captures.pid), name: match.captures.name ?? '' };
  if (ev.at) d.at = ev.at;
  if (container.id || container.name) d.container = container;
  if (orchestrator) d.orchestrator = orchestrator;
  const related = containerIdsIn(ev.message).filter((x) => x !== container.id);
  if (related.length) d.related_ids = related;
  return d;
}

/** Event messages of the kubelet that say a container is being killed, quoted without their row. */
const EVENT_MESSAGE = /^(?:The node was low on resource: |The node had condition: |Container \S+ failed (?:liveness|startup) probe|Killing container with id |Stopping container |Preempted by |Pod was terminated in response to imminent node shutdown|(?:System|Cgroup) OOM encountered|Liveness probe (?:failed|errored))/;
/** A leading time in no envelope's format (a web console's `6/11/2020, 17:52:33.000`): kept, not placed. */
const LOOSE_TIME = /^(?=[\d/.:, -]*\d[/.:-]\d)[\d/.:, -]{8,}(?:[AP]M)?\s+/;

function bareEvent(t: string): KubeEvent | undefined {
  const c0 = t.charCodeAt(0);
  if (c0 !== 84 && c0 !== 67 && c0 !== 75 && c0 !== 83 && c0 !== 80 && c0 !== 76 && (c0 < 48 || c0 > 57)) return undefined;
  const time = LOOSE_TIME.exec(t)?.[0];
  const message = time ? t.slice(time.length) : t;
  if (!EVENT_MESSAGE.test(message)) return undefined;
  const ev: KubeEvent = { message: message.trim() };
  if (time) ev.time = time.trim();
  return ev;
}

/**
 * An events row pasted without its table (grep'd, cut out of a describe, a custom-columns
 * listing), or a kubelet event's message quoted alone: one event per line, at its own position.
 */
export const kubeEventRow: LineReader = {
  name: 'kube-event-row',
  // cheap first: a row has column gaps (two spaces, a tab, a console's ` | `)
  detect: (t) => ((t.includes('  ') || t.includes('\t') || t.includes(' | ')) && parseEventRow(t) !== undefined) || bareEvent(t) !== undefined,
  read(t) {
    const ev = ((t.includes('  ') || t.includes('\t') || t.includes(' | ')) && parseEventRow(t)) || bareEvent(t);
    if (!ev) return { ok: false, reason: 'not-event-row', message: 'no Type/Reason columns' };
    return { ok: true, drafts: [eventDraft(ev)] };
  },
};

/** A row that begins with its instant (`-o custom-columns=TIME:.lastTimestamp,…`): the column gap tells it from an envelope's time. */
export function isStampLedRow(t: string): boolean {
  return startsWithIsoStamp(t) && /^\S+(?:\t| {2,})\S/.test(t) && parseEventRow(t) !== undefined;
}

const STATUS_REASON_IDS: Record<string, string> = { Evicted: 'kubelet-eviction', Preempting: 'kubelet-preemption', Preempted: 'kubelet-preemption', Shutdown: 'kubelet-node-shutdown', NodeShutdown: 'kubelet-node-shutdown' };

/**
 * What the kubelet set on a pod: `Status: Failed`, `Reason: Evicted`, `Message: The node was low
 * on resource: …`. The message names the containers over their request; every container of the
 * pod dies with it, so their ids go along.
 */
export function podStatusDraft(p: PodStatus): Draft {
  const match = p.message ? matchWording(p.message, {}) : undefined;
  const id = match?.wording.id ?? (p.reason ? STATUS_REASON_IDS[p.reason] : undefined);
  const fields: Record<string, string> = {};
  if (p.status) fields.status = p.status;
  if (p.reason) fields.reason = p.reason;
  if (p.node) fields.node = p.node;
  const d: Draft = { kind: 'runtime-log', source: 'kubectl', action: id ?? 'pod-status', type: 'info', message: p.message ?? `${p.status ?? ''} ${p.reason ?? ''}`.trim() };
  if (Object.keys(fields).length) d.fields = fields;
  if (id) d.message_id = id;
  const pod = podRef(p.pod, p.namespace);
  if (pod) d.orchestrator = pod;
  const named = p.message ? containerInMessage(p.message) : {};
  if (named.name || named.id) d.container = named;
  const ids = (p.containerIds ?? []).filter((x) => isHexId(x));
  if (ids.length) d.related_ids = ids;
  return d;
}
