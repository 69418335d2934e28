import type { CauseModule, Ev, Finding } from '../context.ts';
import { mentions, withRoles } from '../context.ts';
import { endOf, isShimGoneV2, stoppedInOrder } from './shim-death.ts';

/** Exit statuses of an orderly end: done, or ended by the SIGTERM a stop sends (128 + 15). */
const ORDERLY = new Set([0, 143]);

/**
 * Not a kill: the container's evidence shows an orderly end — an exit 0 or 143, or its deletion,
 * before the shim went away. Said so that a user who asks about the container gets an answer,
 * and so the usual teardown lines are never taken for a crash.
 */
export const normalExit: CauseModule = {
  cause: 'normal-exit',
  assess(ctx) {
    const mine = ctx.evidence.filter((e) => mentions(e, ctx.containerId));
    const end = endOf(mine);
    if (!end) {
      const gone = mine.find(isShimGoneV2);
      if (!gone || !stoppedInOrder(mine, gone)) return undefined;
      return {
        cause: 'normal-exit',
        confidence: 0.6,
        confidenceReason: 'a stop was asked and the shim went away inside the grace period, with no SIGKILL (no exit status in the input)',
        headline: 'stopped on request: it ended within its grace period',
        explanation: 'The container was asked to stop and ended before the grace period ran out; containerd then tore it down (`shim disconnected` and the cleanup lines follow every exit).',
        remedy: 'Nothing to fix here: find who asked for the stop if it was unexpected (a deployment, a node drain, docker stop).',
        evidence: withRoles([[gone, 'the shim went away after the stop request: the usual teardown']]),
        exitOrigin: 'unknown',
      };
    }
    const code = end.exit137.exit?.code ?? ctx.exitCode;
    if (code !== undefined && !ORDERLY.has(code)) return undefined;
    const teardown = mine.find((e: Ev) => isShimGoneV2(e) && e.ns >= end.ns - 50_000_000n);
    const f: Finding = {
      cause: 'normal-exit',
      // a deletion alone says the task ended, not how: any cause with evidence outweighs it
      confidence: code !== undefined ? 0.9 : 0.4,
      confidenceReason: code !== undefined ? `the container exited with ${code}, and nothing killed it` : 'the container’s task was deleted in order before its shim went away (no exit status in the input)',
      headline: code === 143 ? 'stopped: exited on SIGTERM (143), within its grace period' : code === 0 ? 'exited normally (0)' : 'ended in order: deleted before its shim went away',
      explanation: 'Nothing killed this container: it ended and containerd tore it down. `shim disconnected`, `cleaning up after shim disconnected` and `cleaning up dead shim` follow every exit of a runtime v2 container; they are the teardown, not a crash.',
      remedy: 'Nothing to fix here; if the exit was unexpected, look at the application’s own log.',
      evidence: withRoles([
        [end, 'the container’s exit (or its deletion, which follows one)'],
        [teardown, 'the shim went away after it: the usual teardown'],
      ]),
      exitOrigin: 'unknown',
    };
    return f;
  },
};
