import type { HungTask } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';
import { STACK_FRAME } from './hung-task.ts';

const PROC_FRAME = /^\[<[0-9a-f]+>\] [A-Za-z_.][\w.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/;

/** A `cat /proc/PID/stack` dump pasted into a log or a ticket: frames only, no header. */
export const procStack: BlockKind<HungTask, Record<string, never>> = {
  name: 'task-stack',
  starts: (t) => PROC_FRAME.test(t),
  init: () => ({}),
  accepts: (t) => (PROC_FRAME.test(t) || /^\[<f{16}>\] 0xf{16}$/.test(t) ? 'yes' : 'no'),
  finish(lines, complete) {
    const stack: string[] = [];
    for (const l of lines) {
      const f = STACK_FRAME.exec(l);
      if (f) stack.push(f[1]!);
    }
    return { name: '?', pid: 0, stack, complete };
  },
  drafts(h): Draft[] {
    return [{ kind: 'task-stack', source: 'proc', action: 'task-stack', type: 'info', hung_task: h, message: `a task's kernel stack: ${h.stack.slice(0, 4).join(' ← ')}` }];
  },
};
