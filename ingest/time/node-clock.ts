import type { Nanos } from './instant.ts';
import { NS_PER_S } from './instant.ts';
import type { LocalClock } from './syslog-time.ts';
import { resolveClock } from './syslog-time.ts';

import type { TimeBasis } from '../event.ts';

export type { TimeBasis };

export type ClockConfig = { offsetMinutes?: number; year?: number; referenceNs?: Nanos };

const DAY_NS = 86_400n * NS_PER_S;

/** An instant this clock inferred (a wall clock placed in a year); `anchored` when its chain began at an absolute instant. */
class Inferred {
  constructor(
    readonly ns: Nanos,
    readonly anchored: boolean,
  ) {}
}

/**
 * What one node's clock looks like: the UTC offset its local-time logs are written in, and the
 * current year. Syslog prefixes carry neither; dockerd/containerd lines inside them do (time="…+08:00"),
 * so the node's own zoned lines teach us how to read its unzoned ones.
 */
export class NodeClock {
  private offsetMinutes: number | undefined;
  /** An instant, or a record whose instant is computed only if an unzoned line needs it, or one inferred. */
  private last: Nanos | { readonly ns: Nanos } | Inferred | undefined;

  constructor(private readonly config: ClockConfig = {}) {
    this.offsetMinutes = config.offsetMinutes;
  }

  /** A zoned instant seen in this node's logs. */
  learn(ns: Nanos, offsetMinutes: number): void {
    if (this.config.offsetMinutes === undefined) this.offsetMinutes = offsetMinutes;
    this.last = ns;
  }

  /** The offset learned from the node's zoned lines (undefined when configured or not learned yet). */
  get learnedOffsetMinutes(): number | undefined {
    return this.config.offsetMinutes === undefined ? this.offsetMinutes : undefined;
  }

  /** An offset learned before a restart (saved beside a follower's position), until a zoned line says otherwise. */
  adopt(offsetMinutes: number): void {
    if (this.config.offsetMinutes === undefined && this.offsetMinutes === undefined) this.offsetMinutes = offsetMinutes;
  }

  /** The latest absolute instant seen on this node: the year reference for the next unzoned line. */
  observe(at: Nanos | { readonly ns: Nanos }): void {
    this.last = at;
  }

  private get lastNs(): Nanos | undefined {
    return typeof this.last === 'object' ? this.last.ns : this.last;
  }

  /**
   * The latest instant seen that derives from an absolute one (itself, or a wall clock placed
   * from it): what fixes the year of lines placed before the node's clock knew it.
   */
  anchorNs(): Nanos | undefined {
    const l = this.last;
    if (l === undefined || (l instanceof Inferred && !l.anchored)) return undefined;
    return typeof l === 'object' ? l.ns : l;
  }

  /**
   * A wall clock placed in a year: from its neighbours in the node's log, else from the read time.
   * `provisional` when no absolute instant has been seen yet: the input may say the year further on.
   */
  resolve(c: LocalClock): { ns: Nanos; basis: TimeBasis; yearInferred: boolean; provisional?: true } | undefined {
    const basis: TimeBasis = this.config.offsetMinutes !== undefined ? 'configured' : this.offsetMinutes !== undefined ? 'learned' : 'assumed';
    const offset = this.offsetMinutes ?? 0;
    if (this.config.year !== undefined) {
      const ns = resolveClock(c, this.config.year, offset);
      return ns === undefined ? undefined : { ns, basis, yearInferred: false };
    }
    const lastNs = this.lastNs;
    const fromNeighbours = lastNs !== undefined;
    const refNs = lastNs ?? this.config.referenceNs ?? BigInt(Date.now()) * 1_000_000n;
    const refYear = new Date(Number(refNs / 1_000_000n)).getUTCFullYear();
    let best: Nanos | undefined;
    for (const year of [refYear - 1, refYear, refYear + 1]) {
      const ns = resolveClock(c, year, offset);
      if (ns === undefined) continue;
      if (fromNeighbours) {
        // Streaming through a node's log: the line belongs to the year that puts it nearest its neighbours.
        if (best === undefined || abs(ns - refNs) < abs(best - refNs)) best = ns;
      } else if (ns - refNs <= DAY_NS) {
        // Only a read time to go by: the latest year that does not put the line in the future.
        best = ns;
      }
    }
    if (best === undefined) return undefined;
    const anchored = this.last !== undefined && (!(this.last instanceof Inferred) || this.last.anchored);
    this.last = new Inferred(best, anchored);
    return anchored ? { ns: best, basis, yearInferred: true } : { ns: best, basis, yearInferred: true, provisional: true };
  }
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}
