import type { CauseModule, Ev, Finding } from '../context.ts';
import { NO_CONTAINER, S, describeSender, isKill, isRuntimeProcess, killsContainer, mentions, senderOf } from '../context.ts';

/** Userspace OOM killers, by the wording of their kill line. */
const USERSPACE_OOM: Record<string, { name: string; sub: string; confidence: number; names: string; what: string; remedy: string }> = {
  'systemd-oomd-kill': {
    name: 'systemd-oomd',
    sub: 'systemd-oomd',
    confidence: 0.6,
    names: 'its line names a slice or scope, not the container’s own id',
    what: 'every process of the cgroup it picks (a rootless podman container under user@.service, a docker container under system.slice)',
    remedy: 'Exempt the container’s slice (ManagedOOMMemoryPressure=auto / ManagedOOMPreference=avoid on its unit), raise ManagedOOMMemoryPressureLimit or ManagedOOMSwap, or give the node more memory; `oomctl` shows what systemd-oomd monitors.',
  },
  'talos-oom-kill': {
    name: 'Talos’s OOM controller',
    sub: 'talos-oom-controller',
    confidence: 0.6,
    names: 'its line names a pod’s cgroup',
    what: 'every process of the pod cgroup it ranks first',
    remedy: 'Set pod memory requests to what the pods use (the controller ranks by usage over request), or tune the machine config’s OOM controller; give the node more memory.',
  },
  'earlyoom-kill': {
    name: 'earlyoom',
    sub: 'earlyoom',
    confidence: 0.45,
    names: 'its line names a process, not a container',
    what: 'the process with the highest oom badness',
    remedy: 'Add the container’s process to earlyoom’s --avoid list, or give the node more memory or swap.',
  },
};

/** A kill asked of the engine: its API in dockerd's debug log, a pasted command, compose's `Killing …`. */
const ASKED_KILL = new Set(['docker-api-kill', 'cli-kill', 'compose-kill']);

/**
 * Daemonless runtimes whose own process is the container's parent for its whole life (apptainer's
 * and singularity's starter): SIGKILL it and the container goes with it, whatever its pid was.
 */
const CONTAINER_PARENTS = /^(?:apptainer|singularity|starter|starter-suid|Singularity runtime|Apptainer runtime)/;

/** An audited SIGKILL, from outside the runtime, to the process a daemonless container lives under. */
function killsContainerParent(e: Ev): boolean {
  return isKill(e) && CONTAINER_PARENTS.test(e.exit137.target?.process.name ?? '') && !isRuntimeProcess(e.process?.executable, e.process?.name);
}

/**
 * dockerd's `kill` event with signal 9: dockerd logs it once the runtime has delivered the signal
 * (daemon/kill.go), for `docker kill`, `docker rm -f` and a stop's escalation alike. SIGKILL cannot
 * be caught, so the container ends, unless its process is stuck in the kernel: a death even
 * when its `die` is not in the input.
 */
function isEngineSigkill(e: Ev): boolean {
  return e.event.action === 'container-kill' && e.exit137.signal?.number === 9;
}

