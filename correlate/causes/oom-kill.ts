import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { NO_CONTAINER, S, mentions } from '../context.ts';
import { victimAnalysis, wrongVictimStory } from './oom-victim.ts';

function inContainer(e: Ev, ctx: IncidentContext): boolean {
  if (mentions(e, ctx.containerId)) return true;
  const o = e.exit137.oom;
  if (!o) return false;
  if ([o.memcg, o.task_memcg, o.cpuset].some((p) => p?.includes(ctx.containerId.slice(0, 12)))) return true;
  return o.victim?.pid !== undefined && ctx.initPids.has(o.victim.pid);
}

/** A memory cgroup path of a container engine's (docker, kubepods, containerd, libpod, cri-o, lxc). */
const CONTAINER_MEMCG = /(^|\/)(docker|kubepods|system\.slice\/(docker|containerd|crio|cri-containerd)|libpod|machine\.slice\/libpod|lxc|garden|ecs)[-/.]/;

/** The runtime's or a CLI's word that the container was OOM-killed (docker inspect, kubectl, TaskOOM). */
const RUNTIME_OOM = new Set(['task-oom-received', 'task-oom-published', 'container-oom', 'container-tasks-oom', 'docker-event-oom', 'kubelet-oom-event']);
/** A program that saw its child SIGKILLed and guessed the OOM killer: a hint, worth less than a report. */
const OOM_GUESS = new Set(['istio-envoy-oom-guess']);

function saysOom(e: Ev): boolean {
  if (RUNTIME_OOM.has(e.exit137.message_id ?? e.event.action)) return true;
  const st = e.exit137.state;
  return st?.oom_killed === true || st?.reason === 'OOMKilled';
}

/**
 * A kernel report that names no container: one of a container's, by its memory cgroup or its
 * constraint, and not the host's own (a global OOM of /init.scope or /system.slice/sshd.service).
 */
function unnamedContainerReport(e: Ev): boolean {
  const o = e.exit137.oom;
  if (!o || e.container?.id) return false;
  const path = o.task_memcg ?? o.memcg;
  if (path !== undefined) return CONTAINER_MEMCG.test(path);
  // a report says `global` when it was (global_oom, CONSTRAINT_NONE, `Out of memory:`); one that
  // said nothing at all (a cut fragment) is no evidence of either
  if (o.global) return false;
  if (o.constraint === 'CONSTRAINT_MEMCG' || o.limit_kb !== undefined || o.victim !== undefined || o.chosen !== undefined || o.invoker !== undefined) return true;
  // a task table alone: the kubelet gives every pod's pause container oom_score_adj -998, so a
  // table that holds one is a pod's memory cgroup
  return o.tasks.some((t) => t.name === 'pause' && t.oom_score_adj === -998);
}

/** The container's own end (an exit status, a die) is in the input after the OOM. */
function exitedNear(ctx: IncidentContext, oom: Ev): boolean {
  if (ctx.exitCode !== undefined) return true;
  return ctx.evidence.some((e) => mentions(e, ctx.containerId) && e.exit137.exit !== undefined && !e.exit137.exit.exec_id && e.ns >= oom.ns - S);
}

