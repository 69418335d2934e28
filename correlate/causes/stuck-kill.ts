import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { S, killsContainer, mentions, senderOf } from '../context.ts';
import { matchSignature } from '../health/stack-signatures.ts';

/** How long a SIGKILLed container may take to be reaped before we call the kill stuck. */
export const STUCK_AFTER_S = 30n;

/**
 * The engine's own words that a kill did not end the container: dockerd falls back to a direct
 * SIGKILL, gives up waiting for the exit event, or the kubelet's kill runs past its deadline.
 */
export function saysKillStuck(e: Ev): boolean {
  const id = e.exit137.message_id;
  if (id === 'docker-kill-fallback' || id === 'docker-kill-no-exit-event' || id === 'runtime-signal-denied') return true;
  if (id !== 'kubelet-kill-deadline' && id !== 'cri-stop-failed') return false;
  const f = e.exit137.fields ?? {};
  return /DeadlineExceeded|deadline exceeded|to be killed/.test(`${e.message ?? ''} ${f.err ?? ''} ${f.error ?? ''}`);
}

/** Asked to kill, and the container is shown running after it (`docker ps` says Up, inspect says running). */
function stillRunningAfterKill(ctx: IncidentContext): Ev | undefined {
  const mine = ctx.evidence.filter((e) => mentions(e, ctx.containerId));
  const kill = mine.find((e) => (e.exit137.message_id === 'cli-kill' || e.exit137.message_id === 'docker-api-kill') && e.exit137.signal?.number !== 15);
  if (!kill) return undefined;
  // a transcript has no clock: after = later in time, or later in the same paste
  const after = (e: Ev) => e.ns > kill.ns || (e.ns === kill.ns && e.log.file?.path === kill.log.file?.path && (e.log.line ?? 0) > (kill.log.line ?? 0));
  return mine.find((e) => e.exit137.kind === 'container-state' && after(e) && /^(up\b|running)/i.test(e.exit137.state?.status ?? ''));
}

