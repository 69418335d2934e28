import { cgroupCreateError } from '../../ingest/readers/cgroup-errors.ts';
import type { Ev } from '../context.ts';
import { evidenceItem } from '../context.ts';
import type { NodeFinding } from './finding.ts';
import { findingId, seen } from './common.ts';

/** Dying memory cgroups are a leak when they outnumber the live ones this many times over… */
const LEAK_RATIO = 4;
/** …and are at least this many (a handful of dying cgroups is normal churn). */
const LEAK_MIN_DYING = 40;
/** v1 memory cgroup ids are 16 bits: at 65,535 cgroups (live and dying) mkdir fails with ENOSPC. */
const MEMCG_ID_CAP = 65_535;
const NEAR_CAP = Math.floor(0.9 * MEMCG_ID_CAP);
/** Against a count of one directory's cgroups (a lower bound of the live ones), the kernel's count must be this far above it. */
const SUBTREE_RATIO = 10;
const SUBTREE_MIN_EXCESS = 1000;
/** Controllers that the engines and the kubelet make and remove together with a container's memory cgroup. */
const CO_CREATED = ['cpu', 'cpuacct', 'blkio', 'pids', 'devices'];
/** /sys/kernel/slab holds a few hundred caches; tens of thousands are per-cgroup copies (kmem accounting) of cgroups long gone. */
const SLAB_CACHES_LEAK = 20_000;

type Memcg = NonNullable<Ev['exit137']['memcg']>;

/** One way the input shows the leak, with how far it goes by itself. */
type Reading = {
  mechanism: 'counted' | 'paired' | 'directories' | 'near-cap' | 'memory-alone' | 'memory-rose-alone' | 'mkdir-enospc' | 'mkdir-enomem' | 'kmem-cache' | 'slab-caches';
  confidence: number;
  critical: boolean;
  says: string;
  /** Counts are what the kernel says about its cgroups; the rest are symptoms of them. */
  counted: boolean;
  events: Ev[];
  role: string;
};

const WHY =
  'Every short-lived cgroup (a container, a cron job or login session under systemd-logind) that read files leaves page cache charged to it; after rmdir the kernel keeps the cgroup until that cache is reclaimed. They pile up (v1 caps memory cgroups at 65,535: then mkdir fails with “no space left on device”), and walks over all of them (cache_reap, memory.stat) burn CPU and stall kworkers.';
const WHY_KMEM =
  ' With kernel-memory accounting (runc turns it on for every container on cgroup v1; 3.10 kernels implement it as an experiment), each memory cgroup also gets its own copy of every slab cache it allocates from, and on 3.x kernels a cgroup whose caches are not all destroyed is never released: removed containers stay as memory cgroups, their caches stay in /sys/kernel/slab, and allocations charged to them fail (“SLUB: Unable to allocate memory”), as does creating new cgroups (“cannot allocate memory”).';
const REMEDY =
  'Short term: echo 3 > /proc/sys/vm/drop_caches frees them (costs a cold page cache, node-wide I/O). Longer: boot with cgroup.memory=nokmem (needs a reboot; stops kmem accounting, not the page-cache pinning), loginctl enable-linger for users who log in often (one lasting cgroup per user instead of one per session), fewer short-lived cgroups from cron; a kernel with memcg reparenting of page cache (5.x+ series) fixes the cause.';

const num = (n: number) => n.toLocaleString('en-US');

/**
 * The memory cgroup leak from what the input holds of it: the collector's counts over time, a
 * pasted /proc/cgroups with or without a count of the directories, successive /proc/cgroups where
 * only the memory row rises, the errors the leak causes (mkdir ENOSPC / ENOMEM, SLUB failures in
 * a cgroup's own caches), a slab cache count. Each reading says how far it goes alone; together
 * they go further, and only counts go past 0.8.
 */
