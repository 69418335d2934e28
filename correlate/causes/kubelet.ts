import type { CauseModule, Ev, IncidentContext } from '../context.ts';
import { S, mentions } from '../context.ts';
import type { Cause } from '../verdict.ts';

function kubeletCause(cause: Cause, ids: string[], what: string, explanation: string, remedy: string): CauseModule {
  return {
    cause,
    opens: (e: Ev) => (ids.includes(e.exit137.message_id ?? '') ? what : undefined),
    assess(ctx: IncidentContext) {
      const e = ctx.evidence.find((x: Ev) => ids.includes(x.exit137.message_id ?? '') && x.ns >= ctx.deathNs - 300n * S && x.ns <= ctx.deathNs + S && mentions(x, ctx.containerId));
      if (!e) return undefined;
      return {
        cause,
        confidence: 0.8,
        confidenceReason: `the kubelet logged ${what} for this container before it died`,
        headline: `${what}: the kubelet stopped the container`,
        explanation,
        remedy,
        evidence: [{ event: e, role: what }],
        exitOrigin: 'signal',
      };
    },
  };
}

export const probeFailure = kubeletCause('probe-failure', ['kubelet-liveness-failed'], 'a failed liveness probe', 'The liveness probe failed, so the kubelet restarted the container (SIGTERM, then SIGKILL after the grace period).', 'Check the probe: timeouts too short for a slow start or GC pause, a wrong port/path; use a startupProbe for slow starts.');
export const eviction = kubeletCause('eviction', ['kubelet-eviction'], 'an eviction', 'The node ran short of a resource (memory, disk, PIDs) and the kubelet evicted the pod.', 'Set requests to what the pod uses; find what fills the node (kubectl describe node: conditions and eviction thresholds).');
export const preemption = kubeletCause('preemption', ['kubelet-preemption'], 'a preemption', 'A pod of higher priority needed the room, so this pod was preempted.', 'Review PriorityClasses and the cluster’s capacity.');
export const hostShutdown = kubeletCause('host-shutdown', ['kubelet-node-shutdown', 'docker-shutdown'], 'a node shutdown', 'The node (or its container engine) was shutting down and stopped its containers.', 'Expected during maintenance; otherwise find why the node or dockerd stopped.');
