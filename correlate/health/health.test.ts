import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlockedTaskSampler } from '../../ingest/collectors/blocked-tasks.ts';
import { sampleMemcg } from '../../ingest/collectors/memcg.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { NodeFinding } from './finding.ts';
import { findHealth } from './findings.ts';

async function findingsOf(...paths: string[]) {
  const { events } = await decodeFiles(paths.map((p) => join(FIXTURES, p)));
  return findHealth(events).map((f) => NodeFinding.parse(f));
}

describe('node-health findings from the seeds and the lab', () => {
  it('seed 000: PID 1 stuck removing a memory cgroup behind an RCU grace period', async () => {
    const [f, ...rest] = await findingsOf('seed-000/proc-1-stack.txt');
    assert.equal(rest.length, 0);
    assert.equal(f!.finding, 'cgroup-teardown-freeze');
    assert.equal(f!.signature, 'memcg-offline-rcu');
    assert.equal(f!.severity, 'critical');
    assert.match(f!.remedy, /Upgrade the kernel/);
    assert.deepEqual(f!.tasks![0]!.stack.slice(0, 3), ['wait_rcu_gp', 'synchronize_sched', 'mem_cgroup_start_move']);
  });

  it('seed 003: the init in zap_pid_ns_processes and its thread stuck in fuse_flush', async () => {
    const f = await findingsOf('seed-003/stacks.txt');
    assert.deepEqual(f.map((x) => x.signature).sort(), ['fuse-request', 'pid-ns-teardown']);
    assert.ok(f.every((x) => x.finding === 'stuck-kill'));
    assert.match(f.find((x) => x.signature === 'fuse-request')!.remedy, /\/sys\/fs\/fuse\/connections\/<N>\/abort/);
  });

  it('seed 002: init and mingetty killed while 1,000 node workers hold the memory', async () => {
    const f = await findingsOf('seed-002/oom-report.txt');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.finding, 'oom-wrong-victim');
    assert.equal(f[0]!.oom?.victim, 'mingetty[16944]');
    assert.equal(f[0]!.oom?.largest_task, 'node[40395]');
    // 2.6.32: no oom_score_adj difference, a `score 1` choice: the root discount's tie
    assert.equal(f[0]!.oom?.mechanism, 'root-discount');
    assert.equal(f[0]!.severity, 'critical');
    assert.match(f[0]!.explanation, /rounded down/);
  });

  it('lab, kernel 6.18: a kill stuck in FUSE; the helper with oom_score_adj 1000 killed instead of the hog; the hogs’ own OOMs are not wrong victims', async () => {
    const f = await findingsOf('lab/kernel/dmesg-iso.txt');
    assert.deepEqual(f.map((x) => `${x.finding}/${x.signature ?? x.oom?.mechanism}`), ['stuck-kill/fuse-request', 'oom-wrong-victim/oom_score_adj']);
    assert.equal(f[0]!.tasks![0]!.name, 'sleep');
    const oom = f[1]!;
    assert.deepEqual(oom.oom, { victim: 'python3[7039]', victim_rss_pages: 4885, largest_task: 'python3[7081]', largest_rss_pages: 14696, tasks: 2, mechanism: 'oom_score_adj' });
    assert.equal(oom.severity, 'warning');
    assert.deepEqual([oom.time_basis, oom.last_seen], ['absolute', '2026-11-24T11:42:38.668006000Z']);
    assert.match(oom.explanation, /oom_score_adj 1000 against 0/);
    assert.match(oom.remedy, /what raised python3\[7039\]'s oom_score_adj/);
  });

  it('a public report: PID 1 frozen in cgroup_rmdir → cgroup_drain_dying (SysRq blocked-task dump)', async () => {
    const [f, ...rest] = await findingsOf('public-reports/sysrq-cgroup-drain-dying.txt');
    assert.equal(rest.length, 0);
    assert.equal(f!.finding, 'cgroup-teardown-freeze');
    assert.equal(f!.signature, 'cgroup-drain-dying');
    assert.equal(f!.severity, 'critical');
    assert.deepEqual([f!.tasks![0]!.name, f!.tasks![0]!.pid], ['systemd', 1]);
    assert.match(f!.headline, /^systemd:1 blocked: removing a cgroup waits/);
    // a pasted dump has no clock: the finding says so rather than show 1970
    assert.equal(f!.time_basis, 'relative');
  });

  it('a public report (kernel 4.15): the cgroup_destroy worker blocked on cgroup_mutex', async () => {
    const [f, ...rest] = await findingsOf('public-reports/hung-css-killed-work-fn.txt');
    assert.equal(rest.length, 0);
    assert.equal(f!.finding, 'cgroup-teardown-freeze');
    assert.equal(f!.signature, 'cgroup-destroy-worker-mutex');
    assert.deepEqual([f!.tasks![0]!.name, f!.tasks![0]!.pid], ['kworker/14:1', 111280]);
  });

  it('lab: the memory cgroup leak, counted and its growth estimated', async () => {
    const f = await findingsOf('lab/memcg-leak/samples.ndjson');
    assert.equal(f.length, 1);
    const m = f[0]!.memcg!;
    assert.equal(f[0]!.finding, 'memcg-leak');
    assert.ok(m.dying_cgroups >= 50, `dying ${m.dying_cgroups}`);
    assert.ok(m.dying_cgroups >= 4 * m.live_cgroups);
    assert.ok((m.growth_per_hour ?? 0) > 0);
    assert.equal(m.samples, 5);
    assert.match(f[0]!.remedy, /drop_caches.*nokmem.*enable-linger/s);
  });
});

