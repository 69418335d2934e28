import type { BlockKind } from '../blocks/block.ts';
import type { HungTask } from '../event.ts';
import type { Draft } from './draft.ts';
import { bare, typed } from './terminal.ts';

/**
 * `cat /proc/<pid>/wchan` and the symbol it printed: the kernel function a sleeping task waits in,
 * what people read when /proc/<pid>/stack needs root or the stack is empty. A one-frame stack, so
 * a signature of one frame (an init in zap_pid_ns_processes) can still be told.
 */

const COMMAND = /^cat\s+\/proc\/(\d+)(?:\/task\/(\d+))?\/wchan\b/;
const SYMBOL = /^\s*([A-Za-z_][\w.]*)\s*$/;

export type Wchan = { pid: number; symbol?: string };

export const procWchan: BlockKind<Wchan, Record<string, never>> = {
  name: 'task-wchan',
  starts: (t) => t.includes('/wchan') && COMMAND.test(typed(t)),
  init: () => ({}),
  // the symbol is the next line, and ends it (`0` or nothing: the task was running)
  accepts: (t) => (SYMBOL.test(bare(t)) ? 'end' : 'no'),
  finish(lines) {
    const c = COMMAND.exec(typed(lines[0] ?? ''));
    const out: Wchan = { pid: Number(c?.[2] ?? c?.[1] ?? 0) };
    const s = SYMBOL.exec(bare(lines[1] ?? ''));
    if (s) out.symbol = s[1]!;
    return out;
  },
  drafts(w): Draft[] {
    if (!w.symbol) return [{ kind: 'log', source: 'proc', action: 'log-line', message: `cat /proc/${w.pid}/wchan (nothing pasted)` }];
    const h: HungTask = { name: '?', pid: w.pid, stack: [w.symbol], complete: false };
    return [{ kind: 'task-stack', source: 'proc', action: 'task-wchan', type: 'info', hung_task: h, process: { pid: w.pid }, message: `task ${w.pid} sleeps in ${w.symbol}` }];
  },
};
