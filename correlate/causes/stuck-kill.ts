import type { CauseModule, Ev, Finding } from '../context.ts';
import { S, killsContainer, mentions, senderOf } from '../context.ts';
import { matchSignature } from '../health/stack-signatures.ts';

/** How long a SIGKILLed container may take to be reaped before we call the kill stuck. */
export const STUCK_AFTER_S = 30n;

/** A SIGKILL was sent but no exit followed: the container hangs while dying. */
export const stuckKill: CauseModule = {
  cause: 'stuck-kill',
  assess(ctx) {
    const kill = ctx.evidence.find((e) => killsContainer(e, ctx) || (mentions(e, ctx.containerId) && e.exit137.message_id === 'docker-api-kill'));
    if (!kill) return undefined;
    const exit = ctx.evidence.find((e) => e.ns >= kill.ns && mentions(e, ctx.containerId) && e.exit137.exit !== undefined);
    const last = ctx.evidence.at(-1)!;
    // Stuck = no exit within the threshold: either none at all (still hanging when the input ends) or a late one.
    const waited = (exit ?? last).ns - kill.ns;
    if (waited < STUCK_AFTER_S * S) return undefined;
    const hung = ctx.evidence.filter((e: Ev) => (e.exit137.kind === 'kernel-hung-task' || e.exit137.kind === 'task-stack') && e.ns >= kill.ns && (!exit || e.ns <= exit.ns));
    const sig = hung.map((h) => matchSignature(h.exit137.hung_task!.stack)).find((s) => s !== undefined);
    const seconds = Number(waited / S);
    const evidence: Finding['evidence'] = [{ event: kill, role: 'SIGKILL sent to the container' }];
    for (const h of hung.slice(0, 3)) evidence.push({ event: h, role: 'a task blocked in the kernel after the kill' });
    if (exit) evidence.push({ event: exit, role: 'the exit, once the block was released' });
    const f: Finding = {
      cause: 'stuck-kill',
      // Above a plain kill's verdict: that the kill hung is what the operator is fighting.
      confidence: sig ? 0.96 : 0.6,
      confidenceReason: sig ? `no exit for ${seconds} s after the SIGKILL, and a hung-task stack shows ${sig.id}` : `no exit within ${STUCK_AFTER_S} s of the SIGKILL`,
      headline: `SIGKILL sent but the container ${exit ? `took ${seconds} s to exit` : 'did not exit'}${sig ? `: ${sig.meaning}` : ''}`,
      explanation: 'A process killed with SIGKILL only dies when it leaves the kernel; a task blocked uninterruptibly (state D) inside a system call keeps the container alive and `docker kill` / `docker stop` hang.',
      remedy: sig?.remedy ?? 'Look at /proc/<pid>/stack of the container’s tasks in state D to see what they wait on.',
      evidence,
      exitOrigin: exit ? 'signal' : 'none',
      signal: 'SIGKILL',
    };
    if (sig) f.subCause = sig.id;
    if (kill.exit137.kind === 'audit-signal') f.killer = senderOf(kill);
    return f;
  },
};
