import type { NormalizedEvent } from '../../ingest/event.ts';
import { byHost } from '../incidents.ts';
import type { NodeFinding } from './finding.ts';
import { memcgFindings } from './memcg.ts';
import { oomFindings } from './oom.ts';
import { processFindings } from './process-findings.ts';
import { ProcessTable } from './processes.ts';
import { stackFindings } from './stacks.ts';

/** The kinds of event a node-health finding is read from; other kinds are read only for a leak's errors in their message. */
const HEALTH_KINDS = new Set(['kernel-hung-task', 'task-stack', 'memcg-sample', 'kernel-oom', 'process-tree']);
/** Lines another reader took (an events row, a runtime's error) that may state a memory cgroup refused. */
const MESSAGE_KINDS = new Set(['runtime-log', 'container-state', 'container-event']);

/** An event a node-health finding may be read from. */
export function isHealthEvidence(e: NormalizedEvent): boolean {
  return HEALTH_KINDS.has(e.exit137.kind) || (MESSAGE_KINDS.has(e.exit137.kind) && e.message?.includes('/sys/fs/cgroup/') === true);
}

/** Node-health findings from one input's events: stacks of blocked tasks, process trees, memcg counts and errors, OOM reports. */
export function findHealth(events: NormalizedEvent[]): NodeFinding[] {
  const out: NodeFinding[] = [];
  const relevant = events.filter(isHealthEvidence);
  for (const [host, evs] of byHost(relevant)) {
    // by time; the sort is stable, so a paste without a clock keeps the order it was read in
    evs.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    const table = new ProcessTable(evs);
    const stacks = stackFindings(host, evs, table);
    const covered = new Set(stacks.flatMap((f) => (f.tasks ?? []).map((t) => t.pid)).filter((pid) => pid > 0));
    out.push(...stacks, ...processFindings(host, table, covered), ...memcgFindings(host, evs), ...oomFindings(host, evs));
  }
  return out;
}
