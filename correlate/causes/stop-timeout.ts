import type { CauseModule, Ev, Finding } from '../context.ts';
import { S, killsContainer, mentions, senderOf, withRoles } from '../context.ts';
import { saysKillStuck } from './stuck-kill.ts';

const TIMEOUT_LINES = new Set(['docker-stop-timeout', 'podman-stop-timeout', 'watchtower-stop-timeout', 'kubelet-grace-expired', 'cri-kill']);
const STOP_REQUESTS = new Set(['docker-api-stop', 'kubelet-kill-grace', 'cri-stop', 'cri-stop-signal', 'nomad-kill-grace', 'cli-stop', 'compose-stop']);

/** A stop asked of the container (docker stop, the kubelet, the CRI) or the SIGTERM it sends. */
export function isStopRequest(e: Ev): boolean {
  if (STOP_REQUESTS.has(e.exit137.message_id ?? '')) return true;
  return (e.event.action === 'container-kill' || e.exit137.message_id === 'docker-kill-signal') && e.exit137.signal?.number === 15;
}

/** The stop escalated: the grace period ran out, or a SIGKILL followed. */
export function isStopEscalation(e: Ev): boolean {
  if (TIMEOUT_LINES.has(e.exit137.message_id ?? '')) return true;
  return (e.event.action === 'container-kill' || e.exit137.message_id === 'docker-kill-signal') && e.exit137.signal?.number === 9;
}

/** SIGTERM, then SIGKILL after the grace period (docker stop, kubelet): the app did not exit on SIGTERM. */
export const stopTimeout: CauseModule = {
  cause: 'stop-timeout',
  opens: (e) =>
    TIMEOUT_LINES.has(e.exit137.message_id ?? '')
      ? 'the stop grace period ran out'
      : // the kubelet stopping a container is a death even when the input does not say why
        e.exit137.message_id === 'kubelet-kill-grace'
        ? 'the kubelet stopped the container'
        : undefined,
  assess(ctx) {
    const window = (e: Ev) => e.ns >= ctx.deathNs - 900n * S && e.ns <= ctx.deathNs + 2n * S;
    const mine = ctx.evidence.filter((e) => window(e) && mentions(e, ctx.containerId));
    const timeout = mine.find((e) => TIMEOUT_LINES.has(e.exit137.message_id ?? ''));
    const request = mine.find((e) => STOP_REQUESTS.has(e.exit137.message_id ?? ''));
    // docker events: kill(15) then kill(9) for the same container
    const term = mine.find((e) => (e.event.action === 'container-kill' && e.exit137.signal?.number === 15) || (e.exit137.message_id === 'docker-kill-signal' && e.exit137.signal?.number === 15));
    const kill = mine.find((e) => (e.event.action === 'container-kill' && e.exit137.signal?.number === 9) || (e.exit137.message_id === 'docker-kill-signal' && e.exit137.signal?.number === 9));
    const escalated = term && kill && kill.ns > term.ns;
    // asked to stop with a grace period, and a SIGKILL reached the container once that period had
    // passed (the runtime's `runc kill --all … SIGKILL` in an audit log): the grace ran out, whoever
    // logged it. A SIGKILL inside the grace is someone else's (a kill, not the stop's escalation).
    const requested = request?.exit137.grace_seconds;
    const lateKill =
      !timeout && !escalated && request !== undefined && requested !== undefined
        ? ctx.evidence.find((e) => {
            if (!killsContainer(e, ctx)) return false;
            const after = e.ns - request.ns;
            return after >= BigInt(Math.round(requested * 1000)) * 1_000_000n - S && after <= BigInt(Math.round(requested * 1000)) * 1_000_000n + 60n * S;
          })
        : undefined;
    // asked to stop with a grace period, then a 137: the SIGKILL that ends a grace period
    const killedAfterRequest = !timeout && !escalated && !lateKill && request !== undefined && ctx.exitCode === 137 && ctx.deathNs >= request.ns ? request : undefined;
    if (!timeout && !escalated && !lateKill && !killedAfterRequest) return undefined;
    // the SIGKILL after the grace period did not end it: the hang is the story (stuck-kill), not the stop
    const stuck = ctx.evidence.find((e) => saysKillStuck(e) && mentions(e, ctx.containerId));
    const grace = timeout?.exit137.grace_seconds ?? request?.exit137.grace_seconds ?? (escalated ? Number((kill.ns - term.ns) / 1_000_000n) / 1000 : undefined);
    const since = (timeout ?? kill ?? lateKill ?? request!).ns;
    const exited = mine.some((e) => e.exit137.exit !== undefined && !e.exit137.exit.exec_id && e.ns >= since);
    const auditKill = lateKill ?? ctx.evidence.find((e) => killsContainer(e, ctx) && e.ns >= (term?.ns ?? since) - S);
    const evidence = withRoles([
      [request, 'the stop request and its grace period'],
      [term, 'SIGTERM sent'],
      [timeout, 'the grace period ran out'],
      [kill, 'SIGKILL sent'],
      [auditKill, 'the kernel saw the SIGKILL'],
    ]);
    const f: Finding = {
      cause: 'stop-timeout',
      subCause: timeout?.exit137.source === 'kubelet' || request?.exit137.source === 'kubelet' ? 'kubelet' : 'docker-stop',
      confidence: stuck ? 0.5 : killedAfterRequest ? 0.7 : timeout ? (exited ? 0.9 : 0.75) : lateKill ? (exited ? 0.8 : 0.7) : 0.8,
      confidenceReason: stuck
        ? 'the grace period ran out, but the engine says the SIGKILL did not end the container either'
        : lateKill
          ? `a stop was asked with a ${requested} s grace period and the SIGKILL reached the container once it had passed${exited ? ', then it exited' : ' (no exit in the input)'}`
        : killedAfterRequest
          ? 'a stop was asked with a grace period and the container then exited 137 (no line says the grace ran out)'
          : timeout
          ? exited
            ? 'the runtime logged that the grace period ran out, and the container then exited'
            : 'the runtime logged that the grace period ran out (no exit status in the input)'
          : 'SIGTERM then SIGKILL to the same container',
      headline: `stopped: no exit within ${grace !== undefined ? `${grace} s` : 'the grace period'} of SIGTERM, then SIGKILL`,
      explanation:
        'The container was asked to stop. It got SIGTERM and did not exit within the grace period, so it was SIGKILLed: the application ignores or mishandles SIGTERM (or is not PID 1’s child that receives it), or its shutdown takes longer than the grace period.',
      remedy: 'Handle SIGTERM in the application (or run it under an init such as tini / --init so the signal reaches it), make shutdown faster, or raise the grace period (docker stop -t, terminationGracePeriodSeconds).',
      evidence,
      exitOrigin: 'signal',
      signal: 'SIGKILL',
    };
    if (grace !== undefined) f.graceSeconds = grace;
    if (auditKill) f.killer = senderOf(auditKill);
    return f;
  },
};
