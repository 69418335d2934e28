import type { NormalizedEvent } from '../../ingest/event.ts';
import { isEvidence } from '../incidents.ts';

/**
 * What the correlate workers index in Elasticsearch. `evidence` (the default): what can be
 * evidence of a death, plus a bounded context around each death; `all`: every event. A node
 * writes mostly lines no cause reads (a Go runtime's SIGURG storm, container starts, plain log
 * lines): indexing them all made Elasticsearch the pipeline's bottleneck, for documents nobody
 * looks at. What is not indexed is counted by reason, never silently dropped.
 */
export type IndexMode = 'evidence' | 'all';

/**
 * The not-indexed reason of an audit event the ingest worker let go before building it: it could
 * never be evidence (ingest/audit/triage.ts: a signal that cannot kill, a syscall no cause reads).
 */
export const AUDIT_TRIAGED = 'audit-triaged-at-ingest';

/** The not-indexed reason of a daemon's debug or info line the ingest worker let go before building it (ingest/runtime/triage.ts isRuntimeChatter). */
export const RUNTIME_TRIAGED = 'runtime-chatter-triaged-at-ingest';

/** Every reason of an event let go at ingest, before it was built. */
export const TRIAGED_AT_INGEST = [AUDIT_TRIAGED, RUNTIME_TRIAGED];

/** Events kept on each side of a death, on the same stream: what the node wrote around it. */
export const CONTEXT_EVENTS = 5;

export type IndexSelection = { index: NormalizedEvent[]; skipped: Record<string, number> };

/**
 * The events of one batch to index. Context is taken within the batch (a batch is one ingest
 * worker's events in the order it read them), from the same stream (file, or source) and either
 * the same container or none named: at most CONTEXT_EVENTS before and after each death mark.
 */
export function selectForIndex(events: NormalizedEvent[], mode: IndexMode): IndexSelection {
  if (mode === 'all') return { index: events, skipped: {} };
  const keep = new Uint8Array(events.length);
  const streams = new Map<string, number[]>();
  const stream = (e: NormalizedEvent) => e.log.file?.path ?? e.exit137.source;
  events.forEach((e, i) => {
    if (isEvidence(e)) keep[i] = 1;
    const s = stream(e);
    let l = streams.get(s);
    if (!l) streams.set(s, (l = []));
    l.push(i);
  });
  for (const idx of streams.values()) {
    for (let p = 0; p < idx.length; p++) {
      const e = events[idx[p]!]!;
      if (!marksDeath(e)) continue;
      const id = e.container?.id;
      const near = (q: number) => {
        const c = events[idx[q]!]!.container?.id;
        return c === undefined || id === undefined || c === id;
      };
      for (let q = p - 1, n = 0; q >= 0 && n < CONTEXT_EVENTS; q--) if (near(q)) (keep[idx[q]!] = 1), n++;
      for (let q = p + 1, n = 0; q < idx.length && n < CONTEXT_EVENTS; q++) if (near(q)) (keep[idx[q]!] = 1), n++;
    }
  }
  const index: NormalizedEvent[] = [];
  const skipped: Record<string, number> = {};
  events.forEach((e, i) => {
    if (keep[i]) index.push(e);
    else {
      const r = skipReason(e);
      skipped[r] = (skipped[r] ?? 0) + 1;
    }
  });
  return { index, skipped };
}

/**
 * An event that is, or may be, a container's death: what the context is taken around. Wider than
 * what opens an incident (correlate/incidents.ts) on purpose: a few extra lines of context cost
 * little, a death without its surroundings costs the reader.
 */
function marksDeath(e: NormalizedEvent): boolean {
  const x = e.exit137;
  if (x.exit?.code === 137) return true;
  if (x.signal?.name === 'SIGKILL') return true;
  if (x.kind === 'kernel-oom' || x.kind === 'go-crash' || x.kind === 'kernel-hung-task') return true;
  return x.kind === 'container-event' && isEvidence(e);
}

/** Why an event is not evidence, for the counters (exit137_events_not_indexed_total{reason}). */
function skipReason(e: NormalizedEvent): string {
  switch (e.exit137.kind) {
    case 'audit-signal':
      return 'signal-cannot-kill';
    case 'audit':
      return 'audit-not-a-crash';
    case 'runtime-log':
      return 'runtime-log-unrecognised';
    case 'container-event':
      return 'container-lifecycle';
    case 'kernel':
      return 'kernel-other';
    case 'log':
      return 'log-unrecognised';
    default:
      return `not-evidence-${e.exit137.kind}`;
  }
}