describe('collectors on a fixture /proc and cgroup tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'exit137-proc-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const proc = join(root, 'proc');
  const ID = 'f'.repeat(64);
  // 500 processes; pid 7 has a thread stuck in fuse_flush, inside a docker container's memcg
  for (let pid = 1; pid <= 500; pid++) {
    const tids = pid === 7 ? [7, 8] : [pid];
    for (const tid of tids) {
      const dir = join(proc, String(pid), 'task', String(tid));
      mkdirSync(dir, { recursive: true });
      const state = pid === 7 && tid === 8 ? 'D' : 'S';
      writeFileSync(join(dir, 'stat'), `${tid} (my (odd) name) ${state} 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0`);
      writeFileSync(join(dir, 'stack'), state === 'D' ? '[<0>] request_wait_answer+0x12f/0x210\n[<0>] fuse_flush+0x16f/0x1b0\n[<0>] do_exit+0x360/0xb80\n' : '');
    }
    writeFileSync(join(proc, String(pid), 'cgroup'), `4:memory:/docker/${ID}\n`);
  }

  it('reports the blocked thread once it has been blocked past the threshold, with its stack and container', () => {
    const s = new BlockedTaskSampler({ procRoot: proc, thresholdSeconds: 10 });
    const t0 = 1_000_000_000_000_000_000n;
    assert.equal(s.scan(t0).events.length, 0, 'not yet past the threshold');
    const second = s.scan(t0 + 11_000_000_000n);
    assert.equal(second.events.length, 1);
    const e = second.events[0]!;
    assert.equal(e.exit137.hung_task?.name, 'my (odd) name');
    assert.equal(e.exit137.hung_task?.pid, 8);
    assert.deepEqual(e.exit137.hung_task?.stack, ['request_wait_answer', 'fuse_flush', 'do_exit']);
    assert.equal(e.container?.id, ID);
    assert.equal(s.scan(t0 + 20_000_000_000n).events.length, 0, 'reported once per blocked episode');
    assert.deepEqual(findHealth([e]).map((f) => f.signature), ['fuse-request']);
  });

  it('keeps each scan within its entry budget and covers every task over successive scans', () => {
    const s = new BlockedTaskSampler({ procRoot: proc, thresholdSeconds: 0, maxEntriesPerScan: 120 });
    let entries = 0;
    let scans = 0;
    let found = 0;
    do {
      const r = s.scan();
      assert.ok(r.stats.entries <= 121, `scan read ${r.stats.entries}`);
      entries += r.stats.entries;
      found += r.events.length;
      scans++;
    } while (entries < 501);
    assert.equal(found, 1);
    assert.ok(scans >= 5);
  });

  it('counts memory cgroups: v1 directories against /proc/cgroups, v2 dying descendants', () => {
    const v1 = join(root, 'v1');
    mkdirSync(join(v1, 'cg', 'memory', 'a', 'b'), { recursive: true });
    writeFileSync(join(v1, 'cg', 'memory', 'cgroup.procs'), '');
    mkdirSync(join(v1, 'proc'), { recursive: true });
    writeFileSync(join(v1, 'proc', 'cgroups'), '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t9\t1\nmemory\t4\t203\t1\n');
    const a = sampleMemcg({ procRoot: join(v1, 'proc'), cgroupRoot: join(v1, 'cg') }).exit137.memcg!;
    assert.deepEqual(a, { hierarchy: 'v1', kernel_cgroups: 203, live_cgroups: 3, dying_cgroups: 200 });
    const v2 = join(root, 'v2');
    mkdirSync(v2, { recursive: true });
    writeFileSync(join(v2, 'cgroup.stat'), 'nr_descendants 41\nnr_dying_descendants 5120\n');
    const b = sampleMemcg({ procRoot: join(v1, 'proc'), cgroupRoot: v2 }).exit137.memcg!;
    assert.deepEqual(b, { hierarchy: 'v2', kernel_cgroups: 5162, live_cgroups: 42, dying_cgroups: 5120 });
  });
});
