import { z } from 'zod';
import { TimeBasisSchema } from '../../ingest/event.ts';
import { EvidenceItem, VictimMechanism } from '../verdict.ts';

/** A node-health finding: a node that freezes, leaks or kills the wrong task, with its evidence. */
export const FINDINGS = ['stuck-kill', 'cgroup-teardown-freeze', 'memcg-leak', 'oom-wrong-victim'] as const;

/**
 * What made the OOM killer's victim the wrong one when the report has no task table to compare
 * sizes with: the kernel says it chose one task and killed its child (`Kill process A … or sacrifice
 * child` / `Killed process B`); the chosen task's score, in thousandths of the memory the OOM is
 * about, is so low that no task holds the memory (or every task is protected and they tie); or
 * the victim holds next to nothing.
 */
export const PartialVictimMechanism = z.enum(['sacrificed-child', 'low-score', 'small-victim']);
export type PartialVictimMechanism = z.infer<typeof PartialVictimMechanism>;

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
  /** The container the finding concerns, when the input names it, and how it is tied to it. */
  container: z.object({ id: z.string().optional(), name: z.string().optional(), by: z.string() }).optional(),
  tasks: z
    .array(z.object({ name: z.string(), pid: z.number().int(), state: z.string().optional(), container: z.string().optional(), cgroup: z.string().optional(), stack: z.array(z.string()) }))
    .optional(),
  memcg: z
    .object({
      kernel_cgroups: z.number(),
      live_cgroups: z.number(),
      dying_cgroups: z.number(),
      /** The live side counted one directory's cgroups, not the whole hierarchy: dying is an upper bound. */
      live_is_lower_bound: z.boolean().optional(),
      growth_per_hour: z.number().optional(),
      samples: z.number().int(),
    })
    .optional(),
  oom: z
    .object({
      victim: z.string(),
      victim_rss_pages: z.number(),
      largest_task: z.string().optional(),
      largest_rss_pages: z.number().optional(),
      /** The task the kernel chose, when it killed another (its child). */
      chosen: z.string().optional(),
      /** The chosen task's score as the kernel printed it (thousandths of the memory it counted). */
      score: z.number().optional(),
      tasks: z.number().int(),
      /** How many reports of the input show this same choice. */
      reports: z.number().int().optional(),
      mechanism: z.union([VictimMechanism, PartialVictimMechanism]),
    })
    .optional(),
  /** What the input lacks that would confirm the finding or raise its confidence. */
  missing: z.array(z.string()).optional(),
  evidence: z.array(EvidenceItem),
});
export type NodeFinding = z.infer<typeof NodeFinding>;
