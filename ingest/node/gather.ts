import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BlockedTaskSampler } from '../collectors/blocked-tasks.ts';
import { sampleMemcg } from '../collectors/memcg.ts';
import type { Format } from '../detect.ts';
import type { NormalizedEvent } from '../event.ts';
import type { Input } from '../sources/files.ts';
import { expandInputs } from '../sources/files.ts';
import { parseIsoNanos } from '../time/instant.ts';
import type { Nanos } from '../time/instant.ts';
import { firstLine, runBuffered, streamCommand } from './command.ts';
import { generationsOverlapping } from './generations.ts';
import type { NodeWindow } from './window.ts';
import { epochArg } from './window.ts';

/**
 * Where this node keeps its evidence. Every path and socket can be pointed elsewhere, so a lab's
 * private daemons (their sockets under the lab's directory, its own audit log) can be the node.
 */
export type NodeSourceOptions = {
  host: string;
  auditLog: string;
  /** Read when the node has no journal (or it was turned off). */
  syslog: string[];
  journal: boolean;
  /** journalctl -D: a journal directory other than the system's. */
  journalDir?: string;
  /** Units whose journal is read besides the kernel's. */
  units: string[];
  dmesg: boolean;
  /** `unix:///var/run/docker.sock`, `tcp://…`; false: do not ask docker. */
  dockerHost: string | false;
  /** containerd's socket: its events cannot be replayed, and a verdict says what that costs. */
  containerdAddress?: string;
  /** A CRI runtime's endpoint for crictl; undefined: the usual sockets, if one is there. */
  criEndpoint?: string;
  procRoot: string;
  cgroupRoot: string;
  /** Only this container (an id prefix or a name). */
  container?: string;
};

/** What a source is to a verdict: the kinds of evidence `missing` talks about. */
export type SourceKind = 'audit' | 'runtime-logs' | 'kernel' | 'exit-status' | 'node-state';

export type SourceStatus = {
  source: string;
  kind: SourceKind;
  read: boolean;
  /** What was read, or why not. */
  detail: string;
  /** Not on this node at all (no such daemon, tool or file): nothing was missed by not reading it. */
  absent?: boolean;
  /** What it gives a verdict, said in `missing` when it could not be read. */
  adds: string;
};

export type NodeGathering = {
  inputs: Input[];
  /** Events read from /proc and /sys rather than from lines. */
  samples: NormalizedEvent[];
  /** Boot time of the node, to place `dmesg`'s seconds since boot on the wall clock. */
  bootNs: Nanos;
  /** Each source's status; a command's, once it has ended (call after the inputs were read). */
  statuses: () => Promise<SourceStatus[]>;
};

const ADDS: Record<string, string> = {
  audit: 'who sent a SIGKILL: the process, its parent, uid and login uid (the exit137 audit rule pack)',
  journal: 'the engines’ and the kubelet’s lines (stop escalations, API kills, shim crashes, containerd’s cleanup) and the kernel’s',
  syslog: 'the engines’ lines (stop escalations, API kills, shim crashes, containerd’s cleanup)',
  dmesg: 'the kernel’s OOM kills and hung tasks',
  'docker events': 'each container’s kill, oom and die events with the exit status',
  'docker inspect': 'the exit status, OOMKilled and the finish time of the containers that exited',
  'containerd events': 'each task’s init pid and exit status, which tie an audited kill by pid to its container',
  crictl: 'the CRI’s exit status and reason (OOMKilled) of the containers that exited',
  'node state': 'tasks blocked in state D now and the memory cgroup counts (stuck kills, memcg leaks)',
};

/**
 * Gathers this node's evidence for a window: the audit log and its rotated generations, the
 * journal (or syslog files), dmesg, docker events replayed and `docker inspect` of the containers
 * that exited, crictl where a CRI runtime runs, and one sample of the collectors. Nothing is
 * written on the node: commands' output is read as it comes or kept in memory.
 */
