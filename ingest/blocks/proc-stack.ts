import type { HungTask } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';
import { bare } from '../readers/terminal.ts';
import { STACK_FRAME, UNRELIABLE } from './hung-task.ts';

const PROC_FRAME = /^\[<[0-9a-f]+>\] [A-Za-z_.][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/;
/** The old kernels' end of a stack, with the address shown or hidden (`[<0>] 0xffffffffffffffff`). */
const TERMINATOR = /^\[<[0-9a-f]+>\] 0xf{16}$/;
/** The command that printed it, after the shell's prompt: its pid is the task's (`$ cat /proc/6601/task/N/stack`). */
const COMMAND = /^(?:\S*[#$] ?)?cat \/proc\/(\d+)(?:\/task\/[^/\s]+)?\/stack\s*$/;
/**
 * A kernel `Call Trace:` whose report was cut away (or quoted alone, as commit messages and mails
 * do): the frames still name the wait. Nothing says why it was printed (a hang, a warning, an
 * oops), so its event is a `call-trace`, which only a signature's own frames make a finding of.
 */
const CALL_TRACE = /^\s*Call Trace:\s*$/;
/** What a trace holds besides frames: `<TASK>` markers, unreliable `? ` frames, the registers after it. */
const TRACE_LINE = [/^\s*<\/?(?:TASK|IRQ)>$/, UNRELIABLE, /^(RIP|RSP|RAX|RBX|RCX|RDX|RSI|RDI|RBP|R\d\d|Code|EFLAGS):/];

type State = { frames: number; trace: boolean };
/** The stack, and whether it was a bare `Call Trace:` (no task, no reason it was printed). */
export type ProcStack = HungTask & { trace?: boolean };

/** A `cat /proc/PID/stack` dump pasted into a log or a ticket: frames only, or after the command that printed them; or a bare `Call Trace:`. */
export const procStack: BlockKind<ProcStack, State> = {
  name: 'task-stack',
  starts: (raw) => {
    const t = bare(raw);
    return PROC_FRAME.test(t) || COMMAND.test(t) || CALL_TRACE.test(t);
  },
  init: (raw) => {
    const first = bare(raw);
    return { frames: PROC_FRAME.test(first) ? 1 : 0, trace: CALL_TRACE.test(first) };
  },
  accepts(raw, s) {
    const t = bare(raw);
    if (s.trace) {
      if (/^\s*<\/TASK>$/.test(t)) return 'end';
      if (STACK_FRAME.test(t)) {
        s.frames++;
        return 'yes';
      }
      return TRACE_LINE.some((re) => re.test(t)) ? 'yes' : 'no';
    }
    if (PROC_FRAME.test(t)) {
      s.frames++;
      return 'yes';
    }
    if (TERMINATOR.test(t)) return s.frames > 0 ? 'end' : 'no';
    // `cat /proc/N/stack` that printed nothing (a zombie), then the same for its threads
    return s.frames === 0 && COMMAND.test(t) ? 'yes' : 'no';
  },
  finish(raw, complete) {
    const stack: string[] = [];
    let pid = 0;
    for (const l of raw.map(bare)) {
      const c = COMMAND.exec(l);
      if (c) pid = Number(c[1]);
      const f = STACK_FRAME.exec(l);
      if (f && !UNRELIABLE.test(l)) stack.push(f[1]!);
    }
    const out: ProcStack = { name: '?', pid, stack, complete };
    if (pid === 0 && raw.some((l) => CALL_TRACE.test(bare(l)))) out.trace = true;
    return out;
  },
  drafts(r): Draft[] {
    const { trace, ...h } = r;
    // a command that printed no frame is a command, kept as the line it was
    if (h.stack.length === 0) return [{ kind: 'log', source: 'proc', action: 'log-line', message: h.pid ? `cat /proc/${h.pid}/stack (no frames pasted)` : 'Call Trace: (no frames)' }];
    const d: Draft = { kind: 'task-stack', source: 'proc', action: trace ? 'call-trace' : 'task-stack', type: 'info', hung_task: h, message: `${h.pid ? `task ${h.pid}` : 'a task'}'s kernel stack: ${h.stack.slice(0, 4).join(' ← ')}` };
    if (h.pid) d.process = { pid: h.pid };
    return [d];
  },
};
