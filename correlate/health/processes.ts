import { isShim, shimContainerId } from '../../ingest/readers/ps-tree.ts';
import type { Ev } from '../context.ts';

/**
 * A node's processes as one input shows them, merged by pid across what it holds: a `ps -O s`
 * gives the state, `docker top` the parent, a `ps auxf` the shim above, systemd-cgls the scope.
 * Each fact is kept from where it was read; the container of a pid is said with how it is known.
 */
export type Proc = { pid: number; ppid?: number; state?: string; command?: string; container?: string; events: Ev[] };

export type ContainerOf = { id: string; by: string };

export class ProcessTable {
  readonly procs = new Map<number, Proc>();
  /** Containers named by a shim's argv or a cgroup scope anywhere in the input. */
  readonly containers = new Set<string>();

  constructor(events: Ev[]) {
    for (const e of events) {
      const list = e.exit137.processes;
      if (!list) continue;
      const treeContainer = e.container?.id;
      if (treeContainer) this.containers.add(treeContainer);
      for (const n of list) {
        const p = this.procs.get(n.pid) ?? { pid: n.pid, events: [] };
        if (n.ppid !== undefined) p.ppid ??= n.ppid;
        if (n.state !== undefined) p.state ??= n.state;
        if (n.command) p.command ??= n.command;
        // a tree named by a shim or a scope: its processes are the container's (the shim's own too)
        if (treeContainer) p.container ??= treeContainer;
        if (!p.events.includes(e)) p.events.push(e);
        this.procs.set(n.pid, p);
      }
    }
  }

  /** The container a pid runs in: its own tree's, or a shim's up its parent chain. */
  containerOf(pid: number): ContainerOf | undefined {
    const seen = new Set<number>();
    let p = this.procs.get(pid);
    while (p && !seen.has(p.pid)) {
      seen.add(p.pid);
      if (p.container) return { id: p.container, by: p.pid === pid ? 'the process tree it is listed in' : `its parent chain up to ${p.pid}` };
      if (p.command && isShim(p.command)) {
        const id = shimContainerId(p.command);
        if (id) return { id, by: `the shim ${p.pid} above it` };
      }
      p = p.ppid !== undefined ? this.procs.get(p.ppid) : undefined;
    }
    return undefined;
  }

  /**
   * A pid the input lists without a parent, when the input names exactly one container: the poster
   * pasted the stuck process and that container's shim. Said as such, never as a tie the lines make.
   */
  onlyContainerFor(pid: number): ContainerOf | undefined {
    if (this.containers.size !== 1 || !this.procs.has(pid)) return undefined;
    return { id: [...this.containers][0]!, by: 'the only container the input names (no parent chain ties them)' };
  }

  stateOf(pid: number): string | undefined {
    return this.procs.get(pid)?.state;
  }
}

/** A kernel thread (kworker, jbd2, …): never a container's task. */
export function isKernelThread(name: string, ppid: number | undefined): boolean {
  if (ppid === 2 || ppid === 0) return true;
  return /^\[?(?:kworker|kthreadd|ksoftirqd|kswapd|khugepaged|kcompactd|jbd2|xfsaild|xfs-|migration|rcu_|watchdog|kblockd|md\d|dm[-_]|loop\d|scsi_|flush-|writeback|kauditd|khungtaskd|oom_reaper|ext4-|nfsd|nfsiod|rpciod|kdmflush|bioset|z_|txg_|spl_|arc_|kthrotld|kintegrityd|edac-|ipv6_addrconf|cpuhp|idle_inject|irq\/)/.test(name);
}
