import { DateTime } from 'luxon';
import type { NormalizedEvent } from '../event.ts';
import { containerIdsIn, isContainerRef, isHexId } from '../ids.ts';
import type { Nanos } from '../time/instant.ts';
import { NS_PER_MS, formatNanos, parseIsoNanos } from '../time/instant.ts';
import type { Draft } from './draft.ts';

/**
 * What the CLI readers share: text people paste is quoted (`> ` of a markdown reply, a bats `# `,
 * backticks around a one-liner), led by a shell prompt, and cut anywhere. These helpers take that
 * wrapping off so each reader sees the program's own output.
 */

export type At = NonNullable<Draft['at']>;

/**
 * A quoted paste line without its quoting: markdown `> ` markers (a reply that re-quoted a post
 * also ends each line with `> `), and backticks around inline code.
 */
export function unquote(line: string): string {
  let t = line;
  if (t.startsWith('>')) {
    t = t.replace(/^(?:> ?)+/, '');
    // a re-quoted post: the quote marker of the line break is glued to the end of each line
    t = t.replace(/\s*>\s*$/, '');
  }
  if (t.includes('`')) t = t.replace(/^\s*`+/, '').replace(/`+\s*$/, '');
  return t;
}

/** `$ `, `# `, `user@host:~$ `, `[12:54:41] $ `, `[root@h dir]# `, then `sudo`: what was typed. */
const PROMPT = /^\s*(?:\[[^\]]*\]\s*)?(?:[\w.-]+@[\w.-]+(?::[^\s$#]*)?\s*[$#]\s*|[$#%]\s*|(?:->|❯|➜)\s+)?(?:sudo\s+(?:-\S+\s+)*)?/;

/** A CLI command line as pasted: its program and arguments, or undefined when it is none of ours. */
export type Command = { program: 'kubectl' | 'docker' | 'crictl' | 'ctr'; args: string[] };

const PROGRAMS: Record<string, Command['program']> = { kubectl: 'kubectl', 'kubectl.sh': 'kubectl', k: 'kubectl', oc: 'kubectl', docker: 'docker', podman: 'docker', nerdctl: 'docker', crictl: 'crictl', ctr: 'ctr' };

export function commandOf(line: string): Command | undefined {
  const t = unquote(line);
  const rest = t.slice(PROMPT.exec(t)?.[0].length ?? 0);
  const words = shellWords(rest);
  const head = words[0]?.replace(/^.*\//, '');
  const program = head ? PROGRAMS[head] : undefined;
  if (!program || words.length < 2) return undefined;
  // `k` and `oc` alone are too short to trust: only with a kubectl verb after them
  if ((head === 'k' || head === 'oc') && !/^(get|describe|-n|--namespace)$/.test(words[1]!)) return undefined;
  const args = words.slice(1);
  const pipe = args.indexOf('|');
  return { program, args: pipe >= 0 ? args.slice(0, pipe) : args };
}

/** Words as a shell splits them: quotes group (`-f '{{json .State}}'`) and are taken off. */
function shellWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/'([^']*)'?|"([^"]*)"?|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** The value of `-n X`, `--namespace X`, `--namespace=X`, `-nX`. */
export function flagValue(args: string[], short: string | undefined, long: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((short && a === short) || a === long) return args[i + 1];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    if (short && a.startsWith(short) && a.length > short.length && short.length === 2 && !a.startsWith('--')) return a.slice(2);
  }
  return undefined;
}

/** Arguments that are not flags (nor a flag's value, for the flags that take one). */
export function positional(args: string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      if (valued.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * A stated instant as a draft time: RFC 3339 (any fraction, any zone) or the RFC 1123 kubectl
 * describe prints (`Mon, 13 Nov 2023 03:48:52 +0100`). Go's zero time (`0001-01-01`, or the epoch
 * kubectl shows for an unset one) is no instant: undefined.
 */
export function instant(text: string | undefined): At | undefined {
  if (!text) return undefined;
  // Go's time.String(): `2017-03-09 18:46:20 +0100 CET m=+0.1`; the offset is the instant, the name is not
  const s = text.trim().replace(/ m=[+-][\d.]+$/, '').replace(/ UTC$/, '').replace(/([+-]\d{4}) [A-Z]{2,5}$/, '$1');
  let at: At | undefined;
  if (/^\d{4}-\d\d-\d\d[T ]\d/.test(s)) {
    const r = parseIsoNanos(s);
    if (r.ok) at = { ns: r.ns, basis: 'absolute', offsetMinutes: r.offsetMinutes };
    // a time with no zone (a grep'd column) is not an instant we can place
    if (r.ok && !/(Z|[+-]\d\d:?\d\d)$/.test(s)) at = undefined;
  } else if (/^[A-Z][a-z]{2}, \d/.test(s)) {
    const d = DateTime.fromRFC2822(s, { setZone: true });
    if (d.isValid) at = { ns: BigInt(d.toMillis()) * NS_PER_MS, basis: 'absolute', offsetMinutes: d.offset };
  }
  if (at && at.ns <= 0n) return undefined;
  return at;
}

/** The instant as the schema's ISO string (nanoseconds, UTC). */
export function iso(at: At | undefined): string | undefined {
  return at ? formatNanos(at.ns) : undefined;
}

export function nanosOf(at: At | undefined): Nanos | undefined {
  return at?.ns;
}

/**
 * A container named by a CLI: `containerd://<id>`, `docker://<id>`, `cri-o://<id>`, a bare hex id
 * (whole or the 12/13-digit prefix the CLIs print), or a name.
 */
export function containerRef(raw: string | undefined, name?: string): NonNullable<Draft['container']> | undefined {
  const out: NonNullable<Draft['container']> = {};
  if (raw) {
    const m = /^([a-z-]+):\/\/(.+)$/.exec(raw.trim());
    const v = (m ? m[2]! : raw.trim()).replace(/^\//, '');
    if (m) out.runtime = m[1]!;
    if (isHexId(v)) out.id = v;
    else if (m && isContainerRef(v)) out.id = v;
    else if (isContainerRef(v)) out.name = v;
  }
  if (name && !out.name) out.name = name.replace(/^\//, '');
  return out.id || out.name ? out : undefined;
}

/** Cells of a table row: columns are two or more spaces or tabs apart. */
export function cells(line: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  // a table copied out of a web console or a markdown post: `a | b | c`
  const re = line.includes(' | ') ? /[^|\t ]+(?: [^|\t ]+)*/g : /[^\t ]+(?: [^\t ]+)*/g;
  for (const m of line.matchAll(re)) out.push({ text: m[0], start: m.index! });
  return out;
}

/** A relative age as kubectl and docker print it (`5m`, `3h2m`, `2m (x3 over 10m)`, `<unknown>`). */
export const AGE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|y)(?:\d+(?:s|m|h|d))*(?: \(x\d+ over \S+\))?|<unknown>|<invalid>|<nil>|(?:About )?(?:an?|\d+) \w+ ago|Less than a second ago)$/;

/** What a CLI's line says in a plain log event's words: a paste line no reader could read. */
export function plainDraft(line: string, index: number): Draft {
  const d: Draft = { kind: 'log', action: 'log-line', message: line, lines: { from: index, to: index } };
  const ids = containerIdsIn(line);
  if (ids.length) d.related_ids = ids;
  return d;
}

/** A kubectl pod reference (`pod/x`, `ns/x`, or `x`) as the orchestrator fields. */
export function podRef(name: string | undefined, namespace: string | undefined): NormalizedEvent['orchestrator'] | undefined {
  if (!name && !namespace) return undefined;
  const o: NonNullable<NormalizedEvent['orchestrator']> = {};
  if (namespace) o.namespace = namespace;
  if (name) o.resource = { type: 'pod', name: name.replace(/^pods?\//, '') };
  return o;
}

/** `OOMKilled`, and the pre-1.0 `OOM Killed`. */
export function isOomReason(reason: string | undefined): boolean {
  return reason !== undefined && /^OOM ?Killed$/i.test(reason);
}

/** A container's state word in any CLI's spelling, as the action of its state event. */
export function stateAction(status: string | undefined): { action: string; type: 'end' | 'info' } {
  const s = (status ?? '').toLowerCase().replace(/^container_/, '');
  if (/^(terminated|termination|exited|dead|stopped|failed|complete|completed|shutdown)$/.test(s)) return { action: 'container-terminated', type: 'end' };
  if (/^(running|up)$/.test(s)) return { action: 'container-running', type: 'info' };
  if (/^(waiting|created|pending|restarting|paused|pausing|unknown)$/.test(s)) return { action: `container-${s === 'pending' ? 'waiting' : s}`, type: 'info' };
  return { action: 'container-state', type: 'info' };
}

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' };

/** A signal as a number or a name (`9`, `KILL`, `SIGKILL`). */
export function signalInfo(v: string | number | undefined): Draft['signal'] {
  if (v === undefined) return undefined;
  const s = String(v).trim().toUpperCase().replace(/^SIG/, '');
  const byName = Object.entries(SIGNAL_NAMES).find(([, n]) => n === `SIG${s}`);
  const n = /^\d+$/.test(s) ? Number(s) : byName ? Number(byName[0]) : undefined;
  if (n === undefined || n <= 0 || n > 64) return undefined;
  return { number: n, name: SIGNAL_NAMES[n] ?? `SIG${n}` };
}

/** An ISO instant at the start of a line, as the envelopes read their own: `2017-05-01T12:00:00.000000000Z`. */
export function startsWithIsoStamp(t: string): boolean {
  return t.length > 20 && t.charCodeAt(4) === 45 && t.charCodeAt(10) === 84 && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(t);
}

/**
 * Gives each of a block's drafts the lines from its own up to the next draft's (the first also
 * those before it), so that every line of the block is in one event's original and none is in
 * two. Drafts of one line share its range.
 */
export function partition(drafts: Draft[], n: number): Draft[] {
  const sorted = drafts.map((d, i) => ({ d, i })).sort((a, b) => (a.d.lines?.from ?? 0) - (b.d.lines?.from ?? 0) || a.i - b.i).map((x) => x.d);
  const anchors = [...new Set(sorted.map((d) => d.lines?.from ?? 0))];
  for (const d of sorted) {
    const from = d.lines?.from ?? 0;
    const k = anchors.indexOf(from);
    d.lines = { from: k === 0 ? 0 : from, to: (anchors[k + 1] ?? n) - 1 };
  }
  return sorted;
}
