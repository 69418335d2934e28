import type { HungTask } from '../../ingest/event.ts';
import type { Ev } from '../context.ts';
import { evidenceItem } from '../context.ts';
import type { NodeFinding } from './finding.ts';
import { findingId, seen } from './common.ts';
import type { ContainerOf, ProcessTable } from './processes.ts';
import { isKernelThread } from './processes.ts';
import type { StackSignature } from './stack-signatures.ts';
import { framesText, matchGeneric, matchSignature } from './stack-signatures.ts';

/**
 * How sure a stack makes a finding. A signature names the wait; whether the task stays in it is
 * what a hung-task report (blocked ≥ N s), a blocked-task dump or a ps state D adds. A pasted
 * /proc stack or wchan is one look at a task that might have moved on a moment later.
 */
const CONFIDENCE = { signature: { blocked: 0.9, snapshot: 0.7 }, generic: { blocked: 0.75, snapshot: 0.55 } };
/** A task the kernel reports blocked, in no wait a signature names: it cannot be killed while it lasts, and little more is known. */
const BLOCKED_TASK_CONFIDENCE = 0.5;

type Task = NonNullable<NodeFinding['tasks']>[number];

/** The scheduler's own frames, on top of every sleeping task's stack: they say it sleeps, not on what. */
const SCHEDULER = /^(?:__)?schedule(?:_timeout|_preempt_disabled|_loop|_hrtimeout_range)?$|^io_schedule(?:_timeout)?$|^context_switch$|^preempt_schedule/;

/** The frames a stack stands for: a kernel worker's work function belongs to its stack even when the paste cut it. */
export function framesOf(h: HungTask): string[] {
  return h.workqueue && !h.stack.includes(h.workqueue.function) ? [...h.stack, h.workqueue.function] : h.stack;
}

/** The kernel's own reports are of blocked tasks only (a hung-task report, a dump's `state:D` task); a pasted stack says nothing of its state. */
function isBlocked(e: Ev, table: ProcessTable): boolean {
  const h = e.exit137.hung_task!;
  return e.exit137.kind === 'kernel-hung-task' || h.blocked_seconds !== undefined || (h.state ?? (h.pid ? table.stateOf(h.pid) : undefined) ?? '').startsWith('D');
}

function containerOf(e: Ev, table: ProcessTable): ContainerOf | undefined {
  const h = e.exit137.hung_task!;
  if (e.container?.id) return { id: e.container.id, by: 'its cgroup' };
  if (h.cgroup) return { id: h.cgroup, by: 'its cgroup' };
  if (!h.pid) return undefined;
  return table.containerOf(h.pid) ?? table.onlyContainerFor(h.pid);
}

function task(e: Ev, table: ProcessTable): Task {
  const h = e.exit137.hung_task!;
  const t: Task = { name: h.name !== '?' ? h.name : (table.procs.get(h.pid)?.command?.split(/\s+/)[0] ?? '?'), pid: h.pid, stack: h.stack };
  const state = h.state ?? table.stateOf(h.pid);
  if (state) t.state = state;
  if (h.cgroup) t.cgroup = h.cgroup;
  const c = containerOf(e, table);
  if (c) t.container = c.id;
  return t;
}

function names(tasks: Task[]): string {
  const n = [...new Set(tasks.map((t) => (t.name === '?' ? (t.pid ? `task ${t.pid}` : 'a task') : t.pid ? `${t.name}:${t.pid}` : t.name)))];
  return `${n.slice(0, 4).join(', ')}${n.length > 4 ? ` and ${n.length - 4} more` : ''}`;
}

/** The container a finding names: the one its tasks share. */
function sharedContainer(list: Ev[], table: ProcessTable): NodeFinding['container'] {
  const found = list.map((e) => containerOf(e, table)).filter((c): c is ContainerOf => c !== undefined);
  const ids = new Set(found.map((c) => c.id));
  return ids.size === 1 ? { id: found[0]!.id, by: found[0]!.by } : undefined;
}

