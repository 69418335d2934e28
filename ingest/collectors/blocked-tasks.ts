import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizedEvent } from '../event.ts';
import { containerIdsIn } from '../ids.ts';
import { nowNs, sampleEvent } from './sample-event.ts';

export type SamplerOptions = {
  procRoot?: string;
  /** A task must be seen in state D this long before it is reported (the kernel's hung-task default is 120 s). */
  thresholdSeconds?: number;
  /** Most /proc entries (processes and threads) read per scan: the cost ceiling on a node with 100,000 tasks. */
  maxEntriesPerScan?: number;
  /** Most milliseconds one scan may take; the next scan continues where this one stopped. */
  maxMillisPerScan?: number;
  /** The node's name in the events (default: this machine's host name). */
  host?: string;
};

export type ScanStats = { entries: number; blocked: number; reported: number; millis: number; wrapped: boolean };

type Seen = { since: bigint; reported: boolean };

/**
 * Finds tasks stuck in uninterruptible sleep (state D) on a live node and reads their kernel stack
 * and cgroup: the evidence of a stuck kill or a frozen cgroup teardown, while it is happening. Each
 * scan reads a bounded slice of /proc, round-robin, so its cost does not grow with the node.
 */
export class BlockedTaskSampler {
  private readonly procRoot: string;
  private readonly thresholdNs: bigint;
  private readonly maxEntries: number;
  private readonly maxMillis: number;
  private readonly host: string | undefined;
  private readonly seen = new Map<string, Seen>();
  private pids: string[] = [];
  private cursor = 0;

  constructor(opts: SamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.thresholdNs = BigInt(Math.round((opts.thresholdSeconds ?? 30) * 1e9));
    this.maxEntries = opts.maxEntriesPerScan ?? 20_000;
    this.maxMillis = opts.maxMillisPerScan ?? 250;
    this.host = opts.host;
  }

  scan(now = nowNs()): { events: NormalizedEvent[]; stats: ScanStats } {
    const t0 = performance.now();
    const events: NormalizedEvent[] = [];
    const stats: ScanStats = { entries: 0, blocked: 0, reported: 0, millis: 0, wrapped: false };
    if (this.cursor >= this.pids.length) {
      this.pids = readdirSync(this.procRoot).filter((n) => /^\d+$/.test(n));
      this.cursor = 0;
      stats.wrapped = true;
      // tasks that exited while blocked are never read again: forget them once per round
      const alive = new Set(this.pids);
      for (const key of this.seen.keys()) if (!alive.has(key.slice(0, key.indexOf('/')))) this.seen.delete(key);
    }
    while (this.cursor < this.pids.length && stats.entries < this.maxEntries && performance.now() - t0 < this.maxMillis) {
      const pid = this.pids[this.cursor++]!;
      let tids: string[];
      try {
        tids = readdirSync(join(this.procRoot, pid, 'task'));
      } catch {
        continue; // the process is gone
      }
      for (const tid of tids) {
        stats.entries++;
        const key = `${pid}/${tid}`;
        const stat = read(join(this.procRoot, pid, 'task', tid, 'stat'));
        // comm is in parentheses and may hold spaces and parentheses: the state follows the last ')'
        const close = stat?.lastIndexOf(')') ?? -1;
        const state = close > 0 ? stat!.slice(close + 2, close + 3) : undefined;
        if (state !== 'D') {
          this.seen.delete(key);
          continue;
        }
        stats.blocked++;
        const s = this.seen.get(key) ?? { since: now, reported: false };
        this.seen.set(key, s);
        if (s.reported || now - s.since < this.thresholdNs) continue;
        s.reported = true;
        stats.reported++;
        const name = stat!.slice(stat!.indexOf('(') + 1, close);
        const stackText = read(join(this.procRoot, pid, 'task', tid, 'stack')) ?? '';
        const cgroup = read(join(this.procRoot, pid, 'cgroup')) ?? '';
        const stack = stackText.split('\n').map((l) => /\]\s*([A-Za-z_.][\w.]*)\+0x/.exec(l)?.[1]).filter((f): f is string => f !== undefined);
        const seconds = Number((now - s.since) / 1_000_000_000n);
        const e = sampleEvent('task-stack', 'blocked-task-sample', now, `task|${pid}|${tid}|${s.since}`, `${name}:${tid} (pid ${pid}) in state D for ${seconds} s: ${stack.slice(0, 4).join(' ← ')}`, `${stat}\n${stackText}`, this.host);
        e.process = { pid: Number(tid), name, parent: { pid: Number(pid) } };
        const h: NonNullable<NormalizedEvent['exit137']['hung_task']> = { name, pid: Number(tid), blocked_seconds: seconds, state: 'D', stack, complete: true };
        const cg = cgroup.split('\n').find((l) => /:memory:|^0::/.test(l))?.split(':').slice(2).join(':');
        if (cg) h.cgroup = cg;
        e.exit137.hung_task = h;
        const ids = containerIdsIn(cgroup);
        if (ids[0]) e.container = { id: ids[0] };
        events.push(e);
      }
    }
    stats.millis = performance.now() - t0;
    return { events, stats };
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
