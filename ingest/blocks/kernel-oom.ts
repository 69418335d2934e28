import type { OomReport, OomTask } from '../event.ts';
import type { BlockKind } from './block.ts';
import type { Draft } from '../readers/draft.ts';
import { cgroupContainer, containerIdsIn } from '../ids.ts';

const INVOKED = /^(.+?) invoked oom-killer: /;
// `[ pid ]`, `[  pid  ]` (4.19+), or `pid ]` when dmesg inside a container ate the bracket as a stamp
const TABLE_HEADER = /^\[?\s*pid\s*\]\s+(uid\s.*)$/;
const TASK_ROW = /^\[\s*(\d+)\]\s+(.*)$/;
const CHOSEN = /^(?:Memory cgroup out of memory|Out of memory(?: \([^)]*\))?): Kill process (\d+) \((.*)\) score (\d+) or sacrifice child$/;
const KILLED = /^(?:(Memory cgroup out of memory|Out of memory(?: \([^)]*\))?): )?Killed process (\d+)?,?(?: UID (\d+),)? ?\((.*?)\),?(?: UID \d+,)? total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB(?:, shmem-rss:(\d+)kB)?(?:, UID:(\d+))?/;
const TASK_IN = /^Task in (\S+) killed as a result of limit of (\S+)$/;
const OOM_KILL = /^oom-kill:constraint=/;
/**
 * Where a report may start: its first line, or any line a paste or a grep left first (the header
 * cut: `Task in …`, `memory: usage …`, `Memory cgroup stats for …`, the task table), down to the
 * one-line summaries that say alone who was killed (`oom-kill:constraint=…`, `Killed process …`).
 */
const START = [
  INVOKED,
  /^.+? cpuset=\S+ mems_allowed=/,
  TASK_IN,
  /^memory: usage \d+kB, limit \d+kB, failcnt \d+$/,
  /^Memory cgroup stats for \//,
  TABLE_HEADER,
  /^Tasks state \(memory values in pages\):$/,
  // a row of the task table whose header was cut: pid, uid, tgid and at least three numbers more
  /^\[\s*\d+\]\s+\d+\s+\d+(?:\s+\d+){3,}/,
  OOM_KILL,
  /^(?:Memory cgroup out of memory|Out of memory(?: \([^)]*\))?): Kill/,
  /^Killed process \d+/,
];

type State = { killed: boolean };

/**
 * The kernel OOM killer's report, kernel 2.6.32 to 6.x (FORMATS.md §4): who invoked it (the
 * allocating task, not the victim), the memcg and its limit, the task table, and the victim.
 */
