import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles, decodeLines } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { parseIsoNanos } from '../time/instant.ts';

const kernelDir = join(FIXTURES, 'lab', 'kernel');
const boot = parseIsoNanos(readFileSync(join(kernelDir, 'boot-time'), 'utf8').trim());

describe('kernel reports captured in the lab (kernel 6.18, cgroup v1)', () => {
  for (const [file, opts] of [['dmesg.txt', boot.ok ? { bootNs: boot.ns } : {}], ['dmesg-iso.txt', {}]] as const) {
    it(`${file}: each memcg OOM is one event with invoker, kernel, memcg, limit, table and victim`, async () => {
      const { events, dead } = await decodeFiles([join(kernelDir, file)], opts);
      assert.deepEqual(dead, []);
      const ooms = events.filter((e) => e.exit137.kind === 'kernel-oom');
      // the plain hog; then, in the second cgroup, the helper with oom_score_adj 1000 and the hog after it
      assert.deepEqual(ooms.map((e) => `${e.exit137.oom!.memcg} ${e.exit137.oom!.victim?.pid}`), ['/exit137-lab-oom 6997', '/exit137-lab-oom-adj 7039', '/exit137-lab-oom-adj 7081']);
      const o = ooms[0]!.exit137.oom!;
      assert.deepEqual(o.invoker, { name: 'python3', pid: 6997 });
      assert.equal(o.kernel, '6.18.44-fc-v595');
      assert.equal(o.constraint, 'CONSTRAINT_MEMCG');
      assert.equal(o.limit_kb, 32768);
      assert.equal(o.usage_kb, 32768);
      assert.deepEqual(o.tasks, [{ pid: 6997, uid: 0, tgid: 6997, total_vm: 29746, rss_pages: 9801, swap_pages: 0, pgtable_pages: 33, oom_score_adj: 0, name: 'python3' }]);
      assert.equal(o.victim?.anon_rss_kb, 32512);
      assert.equal(o.global, false);
      assert.equal(ooms[0]!.exit137.time.basis, 'absolute');
      // dmesg.txt is placed by a boot time read to the second: within a second or two of the ISO rendering
      assert.ok(Math.abs(Date.parse(ooms[0]!['@timestamp']) - Date.parse('2026-11-24T11:42:37.448Z')) < 2000, ooms[0]!['@timestamp']);
      const adj = ooms[1]!.exit137.oom!;
      // the allocating task is the hog, the victim the helper
      assert.deepEqual(adj.invoker, { name: 'python3', pid: 7081 });
      assert.deepEqual(adj.tasks.map((t) => [t.pid, t.rss_pages, t.oom_score_adj]), [[7039, 4885, 1000], [7081, 14696, 0]]);
    });

    it(`${file}: the FUSE hung task is one event with its whole stack`, async () => {
      const { events } = await decodeFiles([join(kernelDir, file)], opts);
      const hung = events.filter((e) => e.exit137.kind === 'kernel-hung-task');
      assert.equal(hung.length, 1);
      const h = hung[0]!.exit137.hung_task!;
      assert.equal(h.name, 'sleep');
      assert.equal(h.pid, 7128);
      assert.equal(h.state, 'D');
      assert.equal(h.complete, true);
      assert.deepEqual(h.stack.slice(2, 5), ['request_wait_answer', '__fuse_simple_request', 'fuse_flush']);
      assert.ok(!h.stack.some((f) => f.startsWith('srso_alias')), 'frames marked ? are unreliable and left out');
    });
  }

  it('without a boot time, dmesg stamps stay relative and say so', async () => {
    const { events } = await decodeFiles([join(kernelDir, 'dmesg.txt')]);
    const o = events.find((e) => e.exit137.kind === 'kernel-oom')!;
    assert.equal(o.exit137.time.basis, 'relative');
    assert.ok(o.tags.includes('time_relative'));
  });
});

describe('seed 002: the OOM table pasted out of order', () => {
  it('reads the 2.6.32 table columns from the header and the RHEL 6 victim line', async () => {
    const { events } = await decodeFiles([join(FIXTURES, 'seed-002', 'oom-report.txt')]);
    const [report, trailer] = events.filter((e) => e.exit137.kind === 'kernel-oom');
    const o = report!.exit137.oom!;
    assert.equal(o.tasks.length, 11);
    assert.deepEqual(o.chosen, { pid: 15947, name: 'init', score: 1 });
    assert.equal(o.victim?.name, 'mingetty');
    assert.equal(o.victim?.pid, 16944);
    assert.equal(o.victim?.uid, 0);
    assert.equal(o.victim?.anon_rss_kb, 4);
    assert.equal(Math.max(...o.tasks.map((t) => t.rss_pages)), 3474);
    assert.equal(o.tasks.find((t) => t.pid === 16944)?.rss_pages, 15);
    // The allocating task and its cpuset (the container) came after the table in the post.
    assert.deepEqual(trailer!.exit137.oom!.invoker, { name: 'node' });
    assert.equal(trailer!.exit137.oom!.cpuset, 'd96a8ea034f0610b31f1f669b7083d73f7caf7be92dae187ceb86416d05e1955');
    assert.equal(trailer!.container?.id, 'd96a8ea034f0610b31f1f669b7083d73f7caf7be92dae187ceb86416d05e1955');
  });
});

describe('kernel 3.10 and 4.19 wordings (FORMATS.md §4)', () => {
  it('3.10: Task in … killed as a result of limit of …, Kill process … sacrifice child, Killed process', () => {
    const lines = [
      'Feb  3 10:00:01 node-1 kernel: java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998',
      'Feb  3 10:00:01 node-1 kernel: Task in /kubepods/burstable/pod1234/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef killed as a result of limit of /kubepods/burstable/pod1234/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'Feb  3 10:00:01 node-1 kernel: memory: usage 524288kB, limit 524288kB, failcnt 42',
      'Feb  3 10:00:01 node-1 kernel: [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name',
      'Feb  3 10:00:01 node-1 kernel: [12345]     0 12345   800000   130000     300        0          -998 java',
      'Feb  3 10:00:01 node-1 kernel: Memory cgroup out of memory: Kill process 12345 (java) score 1000 or sacrifice child',
      'Feb  3 10:00:01 node-1 kernel: Killed process 12345 (java) total-vm:3200000kB, anon-rss:520000kB, file-rss:1000kB, shmem-rss:0kB',
    ];
    const { events } = decodeLines(lines);
    const o = events.find((e) => e.exit137.kind === 'kernel-oom')!;
    assert.equal(o.container?.id, '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    assert.equal(o.exit137.oom?.limit_kb, 524288);
    assert.equal(o.exit137.oom?.victim?.name, 'java');
    assert.equal(o.exit137.oom?.tasks[0]?.rss_pages, 130000);
    // Nothing before these lines says the year or zone: both are inferred, and the event says so.
    assert.ok(o.tags.includes('year_inferred') && o.tags.includes('zone_assumed'));
  });
});
