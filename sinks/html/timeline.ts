import type { NormalizedEvent } from '../../ingest/event.ts';
import type { Attribution, EvidenceItem } from '../../correlate/verdict.ts';
import type { Instant } from './clock.ts';
import { between, formatDuration, instantOf, isoToNs } from './clock.ts';

/** One lane per kind of witness, so a reader sees which sources spoke and which were silent. */
export const LANES = [
  { id: 'audit', title: 'audit', what: 'kernel audit records: who sent which signal to whom' },
  { id: 'runtime', title: 'runtime', what: 'dockerd, containerd, shims, cri-o, podman' },
  { id: 'kernel', title: 'kernel', what: 'OOM reports, hung tasks, kernel messages, sampled stacks' },
  { id: 'kubelet', title: 'kubelet', what: 'the kubelet, and Kubernetes’ view of the pod' },
  { id: 'events', title: 'events', what: 'docker and containerd events' },
  { id: 'other', title: 'other', what: 'pasted state and other lines' },
] as const;
export type LaneId = (typeof LANES)[number]['id'];

export function laneOf(item: EvidenceItem, e?: NormalizedEvent): LaneId {
  const kind = e?.exit137.kind;
  const source = e?.exit137.source ?? item.source;
  if (kind === 'audit-signal' || kind === 'audit' || source === 'auditd') return 'audit';
  if (source === 'kubelet' || source === 'kubectl') return 'kubelet';
  if (kind === 'kernel-oom' || kind === 'kernel-hung-task' || kind === 'kernel' || kind === 'task-stack' || kind === 'memcg-sample') return 'kernel';
  if (kind === 'container-event' || source === 'docker-events' || source === 'containerd-events') return 'events';
  if (kind === 'runtime-log' || kind === 'go-crash') return 'runtime';
  if (kind === undefined) {
    if (source === 'kernel' || source === 'proc') return 'kernel';
    if (source === 'ctr') return 'events';
    if (['dockerd', 'containerd', 'containerd-shim', 'crio', 'podman', 'syslog'].includes(source)) return 'runtime';
  }
  return 'other';
}

export type Row = {
  /** Absent on the one row that marks the death where no piece of evidence sits at its instant. */
  item?: EvidenceItem;
  event?: NormalizedEvent;
  lane?: LaneId;
  at: Instant;
  death: boolean;
};

export type GapKind = 'term-kill' | 'kill-exit' | 'term-exit';
export type Gap = { kind: GapKind; from: number; to: number; label: string; ns: bigint | undefined; column: number };

export type Timeline = { rows: Row[]; gaps: Gap[]; death: Instant; lanes: LaneId[]; gapColumns: number };

export function deathInstant(v: Attribution): Instant {
  const i: Instant = { ns: isoToNs(v.died_at), basis: v.died_basis ?? 'absolute' };
  if (v.died_since_boot_ns !== undefined) i.sinceBootNs = BigInt(v.died_since_boot_ns);
  return i;
}

export function buildTimeline(v: Attribution, events: ReadonlyMap<string, NormalizedEvent>): Timeline {
  const death = deathInstant(v);
  const rows: Row[] = v.evidence.map((item) => {
    const event = events.get(item.id);
    const row: Row = { item, lane: laneOf(item, event), at: instantOf(item.ts, event), death: false };
    if (event) row.event = event;
    return row;
  });
  const at = rows.findIndex((r) => r.item!.ts === v.died_at);
  if (at >= 0) rows[at]!.death = true;
  else {
    // the verdict placed the death between its pieces of evidence (or before them all)
    const after = rows.findIndex((r) => r.at.ns > death.ns);
    rows.splice(after < 0 ? rows.length : after, 0, { at: death, death: true });
  }
  const used = new Set(rows.flatMap((r) => (r.lane ? [r.lane] : [])));
  const lanes = LANES.map((l) => l.id).filter((id) => id !== 'other' || used.has('other'));
  const gaps = findGaps(rows, v);
  return { rows, gaps, death, lanes, gapColumns: gaps.reduce((n, g) => Math.max(n, g.column + 1), 0) };
}

const signalOf = (r: Row) => r.event?.exit137.signal?.name;
const exits = (r: Row) => r.event?.exit137.exit !== undefined;
/** A SIGKILL the audit log shows going to a shim is the shim's death, not the container's kill. */
const killsShim = (r: Row) => r.event?.exit137.kind === 'audit-signal' && [r.event.exit137.target?.process, ...(r.event.exit137.target?.others ?? [])].some((t) => /shim/.test(t?.name ?? ''));

/**
 * The intervals a reader of a 137 asks about: how long the container had between SIGTERM and
 * SIGKILL (the grace it got), and how long from the kill to the exit (instant, or stuck).
 */
export function findGaps(rows: Row[], v: Attribution): Gap[] {
  const exit = rows.findIndex(exits);
  const end = exit < 0 ? rows.length : exit;
  const term = rows.findIndex((r, i) => i < end && signalOf(r) === 'SIGTERM');
  const isKill = (r: Row, i: number) => i < end && signalOf(r) === 'SIGKILL' && !killsShim(r);
  const escalation = term < 0 ? -1 : rows.findIndex((r, i) => i > term && isKill(r, i));
  const gaps: Omit<Gap, 'column'>[] = [];
  const span = (a: number, b: number) => between(rows[a]!.at, rows[b]!.at);
  if (escalation >= 0) {
    const ns = span(term, escalation);
    gaps.push({ kind: 'term-kill', from: term, to: escalation, ns, label: `SIGTERM → SIGKILL: ${ns === undefined ? 'clocks not comparable' : formatDuration(ns)}${v.grace_seconds !== undefined ? ` (grace period ${v.grace_seconds} s)` : ''}` });
  }
  if (exit >= 0) {
    const kill = escalation >= 0 ? escalation : rows.findIndex(isKill);
    if (kill >= 0) {
      const ns = span(kill, exit);
      const what = rows[kill]!.event?.exit137.kind === 'kernel-oom' ? 'OOM kill' : 'SIGKILL';
      gaps.push({ kind: 'kill-exit', from: kill, to: exit, ns, label: `${what} → exit: ${ns === undefined ? 'clocks not comparable' : formatDuration(ns)}` });
    } else if (term >= 0) {
      const ns = span(term, exit);
      gaps.push({ kind: 'term-exit', from: term, to: exit, ns, label: `SIGTERM → exit: ${ns === undefined ? 'clocks not comparable' : formatDuration(ns)}` });
    }
  }
  // overlapping brackets stand side by side
  const ends: number[] = [];
  return gaps.map((g) => {
    let column = ends.findIndex((e) => e < g.from);
    if (column < 0) column = ends.length;
    ends[column] = g.to;
    return { ...g, column };
  });
}