export function memcgFindings(host: string, evs: Ev[]): NodeFinding[] {
  const samples = evs.filter((e) => e.exit137.memcg);
  const readings: Reading[] = [];
  let memcg: NodeFinding['memcg'];

  const full = samples.filter((e) => isFull(e.exit137.memcg!));
  if (full.length) {
    const r = countedReading(full);
    if (r) {
      readings.push(r.reading);
      memcg = r.memcg;
    }
  } else {
    const kernelOnly = samples.filter((e) => e.exit137.memcg!.kernel_cgroups !== undefined && e.exit137.memcg!.live_cgroups === undefined);
    const liveOnly = samples.filter((e) => e.exit137.memcg!.live_cgroups !== undefined && e.exit137.memcg!.kernel_cgroups === undefined);
    let decided = false;
    if (kernelOnly.length && liveOnly.length) {
      const p = pairedReading(kernelOnly.at(-1)!, liveOnly);
      if (p) {
        decided = p.decided;
        if (p.reading) readings.push(p.reading);
        if (p.memcg) memcg = p.memcg;
      }
    }
    if (!decided && kernelOnly.length) readings.push(...kernelReadings(kernelOnly));
  }
  readings.push(...failureReadings(samples, evs));
  const slab = samples.filter((e) => (e.exit137.memcg!.slab_caches ?? 0) >= SLAB_CACHES_LEAK).at(-1);
  if (slab) {
    readings.push({ mechanism: 'slab-caches', confidence: 0.55, critical: false, counted: false, events: [slab], role: 'slab caches counted', says: `${num(slab.exit137.memcg!.slab_caches!)} slab caches in /sys/kernel/slab, where a node without per-cgroup copies has a few hundred` });
  }
  if (readings.length === 0) return [];
  return [combine(host, readings, memcg)];
}

function isFull(m: Memcg): m is Memcg & Required<Pick<Memcg, 'kernel_cgroups' | 'live_cgroups' | 'dying_cgroups'>> {
  return m.kernel_cgroups !== undefined && m.live_cgroups !== undefined && m.dying_cgroups !== undefined;
}

/** The collector's samples: the kernel's count and the directories, read together, over time. */
function countedReading(samples: Ev[]): { reading: Reading; memcg: NonNullable<NodeFinding['memcg']> } | undefined {
  const last = samples.at(-1)!;
  const m = last.exit137.memcg!;
  if (!isFull(m) || m.dying_cgroups < LEAK_MIN_DYING || m.dying_cgroups < LEAK_RATIO * m.live_cgroups) return undefined;
  const first = samples[0]!;
  const hours = Number(last.ns - first.ns) / 3.6e12;
  const memcg: NonNullable<NodeFinding['memcg']> = { kernel_cgroups: m.kernel_cgroups, live_cgroups: m.live_cgroups, dying_cgroups: m.dying_cgroups, samples: samples.length };
  if (hours > 0) memcg.growth_per_hour = Math.round((m.dying_cgroups - (first.exit137.memcg!.dying_cgroups ?? 0)) / hours);
  const growing = memcg.growth_per_hour !== undefined && memcg.growth_per_hour > 0;
  return {
    memcg,
    reading: {
      mechanism: 'counted',
      confidence: samples.length > 1 && growing ? 0.9 : 0.75,
      critical: m.dying_cgroups > 10_000,
      counted: true,
      events: [first, last].filter((e, i, a) => a.indexOf(e) === i),
      role: 'memory cgroups counted',
      says: `${m.dying_cgroups} removed memory cgroups still held by the kernel against ${m.live_cgroups} live${growing ? `, growing ${memcg.growth_per_hour}/hour` : ''}`,
    },
  };
}

/** A pasted /proc/cgroups and a count of directories from the same input: the two sides of one count. */
function pairedReading(kernel: Ev, lives: Ev[]): { decided: boolean; reading?: Reading; memcg?: NonNullable<NodeFinding['memcg']> } | undefined {
  const K = kernel.exit137.memcg!.kernel_cgroups!;
  // the whole hierarchy counted recursively is the live count; a directory's sub-directories are a lower bound of it
  const whole = lives.filter((e) => e.exit137.memcg!.counted_under === undefined).at(-1);
  const live = whole ?? lives.reduce((a, b) => (b.exit137.memcg!.live_cgroups! > a.exit137.memcg!.live_cgroups! ? b : a));
  const L = live.exit137.memcg!.live_cgroups!;
  const dying = Math.max(0, K - L);
  const memcg: NonNullable<NodeFinding['memcg']> = { kernel_cgroups: K, live_cgroups: L, dying_cgroups: dying, samples: 1 };
  const events = [kernel, live];
  if (whole) {
    if (dying >= LEAK_MIN_DYING && dying >= LEAK_RATIO * L) {
      return { decided: true, memcg, reading: { mechanism: 'paired', confidence: 0.75, critical: dying > 10_000 || K >= NEAR_CAP, counted: true, events, role: 'memory cgroups counted', says: `${num(dying)} removed memory cgroups still held by the kernel (/proc/cgroups ${num(K)}) against ${num(L)} directories` } };
    }
    if (L >= NEAR_CAP) {
      return { decided: true, memcg, reading: { mechanism: 'directories', confidence: 0.7, critical: true, counted: true, events, role: 'memory cgroups counted', says: `${num(L)} memory cgroup directories exist (of the ${num(MEMCG_ID_CAP)} the kernel allows): cgroups made and never removed` } };
    }
    // the kernel holds about what exists: no leak of removed cgroups in this count
    return { decided: true };
  }
  memcg.live_is_lower_bound = true;
  if (K >= SUBTREE_RATIO * L && K - L >= SUBTREE_MIN_EXCESS) {
    const under = live.exit137.memcg!.counted_under!;
    return { decided: true, memcg, reading: { mechanism: 'paired', confidence: 0.7, critical: K - L > 10_000 || K >= NEAR_CAP, counted: true, events, role: 'memory cgroups counted', says: `the kernel counts ${num(K)} memory cgroups (/proc/cgroups) while ${under} holds ${num(L)}: up to ${num(K - L)} of them removed but not freed` } };
  }
  return { decided: false, memcg };
}

