import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { S, mentions } from '../context.ts';
import type { Cause } from '../verdict.ts';

/**
 * A death the kubelet caused and said why: a line of its own (probe, eviction, shutdown manager),
 * or the reason a CLI shows for the container or pod (kubectl's STATUS Evicted, reason Shutdown).
 */
type KubeletReason = {
  cause: Cause;
  /** Wordings of the kubelet's own lines (ingest/runtime/wordings.ts). */
  ids: string[];
  /** Reasons a CLI shows in the container's or pod's state. */
  reasons: string[];
  what: string;
  explanation: string;
  remedy: string;
  /** The kubelet's line may name no container and still concern all of the node's (a node shutdown). */
  nodeWide?: boolean;
  /** A line of `ids` counts only when this holds (a swarm task error counts when it says unhealthy). */
  when?: (e: Ev) => boolean;
  /** A container state that says it beyond its reason (a swarm task's Err). */
  stateSays?: (e: Ev) => boolean;
};

function stateReason(e: Ev): string | undefined {
  return e.exit137.state?.reason;
}

function kubeletCause(k: KubeletReason): CauseModule {
  const says = (e: Ev) => k.ids.includes(e.exit137.message_id ?? '') && (k.when?.(e) ?? true);
  const shows = (e: Ev) => k.reasons.includes(stateReason(e) ?? '') || (e.exit137.state !== undefined && (k.stateSays?.(e) ?? false));
  return {
    cause: k.cause,
    opens: (e: Ev) => (says(e) || shows(e) ? k.what : undefined),
    assess(ctx: IncidentContext): Finding | undefined {
      const near = (x: Ev) => x.ns >= ctx.deathNs - 300n * S && x.ns <= ctx.deathNs + S;
      const own = ctx.evidence.find((x) => says(x) && near(x) && mentions(x, ctx.containerId));
      // a node-wide line (the shutdown manager, dockerd stopping) with the kubelet or engine stopping this container
      const nodeLine = k.nodeWide && !own ? ctx.evidence.find((x) => says(x) && near(x) && !x.container?.id && !x.container?.name && !x.orchestrator?.resource?.name) : undefined;
      const state = ctx.evidence.find((x) => shows(x) && mentions(x, ctx.containerId));
      const line = own ?? nodeLine;
      if (!line && !state) return undefined;
      const evidence: Finding['evidence'] = [];
      if (line) evidence.push({ event: line, role: own ? k.what : `${k.what} on the node` });
      if (state) evidence.push({ event: state, role: `the container’s state says ${stateReason(state) ?? state.exit137.state?.error}` });
      const confidence = own && state ? 0.9 : own ? 0.8 : state ? 0.75 : 0.6;
      const why = own && state
        ? `the kubelet logged ${k.what} for this container, and its state says ${stateReason(state) ?? state.exit137.state?.error}`
        : own
          ? `the kubelet logged ${k.what} for this container before it died`
          : state
            ? `the container’s state says ${stateReason(state) ?? state.exit137.state?.error} (no kubelet log in the input)`
            : `the kubelet logged ${k.what} on the node; the line does not name this container`;
      return {
        cause: k.cause,
        confidence,
        confidenceReason: why,
        headline: `${k.what}: the kubelet stopped the container`,
        explanation: k.explanation,
        remedy: k.remedy,
        evidence,
        exitOrigin: 'signal',
      };
    },
  };
}

/**
 * An exec probe that could not run because the container had already stopped (`Liveness probe
 * errored: … Container … is not running`, `cannot exec a container that has stopped`): the probe
 * met a death, it did not cause one.
 */
const PROBED_DEAD = /is not running|has stopped|container not found|no such container|in a stopped state|CONTAINER_EXITED/i;

export const probeFailure = kubeletCause({
  cause: 'probe-failure',
  ids: ['kubelet-liveness-failed', 'swarm-task-failed'],
  when: (e) =>
    e.exit137.message_id === 'swarm-task-failed'
      ? /unhealthy container/.test(`${e.exit137.fields?.error ?? ''} ${e.message ?? ''}`)
      : !PROBED_DEAD.test(`${e.message ?? ''} ${e.exit137.fields?.err ?? ''} ${e.exit137.fields?.output ?? ''}`),
  stateSays: (e) => /unhealthy container/.test(e.exit137.state?.error ?? ''),
  reasons: [],
  what: 'a failed liveness probe',
  explanation: 'The liveness probe failed, so the kubelet restarted the container (SIGTERM, then SIGKILL after the grace period).',
  remedy: 'Check the probe: timeouts too short for a slow start or GC pause, a wrong port/path; use a startupProbe for slow starts.',
});
export const eviction = kubeletCause({
  cause: 'eviction',
  ids: ['kubelet-eviction'],
  reasons: ['Evicted'],
  what: 'an eviction',
  explanation: 'The node ran short of a resource (memory, disk, PIDs) and the kubelet evicted the pod.',
  remedy: 'Set requests to what the pod uses; find what fills the node (kubectl describe node: conditions and eviction thresholds).',
});
export const preemption = kubeletCause({
  cause: 'preemption',
  ids: ['kubelet-preemption'],
  reasons: ['Preempting', 'Preempted'],
  what: 'a preemption',
  explanation: 'A pod of higher priority needed the room, so this pod was preempted.',
  remedy: 'Review PriorityClasses and the cluster’s capacity.',
});
export const hostShutdown = kubeletCause({
  cause: 'host-shutdown',
  ids: ['kubelet-node-shutdown', 'docker-shutdown'],
  reasons: ['Shutdown', 'NodeShutdown'],
  what: 'a node shutdown',
  explanation: 'The node (or its container engine) was shutting down and stopped its containers.',
  remedy: 'Expected during maintenance; otherwise find why the node or dockerd stopped (and give pods time: the kubelet’s shutdownGracePeriod, dockerd’s --shutdown-timeout).',
  nodeWide: true,
});
