/**
 * Kernel stacks that explain a task that will not die or a node that froze, as data: a new
 * signature is one entry. Every entry of `frames` must be in the stack (innermost first is not
 * required); an entry that is a list is met by any one of its names (the same wait is reached
 * through differently named functions across kernel releases: `mem_cgroup_pre_destroy` in 2.6,
 * `mem_cgroup_css_offline` in 3.10).
 */
export type StackSignature = {
  id: string;
  finding: 'stuck-kill' | 'cgroup-teardown-freeze';
  frames: (string | string[])[];
  meaning: string;
  explanation: string;
  remedy: string;
  refs: string[];
};

/** The mutex functions a wait for cgroup_mutex goes through, by kernel release. */
const MUTEX = ['mutex_lock', '__mutex_lock', '__mutex_lock_slowpath', 'mutex_lock_nested', 'mutex_lock_killable'];
/** The work functions of the cgroup_destroy workqueue, which finish a removed cgroup off. */
const DESTROY_WORK = ['css_killed_work_fn', 'css_release_work_fn', 'css_free_rwork_fn', 'css_free_work_fn'];

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
    id: 'nfs-close-on-exit',
    finding: 'stuck-kill',
    frames: ['do_exit', ['nfs_file_flush', 'nfs_file_release', 'nfs4_do_close', 'nfs_wb_all']],
    meaning: 'a task of the container flushes a file on an NFS mount while it exits, and the server does not answer',
    explanation: 'An exiting task closes its files; closing a file written on NFS flushes its dirty pages and waits for the server. With the server unreachable (hard mount) the wait lasts until it answers, and the container cannot finish dying.',
    remedy: 'Bring the NFS server back or make the mount reachable; `umount -f -l` of the mount (or a soft mount with timeo/retrans for such data) lets the task go, losing the unwritten data.',
    refs: [],
  },
  {
    id: 'cifs-close-on-exit',
    finding: 'stuck-kill',
    frames: ['do_exit', ['cifs_flush', 'cifs_close', '_cifsFileInfo_put', 'cifs_closedir']],
    meaning: 'a task of the container closes a file on an SMB/CIFS share while it exits, and the server does not answer',
    explanation: 'Closing a file on a CIFS mount on the way out sends the close to the server and waits; a share that went away (a Windows host rebooting, a broken mapping) holds the task, and the container, until the request times out or forever.',
    remedy: 'Restore the share or force the mount away (`umount -f -l`); check the mount options (soft, echo_interval) for shares that containers write to.',
    refs: ['https://github.com/moby/moby/issues/35910'],
  },
  {
    id: 'memcg-offline-rcu',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_rmdir', ['mem_cgroup_css_offline', 'mem_cgroup_pre_destroy', 'mem_cgroup_force_empty'], ['synchronize_sched', 'synchronize_rcu', 'wait_rcu_gp']],
    meaning: 'removing a memory cgroup waits for an RCU grace period while holding cgroup_mutex',
    explanation: 'On 3.10 kernels (CentOS/RHEL 7; 2.6.3x did the same from mem_cgroup_pre_destroy) rmdir of a memory cgroup reparents its charges and calls synchronize_sched() with cgroup_mutex held. When the grace period is slow (many CPUs, many cgroups torn down), PID 1, systemd-logind, journald and kworkers pile up behind the mutex in D state and the node freezes; only a reboot frees it.',
    remedy: 'Upgrade the kernel: the memcg offline path no longer waits for a grace period under cgroup_mutex in newer kernels (the seed’s fix was a 5.4 kernel from ELRepo; Rocky/RHEL 8 kernels changed this code). Reduce cgroup churn (short-lived containers, cron and login sessions) meanwhile.',
    refs: ['seed 000', 'lkml: "Possible regression with cgroups in 3.11"', 'https://bugzilla.kernel.org/show_bug.cgi?id=30432'],
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
    id: 'cgroup-drain-offline',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_lock_and_drain_offline'],
    meaning: 'a cgroup operation waits, around cgroup_mutex, for removed cgroups to finish going offline',
    explanation: 'cgroup_lock_and_drain_offline takes cgroup_mutex and waits until every removed cgroup of the hierarchy has finished its offline work; the offline work runs on the cgroup_destroy workqueue. When that work is queued behind the waiter itself (root destruction on the same single-threaded workqueue) or is blocked, the wait never ends: mounts of cgroup v1 hierarchies, controller changes and every task that needs cgroup_mutex after it hang.',
    remedy: 'Take a kernel with the fix for the release in use (upstream 79f919a89c9d moved root destruction off the cgroup_destroy workqueue, backported to stable); a node in this state recovers only by reboot.',
    refs: ['https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=79f919a89c9d06816dbdbbd168fa41d27411a7f9', 'syzbot 4e415f7013e8d1af362b'],
  },
  {
    id: 'cgroup-destroy-worker-mutex',
    finding: 'cgroup-teardown-freeze',
    frames: [DESTROY_WORK, MUTEX],
    meaning: 'the kernel worker that finishes removing cgroups waits for cgroup_mutex',
    explanation: 'Removed cgroups are finished off by the cgroup_destroy workqueue (css_killed_work_fn, css_release_work_fn), which takes cgroup_mutex. While another task holds the mutex, every removal queues behind it: dying cgroups pile up, and container stops, logins and cron jobs that create or remove cgroups hang with it.',
    remedy: 'Find the holder of cgroup_mutex: the blocked task whose stack is inside cgroup or memcg code without waiting on the mutex (a sysrq blocked-task dump lists them all); its own stack names the cause. Reboot if it never returns.',
    refs: ['https://github.com/openzfs/zfs/issues/7659', 'https://github.com/dotmesh-io/dotmesh/issues/540'],
  },
  {
    id: 'cgroup-offline-blocked',
    finding: 'cgroup-teardown-freeze',
    frames: [['css_killed_work_fn']],
    meaning: 'the kernel worker that takes removed cgroups offline is blocked inside a controller, holding cgroup_mutex',
    explanation: 'css_killed_work_fn runs each controller\'s offline callback for a removed cgroup with cgroup_mutex held. A callback that waits on something that does not come (cpuset rebuilding scheduler domains and draining a sysctl table, a memcg waiting on reclaim) keeps the mutex: every cgroup creation and removal on the node, and so every container start and stop, hangs behind it.',
    remedy: 'The frames between css_killed_work_fn and the wait name the controller and what it waits for: that is the kernel bug to look up (and to upgrade away from). Reboot to recover.',
    refs: ['https://www.openwall.com/lists/oss-security/2016/11/04/13'],
  },
  {
    id: 'cgroup-mutex',
    finding: 'cgroup-teardown-freeze',
    frames: ['cgroup_rmdir', MUTEX],
    meaning: 'a cgroup removal waits for cgroup_mutex, held by another teardown',
    explanation: 'Every cgroup creation and removal on the node serialises on cgroup_mutex; one slow teardown blocks them all (container starts and stops, logins, cron).',
    remedy: 'Find the task holding the mutex (the one whose stack is deeper inside cgroup teardown) and the signature of its stack.',
    refs: [],
  },
];

