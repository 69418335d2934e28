import type { OomReport } from '../../ingest/event.ts';
import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { S, mentions } from '../context.ts';

/** A victim holding less than this share of the largest task's memory was not the hog. */
const WRONG_VICTIM_RATIO = 0.1;

function inContainer(e: Ev, ctx: IncidentContext): boolean {
  if (mentions(e, ctx.containerId)) return true;
  const o = e.exit137.oom;
  if (!o) return false;
  if ([o.memcg, o.task_memcg, o.cpuset].some((p) => p?.includes(ctx.containerId.slice(0, 12)))) return true;
  return o.victim?.pid !== undefined && ctx.initPids.has(o.victim.pid);
}

export function victimAnalysis(o: OomReport): NonNullable<Finding['oom']> {
  const out: NonNullable<Finding['oom']> = { wrong_victim: false };
  if (o.memcg) out.memcg = o.memcg;
  if (o.limit_kb !== undefined) out.limit_kb = o.limit_kb;
  if (o.usage_kb !== undefined) out.usage_kb = o.usage_kb;
  const v = o.victim ?? o.chosen;
  if (v) out.victim = `${v.name}[${v.pid ?? '?'}]`;
  const row = o.tasks.find((t) => t.pid === v?.pid);
  const victimPages = row?.rss_pages ?? (o.victim?.anon_rss_kb !== undefined ? Math.round((o.victim.anon_rss_kb + (o.victim.file_rss_kb ?? 0)) / 4) : undefined);
  if (victimPages !== undefined) out.victim_rss_pages = victimPages;
  const largest = [...o.tasks].sort((a, b) => b.rss_pages - a.rss_pages)[0];
  if (largest) {
    out.largest_task = `${largest.name}[${largest.pid}]`;
    out.largest_rss_pages = largest.rss_pages;
    out.wrong_victim = victimPages !== undefined && largest.pid !== v?.pid && victimPages < largest.rss_pages * WRONG_VICTIM_RATIO;
  }
  return out;
}

/** The kernel's memory-cgroup OOM killer ended the container (or shot the wrong process in it). */
export const oomKill: CauseModule = {
  cause: 'oom-kill',
  assess(ctx) {
    const near = (e: Ev) => e.ns >= ctx.deathNs - 30n * S && e.ns <= ctx.deathNs + 5n * S;
    const report = ctx.evidence.find((e) => e.exit137.kind === 'kernel-oom' && near(e) && inContainer(e, ctx));
    const runtimeOom = ctx.evidence.find(
      (e) => near(e) && mentions(e, ctx.containerId) && ['task-oom-received', 'task-oom-published', 'container-oom', 'container-tasks-oom', 'docker-event-oom'].includes(e.exit137.message_id ?? e.event.action),
    );
    if (!report && !runtimeOom) return undefined;
    const evidence: Finding['evidence'] = [];
    if (report) evidence.push({ event: report, role: 'the kernel OOM killer’s report for this container’s memory cgroup' });
    if (runtimeOom) evidence.push({ event: runtimeOom, role: 'the runtime’s OOM event for this container' });
    const o = report?.exit137.oom;
    const analysis = o ? victimAnalysis(o) : { wrong_victim: false };
    const limit = o?.limit_kb !== undefined ? `${Math.round(o.limit_kb / 1024)} MiB` : 'its limit';
    const f: Finding = {
      cause: 'oom-kill',
      subCause: analysis.wrong_victim ? 'wrong-victim' : o?.global ? 'global-oom' : 'memcg-oom',
      confidence: report ? 0.95 : 0.8,
      confidenceReason: report ? 'the kernel’s OOM report names this container’s memory cgroup' : 'the runtime reported an OOM for this container (no kernel report in the input)',
      headline: analysis.wrong_victim
        ? `memory cgroup OOM: the kernel killed ${analysis.victim} (${analysis.victim_rss_pages} pages) while ${analysis.largest_task} held ${analysis.largest_rss_pages}`
        : `the kernel OOM killer killed ${analysis.victim ?? 'the container’s process'}: the container reached ${limit}`,
      explanation: analysis.wrong_victim
        ? 'The container hit its memory limit and the OOM killer chose a small process: the badness score is the task’s share of memory (rounded down, with a discount for root tasks), so with many small workers none of them scores above a tiny system process.'
        : `The container’s memory cgroup reached ${limit}${o?.usage_kb !== undefined ? ` (usage ${Math.round(o.usage_kb / 1024)} MiB)` : ''} and the kernel’s OOM killer sent SIGKILL. Note that “invoked oom-killer” names the task that was allocating, not the victim.`,
      remedy: analysis.wrong_victim
        ? 'Give the hog a higher oom_score_adj (or protect system processes with a negative one), reduce the number of processes, and upgrade the kernel (newer kernels score by pages without the 3% root discount rounding).'
        : 'Raise the memory limit or reduce the application’s memory (heap/cache sizes); check for a leak in the container’s memory over time.',
      evidence,
      exitOrigin: 'oom',
      oom: analysis,
      signal: 'SIGKILL',
    };
    return f;
  },
};
