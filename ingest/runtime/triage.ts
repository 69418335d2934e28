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

/** Levels at which a daemon writes what it is doing, not what went wrong. */
const CHATTER_LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info']);

/**
 * A daemon's line that can never be evidence and says nothing went wrong: what the ingest worker
 * lets go before building it when only evidence and its context are indexed. A warning or an
 * error the wordings do not know is still built, as context a reader of a death wants beside it.
 */
export function isRuntimeChatter(msg: string, matched: boolean, level: string | undefined): boolean {
  return !runtimeLineCanMatter(msg, matched) && level !== undefined && CHATTER_LEVELS.has(level);
}
