import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { victimAnalysis, wrongVictimStory } from '../causes/oom-victim.ts';
import type { Ev } from '../context.ts';
import { evidenceItem } from '../context.ts';
import { byHost } from '../incidents.ts';
import type { NodeFinding } from './finding.ts';
import { matchSignature } from './stack-signatures.ts';

/** Dying memory cgroups are a leak when they outnumber the live ones this many times over… */
const LEAK_RATIO = 4;
/** …and are at least this many (a handful of dying cgroups is normal churn). */
const LEAK_MIN_DYING = 40;

const id = (...parts: string[]) => `node-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 24)}`;

/** When a finding was seen, and whether those are real instants (a pasted stack or dmesg without a boot time has none). */
function seen(first: Ev, last: Ev): Pick<NodeFinding, 'first_seen' | 'last_seen' | 'time_basis'> {
  return { first_seen: first['@timestamp'], last_seen: last['@timestamp'], time_basis: last.exit137.time.basis };
}

/** Node-health findings from one input's events: stacks of blocked tasks, memcg counts, OOM reports. */
export function findHealth(events: NormalizedEvent[]): NodeFinding[] {
  const out: NodeFinding[] = [];
  for (const [host, evs] of byHost(events.filter((e) => ['kernel-hung-task', 'task-stack', 'memcg-sample', 'kernel-oom'].includes(e.exit137.kind)))) {
    evs.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    out.push(...stackFindings(host, evs), ...memcgFindings(host, evs), ...oomFindings(host, evs));
  }
  return out;
}

function stackFindings(host: string, evs: Ev[]): NodeFinding[] {
  const bySig = new Map<string, Ev[]>();
  for (const e of evs) {
    const h = e.exit137.hung_task;
    if (!h) continue;
    const sig = matchSignature(h.stack);
    if (!sig) continue;
    bySig.set(sig.id, [...(bySig.get(sig.id) ?? []), e]);
  }
  return [...bySig.entries()].map(([sigId, list]) => {
    const sig = matchSignature(list[0]!.exit137.hung_task!.stack)!;
    const tasks = list.map((e) => {
      const h = e.exit137.hung_task!;
      const t: NonNullable<NodeFinding['tasks']>[number] = { name: h.name, pid: h.pid, stack: h.stack };
      if (h.cgroup) t.cgroup = h.cgroup;
      return t;
    });
    const names = [...new Set(tasks.map((t) => (t.pid ? `${t.name}:${t.pid}` : t.name)))];
    return {
      finding_id: id(host, sigId, list[0]!.event.id),
      host,
      finding: sig.finding,
      signature: sig.id,
      severity: sig.finding === 'cgroup-teardown-freeze' ? 'critical' : 'warning',
      confidence: 0.9,
      ...seen(list[0]!, list.at(-1)!),
      headline: `${names.slice(0, 4).join(', ')}${names.length > 4 ? ` and ${names.length - 4} more` : ''} blocked: ${sig.meaning}`,
      explanation: sig.explanation,
      remedy: sig.remedy,
      tasks,
      evidence: list.slice(0, 10).map((e) => evidenceItem(e, `stack matches ${sig.frames.join(' + ')}`)),
    } satisfies NodeFinding;
  });
}

function memcgFindings(host: string, evs: Ev[]): NodeFinding[] {
  // a full count: both sides read (the collector's samples)
  const samples = evs.filter((e) => e.exit137.memcg?.kernel_cgroups !== undefined && e.exit137.memcg.live_cgroups !== undefined && e.exit137.memcg.dying_cgroups !== undefined);
  if (samples.length === 0) return [];
  const last = samples.at(-1)!;
  const m = last.exit137.memcg as Required<Pick<NonNullable<Ev['exit137']['memcg']>, 'kernel_cgroups' | 'live_cgroups' | 'dying_cgroups'>>;
  if (m.dying_cgroups < LEAK_MIN_DYING || m.dying_cgroups < LEAK_RATIO * m.live_cgroups) return [];
  const first = samples[0]!;
  const hours = Number(last.ns - first.ns) / 3.6e12;
  const memcg: NonNullable<NodeFinding['memcg']> = { kernel_cgroups: m.kernel_cgroups, live_cgroups: m.live_cgroups, dying_cgroups: m.dying_cgroups, samples: samples.length };
  if (hours > 0) memcg.growth_per_hour = Math.round((m.dying_cgroups - first.exit137.memcg!.dying_cgroups!) / hours);
  const growing = memcg.growth_per_hour !== undefined && memcg.growth_per_hour > 0;
  return [
    {
      finding_id: id(host, 'memcg-leak', first.event.id),
      host,
      finding: 'memcg-leak',
      severity: m.dying_cgroups > 10_000 ? 'critical' : 'warning',
      confidence: samples.length > 1 && growing ? 0.9 : 0.75,
      ...seen(first, last),
      headline: `memory cgroup leak: ${m.dying_cgroups} removed memory cgroups still held by the kernel against ${m.live_cgroups} live${growing ? `, growing ${memcg.growth_per_hour}/hour` : ''}`,
      explanation:
        'Every short-lived cgroup (a container, a cron job or login session under systemd-logind) that read files leaves page cache charged to it; after rmdir the kernel keeps the cgroup until that cache is reclaimed. They pile up (v1 caps memory cgroups at 65,535: then mkdir fails with “no space left on device”), and walks over all of them (cache_reap, memory.stat) burn CPU and stall kworkers.',
      remedy:
        'Short term: echo 3 > /proc/sys/vm/drop_caches frees them (costs a cold page cache, node-wide I/O). Longer: boot with cgroup.memory=nokmem (needs a reboot; stops kmem accounting, not the page-cache pinning), loginctl enable-linger for users who log in often (one lasting cgroup per user instead of one per session), fewer short-lived cgroups from cron; a kernel with memcg reparenting of page cache (5.x+ series) fixes the cause.',
      memcg,
      evidence: [first, last].filter((e, i, a) => a.indexOf(e) === i).map((e) => evidenceItem(e, 'memory cgroups counted')),
    },
  ];
}

function oomFindings(host: string, evs: Ev[]): NodeFinding[] {
  const out: NodeFinding[] = [];
  for (const e of evs) {
    const o = e.exit137.oom;
    if (!o || o.tasks.length < 2) continue;
    const a = victimAnalysis(o);
    if (!a.wrong_victim) continue;
    out.push({
      finding_id: id(host, 'oom-wrong-victim', e.event.id),
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
    });
  }
  return out;
}
