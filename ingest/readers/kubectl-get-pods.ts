import type { Draft, LineReader, ReadResult } from './draft.ts';

/**
 * A row of `kubectl get pods` (`-o wide`, `--all-namespaces`, `get pods,nodes` with `pod/` names,
 * `oc get pod`): NAME READY STATUS RESTARTS AGE…. Its STATUS is the reason the kubelet or a
 * controller gave (OOMKilled, Evicted, Shutdown, Error, Completed), which is evidence of what ended
 * the pod's container; the age is relative, so the row states no instant.
 */
const ROW = /^(?:([a-z0-9][a-z0-9-]{0,62})\s+)?(?:pod\/)?([a-z0-9][a-z0-9.-]{0,252})\s+(\d+)\/(\d+)\s+([A-Za-z][\w:-]*)\s+(\d+)(?:\s+\(([^)]*)\))?\s+(\d+[smhdy][\w]*|<unknown>)(?:\s|$)/;

/** STATUS values that say how the pod's container ended, with the exit status they imply where they do. */
const ENDED: Record<string, { exit?: number; oom?: boolean }> = {
  OOMKilled: { exit: 137, oom: true },
  Evicted: {},
  Shutdown: {},
  NodeShutdown: {},
  Terminated: {},
  Error: {},
  Completed: { exit: 0 },
  ContainerStatusUnknown: {},
  Preempting: {},
};

export const kubectlGetPods: LineReader = {
  name: 'kubectl-get-pods',
  detect(text) {
    const c = text.charCodeAt(0);
    return c >= 97 && c <= 122 && text.includes('/') && /\s\d+\/\d+\s/.test(text);
  },
  read(text): ReadResult {
    const m = ROW.exec(text);
    if (!m) return { ok: true, drafts: [] };
    const [, namespace, pod, , , status, restarts, , age] = m;
    const ended = ENDED[status!];
    if (!ended) return { ok: true, drafts: [] };
    const d: Draft = {
      kind: 'container-state',
      source: 'kubectl',
      action: 'pod-status',
      type: 'end',
      message: `pod ${pod} ${status}`,
      // the row names the pod, not its container: the pod's name stands for it
      container: { name: pod! },
      orchestrator: namespace ? { namespace, resource: { type: 'pod', name: pod! } } : { resource: { type: 'pod', name: pod! } },
      state: { status: status!, reason: status!, restart_count: Number(restarts) },
      fields: { age: age! },
    };
    if (ended.oom) d.state!.oom_killed = true;
    if (ended.exit !== undefined) d.exit = { code: ended.exit };
    return { ok: true, drafts: [d] };
  },
};