/** A SIGKILL from a process that is not the runtime, or a kill asked of the engine (docker kill). */
export const externalKill: CauseModule = {
  cause: 'external-kill',
  opens: (e) =>
    ASKED_KILL.has(e.exit137.message_id ?? '') && e.exit137.signal?.number !== 15
      ? 'a kill asked of the engine'
      : isEngineSigkill(e)
        ? 'the engine delivered a SIGKILL'
      : e.exit137.message_id === 'docker-kill-no-such-process'
        ? 'the process was gone before the engine killed it'
        : killsContainerParent(e)
          ? 'SIGKILL to a daemonless runtime’s container process'
          : undefined,
  assess(ctx) {
    const near = (e: Ev) => e.ns >= ctx.deathNs - 10n * S && e.ns <= ctx.deathNs + 2n * S;
    const outsider = ctx.evidence.find((e) => near(e) && killsContainer(e, ctx) && !isRuntimeProcess(e.process?.executable, e.process?.name));
    // the kill reached the runtime's own process, not a container the input names: which container
    // ran under it (and that it ended) the record does not say
    if (outsider && ctx.containerId === NO_CONTAINER && killsContainerParent(outsider)) {
      const s = senderOf(outsider);
      return {
        cause: 'external-kill',
        subCause: s.login_user ? 'logged-in-user' : 'process',
        confidence: 0.7,
        confidenceReason: `an audited SIGKILL from a non-runtime process to ${outsider.exit137.target?.process.name}, the process its container runs under; no record names the container`,
        headline: `SIGKILL to ${outsider.exit137.target?.process.name} (pid ${outsider.exit137.target?.process.pid ?? '?'}) from ${describeSender(s)}`,
        explanation: 'A daemonless runtime (apptainer, singularity) keeps its own process as the parent of the container for its whole life. A process on the node that is not the runtime SIGKILLed it, and the container ended with it: the runtime reports only “Killed”.',
        remedy: `Find why ${s.executable ?? s.name ?? 'that process'} kills other processes (an EDR or security agent, a watchdog, a cleanup script) and exempt the runtime from it.`,
        evidence: [{ event: outsider, role: 'the kernel saw this process SIGKILL the runtime’s process' }],
        killer: s,
        signal: 'SIGKILL',
        exitOrigin: 'signal',
      } satisfies Finding;
    }
    if (outsider) {
      const s = senderOf(outsider);
      const viaInit = [outsider.exit137.target?.process, ...(outsider.exit137.target?.others ?? [])].some((t) => t?.pid !== undefined && ctx.initPids.has(t.pid));
      return {
        cause: 'external-kill',
        subCause: s.login_user ? 'logged-in-user' : 'process',
        confidence: viaInit ? 0.95 : 0.8,
        confidenceReason: viaInit ? 'an audited SIGKILL to the container’s init from a non-runtime process' : 'an audited SIGKILL naming the container from a non-runtime process',
        headline: `SIGKILL from ${describeSender(s)}${s.login_user ? ` — a logged-in user (login uid ${s.auid})` : ''}`,
        explanation: s.login_user
          ? 'A person logged in to the node (the audit login uid is set) killed the container’s process directly, outside the container runtime.'
          : 'A process on the node that is not the container runtime sent SIGKILL to the container’s process.',
        remedy: s.login_user ? `Ask who had login uid ${s.auid} on the node and why; restrict root shells on nodes.` : `Find why ${s.executable ?? s.name ?? 'that process'} kills container processes (a watchdog, a cleanup script, an agent) and stop it.`,
        evidence: [{ event: outsider, role: 'the kernel saw this process send SIGKILL' }],
        killer: s,
        signal: 'SIGKILL',
        exitOrigin: 'signal',
      } satisfies Finding;
    }
    // a userspace OOM killer (systemd-oomd, Talos's OOM controller, earlyoom) SIGKILLs a whole cgroup
    // or process before the kernel would: a container inside dies with it, and no kernel report exists
    const killer = ctx.evidence.find((e) => USERSPACE_OOM[e.exit137.message_id ?? ''] !== undefined && e.ns <= ctx.deathNs + S && e.ns >= ctx.deathNs - 30n * S);
    if (killer) {
      const k = USERSPACE_OOM[killer.exit137.message_id!]!;
      return {
        cause: 'external-kill',
        subCause: k.sub,
        confidence: k.confidence,
        confidenceReason: `${k.name} killed under memory pressure just before this death; ${k.names}`,
        headline: `killed by ${k.name} (a userspace OOM killer), not by the kernel’s OOM killer`,
        explanation: `${k.name} watches the node’s memory and, before the kernel’s OOM killer would act, SIGKILLs ${k.what}. The container’s own memory limit was never reached, so no kernel OOM report exists.`,
        remedy: k.remedy,
        evidence: [{ event: killer, role: `${k.name} killed under memory pressure` }],
        killer: { name: k.name },
        signal: 'SIGKILL',
        exitOrigin: 'signal',
      } satisfies Finding;
    }
    const preempted = ctx.evidence.find((e) => e.exit137.message_id === 'docker-kill-no-such-process' && mentions(e, ctx.containerId));
    if (preempted) {
      return {
        cause: 'external-kill',
        subCause: 'outside-the-engine',
        // who did it is not in the input: the engine's failure only says it was not the engine
        confidence: 0.55,
        confidenceReason: 'dockerd found no such process when it tried to kill the container: something outside the engine had already ended it',
        headline: 'ended outside the engine: its process was gone when dockerd tried to kill it',
        explanation: 'dockerd still thought the container was running, but the kernel said no such process: the container’s process had been killed (or died) without going through the engine — a kill from a shell on the node, an agent, or a userspace OOM killer. dockerd’s fallback to a direct SIGKILL that follows is a consequence.',
        remedy: 'Load the exit137 audit rule pack (auditctl -R rules/exit137-signals.rules) so the next kill records its sender; check the node’s shell history and agents for kill commands.',
        evidence: [{ event: preempted, role: 'the engine’s kill found no such process' }],
        exitOrigin: 'unknown',
      } satisfies Finding;
    }
    const api = ctx.evidence.find(
      (e) => e.ns >= ctx.deathNs - 30n * S && e.ns <= ctx.deathNs + S && mentions(e, ctx.containerId) && ((ASKED_KILL.has(e.exit137.message_id ?? '') && e.exit137.signal?.number !== 15) || (e.event.action === 'container-kill' && e.exit137.signal?.number === 9)),
    );
    const stopped = ctx.evidence.some((e) => mentions(e, ctx.containerId) && ['docker-api-stop', 'docker-stop-timeout'].includes(e.exit137.message_id ?? ''));
    if (!api || stopped) return undefined;
    const runtimeKill = ctx.evidence.find((e) => near(e) && killsContainer(e, ctx));
    const evidence: Finding['evidence'] = [{ event: api, role: 'a client asked the engine to kill the container' }];
    if (runtimeKill) evidence.push({ event: runtimeKill, role: 'the runtime delivered the SIGKILL' });
    // the kill without the container's end: SIGKILL ends it unless its process is stuck in the
    // kernel, which only the missing die (or an engine that keeps retrying) would tell
    const ended = ctx.exitCode !== undefined || ctx.evidence.some((e) => mentions(e, ctx.containerId) && e.exit137.exit !== undefined && !e.exit137.exit.exec_id && e.ns >= api.ns);
    const asked = api.exit137.message_id === 'docker-api-kill' ? 0.9 : api.exit137.source === 'docker-cli' ? 0.7 : 0.8;
    const f: Finding = {
      cause: 'external-kill',
      subCause: 'docker-kill',
      // a transcript shows the command, not that it was what ended the container
      confidence: ended ? asked : Math.min(asked, 0.6),
      confidenceReason: ended
        ? 'dockerd received a kill request for this container (docker kill / API), with no stop before it'
        : 'dockerd delivered a SIGKILL to this container (docker kill / rm -f / API), with no stop before it; no die event or exit status after it in the input, so that it ended is inferred (a process stuck in the kernel would not)',
      headline: 'killed on request through the docker API (docker kill)',
      explanation: 'Someone or something called the docker API to kill this container (docker kill sends SIGKILL by default); the engine carried it out.',
      remedy: 'Find the API client: dockerd’s debug log shows the call; audit the docker socket (who can reach /var/run/docker.sock).',
      evidence,
      signal: 'SIGKILL',
      exitOrigin: 'signal',
    };
    if (runtimeKill) f.killer = senderOf(runtimeKill);
    return f;
  },
};
