import type { NormalizedEvent, TimeBasis } from '../event.ts';
import type { Nanos } from './instant.ts';
import { formatNanos } from './instant.ts';

/**
 * What tied a host's kernel clock (seconds since boot) to the wall clock: a syslog kernel line
 * that carries both (`Aug  5 07:27:14 host kernel: [86813.898404] …`), the same kernel line
 * read both with dmesg's stamp and with dmesg -T's, or the runtime's record of an OOM kill (or
 * of the victim's exit) that the kernel logged with its stamp.
 */
export type TimeTie = 'kernel-line' | 'dmesg-T' | 'runtime-oom' | 'runtime-exit';
const TIE_RANK: Record<TimeTie, number> = { 'kernel-line': 0, 'dmesg-T': 1, 'runtime-oom': 2, 'runtime-exit': 3 };

/** Why an event's time is not final when it is made, and what can make it so. */
export type Pending<C> = {
  input: string;
  host: string;
  /** Where the event was read, for a follower's resume point. */
  ctx: C;
  /** Kernel seconds since boot (ns) of an event with no wall-clock time; undefined: no clock at all. */
  bootNs?: Nanos;
  /** A wall clock placed in a year guessed from the read time: the input's own instants may say otherwise. */
  provisionalYear?: boolean;
  /** No time at all yet in its input (the first lines of a paste): it takes the first time that comes. */
  noClock?: boolean;
};

/** The time a line has, as the decoder made it (see decoder.ts `Stamp`). */
export type StampLike = { ns: Nanos; basis: TimeBasis; yearInferred?: boolean; offsetMinutes?: number; provisional?: true; bootNs?: Nanos };

type Held<C> = { e: NormalizedEvent; p: Pending<C> };
type Anchor = { bootAt: Nanos; tie?: TimeTie };

/** Events with a provisional time held at once, over all inputs; past it they go out as they stand. */
export const MAX_HELD = 100_000;
/** Runtime facts (OOM events, exits) kept to tie kernel stamps; the oldest beyond go. */
const MAX_FACTS = 50_000;
/** Kernel texts kept per host to find a line read both with dmesg's stamp and dmesg -T's. */
const MAX_TEXTS = 20_000;

const OOM_ACTIONS = new Set(['container-oom', 'container-tasks-oom', 'task-oom-received', 'task-oom-published', 'docker-event-oom']);

/**
 * Places events whose input did not say when they happened (issue #13, "Time, when the input does
 * not say it"):
 *
 * - A wall clock without a year (syslog, klog) whose year came from the read time is held until
 *   its input ends; by then the input's own absolute instants (a dockerd `time="2020-…"` further
 *   down) have taught the node's clock, and the held events move to the year nearest them.
 * - Kernel seconds since boot are held until all input has ended, then placed on the wall clock
 *   by the best tie found for the host (basis `anchored`); without one they keep their order
 *   and spacing, placed as if the host's last kernel line was written when the input was read
 *   (what `dmesg -T` assumes), basis `relative`, with `since_boot_ns` for what they really say.
 * - A line with no time of its own takes its predecessor's (the decoder does that); the first
 *   lines of an input, before any time, are held until the first time the input gives and take
 *   it; an input with no time at all is placed at the read time, basis `relative`.
 *
 * Nothing is ever dated 1970. Memory is bounded: at most MAX_HELD events wait; a follower's idle
 * tick lets everything go and fixes each host's placement (a follower reads kernel lines as they
 * are written, which is what the read-time placement assumes).
 */
export class TimePlacer<C> {
  private readonly pending = new Map<NormalizedEvent, Pending<C>>();
  /** Events of a guessed year or in kernel seconds, waiting for what places them. */
  private readonly held: Held<C>[] = [];
  /**
   * Per input that has given no time yet: its events in order, from its first event with no clock
   * on (those take the first time the input gives; the others wait behind them, so that an
   * input's events go out in the order they were read).
   */
  private readonly queues = new Map<string, Held<C>[]>();
  private queued = 0;
  private readonly anchors = new Map<string, Anchor>();
  /** Placements fixed without a tie (a follower's tick, the cap): later lines of the host keep to them. */
  private readonly committed = new Map<string, Nanos>();
  private readonly maxBoot = new Map<string, Nanos>();
  private readonly oomFacts = new Map<string, Nanos>();
  private readonly exitFacts = new Map<string, Nanos>();
  private readonly texts = new Map<string, Map<string, { boot?: Nanos; wall?: Nanos }>>();