function fromSignature(host: string, sig: StackSignature, list: Ev[], table: ProcessTable, generic: boolean, alsoBlocked: Ev[]): NodeFinding {
  const blocked = list.some((e) => isBlocked(e, table));
  const c = generic ? CONFIDENCE.generic : CONFIDENCE.signature;
  const tasks = list.map((e) => task(e, table));
  const others = alsoBlocked.map((e) => task(e, table));
  const container = sig.finding === 'stuck-kill' ? sharedContainer(list, table) : undefined;
  const missing: string[] = [];
  if (!blocked) missing.push('whether the task stays in this wait: a hung-task report, a blocked-task dump (echo w > /proc/sysrq-trigger) or its stack read twice, a few seconds apart');
  if (sig.finding === 'stuck-kill' && !container) missing.push('which container the task is in: /proc/<pid>/cgroup, or ps -ef --forest showing its shim');
  const f: NodeFinding = {
    finding_id: findingId(host, sig.id, list[0]!.event.id),
    host,
    finding: sig.finding,
    signature: sig.id,
    severity: sig.finding === 'cgroup-teardown-freeze' ? 'critical' : 'warning',
    confidence: blocked ? c.blocked : c.snapshot,
    ...seen(list[0]!, list.at(-1)!),
    headline: `${names(tasks)} ${blocked ? 'blocked' : 'waiting'}${container ? ` (container ${(container.id ?? container.name ?? '?').slice(0, 12)})` : ''}: ${generic ? `${sig.meaning}, in ${tasks[0]!.stack[0] ?? '?'}` : sig.meaning}${others.length ? `; ${others.length} more task${others.length > 1 ? 's' : ''} blocked behind it` : ''}`,
    explanation: sig.explanation,
    remedy: sig.remedy,
    tasks: [...tasks, ...others],
    evidence: [...list.slice(0, 10).map((e) => evidenceItem(e, `stack matches ${framesText(sig)}`)), ...alsoBlocked.slice(0, 5).map((e) => evidenceItem(e, 'blocked at the same time, in no wait of its own that a signature names'))],
  };
  if (container) f.container = container;
  if (missing.length) f.missing = missing;
  return f;
}

/**
 * Findings from kernel stacks of blocked or exiting tasks: hung-task reports, blocked-task dumps,
 * pasted /proc stacks, wchan, the collector's samples.
 */
export function stackFindings(host: string, evs: Ev[], table: ProcessTable): NodeFinding[] {
  const bySig = new Map<string, { sig: StackSignature; generic: boolean; list: Ev[] }>();
  const unexplained: Ev[] = [];
  for (const e of evs) {
    const h = e.exit137.hung_task;
    if (!h) continue;
    const frames = framesOf(h);
    const specific = matchSignature(frames);
    // a bare Call Trace may have been printed for a warning or an oops: only a signature's own frames read it
    const sig = specific ?? (e.event.action === 'call-trace' ? undefined : matchGeneric(frames));
    if (!sig) {
      unexplained.push(e);
      continue;
    }
    const g = bySig.get(sig.id) ?? { sig, generic: specific === undefined, list: [] };
    g.list.push(e);
    bySig.set(sig.id, g);
  }
  // Tasks the kernel reports blocked in no named wait: behind a teardown freeze in the same input
  // they are its victims (every cgroup operation waits for the mutex it holds); otherwise each is
  // a task that cannot be killed while it waits, which is all a stack-less report says.
  const blockedUnexplained = unexplained.filter((e) => {
    const h = e.exit137.hung_task!;
    return isBlocked(e, table) && !isKernelThread(h.name, h.ppid) && !h.workqueue;
  });
  const freeze = [...bySig.values()].find((g) => g.sig.finding === 'cgroup-teardown-freeze');
  const out = [...bySig.values()].map((g) => fromSignature(host, g.sig, g.list, table, g.generic, g === freeze ? blockedUnexplained : []));
  if (!freeze && blockedUnexplained.length) out.push(blockedTask(host, blockedUnexplained, table));
  return out;
}

function blockedTask(host: string, list: Ev[], table: ProcessTable): NodeFinding {
  const tasks = list.map((e) => task(e, table));
  const container = sharedContainer(list, table);
  const h = list[0]!.exit137.hung_task!;
  const waits = h.stack.filter((f) => !SCHEDULER.test(f));
  const where = waits.length ? ` in ${waits.slice(0, 3).join(' ← ')}` : '';
  const missing = ['the task\'s full stack (the hung-task report\'s Call Trace, or /proc/<pid>/stack): it names what the task waits for'];
  if (!container) missing.push('which container the task is in: /proc/<pid>/cgroup, or ps -ef --forest showing its shim');
  const f: NodeFinding = {
    finding_id: findingId(host, 'blocked-task', list[0]!.event.id),
    host,
    finding: 'stuck-kill',
    signature: 'blocked-task',
    severity: 'warning',
    confidence: BLOCKED_TASK_CONFIDENCE,
    ...seen(list[0]!, list.at(-1)!),
    headline: `${names(tasks)} blocked in state D${h.blocked_seconds !== undefined ? ` for more than ${h.blocked_seconds} s` : ''}${where}${container ? ` (container ${(container.id ?? container.name ?? '?').slice(0, 12)})` : ''}: a kill cannot end it while it waits`,
    explanation:
      'A task in uninterruptible sleep (state D) does not act on signals, SIGKILL included, until the kernel call it waits in returns. Stopping its container sends the signal and then waits for an exit that cannot come: the stop hangs, the container stays in its state, and a restart of the engine does not help. What the task waits for is in its stack.',
    remedy: 'Read its stack (cat /proc/<pid>/stack, or echo w > /proc/sysrq-trigger and dmesg) and release what it waits on (storage that stopped answering, a FUSE or network file system, a device); if that never returns, only a reboot frees it.',
    tasks,
    missing,
    evidence: list.slice(0, 10).map((e) => evidenceItem(e, 'the kernel reports the task blocked')),
  };
  if (container) f.container = container;
  return f;
}
