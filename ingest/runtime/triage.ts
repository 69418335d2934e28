/**
 * Whether a daemon's line (dockerd, containerd, the kubelet) could become evidence, once its
 * wording is matched: analyze lets the rest go before an event is built for it, as it does with
 * audit events (ingest/audit/triage.ts). Most of a daemon's debug log (plugin loading, API calls,
 * gRPC chatter) matches no wording, and an unmatched line is evidence of nothing
 * (correlate/incidents.ts isEvidence); one that names a cgroup path is still read by the node's
 * health findings (correlate/health/findings.ts isHealthEvidence).
 */
export function runtimeLineCanMatter(msg: string, matched: boolean): boolean {
  return matched || msg.includes('/sys/fs/cgroup/');
}
