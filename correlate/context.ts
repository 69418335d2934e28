import type { NormalizedEvent } from '../ingest/event.ts';
import { isHexId } from '../ingest/ids.ts';
import type { Attribution, Cause, EvidenceItem, KnownBug, Sender } from './verdict.ts';

/** A normalized event with its order key parsed once, and its container id when only a name was logged. */
export type Ev = NormalizedEvent & {
  ns: bigint;
  container?: NormalizedEvent['container'] & { alias?: string };
  /** A crash dump that followed a shim's own lines in the same stream: the shim's, whatever its frames. */
  shimCrash?: boolean;
};

export const S = 1_000_000_000n;

/** What one death looks like to the cause modules: the container, the moment, and the evidence around it. */
export type IncidentContext = {
  host: string;
  containerId: string;
  /** When the container died (or the kill that should have ended it was sent). */
  deathNs: bigint;
  exitCode: number | undefined;
  /** Pids known to be this container's init (host pid namespace). */
  initPids: Set<number>;
  /** Everything that concerns this container or its node around the death, in time order. */
  evidence: Ev[];
  /** The node's other evidence sources, to tell "no record" from "not recorded here". */
  sources: { audit: boolean; runtimeLogs: boolean; kernel: boolean; containerEvents: boolean; kubelet: boolean };
};

export type Finding = {
  cause: Cause;
  subCause?: string;
  confidence: number;
  confidenceReason: string;
  headline: string;
  explanation: string;
  remedy: string;
  evidence: { event: Ev; role: string }[];
  killer?: Sender;
  signal?: string;
  graceSeconds?: number;
  oom?: Attribution['oom'];
  crash?: Attribution['crash'];
  knownBugs?: KnownBug[];
  exitOrigin?: Attribution['exit_origin'];
};

/**
 * One cause: its evidence rules, explanation and remedy. `assess` returns nothing when it does not
 * apply. `opens` names what an event alone says happened, when that is enough to say a container
 * died (or was being killed) even with no exit status in the input: a stop escalation line, a
 * probe failure, a shim's crash dump. Real evidence is partial; a death opened this way still
 * gets a verdict, with the confidence its evidence allows.
 */
export type CauseModule = { cause: Cause; assess(ctx: IncidentContext): Finding | undefined; opens?(e: Ev): string | undefined };

/** The container of a death whose evidence names none (a shim's crash dump without an id). */
export const NO_CONTAINER = '?';

/** A finding's evidence from (event, why it counts) pairs, leaving out the events that were not found. */
export function withRoles(pairs: [Ev | undefined, string][]): Finding['evidence'] {
  return pairs.filter((p): p is [Ev, string] => p[0] !== undefined).map(([event, role]) => ({ event, role }));
}

/** Hex ids match by prefix (the CLI shows 12 characters, proctitles are cut); names only exactly. */
export function sameContainer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  // every match below needs the first 12 characters equal: said first, it spares the regexes
  // almost every pair (this runs for each evidence event against each death near it)
  if (a.length < 12 || b.length < 12 || !a.startsWith(b.slice(0, 12))) return false;
  if (isHexId(a) && isHexId(b)) {
    if (a.length <= b.length ? b.startsWith(a) : a.startsWith(b)) return true;
    // two whole ids that differ are two containers
    if (a.length === 64 && b.length === 64) return false;
  }
  // An id a terminal wrapped and a paste mangled (a character doubled at the wrap, 65 hex digits)
  // is still the container docker's own short id names: the first 12 digits are its identity.
  return MANGLED_HEX.test(a) && MANGLED_HEX.test(b) && (a.length > 64 || b.length > 64) && a.slice(0, 12) === b.slice(0, 12);
}

const MANGLED_HEX = /^[0-9a-f]{12,80}$/;

/** Does this event name the container (its id, an id inside a path or a cut argv)? */
export function mentions(e: Ev, id: string): boolean {
  // a death of no known container concerns every line that names none either
  if (id === NO_CONTAINER) return !e.container?.id && !e.container?.name && !e.orchestrator?.resource?.name && !e.exit137.related_ids?.length;
  if (sameContainer(e.container?.id ?? e.container?.alias ?? e.container?.name?.replace(/^\//, '') ?? e.orchestrator?.resource?.name, id)) return true;
  return (e.exit137.related_ids ?? []).some((r) => sameContainer(r, id));
}

/** Processes of the container runtime itself: their kills are the runtime at work, not an outsider. */
const RUNTIME_EXES = /(^|\/)(runc|crun|youki|runsc|nvidia-container-runtime|containerd|containerd-shim[\w-]*|dockerd|docker-containerd(-shim)?|kata-runtime|containerd-shim-kata-v2|conmon|crio)$/;

export function isRuntimeProcess(exe: string | undefined, name: string | undefined): boolean {
  if (exe && RUNTIME_EXES.test(exe)) return true;
  return name !== undefined && /^(runc|crun|containerd-shim|containerd-shi|nvidia-containe|dockerd|containerd)/.test(name);
}

export function senderOf(e: Ev): Sender {
  const s: Sender = {};
  if (e.process?.pid !== undefined) s.pid = e.process.pid;
  if (e.process?.parent?.pid !== undefined) s.ppid = e.process.parent.pid;
  if (e.process?.name) s.name = e.process.name;
  if (e.process?.executable) s.executable = e.process.executable;
  if (e.process?.args) s.args = e.process.args;
  if (e.auditd?.proctitle_truncated) s.args_truncated = true;
  if (e.user?.id) s.uid = e.user.id;
  if (e.user?.audit?.id) {
    s.auid = e.user.audit.id;
    s.login_user = true;
  }
  return s;
}

export function evidenceItem(e: Ev, role?: string): EvidenceItem {
  const item: EvidenceItem = { id: e.event.id, ts: e['@timestamp'], source: e.exit137.source, action: e.event.action, summary: (e.message ?? e.event.original).slice(0, 300) };
  if (role) item.role = role;
  return item;
}

export function isKill(e: Ev, sig = 'SIGKILL'): boolean {
  return e.exit137.kind === 'audit-signal' && e.exit137.signal?.name === sig && e.auditd?.success !== false;
}

/** A SIGKILL sent to this container: to its init pid, or by a runtime command naming it. */
export function killsContainer(e: Ev, ctx: IncidentContext, sig = 'SIGKILL'): boolean {
  if (!isKill(e, sig)) return false;
  const targets = [e.exit137.target?.process, ...(e.exit137.target?.others ?? [])];
  if (targets.some((t) => t?.pid !== undefined && ctx.initPids.has(t.pid))) return true;
  return mentions(e, ctx.containerId);
}

export function describeSender(s: Sender): string {
  const argv = s.args?.join(' ');
  return `${s.executable ?? s.name ?? '?'} (pid ${s.pid ?? '?'}${s.ppid !== undefined ? `, parent ${s.ppid}` : ''}${s.uid !== undefined ? `, uid ${s.uid}` : ''}${s.auid ? `, login uid ${s.auid}` : ''})${argv ? `: ${argv}${s.args_truncated ? ' …(cut at 128 bytes)' : ''}` : ''}`;
}
