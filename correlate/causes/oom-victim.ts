import type { OomReport, OomTask } from '../../ingest/event.ts';
import type { Attribution, VictimMechanism } from '../verdict.ts';

/**
 * Did the OOM killer shoot the process that held the memory? The kernel chooses by badness:
 * resident + swapped + page-table pages, plus oom_score_adj thousandths of the limit (and, before
 * 4.17, minus 3% of it for root tasks, clamped to 1). A victim far smaller than the largest task
 * was chosen by one of those rules, not by its size, and which one decides the remedy.
 */

/** A victim holding less than this share of the largest task's badness pages was not the hog. */
const WRONG_VICTIM_RATIO = 0.5;

/** The verdict's `oom` block: the schema in correlate/verdict.ts is its single source. */
export type VictimAnalysis = NonNullable<Attribution['oom']>;

/** What the kernel counts of a task before oom_score_adj. */
const badnessPages = (t: OomTask) => t.rss_pages + (t.swap_pages ?? 0) + (t.pgtable_pages ?? 0);

export function victimAnalysis(o: OomReport): VictimAnalysis {
  const out: VictimAnalysis = { wrong_victim: false };
  if (o.memcg) out.memcg = o.memcg;
  if (o.limit_kb !== undefined) out.limit_kb = o.limit_kb;
  if (o.usage_kb !== undefined) out.usage_kb = o.usage_kb;
  if (o.kernel) out.kernel = o.kernel;
  const v = o.victim ?? o.chosen;
  if (v) out.victim = `${v.name}[${v.pid ?? '?'}]`;
  const row = o.tasks.find((t) => t.pid === v?.pid);
  const victimPages = row?.rss_pages ?? (o.victim?.anon_rss_kb !== undefined ? Math.round((o.victim.anon_rss_kb + (o.victim.file_rss_kb ?? 0)) / 4) : undefined);
  if (victimPages !== undefined) out.victim_rss_pages = victimPages;
  if (row?.oom_score_adj !== undefined) out.victim_oom_score_adj = row.oom_score_adj;
  const largest = [...o.tasks].sort((a, b) => badnessPages(b) - badnessPages(a))[0];
  if (!largest) return out;
  out.largest_task = `${largest.name}[${largest.pid}]`;
  out.largest_rss_pages = largest.rss_pages;
  if (largest.oom_score_adj !== undefined) out.largest_oom_score_adj = largest.oom_score_adj;
  const victimBadness = row ? badnessPages(row) : victimPages;
  out.wrong_victim = victimBadness !== undefined && largest.pid !== v?.pid && victimBadness < badnessPages(largest) * WRONG_VICTIM_RATIO;
  if (out.wrong_victim) out.mechanism = mechanismOf(o, row, largest);
  return out;
}

function mechanismOf(o: OomReport, victim: OomTask | undefined, largest: OomTask): VictimMechanism {
  if ((victim?.oom_score_adj ?? 0) > (largest.oom_score_adj ?? 0)) return 'oom_score_adj';
  const release = /^(\d+)\.(\d+)/.exec(o.kernel ?? '');
  // The root discount went in 4.17; `score N or sacrifice child` is printed only by the kernels that had it.
  const hadRootDiscount = release ? Number(release[1]) * 1000 + Number(release[2]) < 4017 : o.chosen?.score !== undefined;
  return hadRootDiscount ? 'root-discount' : 'unexplained';
}

/** The explanation and remedy of a wrong victim, by what made the kernel choose it. */
export function wrongVictimStory(a: VictimAnalysis): { explanation: string; remedy: string } {
  const victim = a.victim ?? 'the victim';
  const largest = a.largest_task ?? 'the largest task';
  const sizes = `${victim} held ${a.victim_rss_pages ?? '?'} pages, ${largest} ${a.largest_rss_pages ?? '?'}`;
  switch (a.mechanism) {
    case 'oom_score_adj':
      return {
        explanation: `The kernel adds oom_score_adj thousandths of the limit to a task's badness. ${victim} had oom_score_adj ${a.victim_oom_score_adj} against ${a.largest_oom_score_adj ?? 0} for ${largest}, which outweighed its size (${sizes}): it was killed first, freed little, and the memory stayed with ${largest}.`,
        remedy: `Find what raised ${victim}'s oom_score_adj (the program itself, a wrapper, a sidecar or the orchestrator's QoS class; children inherit it) and leave it at 0 for helpers that hold little memory, or give the process that should go first the higher value.`,
      };
    case 'root-discount':
      return {
        explanation: `On kernels before 4.17 the badness score is a task's resident memory as a share of the limit, in thousandths, rounded down, minus 30 for root tasks (3%), and never below 1. With hundreds of small workers none scores above 1, so a tiny system process (init, mingetty) that also scores 1 can be chosen (${sizes}); killing it frees nothing, the cgroup stays at its limit and the container locks up at 100% CPU.`,
        remedy: 'Give the workers a positive oom_score_adj (or the system processes -1000), reduce the number of processes per container, and upgrade the kernel: 4.17+ scores in pages without the root discount that makes every small task equal.',
      };
    default:
      return {
        explanation: `By the task table ${victim} should have scored below ${largest} (${sizes}, oom_score_adj ${a.victim_oom_score_adj ?? '?'} against ${a.largest_oom_score_adj ?? '?'}), yet it was chosen: the kernel prefers a task that is already exiting or being reaped, and kills the allocating task itself when vm.oom_kill_allocating_task is 1.`,
        remedy: 'Check vm.oom_kill_allocating_task and whether the victim was exiting at the time; if neither, keep the report: it shows a choice the task table does not explain.',
      };
  }
}
