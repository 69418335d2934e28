import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

/**
 * Kernel text as people paste it (test/fixtures/field/shapes: dmesg-plain, dmesg-T,
 * journal-kernel, kernel-cut-prefix, oom-cut-header, proc-stack, sysrq-dump): every report, even
 * with its header or its prefixes cut, is the event a whole one would be.
 */
const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);
const READ_AT = 1_796_083_200_000_000_000n; // 2026-12-01T00:00:00Z

async function decode(dir: string, n: number): Promise<NormalizedEvent[]> {
  const r = await decodeFiles([shape(dir, n)], { clock: { referenceNs: READ_AT } });
  assert.deepEqual(r.dead.map((d) => `${d.reason}: ${d.message}`), []);
  for (const e of r.events) assert.ok(!e['@timestamp'].startsWith('1970'), `no 1970: ${e.event.original.slice(0, 80)}`);
  return r.events;
}
const ooms = (ev: NormalizedEvent[]) => ev.filter((e) => e.exit137.kind === 'kernel-oom');
const hung = (ev: NormalizedEvent[]) => ev.filter((e) => e.exit137.kind === 'kernel-hung-task');

describe('dmesg (seconds since boot)', () => {
  it('bogus stamps and an eaten `[ pid ]` from inside a container (moby#15621): the kill of python 19417', async () => {
    const [o] = ooms(await decode('dmesg-plain', 1));
    assert.equal(o!.process?.pid, 19417);
    assert.equal(o!.process?.name, 'python');
    assert.deepEqual(o!.exit137.signal, { number: 9, name: 'SIGKILL' });
    assert.deepEqual(o!.exit137.oom?.chosen, { pid: 19417, name: 'python', score: 890 });
    assert.equal(o!.exit137.time.basis, 'relative');
  });

  it('one grep-filtered oom-kill summary (install-docker#14): the victim and the container of its task_memcg', async () => {
    const [o] = ooms(await decode('dmesg-plain', 2));
    assert.equal(o!.process?.pid, 7134);
    assert.equal(o!.process?.name, 'java');
    assert.equal(o!.container?.id, '00748bf4e957f82c239a1db8a88579059b7d40c7b5fbd3f43617d31d3f646f12');
    assert.equal(o!.exit137.oom?.global, true);
    assert.equal(o!.exit137.oom?.victim?.uid, 1000);
    assert.equal(o!.exit137.time.since_boot_ns, '4650180470877000');
    // the only kernel line: placed at the read time
    assert.equal(o!['@timestamp'], '2026-12-01T00:00:00.000000000Z');
  });

  it('5.x `Memory cgroup out of memory: Killed process` then the next report’s header (reportportal#203)', async () => {
    const [kill, next] = ooms(await decode('dmesg-plain', 3));
    assert.equal(kill!.process?.pid, 63214);
    assert.equal(kill!.exit137.signal?.number, 9);
    assert.equal(kill!.exit137.oom?.victim?.shmem_rss_kb, 92);
    assert.ok(!kill!.tags.includes('incomplete'), 'the reaper line closed it');
    assert.equal(next!.exit137.oom?.invoker?.name, 'uwsgi');
    assert.equal(next!.exit137.oom?.victim, undefined);
    assert.equal(next!.exit137.signal, undefined);
    // 30.3 s apart, as the stamps say
    assert.equal(BigInt(next!.exit137.ts_ns) - BigInt(kill!.exit137.ts_ns), 7093543707000n - 7063247407000n);
  });

  it('3.x hung task with raw stack words before the trace (zfs#3980): one report, its frames', async () => {
    const [h] = hung(await decode('dmesg-plain', 4));
    assert.equal(h!.process?.pid, 24225);
    assert.equal(h!.exit137.hung_task?.blocked_seconds, 120);
    assert.equal(h!.exit137.hung_task?.state, 'D');
    assert.deepEqual(h!.exit137.hung_task?.stack.slice(0, 3), ['schedule', 'schedule_timeout', 'ldsem_down_write']);
  });

  it('a header a tmux pane padded and marked `[215/9091]` (dotmesh#540): PID 1 blocked in proc_cgroup_show', async () => {
    const ev = await decode('dmesg-plain', 5);
    assert.equal(ev.length, 1, 'one report, not 20 kernel lines');
    const [h] = hung(ev);
    assert.equal(h!.process?.pid, 1);
    assert.ok(h!.exit137.hung_task?.stack.includes('proc_cgroup_show'));
  });

  it('`<6>` and the printk caller `[   T38]` around the stamp (liburing#448): the 5.x blocked task', async () => {
    const [h] = hung(await decode('dmesg-plain', 6));
    assert.equal(h!.process?.pid, 403349);
    assert.equal(h!.process?.name, 'kworker/u8:102');
    assert.equal(h!.exit137.time.since_boot_ns, '95970707730000');
  });

  it('`cat -n` line numbers before the stamps (ert#9320): five global OOM kills', async () => {
    const ev = ooms(await decode('dmesg-plain', 7));
    assert.deepEqual(ev.map((e) => e.process?.pid), [328391, 1597132, 1595933, 1596142, 1596008]);
    for (const e of ev) assert.equal(e.exit137.oom?.global, true);
    assert.equal(ev[0]!.exit137.oom?.victim?.uid, 322617);
  });
});

