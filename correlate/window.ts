import type { NormalizedEvent } from '../ingest/event.ts';
import { attribute } from './attribute.ts';
import { S, sameContainer } from './context.ts';
import type { HostMemory } from './incidents.ts';
import { AFTER_S, BEFORE_S, SAME_DEATH_S, byHost, findDeaths, newHostMemory } from './incidents.ts';
import type { Attribution } from './verdict.ts';

/** Held evidence below this is correlated once, at the end, exactly as a whole. */
export const RELEASE_AT = 2_000;

type Decided = { container: string; deathNs: bigint };

/**
 * How far past the deaths being decided the evidence they can read reaches: a death's own window
 * (AFTER_S), what is looked up nearest in time around that (a name's or a pid's container, within
 * BEFORE_S), and a trigger that could still join its group (SAME_DEATH_S).
 */
const READS_PAST_S = AFTER_S + BEFORE_S + SAME_DEATH_S;

/**
 * A reader that decides only the deaths from a time on (correlate/parallel/slices.ts) starts
 * reading this long before it (seconds): the evidence a death reads before its first trigger, and
 * triggers of the same death chained before that.
 */
export const READS_BEFORE_S = BEFORE_S + 2n * SAME_DEATH_S;
/** A reader that decides only the deaths before a time reads on this long past it (seconds). */
export const READS_AFTER_S = READS_PAST_S;

/** Decided deaths are found again by the containers they name: the same container means the same first 12 characters (context.ts sameContainer). */
const decidedKey = (container: string) => (container.length < 12 ? container : container.slice(0, 12));

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
  /** Per node, the deaths decided whose evidence may still be held, by decidedKey. */
  private readonly decided = new Map<string, Map<string, Decided[]>>();
  readonly verdicts: Attribution[] = [];
  /** Evidence let go after the deaths it served were decided. */
  released = 0;
  /** Of which let go before the end. */
  releasedEarly = 0;
  /** Evidence read by the rounds of decisions, in all: the correlation's work, linear in the input when the window works. */
  read = 0;
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
    /** Which deaths this window decides, by the time of death (a slice of time, correlate/parallel/slices.ts): others are left to another's. */
    private readonly decides: (deathNs: bigint) => boolean = () => true,
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
    // Evidence from far past the deaths being decided cannot change them. It is held when inputs
    // are read one after the other (threads), and reading it every round would make each round
    // cost the whole input.
    const reach = before === undefined ? undefined : before + READS_PAST_S * S;
    const now = reach === undefined ? this.held : this.held.filter((e) => BigInt(e.exit137.ts_ns) < reach);
    this.read += now.length;
    let openFrom: bigint | undefined;
    for (const [host, evs] of byHost(now)) {
      let memory = this.memory.get(host);
      if (!memory) this.memory.set(host, (memory = newHostMemory()));
      let decided = this.decided.get(host);
      if (!decided) this.decided.set(host, (decided = new Map()));
      for (const death of findDeaths(evs, host, memory)) {
        // a death whose group may still grow past the evidence read is open too
        const open = before !== undefined && (death.deathNs >= before || death.lastNs >= reach! - SAME_DEATH_S * S);
        if (open) {
          if (openFrom === undefined || death.firstNs < openFrom) openFrom = death.firstNs;
          continue;
        }
        if (!this.decides(death.deathNs)) continue;
        // a death decided in an earlier round whose first evidence is gone is found again, later
        const key = decidedKey(death.containerId);
        const same = decided.get(key) ?? [];
        if (same.some((d) => sameContainer(d.container, death.containerId) && abs(d.deathNs - death.deathNs) < SAME_DEATH_S * S)) continue;
        same.push({ container: death.containerId, deathNs: death.deathNs });
        decided.set(key, same);
        const v = attribute(death.incident());
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
    for (const [host, byKey] of this.decided) {
      for (const [key, list] of byKey) {
        const stay = list.filter((d) => d.deathNs >= cut - SAME_DEATH_S * S);
        if (stay.length) byKey.set(key, stay);
        else byKey.delete(key);
      }
      if (byKey.size === 0) this.decided.delete(host);
    }
    // evidence that cannot be let go yet (a long open window, inputs read before this one) is
    // read again only after more has arrived: as much again as the window holds at the least,
    // each round reads the whole open window, so rounds half as far apart read every piece of
    // evidence half as many times more (one node's history x123: 176k reads for 64k, now 120k)
    this.nextDecideAt = Math.max(this.releaseAt, this.held.length + this.releaseAt);
  }
}

const abs = (x: bigint) => (x < 0n ? -x : x);
