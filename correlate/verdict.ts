import { z } from 'zod';
import { TimeBasisSchema } from '../ingest/event.ts';

/** The verdict on one container death: what killed it, why, how sure, what to do, and the evidence. */

export const CAUSES = [
  'shim-death',
  'oom-kill',
  'stop-timeout',
  'external-kill',
  'probe-failure',
  'eviction',
  'preemption',
  'runtime-restart',
  'host-shutdown',
  'stuck-kill',
  /** Not a kill: the container ended in order (exit 0 or 143 on SIGTERM, the usual teardown after it). */
  'normal-exit',
  'unknown',
] as const;
export const Cause = z.enum(CAUSES);
export type Cause = z.infer<typeof Cause>;

/** Each cause in words, for people (Slack, the HTML page): one table, so every sink says the same. */
export const CAUSE_WORDS: Record<Cause, string> = {
  'shim-death': 'the containerd shim died and the runtime’s cleanup killed the container',
  'oom-kill': 'the kernel’s OOM killer',
  'stop-timeout': 'a stop whose grace period ran out',
  'external-kill': 'a kill from outside the runtime',
  'probe-failure': 'a failed liveness probe',
  eviction: 'a kubelet eviction',
  preemption: 'a preemption',
  'runtime-restart': 'a container engine restart',
  'host-shutdown': 'a node shutdown',
  'stuck-kill': 'a kill that hung',
  'normal-exit': 'not a kill: the container ended in order',
  unknown: 'an unknown cause',
};

export const EvidenceItem = z.object({
  id: z.string(),
  ts: z.string(),
  source: z.string(),
  action: z.string(),
  summary: z.string(),
  /** Why this piece counts for the verdict. */
  role: z.string().optional(),
});
export type EvidenceItem = z.infer<typeof EvidenceItem>;

export const KnownBug = z.object({
  id: z.string(),
  title: z.string(),
  affected: z.string(),
  fixed_in: z.string(),
  refs: z.array(z.string()),
});
export type KnownBug = z.infer<typeof KnownBug>;

const sender = z.object({
  pid: z.number().int().optional(),
  ppid: z.number().int().optional(),
  name: z.string().optional(),
  executable: z.string().optional(),
  args: z.array(z.string()).optional(),
  args_truncated: z.boolean().optional(),
  uid: z.string().optional(),
  auid: z.string().optional(),
  login_user: z.boolean().optional(),
});
export type Sender = z.infer<typeof sender>;

/** What made the OOM killer choose a victim that was not the hog (correlate/causes/oom-victim.ts). */
export const VictimMechanism = z.enum(['oom_score_adj', 'root-discount', 'unexplained']);
export type VictimMechanism = z.infer<typeof VictimMechanism>;

export const Attribution = z.object({
  incident_id: z.string(),
  version: z.number().int(),
  host: z.string(),
  container: z.object({
    id: z.string(),
    id_is_prefix: z.boolean(),
    name: z.string().optional(),
    image: z.string().optional(),
    pod: z.string().optional(),
    namespace: z.string().optional(),
    sandbox: z.boolean().optional(),
  }),
  exit_code: z.number().int().optional(),
  /** `signal` when a kill record backs the exit code; `runtime-synthesised` when containerd reported 137 itself. */
  exit_origin: z.enum(['signal', 'runtime-synthesised', 'oom', 'unknown', 'none']),
  died_at: z.string(),
  /** How died_at was known, when it is not an instant the input stated (see ingest/event.ts time.basis). */
  died_basis: TimeBasisSchema.optional(),
  /** The kernel's own seconds since boot (ns) for a death placed from them. */
  died_since_boot_ns: z.string().regex(/^\d+$/).optional(),
  cause: Cause,
  sub_cause: z.string().optional(),
  confidence: z.number().min(0).max(1),
  confidence_reason: z.string(),
  headline: z.string(),
  explanation: z.string(),
  remedy: z.string(),
  killer: sender.optional(),
  signal: z.string().optional(),
  grace_seconds: z.number().optional(),
  oom: z
    .object({
      memcg: z.string().optional(),
      limit_kb: z.number().optional(),
      usage_kb: z.number().optional(),
      victim: z.string().optional(),
      victim_rss_pages: z.number().optional(),
      largest_task: z.string().optional(),
      largest_rss_pages: z.number().optional(),
      wrong_victim: z.boolean(),
      mechanism: VictimMechanism.optional(),
      victim_oom_score_adj: z.number().optional(),
      largest_oom_score_adj: z.number().optional(),
      kernel: z.string().optional(),
    })
    .optional(),
  crash: z.object({ headline: z.string(), top_frame: z.string().optional(), file: z.string().optional() }).optional(),
  known_bugs: z.array(KnownBug),
  missing: z.array(z.string()),
  evidence: z.array(EvidenceItem),
  /** Other causes considered, with their confidence, so a reader sees what was ruled out. */
  alternatives: z.array(z.object({ cause: Cause, confidence: z.number(), reason: z.string() })),
});
export type Attribution = z.infer<typeof Attribution>;
