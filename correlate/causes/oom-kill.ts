import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { S, mentions } from '../context.ts';
import { victimAnalysis, wrongVictimStory } from './oom-victim.ts';

function inContainer(e: Ev, ctx: IncidentContext): boolean {
  if (mentions(e, ctx.containerId)) return true;
  const o = e.exit137.oom;
  if (!o) return false;
  if ([o.memcg, o.task_memcg, o.cpuset].some((p) => p?.includes(ctx.containerId.slice(0, 12)))) return true;
  return o.victim?.pid !== undefined && ctx.initPids.has(o.victim.pid);
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
    const story = analysis.wrong_victim ? wrongVictimStory(analysis) : undefined;
    const limit = o?.limit_kb !== undefined ? `${Math.round(o.limit_kb / 1024)} MiB` : 'its limit';
    const f: Finding = {
      cause: 'oom-kill',
      subCause: analysis.wrong_victim ? 'wrong-victim' : o?.global ? 'global-oom' : 'memcg-oom',
      confidence: report ? 0.95 : 0.8,
      confidenceReason: report ? 'the kernel’s OOM report names this container’s memory cgroup' : 'the runtime reported an OOM for this container (no kernel report in the input)',
      headline: analysis.wrong_victim
        ? `memory cgroup OOM: the kernel killed ${analysis.victim} (${analysis.victim_rss_pages} pages) while ${analysis.largest_task} held ${analysis.largest_rss_pages}`
        : `the kernel OOM killer killed ${analysis.victim ?? 'the container’s process'}: the container reached ${limit}`,
      explanation: story
        ? `The container hit its memory limit and the OOM killer chose a small process. ${story.explanation}`
        : `The container’s memory cgroup reached ${limit}${o?.usage_kb !== undefined ? ` (usage ${Math.round(o.usage_kb / 1024)} MiB)` : ''} and the kernel’s OOM killer sent SIGKILL. Note that “invoked oom-killer” names the task that was allocating, not the victim.`,
      remedy: story
        ? story.remedy
        : 'Raise the memory limit or reduce the application’s memory (heap/cache sizes); check for a leak in the container’s memory over time.',
      evidence,
      exitOrigin: 'oom',
      oom: analysis,
      signal: 'SIGKILL',
    };
    return f;
  },
};
