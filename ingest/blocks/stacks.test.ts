import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const fieldCase = (slug: string, file: string) => join(FIXTURES, 'field', 'cases', slug, file);
const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);

async function stacks(path: string) {
  const { events, dead } = await decodeFiles([path]);
  assert.deepEqual(dead, []);
  return events.filter((e) => e.exit137.hung_task);
}

describe('hung tasks and stacks as the field pastes them', () => {
  it('frames decoded with file:line, inlined callers as frames, the 6.x task_flags line', async () => {
    const [e, ...rest] = await stacks(fieldCase('cgroup-teardown-freeze-lkml-task-hung-cgroup-drain-dying', 'hung-task.txt'));
    assert.equal(rest.length, 0);
    const h = e!.exit137.hung_task!;
    assert.deepEqual([h.name, h.pid, h.ppid, h.state, h.blocked_seconds], ['systemd', 1, 0, 'D', 143]);
    assert.deepEqual(h.stack.slice(0, 6), ['context_switch', '__schedule', '__schedule_loop', 'schedule', 'cgroup_drain_dying', 'cgroup_rmdir']);
    assert.equal(h.stack.at(-1), 'entry_SYSCALL_64_after_hwframe');
  });

  it('a console quoted in a mail, every line behind `| `', async () => {
    const [e] = await stacks(fieldCase('cgroup-teardown-freeze-lkml-wait-dying-rmdir-a', 'console.txt'));
    assert.deepEqual(e!.exit137.hung_task!.stack.slice(2, 5), ['cgroup_drain_dying', 'cgroup_rmdir', 'kernfs_iop_rmdir']);
    assert.equal(e!.exit137.hung_task!.blocked_seconds, 10);
  });

  it('a header and a task line wrapped by a mail; `? ` frames after an address are not callers', async () => {
    const [e] = await stacks(fieldCase('cgroup-teardown-freeze-oss-security-2016-11-04', 'console.txt'));
    const h = e!.exit137.hung_task!;
    assert.deepEqual([h.name, h.pid, h.ppid, h.blocked_seconds], ['kworker/45:4', 146035, 2, 120]);
    assert.deepEqual(h.workqueue, { queue: 'cgroup_destroy', function: 'css_killed_work_fn' });
    assert.ok(h.stack.includes('cpuset_css_offline') && h.stack.includes('css_killed_work_fn'));
    assert.ok(!h.stack.includes('mutex_lock_nested'), 'only seen as `? mutex_lock_nested`');
  });

  it('a stack cut after the mutex: the Workqueue line still says which work the worker runs', async () => {
    const [e] = await stacks(fieldCase('cgroup-teardown-freeze-dotmesh-540', 'dmesg.txt'));
    const h = e!.exit137.hung_task!;
    assert.deepEqual(h.stack, ['__schedule', 'schedule', 'schedule_preempt_disabled', '__mutex_lock.isra.2']);
    assert.deepEqual(h.workqueue, { queue: 'cgroup_destroy', function: 'css_release_work_fn' });
    assert.equal(h.ppid, 2);
  });

  it('a 2.6 SysRq dump: each D task its own, raw stack words and wrapped words skipped', async () => {
    const tasks = await stacks(fieldCase('cgroup-teardown-freeze-kernel-bugzilla-30432', 'sysrq-w.txt'));
    assert.deepEqual(tasks.map((e) => [e.exit137.hung_task!.name, e.exit137.hung_task!.pid, e.exit137.hung_task!.ppid]), [['zsh', 8719, 3589], ['ulatencyd', 9004, 4809], ['lua', 9487, 1]]);
    assert.deepEqual(tasks[2]!.exit137.hung_task!.stack.slice(0, 7), ['schedule_timeout', 'wait_for_common', 'wait_for_completion', 'synchronize_sched', 'mem_cgroup_start_move', 'mem_cgroup_force_empty', 'mem_cgroup_pre_destroy']);
  });

  it('a bare Call Trace, quoted alone in a commit message: a call-trace of no known task', async () => {
    const [e] = await stacks(fieldCase('cgroup-teardown-freeze-linux-79f919a89c9d', 'call-trace.txt'));
    assert.equal(e!.event.action, 'call-trace');
    assert.deepEqual(e!.exit137.hung_task, { name: '?', pid: 0, stack: ['cgroup_lock_and_drain_offline', 'cgroup_destroy_root', 'css_free_rwork_fn', 'process_one_work', 'worker_thread', 'kthread', 'ret_from_fork'], complete: false });
  });

  it('SysRq dumps: a kernel thread’s parent (2), a worker’s work function', async () => {
    const [a] = await stacks(shape('sysrq-dump', 1));
    assert.deepEqual([a!.exit137.hung_task!.name, a!.exit137.hung_task!.pid, a!.exit137.hung_task!.ppid, a!.exit137.hung_task!.state], ['compute2-f1_3', 3937, 2, 'D']);
    const [b] = await stacks(shape('sysrq-dump', 2));
    assert.deepEqual(b!.exit137.hung_task!.workqueue, { queue: 'hci0', function: 'hci_power_on' });
  });

  it('/proc/<pid>/stack: the pid from the command that printed it, hidden addresses, the old terminator', async () => {
    const [a] = await stacks(shape('proc-stack', 1));
    assert.deepEqual([a!.exit137.hung_task!.pid, a!.exit137.hung_task!.stack[0], a!.event.action], [20542, 'zap_pid_ns_processes', 'task-stack']);
    const [b] = await stacks(shape('proc-stack', 2));
    assert.deepEqual([b!.exit137.hung_task!.pid, b!.exit137.hung_task!.stack.slice(0, 3)], [6601, ['do_wait', 'kernel_wait4', 'zap_pid_ns_processes']]);
    const [c] = await stacks(shape('proc-stack', 3));
    assert.equal(c!.exit137.hung_task!.pid, 70678);
    assert.ok(c!.exit137.hung_task!.stack.includes('do_exit'));
  });
});