/**
 * What a stack shows when no signature names its wait, kept apart from the table: these hold for
 * any task in their frames and say less. The stuck-kill cause reads matchSignature only.
 */
export const GENERIC_SIGNATURES: StackSignature[] = [
  {
    id: 'exit-blocked',
    finding: 'stuck-kill',
    frames: [['do_exit']],
    meaning: 'a task is exiting (killed, or its process group is) and waits inside the kernel before it can finish',
    explanation: 'An exiting task closes its files, releases its memory and detaches from its namespaces before it is gone; a wait on that path (a file system that does not answer a flush or a release, a work item it must wait for) holds the task, and its container, in the middle of dying. A SIGKILL changes nothing: the task is already dying.',
    remedy: 'The innermost frames above do_exit name what it waits for (a file system, a driver, a kernel worker): release that (abort the FUSE connection, unmount with -l, restart the daemon behind the mount). If the wait never ends, only a reboot frees the task.',
    refs: [],
  },
];

function has(stack: string[], f: string): boolean {
  return stack.some((x) => x === f || x.startsWith(`${f}.`));
}

function matches(s: StackSignature, stack: string[]): boolean {
  return s.frames.every((f) => (typeof f === 'string' ? has(stack, f) : f.some((g) => has(stack, g))));
}

export function matchSignature(stack: string[]): StackSignature | undefined {
  return STACK_SIGNATURES.find((s) => matches(s, stack));
}

export function matchGeneric(stack: string[]): StackSignature | undefined {
  return GENERIC_SIGNATURES.find((s) => matches(s, stack));
}

/** The frames a signature requires, in words: `a + (b | c)`. */
export function framesText(s: StackSignature): string {
  return s.frames.map((f) => (typeof f === 'string' ? f : f.length === 1 ? f[0]! : `(${f.join(' | ')})`)).join(' + ');
}