export async function gatherNode(o: NodeSourceOptions, w: NodeWindow): Promise<NodeGathering> {
  const inputs: Input[] = [];
  const fixed: SourceStatus[] = [];
  const pending: Promise<SourceStatus>[] = [];
  // sources that add their input only once they have run (docker ps and inspect, crictl): the
  // caller starts reading `inputs` at once, so they are waited for before it is handed over
  const late: Promise<SourceStatus>[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  const until = w.toNs < now ? w.toNs : now;
  const status = (source: string, kind: SourceKind, read: boolean, detail: string, absent = false): SourceStatus => ({ source, kind, read, detail, adds: ADDS[source] ?? '', ...(absent ? { absent } : {}) });

  // --- the audit log: the live file and the generations rotated away within the window ---
  const audit = await readableFile(o.auditLog);
  if (!audit.ok) fixed.push(status('audit', 'audit', false, audit.why, audit.absent));
  else {
    const gens = await generationsOverlapping(o.auditLog, w.fromNs, w.toNs);
    inputs.push(...(await expandInputs(gens.map((g) => g.path), { format: 'audit', host: o.host })));
    fixed.push(status('audit', 'audit', true, gens.length ? `${gens.map((g) => g.path).join(', ')}` : `${o.auditLog}: nothing written in the window`));
  }

  // --- the journal (the engines' units and the kernel), else syslog files ---
  let journalRead = false;
  if (!o.journal) fixed.push(status('journal', 'runtime-logs', false, 'turned off (--no-journal)', true));
  else {
    const j = await journalAvailable(o.journalDir);
    if (!j.ok) fixed.push(status('journal', 'runtime-logs', false, j.why, j.absent));
    else {
      journalRead = true;
      const base = ['journalctl', ...(o.journalDir ? ['-D', o.journalDir] : []), '-o', 'json', '--no-pager', '--all', `--since=@${epochArg(w.fromNs)}`, `--until=@${epochArg(until)}`];
      const units = base.concat(o.units.flatMap((u) => ['-u', u]));
      // a separate query: -u and a field match would be ANDed; repeated matches of one field are ORed
      const kernel = base.concat(['_TRANSPORT=kernel', ...(audit.ok ? [] : ['_TRANSPORT=audit'])]);
      pending.push(commandSource(inputs, 'journal', 'runtime-logs', units, 'journal-json', o.host, (n) => `${n} entries of ${o.units.join(', ')}`));
      pending.push(commandSource(inputs, 'journal (kernel)', 'kernel', kernel, 'journal-json', o.host, (n) => `${n} kernel${audit.ok ? '' : ' and audit'} entries`));
    }
  }
  if (journalRead) fixed.push(status('syslog', 'runtime-logs', false, 'the journal holds the same lines', true));
  else {
    const present: string[] = [];
    const read: string[] = [];
    const why: string[] = [];
    for (const p of o.syslog) {
      const f = await readableFile(p);
      if (!f.ok) {
        if (!f.absent) why.push(f.why);
        continue;
      }
      present.push(p);
      const gens = await generationsOverlapping(p, w.fromNs, w.toNs);
      inputs.push(...(await expandInputs(gens.map((g) => g.path), { host: o.host })));
      read.push(...gens.map((g) => g.path));
    }
    if (present.length) fixed.push(status('syslog', 'runtime-logs', true, read.length ? read.join(', ') : `${present.join(', ')}: nothing written in the window`));
    else if (why.length) fixed.push(status('syslog', 'runtime-logs', false, why.join('; ')));
    else fixed.push(status('syslog', 'runtime-logs', false, o.syslog.length ? `none of ${o.syslog.join(', ')} exists` : 'no syslog files given', true));
  }

  // --- the kernel's ring buffer, placed on the wall clock from the boot time ---
  const bootNs = bootTime();
  if (o.dmesg) pending.push(commandSource(inputs, 'dmesg', 'kernel', ['dmesg'], 'kmsg', o.host, (n) => `${n} lines, boot at ${new Date(Number(bootNs / 1_000_000n)).toISOString()}`));

  // --- docker: events replayed for the window, and inspect of the containers that exited in it ---
  if (o.dockerHost !== false) {
    const sock = o.dockerHost.startsWith('unix://') ? o.dockerHost.slice(7) : undefined;
    const there = sock ? await stat(sock).then((s) => s.isSocket(), () => false) : true;
    if (!there) {
      fixed.push(status('docker events', 'exit-status', false, `no docker socket at ${sock} (docker is not running here)`, true));
      fixed.push(status('docker inspect', 'exit-status', false, `no docker socket at ${sock}`, true));
    } else {
      const docker = ['docker', '--host', o.dockerHost];
      pending.push(commandSource(inputs, 'docker events', 'exit-status', [...docker, 'events', '--since', epochArg(w.fromNs), '--until', epochArg(until), '--format', '{{json .}}'], 'docker-events', o.host, (n) => `${n} events from ${o.dockerHost} (dockerd keeps its last 256, since it started)`));
      late.push(dockerInspect(inputs, docker, o, w).then((r) => status('docker inspect', 'exit-status', r.ok, r.detail)));
    }
  }

  // --- containerd's events are a stream without a history: what they would have said is lost ---
  if (o.containerdAddress && (await stat(o.containerdAddress).then((x) => x.isSocket(), () => false))) {
    fixed.push(status('containerd events', 'exit-status', false, `containerd at ${o.containerdAddress} keeps no history of its events: exit137 watch, or ingest --ctr-events, records them as they come`));
  }

  // --- crictl, where a CRI runtime runs ---
  late.push(crictl(inputs, o, w).then((r) => status('crictl', 'exit-status', r.ok, r.detail, r.absent)));

  // --- one sample of what `collect` samples: tasks blocked in state D, memory cgroup counts ---
  const samples: NormalizedEvent[] = [];
  const notes: string[] = [];
  try {
    const blocked = new BlockedTaskSampler({ procRoot: o.procRoot, thresholdSeconds: 0, host: o.host, maxEntriesPerScan: 200_000, maxMillisPerScan: 5000 }).scan();
    samples.push(...blocked.events);
    notes.push(`${blocked.stats.entries} tasks, ${blocked.stats.blocked} in state D`);
  } catch (e) {
    notes.push(`tasks unreadable: ${(e as Error).message}`);
  }
  try {
    const m = sampleMemcg({ procRoot: o.procRoot, cgroupRoot: o.cgroupRoot, host: o.host });
    samples.push(m);
    notes.push(m.message ?? 'memory cgroups');
  } catch (e) {
    notes.push(`memory cgroups unreadable: ${(e as Error).message}`);
  }
  fixed.push(status('node state', 'node-state', samples.length > 0, notes.join('; ')));

  // Read while they were still running, they were missed whenever the reading got to the end
  // first: a file read without yielding to I/O (ingest/run.ts) always did, and the lab's node
  // form lost the exit status docker inspect alone still held (the lab restarts dockerd, whose
  // event history then holds 4 events).
  const added = await Promise.all(late);
  return { inputs, samples, bootNs, statuses: async () => [...fixed, ...(await Promise.all(pending)), ...added] };
}

/** Can this file be read, and if not, is it simply not there or kept from us? */
export async function readableFile(path: string): Promise<{ ok: true } | { ok: false; why: string; absent: boolean }> {
  try {
    await access(path, constants.R_OK);
    return { ok: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, why: `${path} does not exist`, absent: true };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, why: `${path}: permission denied${process.getuid?.() === 0 ? '' : ' (not root)'}`, absent: false };
    return { ok: false, why: `${path}: ${(e as Error).message}`, absent: false };
  }
}