export const kernelOom: BlockKind<OomReport, State> = {
  name: 'kernel-oom',
  starts: (t) => START.some((re) => re.test(t)),
  // a report that starts at its victim line (a grep, a cut paste) has only the reaper's note to come
  init: (first) => ({ killed: KILLED.test(first) }),
  accepts(t, s) {
    if (s.killed) {
      // After the victim line only the reaper's note belongs to the report.
      return /^oom_reaper: reaped process/.test(t) ? 'end' : 'no';
    }
    // Another report, or a record that is not part of any report, closes a report that lost its victim line.
    if (/^INFO: task .+ blocked for more than/.test(t) || /^audit: type=/.test(t)) return 'no';
    if (KILLED.test(t)) {
      s.killed = true;
      return 'yes';
    }
    return 'yes';
  },
  finish(lines, complete) {
    const r: OomReport = { tasks: [], global: false, complete };
    let columns: string[] | undefined;
    let summary: NonNullable<OomReport['victim']> | undefined;
    for (const t of lines) {
      let m = INVOKED.exec(t);
      if (m) {
        r.invoker = { name: m[1]! };
        continue;
      }
      m = /^CPU: \d+ (?:UID: \d+ )?PID: (\d+) Comm: (.+?)(?: Kdump: loaded)? (?:Not tainted|Tainted: [^0-9]*?) ?(\d+\.\d+\S*)?(?: #|$)/.exec(t);
      if (m && r.invoker && r.invoker.pid === undefined && r.invoker.name === m[2]) {
        r.invoker.pid = Number(m[1]);
        if (m[3]) r.kernel = m[3];
        continue;
      }
      m = /^(.+?) cpuset=(\S+) mems_allowed=/.exec(t);
      if (m) {
        r.cpuset = m[2]!;
        continue;
      }
      m = TASK_IN.exec(t);
      if (m) {
        r.task_memcg = m[1]!;
        r.memcg = m[2]!;
        continue;
      }
      m = /^memory: usage (\d+)kB, limit (\d+)kB, failcnt (\d+)$/.exec(t);
      if (m) {
        r.usage_kb = Number(m[1]);
        r.limit_kb = Number(m[2]);
        r.failcnt = Number(m[3]);
        continue;
      }
      m = /^Memory cgroup stats for (\S+?):?(?: .*)?$/.exec(t);
      if (m && !r.memcg) {
        r.memcg = m[1]!;
        continue;
      }
      if (t.startsWith('oom-kill:')) {
        const kv = Object.fromEntries(t.slice(9).split(',').map((p) => p.split('=') as [string, string]));
        if (kv.constraint) r.constraint = kv.constraint;
        if (kv.oom_memcg) r.memcg = kv.oom_memcg;
        if (kv.task_memcg) r.task_memcg = kv.task_memcg;
        if (kv.global_oom !== undefined) r.global = true;
        // 4.19+ names the victim here too: alone (a grep for oom-kill) it is all there is
        if (kv.task !== undefined && kv.pid !== undefined && /^\d+$/.test(kv.pid)) {
          summary = { name: kv.task, pid: Number(kv.pid) };
          if (kv.uid !== undefined && /^\d+$/.test(kv.uid)) summary.uid = Number(kv.uid);
        }
        continue;
      }
      m = TABLE_HEADER.exec(t);
      if (m) {
        columns = m[1]!.trim().split(/\s+/);
        continue;
      }
      m = TASK_ROW.exec(t);
      if (m && columns) {
        const task = taskRow(Number(m[1]), m[2]!, columns);
        if (task) r.tasks.push(task);
        continue;
      }
      m = CHOSEN.exec(t);
      if (m) {
        r.chosen = { pid: Number(m[1]), name: m[2]!, score: Number(m[3]) };
        if (t.startsWith('Out of memory')) r.global = true;
        continue;
      }
      m = KILLED.exec(t);
      if (m) {
        const v: NonNullable<OomReport['victim']> = { name: m[4]!, total_vm_kb: Number(m[5]), anon_rss_kb: Number(m[6]), file_rss_kb: Number(m[7]) };
        if (m[2]) v.pid = Number(m[2]);
        if (m[8]) v.shmem_rss_kb = Number(m[8]);
        // RHEL 7.9 puts the UID after the comm: `Killed process 18177 (palo_be), UID 0, total-vm:…`
        const uid = m[3] ?? m[9] ?? /\), UID (\d+),/.exec(t)?.[1];
        if (uid) v.uid = Number(uid);
        r.victim = v;
        if (m[1]?.startsWith('Out of memory')) r.global = true;
      }
    }
    if (r.constraint === 'CONSTRAINT_NONE') r.global = true;
    if (!r.victim && summary) r.victim = summary;
    return r;
  },
  drafts(oom, complete): Draft[] {
    const v = oom.victim ?? oom.chosen;
    const where = oom.global ? 'global' : `memcg ${oom.memcg ?? oom.task_memcg ?? '?'}`;
    const d: Draft = {
      kind: 'kernel-oom',
      source: 'kernel',
      action: 'oom-kill',
      type: 'end',
      oom,
      message: v ? `OOM killer (${where}) killed ${v.name}[${v.pid ?? '?'}]` : `OOM killer (${where}) invoked${oom.invoker ? ` by ${oom.invoker.name}` : ''}; the victim is not in the excerpt`,
      tags: complete ? [] : ['incomplete'],
    };
    if (v?.pid !== undefined) d.process = { pid: v.pid, name: v.name };
    // the OOM killer kills with SIGKILL: a victim named (or chosen) is a process that got it
    if (v) d.signal = { number: 9, name: 'SIGKILL' };
    // the victim's container is its memory cgroup's innermost id (task_memcg, else the OOM's memcg);
    // cpuset is the allocating task's, read only when no memcg is known (3.x docker nodes)
    const id = cgroupContainer(oom.task_memcg) ?? cgroupContainer(oom.memcg) ?? (oom.task_memcg || oom.memcg ? undefined : containerIdsIn(oom.cpuset ?? '')[0]);
    if (id) d.container = { id };
    return [d];
  },
};

/** One row of the task table; the column names come from the header, which changed across kernels. */
function taskRow(pid: number, rest: string, columns: string[]): OomTask | undefined {
  const numeric = columns.filter((c) => c !== 'name');
  const parts = rest.trim().split(/\s+/);
  if (parts.length < numeric.length + 1) return undefined;
  const values: Record<string, number> = {};
  for (let i = 0; i < numeric.length; i++) {
    const v = Number(parts[i]);
    if (!Number.isFinite(v)) return undefined;
    values[numeric[i]!] = v;
  }
  const name = parts.slice(numeric.length).join(' ');
  const rss = values.rss ?? (values.rss_anon ?? 0) + (values.rss_file ?? 0) + (values.rss_shmem ?? 0);
  const task: OomTask = { pid, rss_pages: rss, name };
  if (values.uid !== undefined) task.uid = values.uid;
  if (values.tgid !== undefined) task.tgid = values.tgid;
  if (values.total_vm !== undefined) task.total_vm = values.total_vm;
  if (values.oom_score_adj !== undefined) task.oom_score_adj = values.oom_score_adj;
  if (values.swapents !== undefined) task.swap_pages = values.swapents;
  // 4.x+ print page tables in bytes, 3.x as a count of pages (nr_ptes)
  if (values.pgtables_bytes !== undefined) task.pgtable_pages = Math.ceil(values.pgtables_bytes / 4096);
  else if (values.nr_ptes !== undefined) task.pgtable_pages = values.nr_ptes;
  return task;
}
