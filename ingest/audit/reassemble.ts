import type { Nanos } from '../time/instant.ts';
import type { AuditRecord } from './record.ts';

/** The records of one kernel audit event: same node, same epoch, same serial. */
export type AuditEvent<P = unknown> = {
  node: string;
  epoch: string;
  ns: Nanos;
  serial: number;
  records: AuditRecord[];
  /** What the caller attached to the first record (where it was read). */
  origin: P;
  /** Whether an EOE closed it; events in audit.log never have one (auditd does not log EOE). */
  closedByEoe: boolean;
};

export type ReassemblerOptions = {
  /** Events held open at once per node before the oldest is let go (go-libaudit: 50). */
  maxInFlight: number;
  /** Log-time seconds after which an open event is complete (laurel: 5 s, auditbeat: 2 s). */
  timeoutSeconds: number;
  /**
   * An event also needs this many later records of the same node before the timeout lets it go:
   * a writer that buffers may put a record after ones stamped seconds later (go-libaudit's
   * out_of_order fixture), but never far after them in the stream.
   */
  settleRecords?: number;
};

export type ReassemblerStats = { events: number; records: number; duplicateRecords: number; lostSerials: number; lateRecords: number };

/** An event still collecting records; times in log milliseconds (`AuditRecord.ms`): no BigInt per record. */
type Open<P> = { node: string; first: AuditRecord; epoch: string; ms: number; serial: number; records: AuditRecord[]; origin: P; closedByEoe: boolean; lastSeenAt: number; lastSeenRecord: number; touchedAt: number };

const HALF = 0x80000000;
/** Serial order that survives the 2^32 wrap: 0 comes after 4294967295. */
function serialBefore(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < HALF;
}

/**
 * Groups records into events. Records of one event arrive in any order, interleave with other
 * events, may repeat, and usually come with no EOE, so an event is let go when an EOE closes it,
 * when it has been open longer than the timeout in log time, when too many events are open, or at
 * the end of input. Events leave in serial order per node, which makes lost serials countable.
 */