  constructor(
    private readonly out: (e: NormalizedEvent) => void,
    /** The read time: where events with no clock go, and where a host's last kernel line is placed. */
    private readonly referenceNs: Nanos,
    /**
     * The node's clock as it stands: its latest instant that derives from an absolute one (to fix
     * a guessed year by) and the UTC offset its zoned lines taught (to fix an assumed zone by).
     */
    private readonly clockOf: (host: string) => { anchorNs: Nanos | undefined; offsetMinutes: number | undefined },
  ) {}

  get heldCount(): number {
    return this.held.length + this.queued;
  }

  /** Whether an input's events wait behind one with no clock: each of them must be marked as it is made. */
  waiting(input: string): boolean {
    return this.queues.size > 0 && this.queues.has(input);
  }

  /** An event whose time is not final (called as it is made). */
  mark(e: NormalizedEvent, p: Pending<C>): void {
    this.pending.set(e, p);
  }

  /** An event on its way out: true when it is held (it goes out later, placed). */
  offer(e: NormalizedEvent): boolean {
    const p = this.pending.size === 0 ? undefined : this.pending.get(e);
    if (p === undefined) {
      this.observe(e);
      return false;
    }
    this.pending.delete(e);
    const q = this.queues.get(p.input);
    if (q !== undefined || p.noClock) {
      if (q === undefined) this.queues.set(p.input, [{ e, p }]);
      else q.push({ e, p });
      this.queued++;
      if (this.heldCount >= MAX_HELD) this.releaseAll();
      return true;
    }
    return this.hold(e, p);
  }

  /**
   * The first line of an input with a time of its own: the lines before it, which had none, take it
   * (as later lines without one take their predecessor's), and the input's events go on in order.
   */
  timeFound(input: string, stamp: StampLike): void {
    const q = this.takeQueue(input);
    if (q === undefined) return;
    for (const h of q) {
      if (h.p.noClock) {
        h.p.noClock = false;
        restamp(h.e, stamp);
        if (stamp.bootNs !== undefined) h.p.bootNs = stamp.bootNs;
        else if (stamp.provisional) h.p.provisionalYear = true;
      }
      if (!this.hold(h.e, h.p)) this.out(h.e);
    }
  }

  /** A syslog kernel line's wall clock and its own `[secs]`: the host booted at their difference. */
  tie(host: string, bootAt: Nanos, tie: TimeTie): void {
    const a = this.anchors.get(host);
    if (a?.tie !== undefined && TIE_RANK[a.tie] <= TIE_RANK[tie]) return;
    if (bootAt <= 0n) return;
    this.anchors.set(host, { bootAt, tie });
  }

  /**
   * A kernel line's text with its dmesg stamp (`boot`) or its dmesg -T time (`wall`): the same
   * text read both ways ties the host's kernel clock to the wall clock.
   */
  kernelText(host: string, text: string, at: { boot?: Nanos; wall?: Nanos }): void {
    if (this.anchors.get(host)?.tie !== undefined || text.length < 16) return;
    let m = this.texts.get(host);
    if (!m) this.texts.set(host, (m = new Map()));
    const seen = m.get(text);
    if (seen) {
      if (at.boot !== undefined) seen.boot ??= at.boot;
      if (at.wall !== undefined) seen.wall ??= at.wall;
      if (seen.boot !== undefined && seen.wall !== undefined) this.tie(host, seen.wall - seen.boot, 'dmesg-T');
    } else if (m.size < MAX_TEXTS) m.set(text, { ...at });
  }

  /** An input ended: its events of a guessed year move to the year its node's own instants say; one with no time at all is placed at the read time. */
  endInput(input: string): void {
    this.drain(input);
    if (this.held.length === 0) return;
    const mine = this.held.filter((h) => h.p.input === input && h.p.provisionalYear && h.p.bootNs === undefined);
    if (mine.length === 0) return;
    const keep = this.held.filter((h) => !mine.includes(h));
    this.held.length = 0;
    this.held.push(...keep);
    this.placeYears(mine);
  }

