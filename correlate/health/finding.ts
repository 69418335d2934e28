import { z } from 'zod';
import { TimeBasisSchema } from '../../ingest/event.ts';
import { EvidenceItem, VictimMechanism } from '../verdict.ts';

/** A node-health finding: a node that freezes, leaks or kills the wrong task, with its evidence. */
export const FINDINGS = ['stuck-kill', 'cgroup-teardown-freeze', 'memcg-leak', 'oom-wrong-victim'] as const;

export const NodeFinding = z.object({
  finding_id: z.string(),
  host: z.string(),
  finding: z.enum(FINDINGS),
  signature: z.string().optional(),
  severity: z.enum(['info', 'warning', 'critical']),
  confidence: z.number().min(0).max(1),
  first_seen: z.string(),
  last_seen: z.string(),
  /** `relative`: the input had no absolute time (seconds since boot, or none), so the two above are not instants. */
  time_basis: TimeBasisSchema,
  headline: z.string(),
  explanation: z.string(),
  remedy: z.string(),
  tasks: z.array(z.object({ name: z.string(), pid: z.number().int(), cgroup: z.string().optional(), stack: z.array(z.string()) })).optional(),
  memcg: z
    .object({ kernel_cgroups: z.number(), live_cgroups: z.number(), dying_cgroups: z.number(), growth_per_hour: z.number().optional(), samples: z.number().int() })
    .optional(),
  oom: z.object({ victim: z.string(), victim_rss_pages: z.number(), largest_task: z.string(), largest_rss_pages: z.number(), tasks: z.number().int(), mechanism: VictimMechanism }).optional(),
  evidence: z.array(EvidenceItem),
});
export type NodeFinding = z.infer<typeof NodeFinding>;