/** /proc/cgroups alone: the memory row near the id cap, far above the controllers made with it, or rising while they do not. */
function kernelReadings(tables: Ev[]): Reading[] {
  const out: Reading[] = [];
  const last = tables.at(-1)!;
  const K = last.exit137.memcg!.kernel_cgroups!;
  const ctl = last.exit137.memcg!.controllers ?? {};
  const refs = CO_CREATED.map((c) => ctl[c]).filter((n): n is number => n !== undefined);
  const ref = refs.length ? Math.max(...refs) : undefined;
  if (K >= NEAR_CAP) {
    out.push({ mechanism: 'near-cap', confidence: 0.7, critical: true, counted: true, events: [last], role: 'the kernel counts memory cgroups', says: `the kernel counts ${num(K)} memory cgroups, near the ${num(MEMCG_ID_CAP)} it allows${ref !== undefined ? ` (${num(ref)} for the controllers made with them)` : ''}` });
  } else if (ref !== undefined && K >= LEAK_RATIO * ref && K - ref >= SUBTREE_MIN_EXCESS) {
    out.push({ mechanism: 'memory-alone', confidence: 0.6, critical: false, counted: true, events: [last], role: 'the kernel counts memory cgroups', says: `the kernel counts ${num(K)} memory cgroups against at most ${num(ref)} of the controllers made and removed with them` });
  }
  // successive readings: removed cgroups leave every controller but memory
  const withCtl = tables.filter((e) => e.exit137.memcg!.controllers);
  if (withCtl.length >= 2) {
    const a = withCtl[0]!.exit137.memcg!.controllers!;
    const b = withCtl.at(-1)!.exit137.memcg!.controllers!;
    const deltas = Object.keys(b).filter((c) => c !== 'memory' && a[c] !== undefined).map((c) => b[c]! - a[c]!);
    const rose = (b.memory ?? 0) - (a.memory ?? 0);
    const excess = rose - Math.max(0, ...deltas);
    if (deltas.length && excess > 0) {
      out.push({
        mechanism: 'memory-rose-alone',
        confidence: 0.5,
        critical: false,
        counted: true,
        events: [withCtl[0]!, withCtl.at(-1)!],
        role: '/proc/cgroups read again',
        says: `across ${withCtl.length} readings of /proc/cgroups the memory count rose by ${rose} (${a.memory} → ${b.memory}) while no other controller rose by more than ${Math.max(0, ...deltas)}: memory cgroups outlive their directories`,
      });
    }
  }
  return out;
}

