import { createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { Option } from 'commander';
import { correlate } from '../correlate/analyze.ts';
import { isHealthEvidence } from '../correlate/health/findings.ts';
import { isEvidence } from '../correlate/incidents.ts';
import type { Attribution } from '../correlate/verdict.ts';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import type { Decoder } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import type { NodeSourceOptions, SourceStatus } from '../ingest/node/gather.ts';
import { gatherNode } from '../ingest/node/gather.ts';
import type { NodeWindow } from '../ingest/node/window.ts';
import { nodeWindow } from '../ingest/node/window.ts';
import { decodeInputs } from '../ingest/run.ts';
import { formatNanos, parseIsoNanos } from '../ingest/time/instant.ts';
import type { IngestCliOptions } from './options.ts';
import { decoderOptions } from './options.ts';

export const DEFAULT_UNITS = ['docker.service', 'containerd.service', 'crio.service', 'kubelet.service'];

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** Where this node's evidence is; each has an environment variable so a lab or a DaemonSet can point elsewhere. */
export function nodeSourceOptions(): Option[] {
  return [
    new Option('--audit-log <path>', 'the audit log; its rotated generations beside it are read too').env('EXIT137_AUDIT_LOG').default('/var/log/audit/audit.log'),
    new Option('--syslog <paths>', 'syslog files read when there is no journal (comma-separated)').env('EXIT137_SYSLOG').default(['/var/log/messages', '/var/log/syslog']).argParser(list),
    new Option('--no-journal', 'do not read the journal (read the syslog files instead)'),
    new Option('--journal-dir <dir>', 'read the journal files in this directory (journalctl -D)').env('EXIT137_JOURNAL_DIR'),
    new Option('--units <units>', 'journal units of the engines and the kubelet (comma-separated)').default(DEFAULT_UNITS).argParser(list),
    new Option('--no-dmesg', 'do not read the kernel ring buffer'),
    new Option('--docker-host <url>', 'dockerd’s API').env('DOCKER_HOST').default('unix:///var/run/docker.sock'),
    new Option('--no-docker', 'do not ask dockerd'),
    new Option('--containerd-address <path>', 'containerd’s socket').env('CONTAINERD_ADDRESS').default('/run/containerd/containerd.sock'),
    new Option('--cri-endpoint <url>', 'a CRI runtime for crictl (default: the usual sockets)').env('CONTAINER_RUNTIME_ENDPOINT'),
    new Option('--proc-root <dir>', 'where /proc is').env('EXIT137_PROC_ROOT').default('/proc'),
    new Option('--cgroup-root <dir>', 'where the cgroup hierarchies are').env('EXIT137_CGROUP_ROOT').default('/sys/fs/cgroup'),
  ];
}

/** The node form's own options: which stretch of time, which container. */
export function nodeOptions(): Option[] {
  return [
    new Option('--node', 'read this node’s own evidence (the default when no input is given)'),
    new Option('--since <when>', 'node form: deaths since (2h, 30m, an ISO time, @epoch)').default('2h'),
    new Option('--until <when>', 'node form: deaths until (default: now)'),
    new Option('--lead-in <duration>', 'node form: evidence read from this long before --since').default('15m'),
    new Option('--container <id|name>', 'node form: only this container (an id prefix or a name)'),
    ...nodeSourceOptions(),
  ];
}

export type NodeCliOptions = IngestCliOptions & {
  node?: boolean;
  since?: string;
  until?: string;
  leadIn?: string;
  container?: string;
  auditLog: string;
  syslog: string[];
  journal: boolean;
  journalDir?: string;
  units: string[];
  dmesg: boolean;
  dockerHost: string;
  docker: boolean;
  criEndpoint?: string;
  containerdAddress: string;
  procRoot: string;
  cgroupRoot: string;
};

/** Node form: asked for, or no input named. */
export function isNodeForm(paths: string[], o: { node?: boolean }): boolean {
  if (o.node && paths.length) throw new Error('give inputs or --node, not both');
  return o.node === true || paths.length === 0;
}

export function nodeHost(o: { host?: string }): string {
  return o.host ?? process.env.EXIT137_NODE_NAME ?? hostname();
}

export function sourceOptions(o: NodeCliOptions, host: string): NodeSourceOptions {
  const s: NodeSourceOptions = {
    host,
    auditLog: o.auditLog,
    syslog: o.syslog,
    journal: o.journal,
    units: o.units,
    dmesg: o.dmesg,
    dockerHost: o.docker ? o.dockerHost : false,
    procRoot: o.procRoot,
    cgroupRoot: o.cgroupRoot,
  };
  if (o.journalDir) s.journalDir = o.journalDir;
  if (o.criEndpoint) s.criEndpoint = o.criEndpoint;
  if (o.containerdAddress) s.containerdAddress = o.containerdAddress;
  if (o.container) s.container = o.container;
  return s;
}

export type NodeRead = { events: NormalizedEvent[]; statuses: SourceStatus[]; window: NodeWindow; host: string; decoder: Decoder; deadLetters: number };

/**
 * Reads this node's evidence for the window. `keep` chooses what is held in memory (the evidence
 * for verdicts, more for health); events dated outside the window's reading span are let go.
 */
export async function readNode(o: NodeCliOptions, keep: (e: NormalizedEvent) => boolean, onDeadLetter: (d: DeadLetter) => void): Promise<NodeRead> {
  const window = nodeWindow(o);
  const host = nodeHost(o);
  process.stderr.write(`exit137: node form on ${host}: deaths from ${when(window.sinceNs)} to ${when(window.untilNs)} UTC, evidence read from ${when(window.fromNs)}\n`);
  const g = await gatherNode(sourceOptions(o, host), window);
  const events: NormalizedEvent[] = [];
  let deadLetters = 0;
  const inSpan = (e: NormalizedEvent) => {
    // kernel seconds that nothing tied to the clock cannot be placed: kept rather than lost
    if (e.exit137.time.basis === 'relative') return true;
    const ns = BigInt(e.exit137.ts_ns);
    return ns >= window.fromNs && ns <= window.toNs;
  };
  const decoder = await decodeInputs(
    g.inputs,
    {
      event: (e) => {
        if (inSpan(e) && keep(e)) events.push(e);
      },
      deadLetter: (d) => {
        deadLetters++;
        onDeadLetter(d);
      },
    },
    { ...decoderOptions(o), host, bootNs: g.bootNs },
  );
  for (const e of g.samples) if (keep(e)) events.push(e);
  const statuses = await g.statuses();
  for (const s of statuses) process.stderr.write(`exit137: source ${s.source}: ${s.read ? 'read' : 'not read'}: ${s.detail}\n`);
  return { events, statuses, window, host, decoder, deadLetters };
}

/** The verdicts on the deaths inside the window (and of the container asked for), each saying what an unread source would have added. */
export function nodeVerdicts(r: NodeRead, o: { container?: string }): Attribution[] {
  const verdicts = correlate(r.events.filter(isEvidence)).filter((v) => {
    if (o.container && !sameContainerAsked(v, o.container)) return false;
    if (v.died_basis === 'relative') return true;
    const t = parseIsoNanos(v.died_at);
    return !t.ok || (t.ns >= r.window.sinceNs && t.ns <= r.window.untilNs);
  });
  return verdicts.map((v) => withUnreadSources(v, r.statuses));
}

function sameContainerAsked(v: Attribution, want: string): boolean {
  return v.container.id.startsWith(want) || (v.container.id_is_prefix && want.startsWith(v.container.id)) || v.container.name?.replace(/^\//, '') === want.replace(/^\//, '') || v.container.pod === want;
}

/**
 * The generic `missing` lines (attribute.ts) say what no input held; on a node, what was there
 * but could not be read says more: which source, why not, and what it would have added.
 */
const GENERIC: Record<string, RegExp> = {
  audit: /^no audit records at all/,
  'runtime-logs': /^no dockerd\/containerd log lines/,
  kernel: /^no kernel log/,
  'exit-status': /^no exit status/,
};

export function withUnreadSources(v: Attribution, statuses: SourceStatus[]): Attribution {
  const unread = statuses.filter((s) => !s.read && !s.absent);
  if (unread.length === 0) return v;
  const kinds = new Set(unread.filter((s) => !statuses.some((o) => o.kind === s.kind && o.read)).map((s) => s.kind));
  const missing = v.missing.filter((m) => ![...kinds].some((k) => GENERIC[k]?.test(m)));
  for (const s of unread) missing.push(`${s.source} was not read (${s.detail}): it would have added ${s.adds}`);
  return { ...v, missing };
}

function when(ns: bigint): string {
  return formatNanos(ns).slice(0, 19).replace('T', ' ');
}

/** `analyze` / `explain` in node form: the same result as for files, from the node's own sources. */
export async function analyzeNode(o: NodeCliOptions) {
  const dl = o.deadLetter ? createWriteStream(o.deadLetter) : undefined;
  const r = await readNode(o, isEvidence, (d) => {
    if (dl) dl.write(`${JSON.stringify(d)}\n`);
    else process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
  });
  dl?.end();
  return { verdicts: nodeVerdicts(r, o), decoder: r.decoder, evidenceEvents: r.events.length, deadLetters: r.deadLetters, evidence: r.events, health: r.events.filter(isHealthEvidence), statuses: r.statuses };
}