/** Is there a journal to read: journald running, a persistent journal, or a directory given? */
export async function journalAvailable(dir?: string): Promise<{ ok: true } | { ok: false; why: string; absent: boolean }> {
  if (!dir) {
    const live = await stat('/run/systemd/journal/socket').then(() => true, () => false);
    const persistent = await stat('/var/log/journal').then((s) => s.isDirectory(), () => false);
    if (!live && !persistent) return { ok: false, why: 'no journal on this node (journald is not running)', absent: true };
  }
  const r = await runBuffered(['journalctl', ...(dir ? ['-D', dir] : []), '--no-pager', '-n', '0'], 20_000);
  if (!r.ok) return { ok: false, why: r.why ?? 'journalctl failed', absent: r.code === null };
  if (/No journal files were found/i.test(r.stderr)) return { ok: false, why: `no journal files${dir ? ` in ${dir}` : ''}`, absent: true };
  if (/not seeing messages from other users|insufficient permissions/i.test(r.stderr)) return { ok: false, why: `${firstLine(r.stderr)} (not root or in the systemd-journal group)`, absent: false };
  return { ok: true };
}

/** A command's output as one input; its status once it has ended. */
function commandSource(inputs: Input[], source: string, kind: SourceKind, argv: string[], format: Format, host: string, said: (lines: number) => string): Promise<SourceStatus> {
  const s = streamCommand(argv);
  inputs.push({ ref: { id: source, format, host }, open: s.open });
  return s.result.then((r) => ({ source, kind, read: r.ok, detail: r.ok ? said(r.lines) : `${argv.slice(0, 2).join(' ')}…: ${r.why}`, adds: ADDS[source.replace(/ \(.*\)$/, '')] ?? '', ...(r.code === null && !r.ok ? { absent: true } : {}) }));
}