/** What the leak breaks: cgroups that cannot be made, a cgroup's own kmem caches that cannot allocate. */
function failureReadings(samples: Ev[], evs: Ev[]): Reading[] {
  const enospc: Ev[] = [];
  const enomem: Ev[] = [];
  const kmem: Ev[] = [];
  for (const e of samples) {
    const f = e.exit137.memcg!.failure;
    if (f?.kind === 'mkdir-enospc') enospc.push(e);
    else if (f?.kind === 'mkdir-enomem') enomem.push(e);
    else if (f?.kind === 'kmem-cache') kmem.push(e);
  }
  // the same error inside a line another reader took (an events row, a runtime's message)
  for (const e of evs) {
    if (e.exit137.memcg || !e.message) continue;
    const c = cgroupCreateError(e.message);
    if (c) (c.errno === 'ENOSPC' ? enospc : enomem).push(e);
  }
  const out: Reading[] = [];
  if (enospc.length) {
    out.push({ mechanism: 'mkdir-enospc', confidence: 0.65, critical: true, counted: false, events: enospc, role: 'a memory cgroup refused: no space left on device', says: `${enospc.length > 1 ? `${enospc.length} memory cgroups` : 'a memory cgroup'} could not be created: no space left on device, the ${num(MEMCG_ID_CAP)} memory cgroup ids used up` });
  }
  if (enomem.length) {
    out.push({ mechanism: 'mkdir-enomem', confidence: 0.5, critical: false, counted: false, events: enomem, role: 'a memory cgroup refused: cannot allocate memory', says: `${enomem.length > 1 ? `${enomem.length} memory cgroups` : 'a memory cgroup'} could not be created: cannot allocate memory` });
  }
  if (kmem.length) {
    const cgroups = [...new Set(kmem.map((e) => e.exit137.memcg!.failure!.cgroup!))];
    out.push({
      mechanism: 'kmem-cache',
      confidence: 0.55,
      critical: false,
      counted: false,
      events: kmem,
      role: "a cgroup's own slab cache could not allocate",
      says: `slab allocations charged to ${cgroups.length > 1 ? `${cgroups.length} memory cgroups` : `the memory cgroup of ${cgroups[0]!.slice(0, 12)}`} fail (${[...new Set(kmem.map((e) => e.exit137.memcg!.failure!.cache))].slice(0, 3).join(', ')}): kernel-memory accounting per cgroup`,
    });
  }
  return out;
}

function combine(host: string, readings: Reading[], memcg: NodeFinding['memcg']): NodeFinding {
  readings.sort((a, b) => b.confidence - a.confidence);
  const top = readings[0]!;
  const kinds = new Set(readings.map((r) => r.mechanism));
  const counted = readings.some((r) => r.counted && r.confidence >= 0.7);
  // two independent signs agree; only the kernel's own counts carry a finding past 0.8
  const confidence = Math.min(top.confidence + (kinds.size > 1 ? 0.1 : 0), counted ? 0.9 : 0.75);
  const events = [...new Set(readings.flatMap((r) => r.events))].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  const kmemLike = readings.some((r) => r.mechanism === 'kmem-cache' || r.mechanism === 'mkdir-enomem' || r.mechanism === 'slab-caches');
  const missing: string[] = [];
  if (!readings.some((r) => r.mechanism === 'counted' || r.mechanism === 'paired' || r.mechanism === 'directories')) {
    missing.push('count /proc/cgroups against the directories: grep memory /proc/cgroups, and find /sys/fs/cgroup/memory -type d | wc -l (v2: nr_dying_descendants in /sys/fs/cgroup/cgroup.stat)');
  }
  if (kmemLike) missing.push('the kernel release and whether kmem accounting is on (3.10 with runc: cgroup.memory=nokmem on the kernel command line turns it off)');
  const f: NodeFinding = {
    finding_id: findingId(host, 'memcg-leak', events[0]!.event.id),
    host,
    finding: 'memcg-leak',
    severity: readings.some((r) => r.critical) ? 'critical' : 'warning',
    confidence: Math.round(confidence * 100) / 100,
    ...seen(events[0]!, events.at(-1)!),
    headline: `memory cgroup leak: ${top.says}${readings.length > 1 ? `; also ${readings.slice(1).map((r) => r.says).join('; ')}` : ''}`,
    explanation: `${WHY}${kmemLike ? WHY_KMEM : ''}`,
    remedy: REMEDY,
    evidence: readings.flatMap((r) => r.events.slice(0, 5).map((e) => evidenceItem(e, r.role))).slice(0, 12),
  };
  if (memcg) f.memcg = memcg;
  if (missing.length) f.missing = missing;
  const c = containerOf(readings);
  if (c) f.container = c;
  return f;
}

/** The container the evidence names: the one whose own kmem caches fail, else the one that could not be created. */
function containerOf(readings: Reading[]): NodeFinding['container'] {
  for (const [mechanism, by] of [
    ['kmem-cache', 'its memory cgroup’s own slab caches fail'],
    ['mkdir-enospc', 'its memory cgroup could not be created'],
    ['mkdir-enomem', 'its memory cgroup could not be created'],
  ] as const) {
    const ids = [...new Set(readings.filter((r) => r.mechanism === mechanism).flatMap((r) => r.events.map((e) => e.container?.id).filter((x): x is string => x !== undefined)))];
    if (ids.length === 1) return { id: ids[0]!, by };
  }
  return undefined;
}
