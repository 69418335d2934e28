import type { Source } from '../event.ts';
import { cgroupContainer } from '../ids.ts';
import type { Draft, LineReader } from './draft.ts';

/**
 * The errors a memory cgroup leak causes where cgroups are made: runc (through the engine), the
 * kubelet, or a shell's mkdir, refused a new memory cgroup.
 *
 * - ENOSPC (`no space left on device`): the memory controller ran out of cgroup ids. It has 65,535,
 *   and a removed memory cgroup keeps its id until the kernel frees it, so the ids run out while
 *   few directories exist: the leak (or, more rarely, 65,535 directories left behind).
 * - ENOMEM (`cannot allocate memory`) on a node with free memory: on 3.10 kernels with kmem
 *   accounting, a memory cgroup whose slab caches were never destroyed is never released, and
 *   creating one more fails this way.
 *
 * Only mkdir of a memory cgroup (v1 `/sys/fs/cgroup/memory/…`, or a v2 path, where the memory
 * controller is in every cgroup) is read: the same errno from another controller says nothing of
 * memory cgroups.
 */

export type CgroupCreateError = {
  errno: 'ENOSPC' | 'ENOMEM';
  /** The cgroup that could not be made. */
  path: string;
  /** Who reported it, by its wording. */
  by?: 'kubelet' | 'runc' | 'mkdir';
};

const V1_OTHER = /^\/sys\/fs\/cgroup\/(?:cpu|cpuacct|cpu,cpuacct|cpuset|blkio|devices|freezer|net_cls|net_prio|net_cls,net_prio|perf_event|hugetlb|pids|rdma|systemd|unified|misc)(?:\/|$)/;
/** `mkdir /sys/fs/cgroup/memory/…: no space left on device` (Go's *PathError), the errno text possibly cut by the paste. */
const GO_MKDIR = /mkdir (\/sys\/fs\/cgroup\/[^\s:"'\\]+): (no space left(?: on dev\w*)?|cannot allocate memory)/i;
/** coreutils: `mkdir: cannot create directory '/sys/fs/cgroup/memory/test': No space left on device` (any quotes). */
const SHELL_MKDIR = /mkdir: cannot create directory [‘'"`]?(\/sys\/fs\/cgroup\/[^’'"`\s]+)[’'"`]?: (no space left(?: on dev\w*)?|cannot allocate memory)/i;

/** The memory cgroup creation error a line states, if any. Total: never throws. */
export function cgroupCreateError(text: string): CgroupCreateError | undefined {
  if (!text.includes('/sys/fs/cgroup/')) return undefined;
  const shell = SHELL_MKDIR.exec(text);
  const m = shell ?? GO_MKDIR.exec(text);
  if (!m) return undefined;
  const path = m[1]!.replace(/\/+$/, '');
  if (V1_OTHER.test(path)) return undefined;
  const out: CgroupCreateError = { errno: /^no space/i.test(m[2]!) ? 'ENOSPC' : 'ENOMEM', path };
  if (shell) out.by = 'mkdir';
  else if (/\bkubelet\b|pod_workers|unable to ensure pod container|failed to create container for \[kubepods/i.test(text)) out.by = 'kubelet';
  else if (/\bOCI runtime|oci runtime error|process_linux\.go|container_linux\.go|\brunc\b|applying cgroup configuration/i.test(text)) out.by = 'runc';
  return out;
}

const SOURCE: Record<NonNullable<CgroupCreateError['by']>, Source | undefined> = { kubelet: 'kubelet', runc: 'dockerd', mkdir: undefined };

export function cgroupErrorDraft(e: CgroupCreateError): Draft {
  const why = e.errno === 'ENOSPC' ? 'no space left on device: the memory cgroup ids (65,535) are used up' : 'cannot allocate memory';
  const d: Draft = {
    kind: 'memcg-sample',
    action: e.errno === 'ENOSPC' ? 'memcg-mkdir-enospc' : 'memcg-mkdir-enomem',
    type: 'info',
    level: 'error',
    message: `a memory cgroup could not be created (${e.path}): ${why}`,
    memcg: { hierarchy: e.path.startsWith('/sys/fs/cgroup/memory') ? 'v1' : 'v2', failure: { kind: e.errno === 'ENOSPC' ? 'mkdir-enospc' : 'mkdir-enomem', cgroup: e.path, ...(e.by ? { by: e.by } : {}) } },
  };
  const source = e.by ? SOURCE[e.by] : undefined;
  if (source) d.source = source;
  // the container (or pod) that could not start: named in the cgroup's path
  const id = cgroupContainer(e.path);
  if (id) d.container = { id };
  const pod = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(e.path);
  if (pod) d.orchestrator = { resource: { type: 'pod', id: pod[1]!.replace(/_/g, '-') } };
  return d;
}

export const cgroupCreateErrors: LineReader = {
  name: 'cgroup-create-error',
  detect: (t) => t.includes('/sys/fs/cgroup/') && cgroupCreateError(t) !== undefined,
  read(t) {
    const e = cgroupCreateError(t);
    return e ? { ok: true, drafts: [cgroupErrorDraft(e)] } : { ok: true, drafts: [] };
  },
};
