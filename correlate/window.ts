import type { NormalizedEvent } from '../ingest/event.ts';
import { attribute } from './attribute.ts';
import { S, sameContainer } from './context.ts';
import type { HostMemory } from './incidents.ts';
import { AFTER_S, BEFORE_S, SAME_DEATH_S, byHost, findIncidents, newHostMemory } from './incidents.ts';
import type { Attribution } from './verdict.ts';

/** Held evidence below this is correlated once, at the end, exactly as a whole. */
export const RELEASE_AT = 2_000;

type Decided = { container: string; deathNs: bigint };

/**
 * Correlation of a long input in time order with memory bounded by the open window, not by the
 * input: evidence is held until the input's time (the watermark) has passed every death it can
 * still serve. Then the deaths that can no longer change are decided and the evidence no open
 * death can use is let go. Until RELEASE_AT events are held nothing is decided early, so an input
 * of ordinary size is correlated as one whole, exactly as `correlate` does it.
 */
export class EvidenceWindow {
  private held: NormalizedEvent[] = [];
  private readonly memory = new Map<string, HostMemory>();
  private readonly decided = new Map<string, Decided[]>();
  readonly verdicts: Attribution[] = [];
  /** Evidence let go after the deaths it served were decided. */
  released = 0;
  /** Of which let go before the end. */
  releasedEarly = 0;
  /** Evidence older than what was already let go when it arrived (a clock stepped back, an input out of order). */
  late = 0;
  private releasedBefore: bigint | undefined;
  private watermark: bigint | undefined;
  private nextDecideAt: number;
  /** The watermark of the last early decision: the next waits for time to have moved on. */
  private decidedAt: bigint | undefined;

  constructor(
    private readonly releaseAt = RELEASE_AT,
    /** Each verdict as it is decided, kept nowhere here: the caller's memory is not bounded by the deaths. */
    private readonly onVerdict?: (v: Attribution) => void,
  ) {
    this.nextDecideAt = releaseAt;
  }

  get holding(): number {
    return this.held.length;
  }

  add(e: NormalizedEvent): void {
    if (this.releasedBefore !== undefined && BigInt(e.exit137.ts_ns) < this.releasedBefore) this.late++;
    this.held.push(e);
    const w = this.watermark;
    if (this.held.length >= this.nextDecideAt && w !== undefined && (this.decidedAt === undefined || w > this.decidedAt)) {
      this.decidedAt = w;
      this.decide(w - (AFTER_S + SAME_DEATH_S) * S);
    }
  }

  /** No evidence older than this (ns) is expected any more. */
  advance(watermarkNs: bigint): void {
    if (this.watermark === undefined || watermarkNs > this.watermark) this.watermark = watermarkNs;
  }

  /** End of input: every death left is decided. */
  finish(): Attribution[] {
    this.decide(undefined);
    return this.verdicts;
  }

  /** Decides the deaths before `before` (all when undefined) and lets go of what no open death can use. */
  private decide(before: bigint | undefined): void {
    let openFrom: bigint | undefined;
    for (const [host, evs] of byHost(this.held)) {
      let memory = this.memory.get(host);
      if (!memory) this.memory.set(host, (memory = newHostMemory()));
      const decided = this.decided.get(host) ?? [];
      this.decided.set(host, decided);
      for (const inc of findIncidents(evs, host, memory)) {
        if (before !== undefined && inc.deathNs >= before) {
          if (openFrom === undefined || inc.firstNs < openFrom) openFrom = inc.firstNs;
          continue;
        }
        // a death decided in an earlier round whose first evidence is gone is found again, later
        if (decided.some((d) => sameContainer(d.container, inc.containerId) && abs(d.deathNs - inc.deathNs) < SAME_DEATH_S * S)) continue;
        decided.push({ container: inc.containerId, deathNs: inc.deathNs });
        const v = attribute(inc);
        if (this.onVerdict) this.onVerdict(v);
        else this.verdicts.push(v);
      }
    }
    if (before === undefined) {
      this.released += this.held.length;
      this.held = [];
      return;
    }
    // an open death reads its own evidence from BEFORE_S before it, and its triggers chain back
    let cut = openFrom !== undefined && openFrom < before ? openFrom : before;
    cut -= (BEFORE_S + SAME_DEATH_S) * S;
    const kept = this.held.filter((e) => BigInt(e.exit137.ts_ns) >= cut);
    this.released += this.held.length - kept.length;
    this.releasedEarly += this.held.length - kept.length;
    this.held = kept;
    if (this.releasedBefore === undefined || cut > this.releasedBefore) this.releasedBefore = cut;
    for (const list of this.decided.values()) {
      const stay = list.filter((d) => d.deathNs >= cut - SAME_DEATH_S * S);
      list.splice(0, list.length, ...stay);
    }
    // evidence that cannot be let go yet (a long open window, inputs read before this one) is
    // read again only after more has arrived
    this.nextDecideAt = Math.max(this.releaseAt, this.held.length + Math.ceil(this.releaseAt / 2));
  }
}

const abs = (x: bigint) => (x < 0n ? -x : x);
