import type { HungTask } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';
import { bare } from '../readers/terminal.ts';

/**
 * `INFO: task X:PID blocked for more than N seconds.` A terminal pane may pad the line and end it
 * with its own marks (tmux's `[215/9091]`); a mail or a narrow console wraps it before `seconds.`
 */
const HEADER = /^INFO: task (.+):(\d+) blocked for more than (\d+)(?: seconds\.(?:\s.*)?)?\s*$/;
/**
 * A blocked task in a SysRq dump (`echo w > /proc/sysrq-trigger`, 5.x+ wording): what an SRE
 * takes from a frozen node, and the only record when the hung-task detector is off or has used up
 * its warnings. Only D (uninterruptible) tasks: a full `t` dump lists every sleeping task too.
 */
const SYSRQ_TASK = /^task:(.+?)\s+state:D\s+stack:\s*\d+\s+pid:\s*(\d+)/;
/**
 * The same before 5.x (`echo w` on 3.x/4.x): `comm  D [pc] stack pid ppid flags`, after the
 * `SysRq : Show Blocked State` banner and its `task PC stack pid father` header.
 */
const OLD_TASK = /^(\S(?:.*\S)?)\s+D\s+(?:[0-9a-f]{8,16}\s+)?\d+\s+(\d+)\s+(\d+)\s+0x[0-9a-f]+$/;
/** The task line of a report, its flags wrapped to the next line by the paste (only with the pc, which makes it unambiguous). */
const WRAPPED_TASK = /^(\S(?:.*\S)?)\s+D\s+[0-9a-f]{8,16}\s+\d+\s+(\d+)\s+(\d+)\s*$/;
/** The task line's numbers inside a hung-task report: `kworker/6:4     D    0 23468      2 0x80000000`. */
const REPORT_TASK = /^.+\s+D\s+(?:[0-9a-f]+\s+)?\d+\s+(\d+)\s+(\d+)(?:\s+0x[0-9a-f]+)?\s*$/;
const PPID = /\bppid:\s*(\d+)/;
const WORKQUEUE = /^Workqueue: (\S+) ([A-Za-z_][\w.]*)/;
/**
 * A stack frame as the kernel prints it: `[<ffffffff856c828e>] wait_rcu_gp+0x5e/0x80`,
 * ` ? fuse_flush+0x16f/0x1b0`, `[<0>] do_wait+0x156/0x2f0`, `fuse_flush+0x16f/0x1b0 [fuse]`, and as
 * decode_stacktrace.sh leaves it (syzbot, lkml): `schedule+0xe7/0x3a0 kernel/sched/core.c:7008`,
 * with inlined callers as frames of their own: `context_switch kernel/sched/core.c:5298 [inline]`.
 */
export const STACK_FRAME = /^\s*(?:\[<[0-9a-f]+>\]\s*)?(?:\? )?([A-Za-z_.][\w.]*)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+(?: \[[\w]+\])?(?: [\w./-]+:\d+(?: \[inline\])?)?| [\w./-]+:\d+ \[inline\])\s*$/;
/** `? func+0x…` (after the address, if any): a stale word on the stack, not a caller. */
export const UNRELIABLE = /^\s*(?:\[<[0-9a-f]+>\]\s*)?\? /;
const CONTINUATION = [
  /^\s*(Not tainted|Tainted:)/,
  /^"echo 0 > \/proc\/sys\/kernel\/hung_task_timeout_secs" disables/,
  /^.+\s+D\s+(?:[0-9a-f]+\s+)?\d+\s+\d+\s+\d+(?:\s+0x[0-9a-f]+)?$/,
  /^Call Trace:$/,
  /^Workqueue: \S+ \S+/,
  /^\s*<\/?(?:TASK|IRQ)>$/,
  // the 6.x task line's second half, on a line of its own
  /^\s*task_flags:0x[0-9a-f]+/,
  /^(RIP|RSP|RAX|RBX|RCX|RDX|RSI|RDI|RBP|R\d\d|Code|EFLAGS):/,
  /^\s*Blocked by /,
  /^\s*\[<ffffffffffffffff>\] 0xffffffffffffffff$/,
  /^\s*\? /,
  // the raw stack words 3.x prints before the trace
  /^\s*(?:[0-9a-f]{8}|[0-9a-f]{16})(?:\s+(?:[0-9a-f]{8}|[0-9a-f]{16})){0,7}\s*$/,
  // a frame whose function the paste wrapped to the next line: its address alone
  /^\s*\[<[0-9a-f]+>\]\s*$/,
];

