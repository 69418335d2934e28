import type { OomReport, OomTask } from '../../ingest/event.ts';
import { victimAnalysis, wrongVictimStory } from '../causes/oom-victim.ts';
import type { Ev } from '../context.ts';
import { evidenceItem } from '../context.ts';
import type { NodeFinding, PartialVictimMechanism } from './finding.ts';
import { findingId, seen } from './common.ts';

/**
 * `Kill process N (x) score S or sacrifice child` prints the chosen task's badness in thousandths
 * of the memory the OOM is about (the node's, or the cgroup's limit). The task the killer chose is
 * the one that scored highest; at or below this share of the memory, no task holds what ran out.
 */
const LOW_SCORE = 100;
/**
 * What a victim must hold, at least, to be taken for the task that held the memory when the report
 * has no task table (KiB). A cgroup's victim under 1 MiB frees nothing that matters to any limit;
 * a child the kernel killed in its parent's place, under 16 MiB, is a helper, not the hog. A
 * node-wide OOM victim under 64 MiB: the node's memory was not in it, nor in any bigger task.
 */
const SMALL_KB = { memcg: 1024, child: 16 * 1024, global: 64 * 1024 };
/** With a task table: a sacrificed child holding less than this share of the chosen task's badness left the memory with it. */
const CHILD_SHARE = 0.75;

/** The node agents whose death takes the node's containers with them. */
const NODE_AGENT = /^(?:containerd|dockerd|kubelet|crio|conmon|systemd(?:-\w+)?|journald|sshd|kube-proxy|containerd-shim.*)$/;

type Partial = { mechanism: PartialVictimMechanism; confidence: number; says: string; explanation: string; remedy: string; chosen?: string; score?: number };

const rssKb = (v: NonNullable<OomReport['victim']>) => (v.anon_rss_kb ?? 0) + (v.file_rss_kb ?? 0) + (v.shmem_rss_kb ?? 0);
const badness = (t: OomTask) => t.rss_pages + (t.swap_pages ?? 0) + (t.pgtable_pages ?? 0);

/**
 * Why a report shows a wrong victim by the kernel's own words: it chose one task and killed
 * another (its child), or says how little the chosen one held, or the victim's size does. A
 * victim whose size shows it held the memory is never called wrong here, whatever the score says
 * (a Guaranteed pod's only big task scores 0 too).
 */
function partialVictim(o: OomReport): Partial | undefined {
  const v = o.victim;
  const c = o.chosen;
  const victim = v ? `${v.name}[${v.pid ?? '?'}]` : c ? `${c.name}[${c.pid}]` : '?';
  const kb = v && v.anon_rss_kb !== undefined ? rssKb(v) : undefined;
  const small = (limit: number) => kb !== undefined && kb < limit;
  if (v?.pid !== undefined && c && c.pid !== v.pid) {
    // by the table when it lists both; else by the child's own size
    const vRow = o.tasks.find((t) => t.pid === v.pid);
    const cRow = o.tasks.find((t) => t.pid === c.pid);
    const byTable = vRow && cRow ? badness(vRow) < CHILD_SHARE * badness(cRow) : undefined;
    if (byTable === false || (byTable === undefined && !small(o.global ? SMALL_KB.global : SMALL_KB.child))) return undefined;
    const sizes = vRow && cRow ? ` (${badness(vRow)} pages against ${badness(cRow)})` : kb !== undefined ? ` (${kb} kB resident)` : '';
    return {
      mechanism: 'sacrificed-child',
      confidence: byTable ? 0.8 : 0.7,
      chosen: `${c.name}[${c.pid}]`,
      ...(c.score !== undefined ? { score: c.score } : {}),
      says: `chose ${c.name}[${c.pid}]${c.score !== undefined ? ` (score ${c.score})` : ''} and killed its child ${victim}${sizes}`,
      explanation: `Before 5.1 the OOM killer, having chosen the task with the highest badness (${c.name}[${c.pid}]), killed one of its children instead when a child had memory of its own (“or sacrifice child”), whatever the child's oom_score_adj${vRow?.oom_score_adj !== undefined ? ` (${victim}: ${vRow.oom_score_adj})` : ''}. The child held less than the chosen task, so the kill freed less than it holds; ${c.name} kept its memory and the OOM comes back.`,
      remedy: 'Make the task that should go first the one the kernel chooses and kills: on kernels before 5.1 a parent that holds the memory and forks helpers (a supervisor, an agent running tools, a runtime starting a container) loses a child each time; raise the limit or move the helpers out of the cgroup, or take a kernel ≥ 5.1 (no child sacrifice).',
    };
  }
  const score = c?.score;
  const bigVictim = kb !== undefined && !small(o.global ? SMALL_KB.global : SMALL_KB.child);
  if (score !== undefined && score <= LOW_SCORE && !bigVictim) {
    const tie = score === 0;
    return {
      mechanism: 'low-score',
      confidence: tie ? 0.75 : 0.7,
      score,
      says: `chose ${victim} with score ${score}${kb !== undefined ? ` (${kb} kB resident)` : ''}: the highest-scoring task held ${tie ? 'nothing the killer counts' : `${(score / 10).toFixed(1)}% of the memory`}`,
      explanation: tie
        ? `The score is the chosen task's badness in thousandths of the ${o.global ? "node's" : "cgroup's"} memory, after oom_score_adj. A score of 0 means every task the killer could choose scored the floor: their oom_score_adj (-998 for Kubernetes Guaranteed pods and for the pause container, -999 for node agents) outweighed what they hold, so they tied, and the first in the task list (${victim}) was killed. The kill frees next to nothing: the memory is in the protected tasks, or in no task at all (page cache the cgroup cannot write back fast enough, kernel memory, tmpfs).`
        : `The score is the chosen task's badness in thousandths of the ${o.global ? "node's" : "cgroup's"} memory. At ${score} the largest task held ${(score / 10).toFixed(1)}%: the memory that ran out is not in any task the killer can choose (kernel memory and slab charged to the ${o.global ? 'node' : 'cgroup'}, tmpfs or shared memory, page cache it cannot reclaim, or tasks at oom_score_adj -1000). Killing ${victim} frees little and the OOM repeats.`,
      remedy: tie
        ? "Look at the cgroup's memory.stat (rss against cache, dirty, kernel) to see where the memory is; if in the tasks, do not give them all the same protective oom_score_adj (leave the workload above its helpers: the pause container, agents); if in page cache or kernel memory, raise the limit or write less through the cgroup (dirty page cache counts against it)."
        : `Find where the memory is: memory.stat of the cgroup (kernel, slab, shmem, file) or /proc/meminfo (Slab, Shmem) for the node; with kmem accounting on a 3.x kernel, cgroup.memory=nokmem; a tmpfs filling up, its files.`,
    };
  }
  if (v && kb !== undefined && small(o.global ? SMALL_KB.global : SMALL_KB.memcg)) {
    const agent = NODE_AGENT.test(v.name);
    return {
      mechanism: 'small-victim',
      confidence: o.global ? 0.6 : 0.65,
      says: `killed ${victim}, which held ${kb} kB${agent ? ' (a node agent)' : ''}`,
      explanation: `The killer chooses the task with the highest badness; it chose ${victim}, holding ${kb} kB, so no task it could choose held more (or they were protected by oom_score_adj). The ${o.global ? "node's" : "cgroup's"} memory is not in its tasks: kernel memory and slab, tmpfs/shared memory, or protected processes. The kill frees almost nothing${agent ? `, and ${v.name} is a node agent: the containers it serves go with it` : ''}.`,
      remedy: `${agent ? `Protect ${v.name} (OOMScoreAdjust=-999 in its systemd unit, as the kubelet and dockerd have) and ` : ''}find where the memory went: /proc/meminfo (Slab, SUnreclaim, Shmem) or the cgroup's memory.stat; on 3.x kernels with kmem accounting, cgroup.memory=nokmem.`,
    };
  }
  return undefined;
}

