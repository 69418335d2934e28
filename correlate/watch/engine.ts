import type { NormalizedEvent } from '../../ingest/event.ts';
import { attribute } from '../attribute.ts';
import { S, sameContainer } from '../context.ts';
import { byHost, findIncidents, isEvidence } from '../incidents.ts';
import type { Attribution } from '../verdict.ts';

/** As the distributed correlate workers do it (correlate/distributed/workers.ts): node-minute buckets. */
const BUCKET_S = 60n;
const BEFORE_S = 900n;
const AFTER_S = 120n;
const EDGE_S = 10n;
/** Triggers of one container this close together are one death (correlate/incidents.ts). */
const SAME_DEATH_NS = 60n * S;
/** Evidence is kept this long after it arrived; a decided death is remembered a day longer. */
const RETAIN_MS = 2 * 3600_000;
const DECIDED_MS = RETAIN_MS + 24 * 3600_000;

type Held = { key: string; arrivedMs: number; e: NormalizedEvent };
type Bucket = { host: string; bucket: string; dueMs: number };
type Decided = { incident: string; host: string; container: string; deathNs: string; atMs: number };

/** What the correlator holds, as it goes into the state file. */
export type CorrelatorState = { evidence: Held[]; buckets: Bucket[]; decided: Decided[] };

/**
 * Correlation on one node without services: the evidence in memory, a settle window per
 * node-minute that each new piece of evidence re-arms, and, when a window closes, a verdict for
 * each death in it that was not decided before. A death is decided once: re-read evidence (after a
 * restart) and later finalizes of neighbouring windows find it decided and stay quiet.
 */
export class LocalCorrelator {
  private readonly evidence = new Map<string, Held>();
  private readonly buckets = new Map<string, Bucket>();
  private decided: Decided[] = [];

  constructor(private readonly settleMs: number, state?: CorrelatorState) {
    for (const h of state?.evidence ?? []) this.evidence.set(h.key, h);
    for (const b of state?.buckets ?? []) this.buckets.set(`${b.host}\0${b.bucket}`, b);
    this.decided = state?.decided ?? [];
  }

  /** Takes an event if it can be evidence; false when it is not, or was already held (a line read again). */
  add(e: NormalizedEvent, nowMs = Date.now()): boolean {
    if (!isEvidence(e)) return false;
    // Content, not the event id: a command's lines read again after a restart (dmesg) get other
    // ids, and the same line at the same instant is the same evidence.
    const key = `${e.host.name}|${e.exit137.ts_ns}|${e.exit137.kind}|${e.event.action}|${e.message ?? e.event.original}`;
    if (this.evidence.has(key)) return false;
    this.evidence.set(key, { key, arrivedMs: nowMs, e: slim(e) });
    const ns = BigInt(e.exit137.ts_ns);
    const b = ns / (BUCKET_S * S);
    const arm = (x: bigint) => this.buckets.set(`${e.host.name}\0${x}`, { host: e.host.name, bucket: x.toString(), dueMs: nowMs + this.settleMs });
    arm(b);
    const into = ns - b * BUCKET_S * S;
    if (into < EDGE_S * S) arm(b - 1n);
    if (into > (BUCKET_S - EDGE_S) * S) arm(b + 1n);
    return true;
  }

  /** Open settle windows. */
  get open(): number {
    return this.buckets.size;
  }

  /** Closes the windows whose settle time has passed; the verdicts on deaths not decided before. */
  due(nowMs = Date.now()): Attribution[] {
    const out: Attribution[] = [];
    const closing = [...this.buckets.entries()].filter(([, b]) => b.dueMs <= nowMs).sort((a, b) => (BigInt(a[1].bucket) < BigInt(b[1].bucket) ? -1 : 1));
    for (const [k, b] of closing) {
      this.buckets.delete(k);
      const start = BigInt(b.bucket) * BUCKET_S * S;
      const end = start + BUCKET_S * S;
      const events = [...this.evidence.values()].map((h) => h.e).filter((e) => {
        const ns = BigInt(e.exit137.ts_ns);
        return ns >= start - BEFORE_S * S && ns < end + AFTER_S * S;
      });
      for (const [host, evs] of byHost(events)) {
        for (const inc of findIncidents(evs, host)) {
          if (inc.deathNs < start || inc.deathNs >= end) continue;
          if (this.isDecided(host, inc.containerId, inc.deathNs)) continue;
          const v = attribute(inc);
          this.decided.push({ incident: v.incident_id, host, container: inc.containerId, deathNs: inc.deathNs.toString(), atMs: nowMs });
          out.push(v);
        }
      }
    }
    this.prune(nowMs);
    return out;
  }

  private isDecided(host: string, container: string, deathNs: bigint): boolean {
    return this.decided.some((d) => {
      if (d.host !== host || !sameContainer(d.container, container)) return false;
      const gap = BigInt(d.deathNs) - deathNs;
      return gap < SAME_DEATH_NS && -gap < SAME_DEATH_NS;
    });
  }

  private prune(nowMs: number): void {
    for (const [k, h] of this.evidence) if (nowMs - h.arrivedMs > RETAIN_MS) this.evidence.delete(k);
    this.decided = this.decided.filter((d) => nowMs - d.atMs <= DECIDED_MS);
  }

  state(): CorrelatorState {
    return { evidence: [...this.evidence.values()], buckets: [...this.buckets.values()], decided: this.decided };
  }
}

/** Correlation reads the message, or the start of the raw text when there is none (as the Redis store keeps it). */
function slim(e: NormalizedEvent): NormalizedEvent {
  if (e.message !== undefined) return { ...e, event: { ...e.event, original: '' } };
  return { ...e, event: { ...e.event, original: e.event.original.slice(0, 300) } };
}
