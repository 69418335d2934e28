import type { Draft } from './draft.ts';
import type { KubeEvent } from './kube-events.ts';
import { eventDraft, podStatusDraft } from './kube-events.ts';
import type { At } from './paste.ts';
import { containerRef, instant, isOomReason, iso, podRef, signalInfo, stateAction } from './paste.ts';

/**
 * What a parsed JSON/YAML document says about containers, whatever part of it was pasted: the
 * tree is walked and each structure is known by its keys — a Kubernetes Event, a pod's container
 * statuses (state / lastState, or the pre-1.0 `termination` keyed by container name), a pod's
 * status (reason Evicted…), a `docker inspect` container or its State alone, a swarm task's
 * status, a `crictl inspect` status.
 */

/** What the command above the document said it is about. */
export type DocContext = { program?: 'kubectl' | 'docker' | 'crictl' | 'ctr'; target?: string; namespace?: string; template?: string };
/** A draft, and strings of the document's text that find the line it stands for. */
export type Found = { draft: Draft; hints: string[] };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  return typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

/** A document's time: RFC 3339, or the epoch nanoseconds some crictl versions print. */
function when(v: unknown): At | undefined {
  const s = str(v);
  if (s && /^\d{18,19}$/.test(s)) return BigInt(s) > 0n ? { ns: BigInt(s), basis: 'absolute', offsetMinutes: 0 } : undefined;
  return instant(s);
}

export function interpretDocuments(docs: unknown[], ctx: DocContext): Found[] {
  const out: Found[] = [];
  for (const d of docs) walk(d, undefined, [], ctx, out, 0);
  return out;
}

const STATE_KEYS = ['terminated', 'termination', 'running', 'waiting'];

function hasStateChild(v: unknown): v is Obj {
  return isObj(v) && STATE_KEYS.some((k) => k in v);
}

function walk(node: unknown, key: string | undefined, ancestors: Obj[], ctx: DocContext, out: Found[], depth: number): void {
  if (depth > 64) return;
  if (Array.isArray(node)) {
    for (const x of node) walk(x, key, ancestors, ctx, out, depth + 1);
    return;
  }
  if (!isObj(node)) return;
  const o = node;
  if ((isObj(o.involvedObject) || isObj(o.regarding)) && (typeof o.reason === 'string' || typeof o.message === 'string' || typeof o.note === 'string')) {
    out.push(kubeEvent(o));
    return;
  }
  if (isObj(o.State) && num(o.State.ExitCode) !== undefined) {
    out.push(docker(o.State, o, ctx));
    return;
  }
  if (num(o.ExitCode) !== undefined && ('Status' in o || 'Running' in o || 'OOMKilled' in o || 'FinishedAt' in o)) {
    out.push(docker(o, ancestors.find((a) => 'Id' in a || 'Name' in a), ctx));
    return;
  }
  if (isObj(o.ContainerStatus) && num(o.ContainerStatus.ExitCode) !== undefined) {
    out.push(swarmTask(o));
    return;
  }
  if ((typeof o.state === 'string' && /^CONTAINER_/.test(o.state)) || (num(o.exitCode) !== undefined && ('id' in o || 'imageRef' in o || 'createdAt' in o) && key !== 'terminated' && key !== 'termination')) {
    out.push(crictl(o, ctx));
    return;
  }
  if (hasStateChild(o.state) || hasStateChild(o.lastState) || hasStateChild(o.currentState)) {
    // pre-1.0 statuses were keyed by the container's name
    const name = str(o.name) ?? (key && !/^(status|containerStatuses|initContainerStatuses|info)$/.test(key) ? key : undefined);
    out.push(...statuses(o, name, ancestors, ctx));
    return;
  }
  if ((key === 'state' || key === 'lastState' || key === 'currentState') && hasStateChild(o)) {
    out.push(...statuses({ [key]: o }, undefined, ancestors, ctx));
    return;
  }
  if ((key === 'terminated' || key === 'termination') && num(o.exitCode) !== undefined) {
    // cut out of its state or lastState: which run it was is not said
    out.push(...statuses({ state: { [key]: o } }, undefined, ancestors, ctx, true));
    return;
  }
  if (key === 'status' && (typeof o.phase === 'string' || typeof o.reason === 'string') && (typeof o.reason === 'string' || typeof o.message === 'string')) {
    out.push(podStatus(o, ancestors, ctx));
  }
  for (const [k, v] of Object.entries(o)) if (v !== null && typeof v === 'object') walk(v, k, [o, ...ancestors], ctx, out, depth + 1);
}

/** The pod a structure belongs to: its object's metadata, else what the command named. */
function podOf(ancestors: Obj[], ctx: DocContext): { name?: string; namespace?: string } {
  for (const a of ancestors) {
    if (isObj(a.metadata) && (a.kind === undefined || a.kind === 'Pod')) {
      const out: { name?: string; namespace?: string } = {};
      const name = str(a.metadata.name);
      const ns = str(a.metadata.namespace);
      if (name) out.name = name;
      if (ns) out.namespace = ns;
      if (name || ns) return out;
    }
  }
  const out: { name?: string; namespace?: string } = {};
  if (ctx.program === 'kubectl' && ctx.target) out.name = ctx.target;
  if (ctx.namespace) out.namespace = ctx.namespace;
  return out;
}

