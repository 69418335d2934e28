import type { BlockKind } from '../blocks/block.ts';
import { matchWording } from '../runtime/wordings.ts';
import type { Draft } from './draft.ts';
import type { KubeEvent } from './kube-events.ts';
import { eventDraft, parseEventRow, podStatusDraft } from './kube-events.ts';
import { commandOf, containerRef, instant, isOomReason, iso, partition, plainDraft, podRef, positional, signalInfo, stateAction, unquote } from './paste.ts';

/**
 * `kubectl describe pod`: the pod's header (Name, Namespace, Node, Status/Reason/Message), each
 * container's State and Last State, and the Events table, in any kubectl since 2015 (tab-aligned
 * then, space-aligned now, re-typed by hand with single spaces). People paste a part of it: the
 * Last State block alone, a container's section without the `Containers:` line above it, the
 * header's Status/Reason/Message, or the Events table: each part alone is read.
 */

/** Keys a describe prints at the left margin (a pod's, and a container's when its section is pasted alone). */
const MARGIN_KEYS = new Set([
  'Name', 'Namespace', 'Priority', 'Priority Class Name', 'PriorityClassName', 'Runtime Class Name', 'Service Account', 'Node', 'Start Time', 'Labels',
  'Annotations', 'Status', 'Reason', 'Message', 'IP', 'IPs', 'Controlled By', 'Containers', 'Init Containers', 'Ephemeral Containers', 'Conditions',
  'Volumes', 'QoS Class', 'Node-Selectors', 'Tolerations', 'Events', 'Image(s)', 'Replication Controllers', 'Nominated Node Name', 'SeccompProfile',
  'Readiness Gates', 'Topology Spread Constraints', 'Created By', 'Termination Grace Period',
  'Container ID', 'Image', 'Image ID', 'Port', 'Ports', 'Host Port', 'Host Ports', 'Command', 'Args', 'State', 'Last State', 'Ready', 'Restart Count',
  'Limits', 'Requests', 'Liveness', 'Readiness', 'Startup', 'Environment', 'Environment Variables from', 'Mounts', 'Devices',
]);
/** Keys of a container's section, which a bare container name line (re-typed, no colon) is followed by. */
const CONTAINER_KEYS = /^\s+(State|Last State|Container ID|Image|Image ID|Ports?|Host Ports?|Args|Command|Ready|Restart Count|Limits|Requests):/;
const KEY_VALUE = /^(\s*)([A-Z][A-Za-z()\- ]*?|[a-z0-9][-a-z0-9_.]*):(?:[ \t]+(.*?))?[ \t]*$/;
const STATE_LINE = /^\s*(State|Last State):[ \t]+(Running|Terminated|Waiting)\b/;
const EVENTS_HEADER = /^\s*(?:Type\s+Reason\s+Age\s+From\s+Message|FirstSeen\s+LastSeen\s+Count\s+From)\b/;
const POD_PHASES = /^(Pending|Running|Succeeded|Failed|Unknown|Terminating)$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type State = { pendingName: boolean; command: boolean; afterCommand: boolean };

type StateRec = { which: 'current' | 'last'; status: string; fields: Record<string, string>; indent: number; line: number };
type ContainerRec = { name?: string; id?: string; restartCount?: number; states: StateRec[] };
export type Described = {
  pod?: string;
  namespace?: string;
  node?: string;
  /** A pod's header was seen (not a node's): its name is the pod of the events. */
  isPod: boolean;
  status?: string;
  reason?: string;
  message?: string;
  podLine?: number;
  containers: ContainerRec[];
  events: { ev: KubeEvent; line: number }[];
  texts: string[];
};

function describeCommand(line: string): { pod?: string; namespace?: string } | undefined {
  const c = commandOf(line);
  if (c?.program !== 'kubectl') return undefined;
  const i = c.args.indexOf('describe');
  if (i < 0) return undefined;
  const pos = positional(c.args.slice(i + 1), new Set(['-n', '--namespace', '-l', '--selector', '--context', '--kubeconfig']));
  const what = pos[0] ?? '';
  if (!/^(po|pods?)(\/|$)/.test(what)) return undefined;
  const out: { pod?: string; namespace?: string } = {};
  const name = what.includes('/') ? what.slice(what.indexOf('/') + 1) : pos[1];
  if (name) out.pod = name;
  const nsAt = c.args.findIndex((a) => a === '-n' || a === '--namespace');
  const ns = nsAt >= 0 ? c.args[nsAt + 1] : c.args.find((a) => a.startsWith('--namespace='))?.slice(12);
  if (ns) out.namespace = ns;
  return out;
}

