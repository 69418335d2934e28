import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MemcgSample, NormalizedEvent } from '../event.ts';
import { nowNs, sampleEvent } from './sample-event.ts';

export type MemcgOptions = { procRoot?: string; cgroupRoot?: string; maxDirs?: number; host?: string };

/**
 * Counts memory cgroups the way seed 001 found its leak: what the kernel holds (the memory line of
 * /proc/cgroups on v1; live + dying descendants on v2) against what still exists as directories.
 * Removed cgroups pinned by page cache stay counted by the kernel: the difference is the leak.
 */
export function sampleMemcg(opts: MemcgOptions = {}, now = nowNs()): NormalizedEvent {
  const proc = opts.procRoot ?? '/proc';
  const root = opts.cgroupRoot ?? '/sys/fs/cgroup';
  let sample: MemcgSample;
  const v1 = join(root, 'memory');
  if (existsSync(join(v1, 'memory.limit_in_bytes')) || existsSync(join(v1, 'cgroup.procs'))) {
    const line = readFileSync(join(proc, 'cgroups'), 'utf8').split('\n').find((l) => l.startsWith('memory\t'));
    const kernel = Number(line?.split('\t')[2] ?? NaN);
    const { count, partial } = countDirs(v1, opts.maxDirs ?? 200_000);
    sample = { hierarchy: 'v1', kernel_cgroups: kernel, live_cgroups: count, dying_cgroups: Math.max(0, kernel - count) };
    if (partial) sample.partial = true;
  } else {
    const stat = Object.fromEntries(
      readFileSync(join(root, 'cgroup.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]),
    );
    const live = Number(stat.nr_descendants ?? 0) + 1;
    const dying = Number(stat.nr_dying_descendants ?? 0);
    sample = { hierarchy: 'v2', kernel_cgroups: live + dying, live_cgroups: live, dying_cgroups: dying };
  }
  const e = sampleEvent('memcg-sample', 'memcg-sample', now, `memcg|${now}`, `memory cgroups: ${sample.kernel_cgroups} counted by the kernel, ${sample.live_cgroups} live, ${sample.dying_cgroups} dying`, JSON.stringify(sample), opts.host);
  e.exit137.memcg = sample;
  return e;
}

/** Directories in the memory hierarchy, each one a live cgroup (the root included), up to a budget. */
function countDirs(dir: string, max: number): { count: number; partial: boolean } {
  let count = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    count++;
    if (count >= max) return { count, partial: true };
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) stack.push(join(d, e.name));
  }
  return { count, partial: false };
}