function kubeEvent(o: Obj): Found {
  const obj = (isObj(o.involvedObject) ? o.involvedObject : o.regarding) as Obj;
  const src = isObj(o.source) ? o.source : {};
  const series = isObj(o.series) ? o.series : {};
  const meta = isObj(o.metadata) ? o.metadata : {};
  const ev: KubeEvent = { message: (str(o.message) ?? str(o.note) ?? '').trim() };
  const reason = str(o.reason);
  if (reason) ev.reason = reason;
  const type = str(o.type);
  if (type) ev.type = type;
  const from = str(src.component) ?? str(o.reportingComponent) ?? str(o.reportingController);
  if (from) ev.from = str(src.host) ? `${from}, ${str(src.host)}` : from;
  const count = num(o.count) ?? num(series.count) ?? num(o.deprecatedCount);
  if (count !== undefined) ev.count = count;
  const at = when(o.lastTimestamp) ?? when(series.lastObservedTime) ?? when(o.eventTime) ?? when(o.firstTimestamp) ?? when(o.deprecatedLastTimestamp) ?? when(meta.creationTimestamp);
  if (at) ev.at = at;
  const kind = str(obj.kind);
  if (kind) ev.kind = kind;
  const name = str(obj.name);
  if (name) ev.name = name;
  const ns = str(obj.namespace);
  if (ns) ev.namespace = ns;
  const path = str(obj.fieldPath);
  if (path) ev.fieldPath = path;
  return { draft: eventDraft(ev), hints: [str(o.message) ?? '', reason ? `"${reason}"` : '', reason ? `reason: ${reason}` : ''] };
}

/** `docker inspect`: the container (Id, Name, Config) and its State. */
function docker(state: Obj, container: Obj | undefined, ctx: DocContext): Found {
  const status = str(state.Status) ?? (state.Running === true ? 'running' : state.Dead === true ? 'dead' : state.Restarting === true ? 'restarting' : 'exited');
  const { action, type } = stateAction(status);
  const running = action === 'container-running';
  const started = when(state.StartedAt);
  const finished = when(state.FinishedAt);
  const s: NonNullable<Draft['state']> = { status, which: 'current' };
  if (typeof state.OOMKilled === 'boolean') s.oom_killed = state.OOMKilled;
  if (state.OOMKilled === true) s.reason = 'OOMKilled';
  const error = str(state.Error);
  if (error) s.error = error;
  if (started) s.started = iso(started)!;
  if (finished) s.finished = iso(finished)!;
  const config = isObj(container?.Config) ? container.Config : {};
  const labels = isObj(config.Labels) ? config.Labels : {};
  const code = num(state.ExitCode)!;
  const ref = containerRef(str(container?.Id), str(container?.Name)) ?? (ctx.target ? containerRef(ctx.target) : undefined);
  const d: Draft = {
    kind: 'container-state',
    source: 'docker-cli',
    action,
    type,
    message: `${ref?.name ?? ref?.id?.slice(0, 12) ?? 'container'} ${status}${running ? '' : ` exit ${code}`}${state.OOMKilled === true ? ' (OOMKilled)' : ''}`,
    state: s,
  };
  if (ref) {
    d.container = { ...ref, runtime: 'docker' };
    const image = str(config.Image);
    if (image) d.container.image = { name: image };
  }
  // a running container's ExitCode is its previous run's, or 0: no exit of this one
  if (!running) d.exit = { code };
  const pid = num(state.Pid);
  if (pid !== undefined && pid > 0) d.process = { pid };
  const at = running ? started : (finished ?? started);
  if (at) d.at = at;
  const pod = podRef(str(labels['io.kubernetes.pod.name']), str(labels['io.kubernetes.pod.namespace']));
  if (pod) d.orchestrator = pod;
  const k8sName = str(labels['io.kubernetes.container.name']);
  if (k8sName) d.fields = { 'io.kubernetes.container.name': k8sName };
  return { draft: d, hints: ['"State"', 'State:', str(state.FinishedAt) ?? '', 'ExitCode'] };
}

/** A swarm task's status: its container's exit, and the error the task failed with. */
function swarmTask(o: Obj): Found {
  const cs = o.ContainerStatus as Obj;
  const status = str(o.State) ?? 'exited';
  const { action, type } = stateAction(status);
  const s: NonNullable<Draft['state']> = { status, which: 'current' };
  const err = str(o.Err);
  if (err) s.error = err;
  const d: Draft = { kind: 'container-state', source: 'docker-cli', action, type, message: `task ${status}${err ? `: ${err}` : ''}`, state: s, exit: { code: num(cs.ExitCode)! } };
  const ref = containerRef(str(cs.ContainerID));
  if (ref) d.container = { ...ref, runtime: 'docker' };
  const pid = num(cs.PID);
  if (pid !== undefined && pid > 0) d.process = { pid };
  const at = when(o.Timestamp);
  if (at) d.at = at;
  const message = str(o.Message);
  if (message) d.fields = { message };
  return { draft: d, hints: ['"Status"', str(o.Timestamp) ?? ''] };
}

