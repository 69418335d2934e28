/**
 * Kernel stacks that explain a task that will not die or a node that froze, as data: a new
 * signature is one entry. `frames` must all be in the stack (innermost first is not required).
 */
export type StackSignature = {
  id: string;
  finding: 'stuck-kill' | 'cgroup-teardown-freeze';
  frames: string[];
  meaning: string;
  explanation: string;
  remedy: string;
  refs: string[];
};

export const STACK_SIGNATURES: StackSignature[] = [
  {
    id: 'fuse-request',
    finding: 'stuck-kill',
    frames: ['request_wait_answer', 'fuse_flush'],
    meaning: 'a task of the container waits for a FUSE daemon to answer a flush while it exits (closing its files)',
    explanation: 'A SIGKILLed task closes its files on the way out; closing a file on a FUSE mount sends a flush to the FUSE daemon and waits, uninterruptibly, for the answer. A daemon that is stopped, dead-locked or gone never answers, so the task never finishes exiting, and with it the container (its init waits in zap_pid_ns_processes).',
    remedy: 'Abort the FUSE connection (echo 1 > /sys/fs/fuse/connections/<N>/abort, N from the mount’s device minor) and fix or restart the FUSE daemon.',
    refs: ['seed 003 (Netflix titus, ndrive)'],
  },
  {
    id: 'pid-ns-teardown',
    finding: 'stuck-kill',
    frames: ['zap_pid_ns_processes'],
    meaning: 'the container’s init is exiting and waits for the other tasks of its pid namespace to die first',
    explanation: 'When a pid namespace’s init exits, the kernel kills every other task of the namespace and waits for them; one of them is blocked (see its own stack), so the init, and the container, cannot finish dying.',
    remedy: 'Find the task of the namespace that cannot die (ls /proc/<init>/task, then /proc/<pid>/task/<tid>/stack) and release what it waits on.',
    refs: ['seed 003'],
  },
  {
    id: 'memcg-offline-rcu',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_rmdir', 'mem_cgroup_css_offline', 'synchronize_sched'],
    meaning: 'removing a memory cgroup waits for an RCU grace period while holding cgroup_mutex',
    explanation: 'On 3.10 kernels (CentOS/RHEL 7) rmdir of a memory cgroup reparents its charges and calls synchronize_sched() with cgroup_mutex held. When the grace period is slow (many CPUs, many cgroups torn down), PID 1, systemd-logind, journald and kworkers pile up behind the mutex in D state and the node freezes; only a reboot frees it.',
    remedy: 'Upgrade the kernel: the memcg offline path no longer waits for a grace period under cgroup_mutex in newer kernels (the seed’s fix was a 5.4 kernel from ELRepo; Rocky/RHEL 8 kernels changed this code). Reduce cgroup churn (short-lived containers, cron and login sessions) meanwhile.',
    refs: ['seed 000', 'lkml: "Possible regression with cgroups in 3.11"'],
  },
  {
    id: 'cgroup-drain-dying',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_rmdir', 'cgroup_drain_dying'],
    meaning: 'removing a cgroup waits for the cgroup’s dying tasks to be gone',
    explanation: 'Recent kernels make rmdir of a cgroup wait in cgroup_drain_dying until the tasks that left it have finished exiting. When that wait never ends, the remover (PID 1 when systemd cleans up a unit or a container’s scope) stays in D state holding cgroup locks, and the node stops answering whatever reads /proc or creates a cgroup: ps, new logins, container starts. A report of exactly this stack after podman container cleanup was traced to a kernel regression in a stable update.',
    remedy: 'Boot the last kernel release without the regression (the stable update before the one that froze) and follow the distribution’s kernel bug for the fix; a frozen node only recovers by reboot. Until then, a sysrq blocked-task dump (echo w > /proc/sysrq-trigger) shows which task the drain waits for.',
    refs: ['https://github.com/cockpit-project/bots/pull/8970'],
  },
  {
    id: 'cgroup-destroy-worker-mutex',
    finding: 'cgroup-teardown-freeze',
    frames: ['css_killed_work_fn', 'mutex_lock'],
    meaning: 'the kernel worker that finishes removing cgroups waits for cgroup_mutex',
    explanation: 'Removed cgroups are finished off by the cgroup_destroy workqueue (css_killed_work_fn), which takes cgroup_mutex. While another task holds the mutex, every removal queues behind it: dying cgroups pile up, and container stops, logins and cron jobs that create or remove cgroups hang with it.',
    remedy: 'Find the holder of cgroup_mutex: the blocked task whose stack is inside cgroup or memcg code without waiting on the mutex (a sysrq blocked-task dump lists them all); its own stack names the cause. Reboot if it never returns.',
    refs: ['https://github.com/openzfs/zfs/issues/7659'],
  },
  {
    id: 'cgroup-mutex',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_rmdir', '__mutex_lock'],
    meaning: 'a cgroup removal waits for cgroup_mutex, held by another teardown',
    explanation: 'Every cgroup creation and removal on the node serialises on cgroup_mutex; one slow teardown blocks them all (container starts and stops, logins, cron).',
    remedy: 'Find the task holding the mutex (the one whose stack is deeper inside cgroup teardown) and the signature of its stack.',
    refs: [],
  },
];

export function matchSignature(stack: string[]): StackSignature | undefined {
  return STACK_SIGNATURES.find((s) => s.frames.every((f) => stack.some((x) => x === f || x.startsWith(`${f}.`))));
}