/** OOM kills of a task that did not hold the memory: by the task table when the report has one, else by what the report says. */
export function oomFindings(host: string, evs: Ev[]): NodeFinding[] {
  const groups = new Map<string, { finding: NodeFinding; events: Ev[] }>();
  for (const e of evs) {
    const o = e.exit137.oom;
    if (!o) continue;
    let f: NodeFinding | undefined;
    if (o.tasks.length >= 2) {
      const a = victimAnalysis(o);
      if (a.wrong_victim) {
        f = {
          finding_id: findingId(host, 'oom-wrong-victim', e.event.id),
          host,
          finding: 'oom-wrong-victim',
          // the root-discount tie locks the container up; an adj-chosen victim is followed by the hog's own kill
          severity: a.mechanism === 'root-discount' ? 'critical' : 'warning',
          confidence: 0.85,
          ...seen(e, e),
          headline: `the OOM killer chose ${a.victim} (${a.victim_rss_pages} pages) while ${a.largest_task} held ${a.largest_rss_pages} pages, among ${o.tasks.length} tasks listed`,
          ...wrongVictimStory(a),
          oom: { victim: a.victim ?? '?', victim_rss_pages: a.victim_rss_pages ?? 0, largest_task: a.largest_task ?? '?', largest_rss_pages: a.largest_rss_pages ?? 0, tasks: o.tasks.length, mechanism: a.mechanism ?? 'unexplained' },
          evidence: [evidenceItem(e, 'the kernel OOM report')],
        };
      }
    }
    // the table's sizes settle it when they show a wrong victim; else the report's own words
    if (!f) {
      const p = partialVictim(o);
      if (p) {
        const v = o.victim;
        const victim = v ? `${v.name}[${v.pid ?? '?'}]` : o.chosen ? `${o.chosen.name}[${o.chosen.pid}]` : '?';
        const oom: NonNullable<NodeFinding['oom']> = { victim, victim_rss_pages: v ? Math.round(rssKb(v) / 4) : 0, tasks: o.tasks.length, mechanism: p.mechanism };
        if (p.chosen) oom.chosen = p.chosen;
        if (p.score !== undefined) oom.score = p.score;
        f = {
          finding_id: findingId(host, 'oom-wrong-victim', e.event.id),
          host,
          finding: 'oom-wrong-victim',
          severity: 'warning',
          confidence: p.confidence,
          ...seen(e, e),
          headline: `the ${o.global ? 'node-wide' : 'cgroup'} OOM killer ${p.says}`,
          explanation: p.explanation,
          remedy: p.remedy,
          oom,
          ...(o.tasks.length < 2 ? { missing: ["the report's task table (the lines after `[ pid ]   uid  tgid total_vm      rss`): it shows which task held the memory"] } : {}),
          evidence: [evidenceItem(e, 'the kernel OOM report')],
        };
      }
    }
    if (!f) continue;
    // the same choice made again and again (a cgroup at its limit, a node-wide OOM per minute) is one finding
    const key = `${f.oom!.mechanism}|${f.oom!.victim.replace(/\[\d+\]$/, '')}|${o.global}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { finding: f, events: [e] });
    else {
      g.events.push(e);
      g.finding.last_seen = e['@timestamp'];
      g.finding.oom!.reports = g.events.length;
      if (g.finding.evidence.length < 10) g.finding.evidence.push(evidenceItem(e, 'the same choice again'));
    }
  }
  return [...groups.values()].map((g) => g.finding);
}