function startsDescribe(raw: string): boolean {
  const t = unquote(raw);
  const c0 = t.charCodeAt(0);
  // the common case (a log line of no kind of ours) leaves at the first test
  if (c0 !== 32 && c0 !== 9 && (c0 < 65 || c0 > 90) && (c0 < 97 || c0 > 122) && c0 !== 91 && c0 !== 36 && c0 !== 35) return false;
  if (STATE_LINE.test(t) || EVENTS_HEADER.test(t)) return true;
  const kv = KEY_VALUE.exec(t);
  if (kv && kv[1] === '') {
    const [, , key, value = ''] = kv;
    if (key === 'Name' || key === 'Namespace') return value !== '';
    if (key === 'Containers' || key === 'Init Containers' || key === 'Events') return value === '' || value === '<none>';
    if (key === 'Status') return POD_PHASES.test(value);
    if (key === 'Reason') return /^(Evicted|Preempting|Preempted|Terminated|NodeLost|Shutdown|NodeShutdown|OutOfmemory|OutOfMemory|UnexpectedAdmissionError|NodeAffinity)$/.test(value);
    if (key === 'Message') return value !== '' && matchWording(value.trim(), {}) !== undefined;
  }
  if (DNS_LABEL.test(t) && t.length <= 63) return true;
  return raw.includes('describe') && describeCommand(raw) !== undefined;
}

export const kubectlDescribe: BlockKind<Described, State> = {
  name: 'kubectl-describe',
  starts: startsDescribe,
  init(first) {
    const t = unquote(first);
    const command = !KEY_VALUE.test(t) && !STATE_LINE.test(t) && !EVENTS_HEADER.test(t) && describeCommand(first) !== undefined;
    return { pendingName: !command && DNS_LABEL.test(t), command, afterCommand: false };
  },
  accepts(raw, s) {
    const t = unquote(raw);
    if (s.command) {
      // the command's output must follow it (or the poster's `...` for what they left out)
      s.command = false;
      if (t.trim() !== '...' && !startsDescribe(raw)) return 'no';
      s.afterCommand = true;
      return 'yes';
    }
    const first = s.afterCommand;
    s.afterCommand = false;
    if (s.pendingName) {
      s.pendingName = false;
      return CONTAINER_KEYS.test(t) ? 'yes' : 'no';
    }
    if (t.trim() === '' || t.trim() === '...') return 'yes';
    const c0 = t.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return 'yes';
    const kv = KEY_VALUE.exec(t);
    if (kv && MARGIN_KEYS.has(kv[2]!)) {
      // a describe opens with Name: another one is the next pod's describe, a block of its own
      if (kv[2] === 'Name' && !first) return 'no';
      return 'yes';
    }
    // an Events table pasted flush left
    return parseEventRow(t) !== undefined || EVENTS_HEADER.test(t) ? 'yes' : 'no';
  },
  finish(lines) {
    const r: Described = { isPod: false, containers: [], events: [], texts: lines };
    let section: 'header' | 'containers' | 'events' | 'other' = 'header';
    let cur: ContainerRec | undefined;
    let st: StateRec | undefined;
    let nameIndent: number | undefined;
    for (let i = 0; i < lines.length; i++) {
      const t = unquote(lines[i]!).replace(/\s+$/, '');
      if (i === 0) {
        const cmd = describeCommand(lines[0]!);
        if (cmd && !KEY_VALUE.test(t)) {
          if (cmd.pod) r.pod = cmd.pod;
          if (cmd.namespace) r.namespace = cmd.namespace;
          r.isPod = true;
          continue;
        }
      }
      const indent = /^[ \t]*/.exec(t)![0].replace(/\t/g, '  ').length;
      const kv = KEY_VALUE.exec(t);
      if (st && kv && indent > st.indent) {
        st.fields[kv[2]!] = kv[3] ?? '';
        continue;
      }
      st = undefined;
      if (section === 'events') {
        const ev = parseEventRow(t);
        if (ev) {
          r.events.push({ ev, line: i });
          continue;
        }
        if (!kv || indent > 0 || !MARGIN_KEYS.has(kv[2]!)) continue;
      }
      if (!kv) {
        const bare = t.trim();
        if (DNS_LABEL.test(bare) && indent <= (nameIndent ?? indent) && lines[i + 1] !== undefined && CONTAINER_KEYS.test(unquote(lines[i + 1]!))) {
          cur = { name: bare, states: [] };
          r.containers.push(cur);
        } else if (EVENTS_HEADER.test(t) || parseEventRow(t)) {
          // an Events table without its `Events:` line
          section = 'events';
          i--;
        }
        continue;
      }
      const key = kv[2]!;
      const value = kv[3] ?? '';
      if (key === 'State' || key === 'Last State') {
        if (!cur) {
          cur = { states: [] };
          r.containers.push(cur);
        }
        st = { which: key === 'State' ? 'current' : 'last', status: value.split(/\s/)[0] ?? value, fields: {}, indent, line: i };
        cur.states.push(st);
        continue;
      }
      if (indent === 0 && MARGIN_KEYS.has(key) && !CONTAINER_KEYS.test(` ${t}`)) {
        if (key === 'Containers' || key === 'Init Containers' || key === 'Ephemeral Containers') {
          section = 'containers';
          r.isPod = true;
          cur = undefined;
          nameIndent = undefined;
        } else if (key === 'Events') section = 'events';
        else if (section === 'containers') section = 'other';
        if (section === 'header' && r.containers.length === 0) {
          if (key === 'Name') r.pod = value;
          else if (key === 'Namespace') {
            r.namespace = value;
            r.isPod = true;
          } else if (key === 'Node') r.node = value.replace(/\/.*$/, '');
          else if (key === 'Status' && value) r.status = value;
          else if ((key === 'Reason' || key === 'Message') && value) {
            if (key === 'Reason') r.reason = value;
            else r.message = value;
            r.podLine ??= i;
          }
        }
        continue;
      }
      if (section === 'containers' && value === '' && /^[a-z0-9]/.test(key) && (nameIndent === undefined || indent === nameIndent)) {
        nameIndent = indent;
        cur = { name: key, states: [] };
        r.containers.push(cur);
        continue;
      }
      if (!cur) continue;
      if (key === 'Container ID' && value) {
        const ref = containerRef(value);
        if (ref?.id) cur.id = ref.id;
      } else if (key === 'Restart Count' && /^\d+$/.test(value)) cur.restartCount = Number(value);
    }
    return r;
  },
  drafts(r): Draft[] {
    const out: Draft[] = [];
    const pod = podRef(r.pod, r.namespace);
    if (r.reason || r.message) {
      const d = podStatusDraft({ status: r.status, reason: r.reason, message: r.message, pod: r.pod, namespace: r.namespace, node: r.node, containerIds: r.containers.map((c) => c.id).filter((x): x is string => x !== undefined) });
      d.lines = { from: r.podLine ?? 0, to: r.podLine ?? 0 };
      out.push(d);
    }
    for (const c of r.containers) for (const s of c.states) out.push(stateDraft(r, c, s));
    for (const { ev, line } of r.events) {
      const d = eventDraft(ev, r.isPod ? { pod: r.pod, namespace: r.namespace } : {});
      if (!d.orchestrator && pod && r.isPod) d.orchestrator = pod;
      d.lines = { from: line, to: line };
      out.push(d);
    }
    if (out.length === 0) return r.texts.map(plainDraft);
    return partition(out, r.texts.length);
  },
};