describe('dmesg -T (the reader’s local time, any locale)', () => {
  it('a report from `Memory cgroup stats for` on (k8s#56891): the container of the stats path, the child killed', async () => {
    const [first, second] = ooms(await decode('dmesg-T', 1));
    assert.equal(first!['@timestamp'], '2017-12-07T00:05:14.000000000Z');
    assert.equal(first!.exit137.time.basis, 'assumed');
    assert.equal(first!.container?.id, '6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b');
    assert.equal(first!.process?.pid, 28438);
    assert.deepEqual(first!.exit137.oom?.chosen, { pid: 24572, name: 'java', score: 0 });
    assert.equal(second!.container?.id, '1e479e759020fa0b6c72def90973540a2d33982fea2ad67a96373b4da751a820');
    assert.equal(second!['@timestamp'], '2017-12-07T00:13:22.000000000Z');
  });

  it('German weekday `So` (moby#41676): the blocked mysqld', async () => {
    const [h] = hung(await decode('dmesg-T', 2));
    assert.equal(h!['@timestamp'], '2020-11-15T16:05:41.000000000Z');
    assert.equal(h!.process?.pid, 44333);
    assert.equal(h!.process?.name, 'mysqld');
  });

  it('`cpuset=docker-<id>.scope` in a header-only report (moby#15905)', async () => {
    const [o] = ooms(await decode('dmesg-T', 3));
    assert.equal(o!.container?.id, '55f00ad3e6b3226ab56eae353cb7667ed97d30a5cd4a6304a32a69b30316a6a5');
    assert.equal(o!['@timestamp'], '2015-08-31T18:23:18.000000000Z');
  });
});

describe('journalctl -k and syslog kernel lines', () => {
  it('`Task in … killed as a result of limit` starts the report (istio#42734): the scope’s container', async () => {
    const ev = await decode('journal-kernel', 1);
    assert.equal(ev.length, 1, 'one report, not six kernel lines');
    assert.equal(ev[0]!.container?.id, 'b27201334a41cd0749d053b18378d7ea65617b8e26277197ea25c974da1a5a8a');
    assert.equal(ev[0]!.exit137.oom?.limit_kb, 1048576);
  });

  it('comms with spaces, slashes and brackets (harvester#2419, sysbox#30): the invoker and its pid', async () => {
    const [a] = ooms(await decode('journal-kernel', 2));
    assert.deepEqual(a!.exit137.oom?.invoker, { name: 'CPU 2/KVM', pid: 10612 });
    const [b] = ooms(await decode('journal-kernel', 4));
    assert.deepEqual(b!.exit137.oom?.invoker, { name: 'runc:[1:CHILD]', pid: 7148 });
    assert.equal(b!.exit137.oom?.kernel, '5.3.0-1032-gcp');
  });

  it('a hung kworker whose comm holds `:` (coreos#118), with raw stack words', async () => {
    const ev = await decode('journal-kernel', 3);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.process?.pid, 31318);
    assert.equal(ev[0]!.process?.name, 'kworker/u30:4');
  });

  it('`kernel: [  152.700479]` inside syslog (for-linux#1001): the sacrificed children, not the parent', async () => {
    const ev = ooms(await decode('journal-kernel', 5));
    assert.deepEqual(ev.map((e) => e.process?.pid), [4254, 4255]);
    assert.deepEqual(ev.map((e) => e.exit137.oom?.chosen?.pid), [4142, 4142]);
  });

  it('quoted RHEL 7.9 `Killed process N (comm), UID 1000,` lines alone (k8s#50632): one OOM kill each', async () => {
    const ev = ooms(await decode('journal-kernel', 6));
    assert.equal(ev.length, 8);
    assert.equal(ev[0]!.process?.pid, 799153);
    assert.equal(ev[0]!.exit137.oom?.victim?.uid, 1000);
    assert.equal(ev[0]!.exit137.signal?.number, 9);
  });
});