  /** End of all input, a follower's idle tick, or too many held: everything goes, placed as well as it can be. */
  releaseAll(): void {
    for (const input of [...this.queues.keys()]) this.drain(input);
    const all = this.held.splice(0);
    this.placeYears(all.filter((h) => h.p.bootNs === undefined));
    const boot = all.filter((h) => h.p.bootNs !== undefined);
    this.tieByRuntime(boot);
    for (const h of boot) {
      const host = h.p.host;
      const a = this.anchors.get(host);
      let bootAt = a?.bootAt ?? this.committed.get(host);
      if (bootAt === undefined) {
        bootAt = this.referenceNs - (this.maxBoot.get(host) ?? 0n);
        // the host's kernel clock is placed now: what comes later keeps to the same placement
        this.committed.set(host, bootAt);
      }
      placeBoot(h.e, bootAt, h.p.bootNs!, a?.tie);
      this.out(h.e);
    }
  }

  /** The first line of each held event: a follower reads again from the earliest after a restart. */
  *heldCtx(): Iterable<C> {
    for (const h of this.held) yield h.p.ctx;
    for (const q of this.queues.values()) for (const h of q) yield h.p.ctx;
  }

  /** The events an input still holds, let go of by the placer. */
  private takeQueue(input: string) {
    const q = this.queues.get(input);
    if (q === undefined) return undefined;
    this.queues.delete(input);
    this.queued -= q.length;
    return q;
  }

  /** An input that gave no time: its events with no clock at all go at the read time, the rest as they stand, in order. */
  private drain(input: string): void {
    const q = this.takeQueue(input);
    if (q === undefined) return;
    for (const h of q) {
      if (h.p.noClock) {
        h.p.noClock = false;
        place(h.e, this.referenceNs);
      }
      if (!this.hold(h.e, h.p)) this.out(h.e);
    }
  }

  private hold(e: NormalizedEvent, p: Pending<C>): boolean {
    if (p.bootNs === undefined && !p.provisionalYear) return false;
    if (p.bootNs !== undefined) {
      const max = this.maxBoot.get(p.host);
      if (max === undefined || p.bootNs > max) this.maxBoot.set(p.host, p.bootNs);
      const a = this.anchors.get(p.host);
      const fixed = a?.bootAt ?? this.committed.get(p.host);
      if (fixed !== undefined) {
        placeBoot(e, fixed, p.bootNs, a?.tie);
        return false;
      }
    }
    this.held.push({ e, p });
    if (this.heldCount >= MAX_HELD) this.releaseAll();
    return true;
  }

  /** An event that goes out as it is: if it is the runtime's record of an OOM kill or an exit, it may tie a kernel stamp. */
  private observe(e: NormalizedEvent): void {
    const x = e.exit137;
    if (x.time.basis === 'relative') return;
    const oom = OOM_ACTIONS.has(e.event.action) || (x.kind === 'container-state' && (x.state?.oom_killed === true || x.state?.reason === 'OOMKilled'));
    const id = e.container?.id;
    if (oom && id !== undefined && id.length >= 12) remember(this.oomFacts, id, BigInt(x.ts_ns));
    const pid = x.exit?.pid;
    if (pid !== undefined && x.exit!.code === 137) remember(this.exitFacts, `${e.host.name}|${pid}`, BigInt(x.ts_ns));
  }

  /** Kernel OOM kills held without a tie, against the runtime's records of the same kill. */
  private tieByRuntime(boot: Held<C>[]): void {
    if (this.oomFacts.size === 0 && this.exitFacts.size === 0) return;
    for (const h of boot) {
      const x = h.e.exit137;
      if (x.kind !== 'kernel-oom' || this.anchors.get(h.p.host)?.tie !== undefined) continue;
      const id = h.e.container?.id;
      let at: Nanos | undefined;
      if (id !== undefined) {
        for (const [k, ns] of this.oomFacts) if (k.startsWith(id) || id.startsWith(k)) at ??= ns;
      }
      if (at !== undefined) {
        this.tie(h.p.host, at - h.p.bootNs!, 'runtime-oom');
        continue;
      }
      const pid = h.e.process?.pid;
      at = pid === undefined ? undefined : (this.exitFacts.get(`${h.p.host}|${pid}`) ?? this.exitFacts.get(`unknown|${pid}`));
      if (at !== undefined) this.tie(h.p.host, at - h.p.bootNs!, 'runtime-exit');
    }
  }