/** A SIGKILL was sent but no exit followed: the container hangs while dying. */
export const stuckKill: CauseModule = {
  cause: 'stuck-kill',
  opens: (e) => (saysKillStuck(e) ? 'a kill that did not end the container' : undefined),
  assess(ctx) {
    // dockerd's fallback after 'no such process' is no hang: the process was already gone
    const gone = ctx.evidence.find((e) => e.exit137.message_id === 'docker-kill-no-such-process' && mentions(e, ctx.containerId));
    const said = gone ? undefined : ctx.evidence.find((e) => saysKillStuck(e) && mentions(e, ctx.containerId)) ?? stillRunningAfterKill(ctx);
    const kill = ctx.evidence.find((e) => killsContainer(e, ctx) || (mentions(e, ctx.containerId) && e.exit137.message_id === 'docker-api-kill'));
    if (!kill) return said ? fromEngine(ctx, said) : undefined;
    const exit = ctx.evidence.find((e) => e.ns >= kill.ns && mentions(e, ctx.containerId) && e.exit137.exit !== undefined);
    const last = ctx.evidence.at(-1)!;
    // Stuck = no exit within the threshold: either none at all (still hanging when the input ends) or a late one.
    const waited = (exit ?? last).ns - kill.ns;
    if (waited < STUCK_AFTER_S * S) return said ? fromEngine(ctx, said) : undefined;
    const hung = ctx.evidence.filter((e: Ev) => (e.exit137.kind === 'kernel-hung-task' || e.exit137.kind === 'task-stack') && e.ns >= kill.ns && (!exit || e.ns <= exit.ns));
    const sig = hung.map((h) => matchSignature(h.exit137.hung_task!.stack)).find((s) => s !== undefined);
    const seconds = Number(waited / S);
    const evidence: Finding['evidence'] = [{ event: kill, role: 'SIGKILL sent to the container' }];
    if (said) evidence.push({ event: said, role: 'the engine says the kill did not end the container' });
    for (const h of hung.slice(0, 3)) evidence.push({ event: h, role: 'a task blocked in the kernel after the kill' });
    if (exit) evidence.push({ event: exit, role: 'the exit, once the block was released' });
    const f: Finding = {
      cause: 'stuck-kill',
      // Above a plain kill's verdict: that the kill hung is what the operator is fighting.
      confidence: sig ? 0.96 : said ? 0.85 : 0.6,
      confidenceReason: sig
        ? `no exit for ${seconds} s after the SIGKILL, and a hung-task stack shows ${sig.id}`
        : said
          ? `no exit within ${STUCK_AFTER_S} s of the SIGKILL, and the engine says so too`
          : `no exit within ${STUCK_AFTER_S} s of the SIGKILL`,
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

/**
 * The runtime's own words that its signal was refused (runc: `unable to signal init: permission
 * denied`, relayed by containerd, dockerd's error field and the kubelet's KillContainerError): the
 * kernel's LSM hook said no, so the container never received the stop or the kill at all.
 */
function signalDenied(ctx: IncidentContext): Ev | undefined {
  return ctx.evidence.find(
    (e) => mentions(e, ctx.containerId) && (e.exit137.message_id === 'runtime-signal-denied' || /unable to signal init: permission denied/.test(e.exit137.fields?.error ?? '')),
  );
}

/** The engine said the kill did not take: stuck, whatever the exit status that may follow much later. */
function fromEngine(ctx: IncidentContext, said: Ev): Finding {
  const denied = signalDenied(ctx);
  if (denied) return refused(ctx, said, denied);
  const hung = ctx.evidence.filter((e) => (e.exit137.kind === 'kernel-hung-task' || e.exit137.kind === 'task-stack') && e.ns >= said.ns - 600n * S);
  const sig = hung.map((h) => matchSignature(h.exit137.hung_task!.stack)).find((x) => x !== undefined);
  const kill = ctx.evidence.find((e) => killsContainer(e, ctx));
  const evidence: Finding['evidence'] = [];
  if (kill) evidence.push({ event: kill, role: 'SIGKILL sent to the container' });
  evidence.push({ event: said, role: 'the engine says the kill did not end the container' });
  for (const h of hung.slice(0, 3)) evidence.push({ event: h, role: 'a task blocked in the kernel' });
  const f: Finding = {
    cause: 'stuck-kill',
    // the engine's line leaves no other reading of the hang; why it hangs needs the kernel's stacks
    confidence: sig ? 0.95 : 0.75,
    confidenceReason: sig ? `the engine says the kill did not end the container, and a blocked task's stack shows ${sig.id}` : 'the engine says the kill did not end the container (no kernel stack in the input says why)',
    headline: `the kill did not end the container${sig ? `: ${sig.meaning}` : ': a process of it is stuck in the kernel (state D) or the shim lost it'}`,
    explanation:
      'SIGKILL cannot be caught, so a container that outlives it has a process blocked uninterruptibly in the kernel (a FUSE or NFS request, a disk, a cgroup teardown) or a shim that no longer reports its exit. `docker stop` / `docker kill` / the kubelet then time out.',
    remedy: sig?.remedy ?? 'On the node: list the container’s tasks in state D (ps -eo pid,stat,wchan:32,cmd | awk \'$2 ~ /D/\') and read /proc/<pid>/stack; check dmesg for hung-task reports; if the shim is gone, restart containerd.',
    evidence,
    exitOrigin: 'none',
    signal: 'SIGKILL',
  };
  if (sig) f.subCause = sig.id;
  if (kill) f.killer = senderOf(kill);
  return f;
}

/** The kill never reached the container: a security module refused the runtime's signal. */
function refused(ctx: IncidentContext, said: Ev, denied: Ev): Finding {
  const evidence: Finding['evidence'] = [{ event: denied, role: 'the runtime’s signal was refused: permission denied' }];
  if (said !== denied) evidence.push({ event: said, role: 'the engine says the kill did not end the container' });
  return {
    cause: 'stuck-kill',
    subCause: 'signal-denied',
    // the runtime says why the kill did not take: no hang in the kernel to find
    confidence: 0.85,
    confidenceReason: 'the runtime says its signal to the container was refused (permission denied)',
    headline: 'the runtime’s stop and kill signals never reached the container: the kernel refused them (permission denied)',
    explanation:
      'runc signals the container’s init itself; when the kernel refuses it (AppArmor 4’s profile for /usr/sbin/runc on Ubuntu 23.10+ is not a peer the container’s profile accepts signals from; an SELinux or custom AppArmor rule), neither the stop signal nor SIGKILL arrives. The kubelet reports KillContainerError and the pod stays Terminating; dockerd falls back to its own SIGKILL, so `docker stop` takes the whole grace period and the container exits 137.',
    remedy:
      'Check the kernel log for apparmor="DENIED" operation="signal" … peer="runc". Update docker/containerd to a release whose container profile accepts signals from the runc peer (moby#47749, containerd#10123), or fix the profile; as a stopgap, unload the runc profile or run the container unconfined.',
    evidence,
    exitOrigin: 'none',
    signal: 'SIGKILL',
  };
}
