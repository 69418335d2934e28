import type { BlockKind } from '../blocks/block.ts';
import { goCrash } from '../blocks/go-crash.ts';
import { hungTask } from '../blocks/hung-task.ts';
import { kernelOom } from '../blocks/kernel-oom.ts';
import { procStack } from '../blocks/proc-stack.ts';
import { cliCommand } from './cli-command.ts';
import type { LineReader } from './draft.ts';

/**
 * The shapes people paste, as tables. A new shape is one reader module in this folder (detect +
 * read, total, with its real examples under test/fixtures/field/shapes/) and one entry here; the
 * decoder only dispatches.
 */

/** Single-line shapes, tried in order on a line that no envelope payload (audit, logfmt, klog) took. */
export const LINE_READERS: LineReader[] = [cliCommand];

/**
 * Multi-line shapes of text that no known program wrote (a pasted report, a CLI's output):
 * tried in order on each line that opens nothing yet.
 */
export const PASTE_BLOCKS: BlockKind<unknown, unknown>[] = [goCrash, kernelOom, hungTask, procStack] as BlockKind<unknown, unknown>[];

/** Reports a kernel writes (in kmsg, dmesg or a journal's kernel lines). */
export const KERNEL_BLOCKS: BlockKind<unknown, unknown>[] = [kernelOom, hungTask] as BlockKind<unknown, unknown>[];

/** Reports a daemon writes into its own log (a crash dump on its stderr). */
export const PROGRAM_BLOCKS: BlockKind<unknown, unknown>[] = [goCrash] as BlockKind<unknown, unknown>[];