function stateDraft(r: Described, c: ContainerRec, s: StateRec): Draft {
  const f = s.fields;
  const reason = f.Reason || undefined;
  const started = instant(f.Started);
  const finished = instant(f.Finished);
  const { action, type } = stateAction(s.status);
  const state: NonNullable<Draft['state']> = { status: s.status.toLowerCase(), which: s.which };
  if (reason) state.reason = reason;
  if (s.status === 'Terminated' || reason) state.oom_killed = isOomReason(reason);
  if (f.Message) state.error = f.Message;
  if (started) state.started = iso(started)!;
  if (finished) state.finished = iso(finished)!;
  if (c.restartCount !== undefined) state.restart_count = c.restartCount;
  const code = f['Exit Code'];
  const d: Draft = {
    kind: 'container-state',
    source: 'kubectl',
    action,
    type,
    message: `${c.name ?? 'container'} ${s.which === 'last' ? 'last state' : 'state'} ${s.status}${reason ? ` (${reason})` : ''}${code ? ` exit ${code}` : ''}`,
    state,
    lines: { from: s.line, to: s.line },
  };
  if (code && /^-?\d+$/.test(code)) d.exit = { code: Number(code) };
  const sig = signalInfo(f.Signal);
  if (sig) d.signal = sig;
  const at = finished ?? started;
  if (at) d.at = at;
  const container: NonNullable<Draft['container']> = {};
  if (c.id) container.id = c.id;
  if (c.name) container.name = c.name;
  if (c.id || c.name) d.container = container;
  const pod = podRef(r.pod, r.namespace);
  if (pod) d.orchestrator = pod;
  if (r.node) d.fields = { node: r.node };
  return d;
}