export class AuditReassembler<P = unknown> {
  private readonly nodes = new Map<string, { open: Open<P>[]; lastEmitted?: number; lastEmittedMs?: number; clock: number; records: number; maxSerial: number }>();
  readonly stats: ReassemblerStats = { events: 0, records: 0, duplicateRecords: 0, lostSerials: 0, lateRecords: 0 };
  /** Wall clock as of the last `expireIdle` (ms). */
  private wallMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly emit: (e: AuditEvent<P>) => void,
    private readonly opts: ReassemblerOptions = { maxInFlight: 64, timeoutSeconds: 2 },
    /** Wall clock in ms, for `expireIdle` (a parameter so tests control time). */
    private readonly now: () => number = Date.now,
  ) {
    this.wallMs = now();
    this.timeoutMs = opts.timeoutSeconds * 1000;
  }

  push(r: AuditRecord, origin: P): void {
    this.stats.records++;
    const nodeKey = r.node ?? '';
    let node = this.nodes.get(nodeKey);
    if (!node) {
      node = { open: [], clock: r.ms, records: 0, maxSerial: -1 };
      this.nodes.set(nodeKey, node);
    }
    // The clock is the time of the latest record, not the largest: clocks jump backwards (clock_settime).
    node.clock = r.ms;
    node.records++;
    let ev: Open<P> | undefined;
    // A serial above every open one, the first record of each new event, has no open event to join:
    // no look through them (a storm holds some fifty open, and each new event looked at them all)
    if (r.serial <= node.maxSerial) {
      for (let i = node.open.length - 1; i >= 0; i--) {
        const e = node.open[i]!;
        if (e.serial === r.serial && e.epoch === r.epoch) {
          ev = e;
          break;
        }
      }
    }
    if (!ev) {
      if (node.lastEmitted !== undefined && !serialBefore(node.lastEmitted, r.serial)) {
        if (node.lastEmittedMs !== undefined && r.ms - node.lastEmittedMs > this.timeoutMs) {
          // Serials restart at boot: a lower serial much later in time is a new boot, not a straggler.
          node.lastEmitted = undefined;
        } else {
          // A straggler of an event already let go: keep it as its own partial event rather than drop it.
          this.stats.lateRecords++;
        }
      }
      ev = { node: nodeKey, first: r, epoch: r.epoch, ms: r.ms, serial: r.serial, records: [], origin, closedByEoe: false, lastSeenAt: r.ms, lastSeenRecord: node.records, touchedAt: 0 };
      insertBySerial(node.open, ev);
      // (never lower while events are open: each open serial is at most this, by number, not by wrap-around order)
      if (r.serial > node.maxSerial) node.maxSerial = r.serial;
    }
    ev.lastSeenAt = r.ms;
    ev.lastSeenRecord = node.records;
    ev.touchedAt = this.wallMs;
    if (r.type === 'EOE') {
      ev.closedByEoe = true;
    } else {
      // the same body twice is the same record, however it was framed (an event has a handful)
      if (hasRecord(ev.records, r)) this.stats.duplicateRecords++;
      else ev.records.push(r);
    }
    this.release(nodeKey, false);
  }

  /** Let go of everything (end of input). */
  flush(): void {
    for (const k of [...this.nodes.keys()]) this.release(k, true);
  }

  /**
   * For followers: let go of events no record has joined for the timeout in wall-clock time.
   * Wall clock, not log time: a node that is caught up sends an event's records within
   * microseconds, whatever its clock says (a skewed or future-dated log stays open otherwise).
   */
  expireIdle(): void {
    // Records are stamped with the time of the previous call, not the clock's: reading the clock
    // per record cost a tenth of the decoder's time. So an event is let go no sooner than one
    // idle tick after its last record, and no sooner than the timeout.
    const now = this.now();
    const cutoff = Math.min(now - this.opts.timeoutSeconds * 1000, this.wallMs);
    this.wallMs = now;
    for (const [k, n] of this.nodes) {
      while (n.open.length > 0 && n.open[0]!.touchedAt < cutoff) this.release(k, false, 1);
    }
  }

  /** What the caller attached to each event still open: where the lines not yet emitted start. */
  *openOrigins(): Iterable<P> {
    for (const n of this.nodes.values()) for (const e of n.open) yield e.origin;
  }

  get openEvents(): number {
    let n = 0;
    for (const v of this.nodes.values()) n += v.open.length;
    return n;
  }

  /** Lets go of the events that are done (or all, or at least `force` heads) from the head of the line. */
  private release(nodeKey: string, all: boolean, force = 0): void {
    const node = this.nodes.get(nodeKey);
    if (!node) return;
    const timeout = this.timeoutMs;
    const settle = this.opts.settleRecords ?? 8;
    // Head-of-line: only the lowest open serial may leave, so events leave in order.
    while (node.open.length > 0) {
      const head = node.open[0]!;
      const done = head.closedByEoe || (Math.abs(node.clock - head.lastSeenAt) > timeout && node.records - head.lastSeenRecord >= settle);
      if (!(all || done || force > 0 || node.open.length > this.opts.maxInFlight)) {
        // A closed event behind an open head waits; but an EOE-closed head frees those behind it.
        break;
      }
      node.open.shift();
      force--;
      if (node.lastEmitted !== undefined && serialBefore(node.lastEmitted, head.serial)) {
        this.stats.lostSerials += ((head.serial - node.lastEmitted) >>> 0) - 1;
      }
      if (node.lastEmitted === undefined || serialBefore(node.lastEmitted, head.serial)) {
        node.lastEmitted = head.serial;
        node.lastEmittedMs = head.ms;
      }
      if (head.records.length === 0) continue; // a lone EOE
      this.stats.events++;
      // built field by field: object rest (`...event`) is a slow runtime call on this path
      this.emit({ node: head.node, epoch: head.epoch, ns: head.first.ns, serial: head.serial, records: head.records, origin: head.origin, closedByEoe: head.closedByEoe });
    }
    // serials that restart (a reboot) are looked for among the open ones until those are gone
    if (node.open.length === 0) node.maxSerial = -1;
  }
}

/** The same body twice is the same record, however it was framed. (A loop, not some(): no closure per record.) */
function hasRecord(records: AuditRecord[], r: AuditRecord): boolean {
  for (let i = 0; i < records.length; i++) {
    const x = records[i]!;
    if (x.type === r.type && x.body === r.body) return true;
  }
  return false;
}

function insertBySerial<P>(list: Open<P>[], ev: Open<P>): void {
  let i = list.length;
  while (i > 0 && serialBefore(ev.serial, list[i - 1]!.serial)) i--;
  list.splice(i, 0, ev);
}