function inWindow(iso: unknown, w: NodeWindow): boolean {
  if (typeof iso !== 'string' || iso.startsWith('0001-')) return false;
  const t = parseIsoNanos(iso);
  return t.ok && t.ns >= w.fromNs && t.ns <= w.toNs;
}

function isWanted(id: string, names: string[], want: string | undefined): boolean {
  if (!want) return true;
  return id.startsWith(want) || names.some((n) => n.replace(/^\//, '') === want.replace(/^\//, ''));
}

/** `docker inspect` of the containers that finished within the window, as one JSON document. */
async function dockerInspect(inputs: Input[], docker: string[], o: NodeSourceOptions, w: NodeWindow): Promise<{ ok: boolean; detail: string }> {
  const ps = await runBuffered([...docker, 'ps', '-a', '--no-trunc', '--filter', 'status=exited', '--filter', 'status=dead', '--format', '{{.ID}}']);
  if (!ps.ok) return { ok: false, detail: `docker ps: ${ps.why}` };
  const ids = ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const kept: unknown[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const r = await runBuffered([...docker, 'inspect', ...ids.slice(i, i + 100)]);
    if (!r.ok) return { ok: false, detail: `docker inspect: ${r.why}` };
    for (const c of JSON.parse(r.stdout) as { Id: string; Name?: string; State?: { FinishedAt?: string } }[]) {
      if (inWindow(c.State?.FinishedAt, w) && isWanted(c.Id, [c.Name ?? ''], o.container)) kept.push(c);
    }
  }
  if (kept.length) inputs.push({ ref: { id: 'docker inspect', format: 'raw', host: o.host }, open: () => Readable.from([Buffer.from(`${JSON.stringify(kept, null, 4)}\n`)]) });
  return { ok: true, detail: `${kept.length} of ${ids.length} stopped containers finished in the window` };
}

const CRI_SOCKETS = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock'];

/** `crictl inspect` of the CRI containers that finished within the window. */
async function crictl(inputs: Input[], o: NodeSourceOptions, w: NodeWindow): Promise<{ ok: boolean; detail: string; absent?: boolean }> {
  let endpoint = o.criEndpoint ?? process.env.CONTAINER_RUNTIME_ENDPOINT;
  if (!endpoint) {
    for (const s of CRI_SOCKETS) if (await stat(s.slice(7)).then((x) => x.isSocket(), () => false)) endpoint = s;
    if (!endpoint) return { ok: false, detail: 'no CRI runtime socket on this node', absent: true };
  }
  const cri = ['crictl', '--runtime-endpoint', endpoint, '--timeout', '10s'];
  const ps = await runBuffered([...cri, 'ps', '-a', '-o', 'json']);
  if (!ps.ok) return { ok: false, detail: `crictl ps -a at ${endpoint}: ${ps.why}`, absent: ps.code === null || /unknown service runtime|Unimplemented/i.test(ps.stderr) };
  const all = (JSON.parse(ps.stdout) as { containers?: { id: string; state?: string; metadata?: { name?: string } }[] }).containers ?? [];
  const exited = all.filter((c) => c.state === 'CONTAINER_EXITED' && isWanted(c.id, [c.metadata?.name ?? ''], o.container));
  const docs: string[] = [];
  for (const c of exited.slice(0, 500)) {
    const r = await runBuffered([...cri, 'inspect', '-o', 'json', c.id]);
    if (!r.ok) continue;
    const doc = JSON.parse(r.stdout) as { status?: { finishedAt?: string } };
    if (inWindow(doc.status?.finishedAt, w)) docs.push(JSON.stringify(doc, null, 2));
  }
  if (docs.length) inputs.push({ ref: { id: 'crictl inspect', format: 'raw', host: o.host }, open: () => Readable.from([Buffer.from(`${docs.join('\n')}\n`)]) });
  return { ok: true, detail: `${docs.length} of ${exited.length} exited CRI containers finished in the window (${endpoint})` };
}

/**
 * The wall-clock instant the kernel's printk clock counts from. That clock stops in suspend, as
 * CLOCK_MONOTONIC does (process.hrtime), unlike /proc/uptime's: realtime minus monotonic places
 * `dmesg` stamps, to the microsecond, where `dmesg -T` would.
 */
export function bootTime(): Nanos {
  const realtimeNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  return realtimeNs - process.hrtime.bigint();
}
