import type { Ev } from '../context.ts';
import { evidenceItem } from '../context.ts';
import type { NodeFinding } from './finding.ts';
import { findingId, seen } from './common.ts';
import type { Proc, ProcessTable } from './processes.ts';
import { isKernelThread } from './processes.ts';

/**
 * A snapshot of a container's processes with a task in state D. D alone may be a moment of disk
 * I/O; beside a container that is dying (its init exited or exiting: a `[bracketed]` name, state
 * Z; its tasks zombies waiting to be reaped) it is the task that keeps the container from dying,
 * and the kill that should end it does nothing.
 */
const CONFIDENCE = { dying: 0.6, alone: 0.4 };

const isD = (p: Proc) => p.state?.startsWith('D') ?? false;
const isZ = (p: Proc) => (p.state?.startsWith('Z') ?? false) || /<defunct>\s*$/.test(p.command ?? '');
/** ps shows a process without its argv in brackets: a kernel thread, or a process already exiting (its memory gone). */
const bracketed = (p: Proc) => /^\[[^\]]+\](?:\s*<defunct>)?\s*$/.test(p.command ?? '');

function name(p: Proc): string {
  const c = (p.command ?? '?').replace(/\s*<defunct>\s*$/, '').replace(/^\[|\]$/g, '');
  return c.split(/\s+/)[0]!.replace(/^.*\//, '') || '?';
}

/** D tasks the process trees show, by container (or by parent when no container is known), that no stack finding already covers. */
export function processFindings(host: string, table: ProcessTable, covered: Set<number>): NodeFinding[] {
  const groups = new Map<string, { container?: { id: string; by: string }; blocked: Proc[] }>();
  for (const p of table.procs.values()) {
    if (!isD(p) || covered.has(p.pid)) continue;
    if (bracketed(p) && isKernelThread(name(p), p.ppid)) continue;
    const c = table.containerOf(p.pid);
    const key = c ? `c:${c.id}` : `p:${p.ppid ?? '?'}`;
    const g = groups.get(key) ?? { blocked: [], ...(c ? { container: c } : {}) };
    g.blocked.push(p);
    groups.set(key, g);
  }
  const out: NodeFinding[] = [];
  for (const g of groups.values()) {
    const peers = [...table.procs.values()].filter((p) => (g.container ? table.containerOf(p.pid)?.id === g.container.id : p.ppid !== undefined && p.ppid === g.blocked[0]!.ppid) || g.blocked.some((b) => b.ppid === p.pid));
    const zombies = peers.filter(isZ);
    const exitingInit = peers.filter((p) => !isD(p) && bracketed(p) && !isZ(p));
    const dying = zombies.length > 0 || exitingInit.length > 0 || g.blocked.some(bracketed);
    // a D task with no container and nothing dying beside it is a process waiting on I/O, not a kill
    if (!g.container && !dying) continue;
    const evs = [...new Set(g.blocked.flatMap((p) => p.events))];
    const signs = [
      zombies.length ? `${zombies.length} zombie${zombies.length > 1 ? 's' : ''} (${zombies.slice(0, 3).map(name).join(', ')})` : '',
      exitingInit.length ? `${exitingInit.map((p) => `[${name(p)}]`).join(', ')} exiting` : '',
    ].filter(Boolean);
    const tasks = g.blocked.map((p) => {
      const t: NonNullable<NodeFinding['tasks']>[number] = { name: name(p), pid: p.pid, stack: [] };
      if (p.state) t.state = p.state;
      if (g.container) t.container = g.container.id;
      return t;
    });
    const f: NodeFinding = {
      finding_id: findingId(host, 'blocked-in-container', String(g.blocked[0]!.pid), evs[0]!.event.id),
      host,
      finding: 'stuck-kill',
      signature: 'blocked-in-container',
      severity: 'warning',
      confidence: dying ? CONFIDENCE.dying : CONFIDENCE.alone,
      ...seen(evs[0]! as Ev, evs.at(-1)! as Ev),
      headline: `${tasks.map((t) => `${t.name}:${t.pid} (${t.state})`).slice(0, 4).join(', ')} in state D${g.container ? ` in container ${g.container.id.slice(0, 12)}` : ''}${signs.length ? `, beside ${signs.join(' and ')}` : ''}: ${dying ? 'the container is dying and these tasks cannot' : 'a kill cannot end them while they wait'}`,
      explanation:
        'A task in state D waits inside the kernel and does not act on signals, SIGKILL included, until that wait returns. ' +
        (dying
          ? 'Here the container is already being torn down (its init gone or exiting, its other tasks zombies): the kernel is waiting for these tasks to exit before the container’s pid namespace can die, so `docker stop`/`kill` hang and the shim stays.'
          : 'A process listing is one moment: a task briefly in D (disk I/O) is normal; one that stays in D keeps its container from stopping.'),
      remedy: 'Read what they wait on: cat /proc/<pid>/stack (or wchan) for each task in D, twice a few seconds apart; release it (storage or a network file system that stopped answering, a FUSE daemon, a device). If it never returns, only a reboot frees the tasks.',
      tasks,
      missing: ['the stack of each task in D (cat /proc/<pid>/stack): it names the wait, and a second look shows whether it lasts'],
      evidence: evs.slice(0, 10).map((e) => evidenceItem(e as Ev, 'a process listing with the task in state D')),
    };
    if (g.container) f.container = g.container;
    out.push(f);
  }
  return out;
}
