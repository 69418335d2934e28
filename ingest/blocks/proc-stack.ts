import type { HungTask } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';
import { STACK_FRAME } from './hung-task.ts';

const PROC_FRAME = /^\[<[0-9a-f]+>\] [A-Za-z_.][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/;
/** The old kernels' end of a stack, with the address shown or hidden (`[<0>] 0xffffffffffffffff`). */
const TERMINATOR = /^\[<[0-9a-f]+>\] 0xf{16}$/;
/** The command that printed it, after the shell's prompt: its pid is the task's (`$ cat /proc/6601/task/N/stack`). */
const COMMAND = /^(?:\S*[#$] ?)?cat \/proc\/(\d+)(?:\/task\/[^/\s]+)?\/stack\s*$/;

type State = { frames: number };

/** A `cat /proc/PID/stack` dump pasted into a log or a ticket: frames only, or after the command that printed them. */
export const procStack: BlockKind<HungTask, State> = {
  name: 'task-stack',
  starts: (t) => PROC_FRAME.test(t) || COMMAND.test(t),
  init: (first) => ({ frames: PROC_FRAME.test(first) ? 1 : 0 }),
  accepts(t, s) {
    if (PROC_FRAME.test(t)) {
      s.frames++;
      return 'yes';
    }
    if (TERMINATOR.test(t)) return s.frames > 0 ? 'end' : 'no';
    // `cat /proc/N/stack` that printed nothing (a zombie), then the same for its threads
    return s.frames === 0 && COMMAND.test(t) ? 'yes' : 'no';
  },
  finish(lines, complete) {
    const stack: string[] = [];
    let pid = 0;
    for (const l of lines) {
      const c = COMMAND.exec(l);
      if (c) pid = Number(c[1]);
      const f = STACK_FRAME.exec(l);
      if (f) stack.push(f[1]!);
    }
    return { name: '?', pid, stack, complete };
  },
  drafts(h): Draft[] {
    // a command that printed no frame is a command, kept as the line it was
    if (h.stack.length === 0) return [{ kind: 'log', source: 'proc', action: 'log-line', message: `cat /proc/${h.pid}/stack (no frames pasted)` }];
    const d: Draft = { kind: 'task-stack', source: 'proc', action: 'task-stack', type: 'info', hung_task: h, message: `${h.pid ? `task ${h.pid}` : "a task"}'s kernel stack: ${h.stack.slice(0, 4).join(' ← ')}` };
    if (h.pid) d.process = { pid: h.pid };
    return [d];
  },
};
