import type { BlockKind } from '../blocks/block.ts';
import { goCrash } from '../blocks/go-crash.ts';
import { hungTask } from '../blocks/hung-task.ts';
import { kernelOom } from '../blocks/kernel-oom.ts';
import { procStack } from '../blocks/proc-stack.ts';
import { cliCommand } from './cli-command.ts';
import { goMapState } from './go-map-state.ts';
import { kubectlGetPods } from './kubectl-get-pods.ts';
import { containerdEventDump } from './containerd-event-dump.ts';
import { crictlPsRow } from './crictl-ps.ts';
import { ctrTaskRow } from './ctr-tasks.ts';
import { dockerCliError } from './docker-cli-error.ts';
import { dockerEventsText, isDockerEventText } from './docker-events-text.ts';
import { documents } from './documents.ts';
import { dockerPsRow } from './docker-ps.ts';
import type { LineReader } from './draft.ts';
import { cgroupCount } from './cgroup-count.ts';
import { cgroupCreateErrors } from './cgroup-errors.ts';
import { procCgroups } from './proc-cgroups.ts';
import { procWchan } from './proc-wchan.ts';
import { psTree } from './ps-tree.ts';
import { slubFailure } from './slub-failure.ts';
import { systemdCgls } from './systemd-cgls.ts';
import { systemdUnit } from './systemd.ts';
import { isStampLedRow, kubeEventRow } from './kube-events.ts';
import { kubectlDescribe } from './kubectl-describe.ts';

/**
 * The shapes people paste, as tables. A new shape is one reader module in this folder (detect +
 * read, total, with its real examples under test/fixtures/field/shapes/) and one entry here; the
 * decoder only dispatches.
 */

/**
 * Single-line shapes, tried in order on a line that no envelope payload (audit, logfmt, klog) took;
 * the most specific first (a get-pods row's READY n/m column before an events row's free columns).
 */
export const LINE_READERS: LineReader[] = [kubectlGetPods, cgroupCreateErrors, dockerCliError, dockerPsRow, crictlPsRow, ctrTaskRow, containerdEventDump, kubeEventRow, cliCommand, systemdUnit];

/**
 * Multi-line shapes of text that no known program wrote (a pasted report, a CLI's output):
 * tried in order on each line that opens nothing yet.
 */
export const PASTE_BLOCKS: BlockKind<unknown, unknown>[] = [goMapState, goCrash, kernelOom, hungTask, procStack, procCgroups, cgroupCount, procWchan, psTree, systemdCgls, slubFailure, dockerEventsText, kubectlDescribe, documents] as BlockKind<unknown, unknown>[];

/**
 * Paste lines that begin with their own time (a `docker events` line, a timed events row), which
 * the syslog and kmsg envelopes would take for theirs, reading the next word as a host: sniffed
 * as unframed text, so that their reader sees them whole.
 */
export function isStampLedPaste(line: string): boolean {
  return isDockerEventText(line) || isStampLedRow(line);
}

/** Reports a kernel writes (in kmsg, dmesg or a journal's kernel lines). */
export const KERNEL_BLOCKS: BlockKind<unknown, unknown>[] = [kernelOom, hungTask, slubFailure, procStack] as BlockKind<unknown, unknown>[];

/** Reports a daemon writes into its own log (a crash dump on its stderr). */
export const PROGRAM_BLOCKS: BlockKind<unknown, unknown>[] = [goCrash] as BlockKind<unknown, unknown>[];