/** `crictl inspect`: status.{id, metadata.name, state, exitCode, reason, startedAt, finishedAt, labels}. */
function crictl(o: Obj, ctx: DocContext): Found {
  const raw = str(o.state) ?? 'CONTAINER_EXITED';
  const status = raw.replace(/^CONTAINER_/, '').toLowerCase();
  const { action, type } = stateAction(status);
  const started = when(o.startedAt);
  const finished = when(o.finishedAt);
  const reason = str(o.reason);
  const s: NonNullable<Draft['state']> = { status, which: 'current' };
  if (reason) {
    s.reason = reason;
    s.oom_killed = isOomReason(reason);
  }
  const message = str(o.message);
  if (message) s.error = message;
  if (started) s.started = iso(started)!;
  if (finished) s.finished = iso(finished)!;
  const meta = isObj(o.metadata) ? o.metadata : {};
  const labels = isObj(o.labels) ? o.labels : {};
  const ref = containerRef(str(o.id), str(meta.name) ?? str(labels['io.kubernetes.container.name'])) ?? (ctx.target ? containerRef(ctx.target) : undefined);
  const code = num(o.exitCode);
  const d: Draft = {
    kind: 'container-state',
    source: 'crictl',
    action,
    type,
    message: `${ref?.name ?? ref?.id?.slice(0, 13) ?? 'container'} ${status}${reason ? ` (${reason})` : ''}${code !== undefined && action !== 'container-running' ? ` exit ${code}` : ''}`,
    state: s,
  };
  if (ref) d.container = ref;
  if (code !== undefined && action !== 'container-running') d.exit = { code };
  const at = action === 'container-running' ? started : (finished ?? started);
  if (at) d.at = at;
  const pod = podRef(str(labels['io.kubernetes.pod.name']), str(labels['io.kubernetes.pod.namespace']));
  if (pod) d.orchestrator = pod;
  const attempt = num(meta.attempt);
  if (attempt !== undefined) s.restart_count = attempt;
  return { draft: d, hints: ['"state"', 'state:', 'exitCode', str(o.finishedAt) ?? ''] };
}

/** A container status's state and lastState, each one event. */
function statuses(cs: Obj, name: string | undefined, ancestors: Obj[], ctx: DocContext, whichUnknown = false): Found[] {
  const out: Found[] = [];
  const pod = podOf(ancestors, ctx);
  for (const [key, which] of [['state', 'current'], ['currentState', 'current'], ['lastState', 'last']] as const) {
    const st = cs[key];
    if (!hasStateChild(st)) continue;
    const k = STATE_KEYS.find((x) => x in st)!;
    const v = isObj(st[k]) ? st[k] : {};
    const status = k === 'termination' ? 'terminated' : k;
    const { action, type } = stateAction(status);
    const reason = str(v.reason);
    const started = when(v.startedAt);
    const finished = when(v.finishedAt);
    const s: NonNullable<Draft['state']> = { status };
    if (!whichUnknown) s.which = which;
    if (reason) s.reason = reason;
    if (status === 'terminated' || reason) s.oom_killed = isOomReason(reason);
    const message = str(v.message);
    if (message) s.error = message;
    if (started) s.started = iso(started)!;
    if (finished) s.finished = iso(finished)!;
    const restarts = num(cs.restartCount);
    if (restarts !== undefined) s.restart_count = restarts;
    const code = num(v.exitCode);
    const ref = containerRef(str(v.containerID) ?? str(cs.containerID), name);
    const d: Draft = {
      kind: 'container-state',
      source: 'kubectl',
      action,
      type,
      message: `${name ?? 'container'} ${which === 'last' && !whichUnknown ? 'last state' : 'state'} ${status}${reason ? ` (${reason})` : ''}${code !== undefined ? ` exit ${code}` : ''}`,
      state: s,
    };
    if (code !== undefined) d.exit = { code };
    const sig = signalInfo(num(v.signal));
    if (sig) d.signal = sig;
    if (ref) d.container = ref;
    const at = finished ?? started;
    if (at) d.at = at;
    const o = podRef(pod.name, pod.namespace);
    if (o) d.orchestrator = o;
    out.push({ draft: d, hints: [str(v.finishedAt) ?? '', str(v.startedAt) ?? '', `${key}:`, `"${key}"`, name ?? ''] });
  }
  return out;
}

function podStatus(o: Obj, ancestors: Obj[], ctx: DocContext): Found {
  const pod = podOf(ancestors, ctx);
  const ids: string[] = [];
  for (const list of [o.containerStatuses, o.initContainerStatuses]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) if (isObj(c)) {
      const id = containerRef(str(c.containerID))?.id;
      if (id) ids.push(id);
    }
  }
  const d = podStatusDraft({ status: str(o.phase), reason: str(o.reason), message: str(o.message)?.trim(), pod: pod.name, namespace: pod.namespace, containerIds: ids });
  return { draft: d, hints: ['message:', '"message"', 'reason:', '"reason"'] };
}