/** Whether the report already has its `task:` line: a second one is the next task of a dump. */
type State = { taskLine: boolean };
const TASK_LINE = /^task:.+ state:\S+ stack:\s*\d+\s+pid:\s*\d+/;

/**
 * The kernel's hung-task report (`INFO: task X:PID blocked for more than N seconds.` and its
 * stack), or one blocked task of a SysRq dump (`task:X state:D … pid:N` and its stack). Lines
 * quoted by a mail or a markdown reply (`| `, `> `) are read without their quote marks.
 */
export const hungTask: BlockKind<HungTask, State> = {
  name: 'kernel-hung-task',
  starts: (raw) => {
    const t = bare(raw);
    return HEADER.test(t) || SYSRQ_TASK.test(t) || OLD_TASK.test(t);
  },
  init: (raw) => {
    const first = bare(raw);
    return { taskLine: TASK_LINE.test(first) || OLD_TASK.test(first) };
  },
  accepts(raw, s) {
    const t = bare(raw);
    if (HEADER.test(t)) return 'no';
    // the next task of an old dump; in a hung-task report the same line is the task's own
    if (OLD_TASK.test(t) || WRAPPED_TASK.test(t)) {
      if (s.taskLine) return 'no';
      s.taskLine = true;
      return 'yes';
    }
    if (TASK_LINE.test(t)) {
      if (s.taskLine) return 'no';
      s.taskLine = true;
      return 'yes';
    }
    if (/^\s*<\/TASK>$/.test(t)) return 'end';
    if (STACK_FRAME.test(t) || CONTINUATION.some((re) => re.test(t))) return 'yes';
    return 'no';
  },
  finish(raw, complete) {
    const lines = raw.map(bare);
    const h = HEADER.exec(lines[0] ?? '');
    const d = h ? undefined : (SYSRQ_TASK.exec(lines[0] ?? '') ?? OLD_TASK.exec(lines[0] ?? ''));
    const out: HungTask = { name: h?.[1] ?? d?.[1] ?? '?', pid: Number(h?.[2] ?? d?.[2] ?? 0), stack: [], complete };
    if (h) out.blocked_seconds = Number(h[3]);
    // a dump lists D tasks only: its first line says the state
    if (d) out.state = 'D';
    for (const t of lines) {
      const st = /state:(\S+)/.exec(t) ?? /^.+\s+(D)\s+/.exec(t);
      if (st && !out.state && !STACK_FRAME.test(t)) out.state = st[1]!;
      if (out.ppid === undefined) {
        const p = PPID.exec(t) ?? (STACK_FRAME.test(t) ? null : REPORT_TASK.exec(t));
        if (p) out.ppid = Number(p[p.length - 1]);
      }
      const w = WORKQUEUE.exec(t);
      if (w && !out.workqueue) out.workqueue = { queue: w[1]!, function: w[2]! };
      const f = STACK_FRAME.exec(t);
      if (f && !UNRELIABLE.test(t)) out.stack.push(f[1]!);
    }
    return out;
  },
  drafts(h): Draft[] {
    const blocked = h.blocked_seconds !== undefined ? `blocked for more than ${h.blocked_seconds} s` : 'in D state (blocked-task dump)';
    const where = h.stack.length ? ` in ${h.stack.slice(0, 3).join(' ← ')}` : h.workqueue ? ` running ${h.workqueue.function}` : '';
    return [{ kind: 'kernel-hung-task', source: 'kernel', action: 'hung-task', type: 'info', hung_task: h, process: { pid: h.pid, name: h.name }, message: `task ${h.name}:${h.pid} ${blocked}${where}` }];
  },
};