  /** Held events of a guessed year: shifted by whole years to the year nearest their node's own instants. */
  private placeYears(list: Held<C>[]): void {
    const byHost = new Map<string, Held<C>[]>();
    for (const h of list) {
      const l = byHost.get(h.p.host) ?? [];
      l.push(h);
      byHost.set(h.p.host, l);
    }
    for (const [host, l] of byHost) {
      const { anchorNs: ref, offsetMinutes } = this.clockOf(host);
      // read as UTC before the node's lines said their zone: now they have
      if (offsetMinutes !== undefined) for (const h of l) relearnZone(h.e, offsetMinutes);
      if (ref !== undefined) {
        // the chain of lines keeps its own year changes: one shift for all, the one that puts the last nearest
        const last = BigInt(l[l.length - 1]!.e.exit137.ts_ns);
        const k = nearestShift(last, ref);
        if (k !== 0) for (const h of l) place(h.e, shiftYears(BigInt(h.e.exit137.ts_ns), k));
      }
      for (const h of l) this.out(h.e);
    }
  }
}

function remember(m: Map<string, Nanos>, k: string, ns: Nanos): void {
  if (m.has(k)) return;
  if (m.size >= MAX_FACTS) m.delete(m.keys().next().value!);
  m.set(k, ns);
}

function place(e: NormalizedEvent, ns: Nanos): void {
  const digits = ns.toString();
  e['@timestamp'] = formatNanos(ns, digits);
  e.exit137.ts_ns = digits;
}

function placeBoot(e: NormalizedEvent, bootAt: Nanos, bootNs: Nanos, tie: TimeTie | undefined): void {
  place(e, bootAt + bootNs);
  const t = e.exit137.time;
  t.since_boot_ns = bootNs.toString();
  if (tie !== undefined) {
    t.basis = 'anchored';
    t.tie = tie;
    const i = e.tags.indexOf('time_relative');
    if (i >= 0) e.tags.splice(i, 1);
  }
}

/** An event made before its input gave a time takes the first time it gives, as if it had been its own. */
function restamp(e: NormalizedEvent, s: StampLike): void {
  place(e, s.ns);
  const t: NormalizedEvent['exit137']['time'] = { basis: s.basis };
  if (s.yearInferred) t.year_inferred = true;
  if (s.offsetMinutes !== undefined) t.offset_minutes = s.offsetMinutes;
  e.exit137.time = t;
  const tags = e.tags.filter((x) => x !== 'time_relative' && x !== 'year_inferred' && x !== 'zone_assumed');
  if (s.yearInferred) tags.push('year_inferred');
  if (s.basis === 'assumed') tags.push('zone_assumed');
  if (s.basis === 'relative') tags.push('time_relative');
  e.tags = tags;
}

function relearnZone(e: NormalizedEvent, offsetMinutes: number): void {
  const t = e.exit137.time;
  if (t.basis !== 'assumed') return;
  place(e, BigInt(e.exit137.ts_ns) - BigInt(offsetMinutes) * 60_000_000_000n);
  t.basis = 'learned';
  const i = e.tags.indexOf('zone_assumed');
  if (i >= 0) e.tags.splice(i, 1);
}

const YEAR_MS = 365.25 * 86_400_000;

/** Whole years to move `ns` by to come nearest `ref`. */
function nearestShift(ns: Nanos, ref: Nanos): number {
  const approx = Math.round(Number((ref - ns) / 1_000_000n) / YEAR_MS);
  let best = 0;
  let bestD: bigint | undefined;
  for (const k of [approx - 1, approx, approx + 1]) {
    const d = shiftYears(ns, k) - ref;
    const ad = d < 0n ? -d : d;
    if (bestD === undefined || ad < bestD) {
      best = k;
      bestD = ad;
    }
  }
  return best;
}

/** The same UTC month, day and time `k` years on (the wall clock at a fixed offset moves with it). */
function shiftYears(ns: Nanos, k: number): Nanos {
  if (k === 0) return ns;
  const ms = ns / 1_000_000n;
  const sub = ns % 1_000_000n;
  const d = new Date(Number(ms));
  d.setUTCFullYear(d.getUTCFullYear() + k);
  return BigInt(d.getTime()) * 1_000_000n + sub;
}