/** The kernel's memory-cgroup OOM killer ended the container (or shot the wrong process in it). */
export const oomKill: CauseModule = {
  cause: 'oom-kill',
  opens(e) {
    if (saysOom(e)) return 'the runtime says OOM-killed';
    if (OOM_GUESS.has(e.exit137.message_id ?? '')) return 'a program guesses an OOM kill';
    if (e.exit137.kind === 'kernel-oom' && unnamedContainerReport(e)) return 'OOM kill';
    return undefined;
  },
  assess(ctx) {
    const near = (e: Ev) => e.ns >= ctx.deathNs - 30n * S && e.ns <= ctx.deathNs + 5n * S;
    let report = ctx.evidence.find((e) => e.exit137.kind === 'kernel-oom' && near(e) && inContainer(e, ctx));
    // a report that names no container, just before this one's exit: the pairing is by time
    const pairedByTime = !report && ctx.exitCode === 137 ? ctx.evidence.find((e) => e.exit137.kind === 'kernel-oom' && e.ns >= ctx.deathNs - 5n * S && e.ns <= ctx.deathNs + S && unnamedContainerReport(e)) : undefined;
    report ??= pairedByTime;
    const runtimeOom = ctx.evidence.find((e) => near(e) && mentions(e, ctx.containerId) && saysOom(e));
    if (!report && !runtimeOom) {
      const guess = ctx.evidence.find((e) => near(e) && mentions(e, ctx.containerId) && OOM_GUESS.has(e.exit137.message_id ?? ''));
      if (!guess) return undefined;
      return {
        cause: 'oom-kill',
        subCause: 'memcg-oom',
        confidence: 0.5,
        confidenceReason: 'a program saw its child SIGKILLed and guessed the OOM killer; no kernel report or runtime OOM event in the input',
        headline: 'likely an OOM kill (the program that watched it guesses so)',
        explanation: 'The process ended by SIGKILL and the program that supervised it suspects the memory cgroup OOM killer. Only the kernel’s OOM report (dmesg) or the runtime’s OOM event can confirm it.',
        remedy: 'Check the kernel log for the OOM report; raise the limit or find the growth (a leak in a sidecar shows as steady growth).',
        evidence: [{ event: guess, role: 'the supervising program’s guess' }],
        exitOrigin: 'signal',
        signal: 'SIGKILL',
        oom: { wrong_victim: false },
      };
    }
    const evidence: Finding['evidence'] = [];
    if (report) evidence.push({ event: report, role: 'the kernel OOM killer’s report for this container’s memory cgroup' });
    if (runtimeOom) evidence.push({ event: runtimeOom, role: 'the runtime’s OOM event for this container' });
    const o = report?.exit137.oom;
    const analysis = o ? victimAnalysis(o) : { wrong_victim: false };
    const story = analysis.wrong_victim ? wrongVictimStory(analysis) : undefined;
    const limit = o?.limit_kb !== undefined ? `${Math.round(o.limit_kb / 1024)} MiB` : 'its limit';
    // the runtime's oom event fires on every OOM kill in the container's memory cgroup, whichever
    // process the kernel chose: without the container's exit it may have lost a child and kept
    // running (a database whose backend was killed), so the event alone is no confident death
    const eventOnly = !report && runtimeOom !== undefined && RUNTIME_OOM.has(runtimeOom.exit137.message_id ?? runtimeOom.event.action) && !exitedNear(ctx, runtimeOom);
    const f: Finding = {
      cause: 'oom-kill',
      subCause: analysis.wrong_victim ? 'wrong-victim' : o?.global ? 'global-oom' : 'memcg-oom',
      confidence: pairedByTime ? (runtimeOom ? 0.85 : 0.7) : report ? (ctx.containerId === NO_CONTAINER ? 0.6 : 0.95) : eventOnly ? 0.6 : 0.8,
      confidenceReason: eventOnly
        ? 'the runtime reported an OOM in this container’s memory cgroup, but no exit of the container is in the input: the kernel may have killed one of its other processes and the container kept running'
        : pairedByTime
        ? `a kernel OOM report that names no container came ${Number((ctx.deathNs - pairedByTime.ns) / 1_000_000n)} ms before this container’s exit 137: paired by time${runtimeOom ? ', and the runtime says OOM too' : ''}`
        : report
          ? ctx.containerId === NO_CONTAINER
            ? 'the kernel’s OOM report for a container’s memory cgroup; the input does not say which container'
            : 'the kernel’s OOM report names this container’s memory cgroup'
          : 'the runtime reported an OOM for this container (no kernel report in the input)',
      headline: eventOnly
        ? 'an OOM kill in the container’s memory cgroup (the runtime’s oom event); its exit is not in the input'
        : analysis.wrong_victim
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
