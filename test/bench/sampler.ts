import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockedTaskSampler } from '../../ingest/collectors/blocked-tasks.ts';

/**
 * The blocked-task sampler's cost on a fixture /proc of `n` tasks (1% of them in state D): wall
 * time and CPU for a full round, the number of scans the budget splits it into, and the worst scan.
 */
export function benchSampler(n: number, budget = { maxEntriesPerScan: 20_000, maxMillisPerScan: 250 }) {
  const root = mkdtempSync(join(tmpdir(), 'exit137-bench-proc-'));
  try {
    for (let pid = 1; pid <= n; pid++) {
      const dir = join(root, String(pid), 'task', String(pid));
      mkdirSync(dir, { recursive: true });
      const d = pid % 100 === 0;
      writeFileSync(join(dir, 'stat'), `${pid} (worker) ${d ? 'D' : 'S'} 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0`);
      if (d) writeFileSync(join(dir, 'stack'), '[<0>] request_wait_answer+0x12f/0x210\n[<0>] fuse_flush+0x16f/0x1b0\n');
      writeFileSync(join(root, String(pid), 'cgroup'), '0::/system.slice/x.service\n');
    }
    const s = new BlockedTaskSampler({ procRoot: root, thresholdSeconds: 0, ...budget });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let entries = 0;
    let scans = 0;
    let worst = 0;
    let reported = 0;
    while (entries < n) {
      const r = s.scan();
      entries += r.stats.entries;
      reported += r.events.length;
      worst = Math.max(worst, r.stats.millis);
      scans++;
    }
    const cpu = process.cpuUsage(cpu0);
    return { n, scans, millis: performance.now() - t0, cpuMillis: (cpu.user + cpu.system) / 1000, worstScanMillis: worst, reported };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