describe('kernel lines with their prefix or their header cut', () => {
  it('a bare `Killed process` line (kubernetes#60492) is an OOM kill alone', async () => {
    const ev = ooms(await decode('kernel-cut-prefix', 1));
    const bare = ev.find((e) => e.event.original.startsWith('Killed process'))!;
    assert.equal(bare.process?.pid, 1371);
    assert.equal(bare.exit137.signal?.number, 9);
    assert.equal(bare.exit137.oom?.victim?.anon_rss_kb, 201844);
  });

  it('a stamp whose `[` was cut and two lines wrapped at the width (kubedirector#356): the container of `Task in`', async () => {
    const ev = await decode('kernel-cut-prefix', 2);
    assert.equal(ev.length, 1, 'the wrapped halves are joined into the report');
    const o = ev[0]!;
    assert.equal(o.container?.id, '024952d653ef1cd852f875a61bd27cf45cb1fd6cab3659ca7e5f12f037d99aa9');
    assert.equal(o.exit137.oom?.memcg, '/kubepods/pod951f6bc5-c5a5-11ea-8707-80e455f266a2/024952d653ef1cd852f875a61bd27cf45cb1fd6cab3659ca7e5f12f037d99aa9');
    assert.equal(o.exit137.oom?.limit_kb, 524288);
    assert.deepEqual(o.exit137.oom?.tasks.map((t) => t.pid), [62685, 62769]);
    assert.equal(o.exit137.time.since_boot_ns, '5193605506728000');
  });

  it('from `Memory cgroup stats for` on, in dmesg -T and in syslog (k8s#56891, ltp#1080)', async () => {
    const [a] = ooms(await decode('oom-cut-header', 1));
    assert.equal(a!.container?.id, '6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b');
    assert.equal(a!.process?.pid, 28438);
    const [b] = ooms(await decode('oom-cut-header', 2));
    assert.equal(b!.process?.pid, 42424);
    assert.equal(b!.exit137.oom?.victim?.uid, 0);
    assert.equal(b!.exit137.oom?.tasks.length, 4);
    assert.equal(b!.container, undefined, 'memcg /0 is no container');
  });
});

describe('pasted stacks and SysRq dumps', () => {
  it('`cat /proc/PID/stack` gives the stack its pid (moby#31614, containerd#11133, lxc#2456)', async () => {
    for (const [n, pid, frame] of [[1, 20542, 'zap_pid_ns_processes'], [2, 6601, 'zap_pid_ns_processes'], [3, 70678, 'fsnotify_wait_marks_destroyed']] as const) {
      const ev = await decode('proc-stack', n);
      assert.equal(ev.length, 1, `proc-stack/${n}: the command is the stack's, not a line of its own`);
      const s = ev[0]!;
      assert.equal(s.exit137.kind, 'task-stack');
      assert.equal(s.process?.pid, pid);
      assert.equal(s.exit137.hung_task?.pid, pid);
      assert.ok(s.exit137.hung_task?.stack.includes(frame));
      assert.equal(s.exit137.time.basis, 'relative');
    }
  });

  it('SysRq w on 3.x (esos#102): `comm D pc stack pid father flags` is a blocked task', async () => {
    const [h] = hung(await decode('sysrq-dump', 1));
    assert.equal(h!.process?.pid, 3937);
    assert.equal(h!.process?.name, 'compute2-f1_3');
    assert.equal(h!.exit137.hung_task?.state, 'D');
  });

  it('SysRq w on 6.x (qualcomm kernel#70): `task:… state:D … pid:72`', async () => {
    const [h] = hung(await decode('sysrq-dump', 2));
    assert.equal(h!.process?.pid, 72);
    assert.equal(h!.process?.name, 'kworker/u17:0');
  });
});
