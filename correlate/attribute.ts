import { createHash } from 'node:crypto';
import { formatNanos } from '../ingest/time/instant.ts';
import { CAUSE_MODULES } from './causes/index.ts';
import type { Finding, IncidentContext } from './context.ts';
import { evidenceItem, mentions } from './context.ts';
import type { Incident } from './incidents.ts';
import type { Attribution } from './verdict.ts';

export function incidentId(host: string, containerId: string, deathNs: bigint): string {
  return `inc-${createHash('sha256').update(`${host}|${containerId}|${deathNs}`).digest('hex').slice(0, 32)}`;
}

/** What is missing to say more, phrased as what to turn on. */
export function missingEvidence(ctx: IncidentContext): string[] {
  const out: string[] = [];
  if (!ctx.sources.audit) out.push('no audit records at all on this node: is the exit137 audit rule pack loaded (auditctl -l)?');
  else if (!ctx.evidence.some((e) => e.exit137.kind === 'audit-signal' && (mentions(e, ctx.containerId) || [...ctx.initPids].some((p) => e.exit137.target?.process.pid === p)))) {
    out.push('no audited signal to this container: nobody sent it one through a rule-covered path, or the rules were not loaded then');
  }
  if (!ctx.sources.runtimeLogs) out.push('no dockerd/containerd log lines: collect the engine’s journal (debug logging shows kills, API calls and shim crashes)');
  if (!ctx.sources.kernel) out.push('no kernel log: OOM kills and hung tasks are only there (dmesg / journalctl -k)');
  if (ctx.exitCode === undefined) out.push('no exit status for this container: docker/ctr events or the engine’s exit lines were not in the input');
  return out;
}

const UNKNOWN: Finding = {
  cause: 'unknown',
  confidence: 0.1,
  confidenceReason: 'no evidence rule matched',
  headline: 'cause unknown: the evidence does not say who or what killed the container',
  explanation: 'A 137 only says the process ended by SIGKILL (or that the runtime reported 137). None of the records in the input tie the death to a cause.',
  remedy: 'Collect what is listed as missing and analyze again.',
  evidence: [],
  exitOrigin: 'unknown',
};

/** Weighs every cause on one incident and writes the verdict; the strongest finding wins, the rest are listed. */
export function attribute(inc: Incident, version = 1): Attribution {
  const findings = CAUSE_MODULES.map((m) => m.assess(inc.context)).filter((f): f is Finding => f !== undefined);
  findings.sort((a, b) => b.confidence - a.confidence);
  const best = findings[0] ?? UNKNOWN;
  const ctx = inc.context;
  const used = new Set(best.evidence.map((x) => x.event.event.id));
  const items = best.evidence.map((x) => ({ ev: x.event, role: x.role }));
  // The container's own lines that no rule used still belong in its timeline.
  for (const e of ctx.evidence) if (!used.has(e.event.id) && mentions(e, inc.containerId)) items.push({ ev: e, role: '' });
  items.sort((a, b) => (a.ev.ns < b.ev.ns ? -1 : a.ev.ns > b.ev.ns ? 1 : 0));

  let exitOrigin = best.exitOrigin ?? 'unknown';
  if (inc.exitCode === undefined && exitOrigin !== 'none') exitOrigin = best.cause === 'stuck-kill' ? 'none' : exitOrigin;
  const a: Attribution = {
    incident_id: incidentId(inc.host, inc.containerId, inc.deathNs),
    version,
    host: inc.host,
    container: { id: inc.containerId, id_is_prefix: inc.idIsPrefix },
    exit_origin: exitOrigin,
    died_at: formatNanos(inc.deathNs),
    cause: best.cause,
    confidence: best.confidence,
    confidence_reason: best.confidenceReason,
    headline: best.headline,
    explanation: best.explanation,
    remedy: best.remedy,
    known_bugs: best.knownBugs ?? [],
    missing: missingEvidence(ctx),
    evidence: items.map((x) => evidenceItem(x.ev, x.role || undefined)),
    alternatives: findings.slice(1).map((f) => ({ cause: f.cause, confidence: f.confidence, reason: f.confidenceReason })),
  };
  if (inc.exitCode !== undefined) a.exit_code = inc.exitCode;
  if (inc.deathTime.basis !== 'absolute') a.died_basis = inc.deathTime.basis;
  if (inc.deathTime.since_boot_ns !== undefined) a.died_since_boot_ns = inc.deathTime.since_boot_ns;
  if (best.subCause) a.sub_cause = best.subCause;
  if (best.killer) a.killer = best.killer;
  if (best.signal) a.signal = best.signal;
  if (best.graceSeconds !== undefined) a.grace_seconds = best.graceSeconds;
  if (best.oom) a.oom = best.oom;
  if (best.crash) a.crash = best.crash;
  if (inc.name) a.container.name = inc.name;
  if (inc.image) a.container.image = inc.image;
  if (inc.pod) a.container.pod = inc.pod;
  if (inc.namespace) a.container.namespace = inc.namespace;
  if (inc.sandbox !== undefined) a.container.sandbox = inc.sandbox;
  return a;
}
