import type { NormalizedEvent, SignalInfo } from '../event.ts';
import { containerIdsIn, trailingIdPrefix } from '../ids.ts';
import { fragment } from '../event-json.ts';
import type { AuditField } from './fields.ts';
import { hexText, isHexTextField, splitArgv, splitKeys } from './hex.ts';
import type { AuditEvent } from './reassemble.ts';
import type { AuditRecord } from './record.ts';
import { field, fieldLists } from './record.ts';
import { archName, signalName, signalNumber, signalSyscall, syscallName } from './tables.ts';

/** The kernel copies at most this many bytes of a process's argv into PROCTITLE. */
export const PROCTITLE_MAX = 128;

export type AuditInterpretation = {
  kind: 'audit-signal' | 'audit';
  action: string;
  outcome?: 'success' | 'failure';
  process?: NonNullable<NormalizedEvent['process']>;
  user?: NonNullable<NormalizedEvent['user']>;
  signal?: SignalInfo;
  target?: NonNullable<NormalizedEvent['exit137']['target']>;
  auditd: NonNullable<NormalizedEvent['auditd']>;
  relatedIds: string[];
  /** The container a command named (`runc kill <id> KILL` seen as an EXECVE). */
  container?: { id: string };
  message: string;
};

/** A field's text: quoted as is, hex decoded where that field may be hex, `(null)`/`?` as absent. */
export function text(r: AuditRecord, key: string): string | undefined {
  const f = field(r, key);
  if (!f) return undefined;
  if (f.form === 'bare') {
    if (f.value === '(null)' || f.value === '?' || f.value === '(none)') return undefined;
    if (isHexTextField(r.type, key) && !r.interpreted) return hexText(f.value) ?? f.value;
  }
  return f.value;
}

/** A value that is always text (proctitle): hex decoded, or quoted as is, with its length in bytes. */
function textAndBytes(r: AuditRecord, key: string): { text: string; bytes: number } | undefined {
  if (r.interpreted) {
    // ausearch -i prints the title decoded, NULs as spaces, unquoted: the rest of the record is it
    const at = r.body.indexOf(`${key}=`);
    if (at < 0) return undefined;
    const title = r.body.slice(at + key.length + 1).trimEnd();
    return { text: title.replaceAll(' ', '\0'), bytes: Buffer.byteLength(title, 'utf8') };
  }
  const f = field(r, key);
  if (!f) return undefined;
  if (f.form === 'bare') {
    const text = hexText(f.value);
    return text === undefined ? undefined : { text, bytes: f.value.length / 2 };
  }
  if (f.form === 'quoted') return { text: f.value, bytes: Buffer.byteLength(f.value, 'utf8') };
  return undefined;
}

/** An id that is set: the kernel writes (uint32)-1 as 4294967295, or -1 in OBJ_PID. */
export function setId(v: string | undefined): string | undefined {
  if (v === undefined || v === '4294967295' || v === '-1' || v === 'unset') return undefined;
  return v;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** A syscall argument register (hex) as a signed 32-bit int: `kill(-1234, …)` reaches audit as fff…fb2e. */
function argInt32(hex: string | undefined): number | undefined {
  if (hex === undefined || hex.length === 0 || hex.length > 16) return undefined;
  // the low 32 bits, read as signed: the last 8 hex digits (no BigInt, regex or slice per signal)
  let low = 0;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return undefined;
    if (i >= hex.length - 8) low = low * 16 + d;
  }
  return low | 0;
}

/** An argument as `ausearch -i` prints it: `0x1312` (hex with its prefix), or a signal by name (`SIGKILL`). */
function interpretedArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v.startsWith('0x')) return argInt32(v.slice(2));
  const sig = signalNumber(v);
  return sig ?? (/^-?\d+$/.test(v) ? Number(v) : undefined);
}

const ARG_KEYS = ['a0', 'a1', 'a2', 'a3'];

/** The list with the record's warnings added; made only when there is one (most events have none). */
function warningsOf(list: string[] | undefined, r: AuditRecord | undefined): string[] | undefined {
  if (r === undefined || r.warnings.length === 0) return list;
  const out = list ?? [];
  for (const w of r.warnings) out.push(w);
  return out;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** `CONFIG_CHANGE` → `config-change`, once per record type (a few dozen exist). */
const ACTIONS = new Map<string, string>();
function actionOf(type: string): string {
  let a = ACTIONS.get(type);
  if (a === undefined) {
    a = type.toLowerCase().replace(/_/g, '-');
    if (ACTIONS.size < 1000) ACTIONS.set(type, a);
  }
  return a;
}

export function interpretAuditEvent(ev: AuditEvent): AuditInterpretation {
  let sys: AuditRecord | undefined;
  let proctitle: AuditRecord | undefined;
  let cwd: AuditRecord | undefined;
  let abend: AuditRecord | undefined;
  const objPids: AuditRecord[] = [];
  const execve: AuditRecord[] = [];
  for (const r of ev.records) {
    switch (r.type) {
      case 'SYSCALL':
        sys ??= r;
        break;
      case 'OBJ_PID':
        objPids.push(r);
        break;
      case 'PROCTITLE':
        proctitle ??= r;
        break;
      case 'EXECVE':
        execve.push(r);
        break;
      case 'CWD':
        cwd ??= r;
        break;
      case 'ANOM_ABEND':
        abend ??= r;
        break;
    }
  }

  const auditd: AuditInterpretation['auditd'] = {
    serial: ev.serial,
    epoch: ev.epoch,
    records: ev.records.map((r) => r.type),
  };
  if (ev.node) auditd.node = ev.node;

  const title = proctitle ? proctitleOf(proctitle) : undefined;
  const argv = title?.argv;
  const truncated = title?.truncated ?? false;
  const execArgs = execve.length > 0 ? execveArgs(execve) : undefined;

  const head = sys ?? abend ?? ev.records[0]!;
  const who = senderOf(head);
  const en = head.enriched;
  const args = execArgs ?? argv;
  // the same sender with the same title is the same object, shared by its events (see sharedProcess)
  const process = who.shared && execArgs === undefined && cwd === undefined ? sharedProcess(who, title) : processOf(who, args, title?.title, cwd ? text(cwd, 'cwd') : undefined);
  const user = who.shared ? sharedUser(who, en) : userOf(who, en);

  let kind: AuditInterpretation['kind'] = 'audit';
  let action = actionOf(ev.records[0]?.type ?? 'unknown');
  let signal: SignalInfo | undefined;
  let target: AuditInterpretation['target'];
  let outcome: AuditInterpretation['outcome'];
  let command: string | undefined;

  if (sys) {
    const archHex = text(sys, 'arch');
    const num = int(text(sys, 'syscall'));
    const arch = archHex ? archName(archHex) : undefined;
    if (arch) auditd.arch = arch;
    else if (archHex) auditd.arch = archHex;
    // Already-interpreted (ausearch -i) lines carry names, not numbers.
    const name = archHex && num !== undefined ? syscallName(archHex, num) : text(sys, 'syscall');
    if (name) auditd.syscall = name;
    action = name ? `syscall-${name}` : 'syscall';
    const success = text(sys, 'success');
    if (success) {
      auditd.success = success === 'yes';
      outcome = success === 'yes' ? 'success' : 'failure';
    }
    const exit = text(sys, 'exit');
    if (exit !== undefined) auditd.exit = exit;
    const a: string[] = [];
    for (const k of ARG_KEYS) {
      const v = field(sys, k)?.value;
      if (v !== undefined) a.push(v);
    }
    if (a.length) auditd.a = a;
    if (who.tty !== undefined) auditd.tty = who.tty;
    if (who.ses !== undefined) auditd.ses = who.ses;
    if (who.key !== undefined) auditd.key = who.key.slice();

    const spec = name ? signalSyscall(name) : undefined;
    if (spec && name) {
      kind = 'audit-signal';
      action = 'killed-pid';
      const arg = sys.interpreted ? interpretedArg : argInt32;
      const sigNum = arg(field(sys, ARG_KEYS[spec.signalArg]!)?.value);
      if (sigNum !== undefined) signal = { number: sigNum, name: signalName(sigNum), syscall: name };
      if (spec.targetArg !== undefined) {
        const t = arg(field(sys, ARG_KEYS[spec.targetArg]!)?.value);
        if (t !== undefined) {
          if (name === 'kill' && t <= 0) {
            auditd.target_arg = t === -1 ? { pid: -1, scope: 'all' } : { pid: -t, scope: 'process-group' };
          } else auditd.target_arg = { pid: t, scope: spec.scope ?? 'process' };
        }
      }
      const targets = objPids.map(targetOf);
      if (targets.length > 0) {
        target = { process: targets[0]! };
        if (targets.length > 1) target.others = targets.slice(1);
      } else if (auditd.target_arg && auditd.target_arg.scope !== 'all' && auditd.target_arg.scope !== 'process-group') {
        // No OBJ_PID (a rule without it, or an old kernel): the pid as the sender named it.
        target = { process: { pid: auditd.target_arg.pid } };
      }
    }
  } else if (args && execve.length > 0) {
    // a program run to send a signal: `runc kill --all <id> SIGKILL`, `kill -9 1234`
    const c = commandSignal(args);
    if (c) {
      kind = 'audit-signal';
      action = c.action;
      signal = c.signal;
      if (c.pid !== undefined) target = { process: { pid: c.pid } };
      if (c.container) command = c.container;
    }
  } else if (abend) {
    action = 'crashed-program';
    const sig = int(text(abend, 'sig'));
    if (sig !== undefined) signal = { number: sig, name: signalName(sig) };
  }
  if (argv) auditd.proctitle_truncated = truncated;
  if (en && hasKeys(en)) auditd.enriched = en;
  // Only the records we read have been tokenized; their warnings are the ones that matter.
  let warnings = warningsOf(undefined, sys);
  warnings = warningsOf(warnings, proctitle);
  warnings = warningsOf(warnings, cwd);
  warnings = warningsOf(warnings, abend);
  for (const r of objPids) warnings = warningsOf(warnings, r);
  for (const r of execve) warnings = warningsOf(warnings, r);
  if (warnings) auditd.warnings = warnings;

  const ids = execArgs === undefined ? title?.relatedIds : relatedIdsOf(execArgs, argv, truncated);
  const out: AuditInterpretation = { kind, action, auditd, relatedIds: ids?.length ? ids.slice() : [], message: summary(kind, process, signal, target, action) };
  if (process !== undefined) out.process = process;
  if (user !== undefined) out.user = user;
  if (signal) out.signal = signal;
  if (target) out.target = target;
  if (outcome) out.outcome = outcome;
  if (command) {
    out.container = { id: command };
    out.message = `${(args ?? []).join(' ').slice(0, 160)}: ${signal?.name ?? 'a signal'} to container ${command.slice(0, 12)}`;
  }
  return out;
}

/** What a record says of the process that made it (a SYSCALL's sender): the fields every interpretation reads. */
type Sender = {
  pid?: number;
  comm?: string;
  exe?: string;
  ppid?: number;
  uid?: string;
  auid?: string;
  euid?: string;
  gid?: string;
  tty?: string;
  ses?: string;
  /** (copied into each event: a copy of a frozen array is a slow path) */
  key?: string[];
  /** Its process objects by title, and its user objects by enrichment: made once, shared (sharedProcess). */
  shared?: true;
  processes?: Map<Proctitle | undefined, AuditInterpretation['process']>;
  users?: Map<Readonly<Record<string, string>> | undefined, AuditInterpretation['user']>;
};

const SENDER_KEYS = new Set(['pid', 'comm', 'exe', 'ppid', 'uid', 'auid', 'euid', 'gid', 'tty', 'ses', 'key']);

/**
 * Senders by the `ppid` field that starts their records' shared part (audit/fields.ts): records
 * tokenized from the same text share field objects, so one object stands for one sender's text.
 * A record whose fields were read afresh is a key never seen again, and falls out with it.
 */
const SENDERS = new WeakMap<AuditField, Sender>();

function senderOf(head: AuditRecord): Sender {
  if (head.type !== 'SYSCALL' || head.interpreted) return readSender(head);
  let ppid: AuditField | undefined;
  // (the record's own pairs, then the shared ones: not joined into one list for this)
  search: for (const fields of fieldLists(head)) {
    for (const f of fields) {
      if (f.key === 'ppid') {
        ppid = f;
        break search;
      }
      // a sender field before ppid= would be the one read (the first): the shared part would not decide
      // (all sender keys are 3 or 4 characters: most argument keys are told apart by their length)
      const n = f.key.length;
      if ((n === 3 || n === 4) && SENDER_KEYS.has(f.key)) return readSender(head);
    }
  }
  if (ppid === undefined) return readSender(head);
  let s = SENDERS.get(ppid);
  if (s === undefined) {
    s = readSender(head);
    s.shared = true;
    SENDERS.set(ppid, s);
  }
  return s;
}

function readSender(r: AuditRecord): Sender {
  const s: Sender = {};
  const pid = int(text(r, 'pid'));
  if (pid !== undefined) s.pid = pid;
  const comm = text(r, 'comm');
  if (comm !== undefined) s.comm = comm;
  const exe = text(r, 'exe');
  if (exe !== undefined) s.exe = exe;
  const ppid = int(text(r, 'ppid'));
  if (ppid !== undefined) s.ppid = ppid;
  const uid = text(r, 'uid');
  if (uid !== undefined) s.uid = uid;
  const auid = setId(text(r, 'auid'));
  if (auid !== undefined) s.auid = auid;
  const euid = text(r, 'euid');
  if (euid !== undefined) s.euid = euid;
  const gid = text(r, 'gid');
  if (gid !== undefined) s.gid = gid;
  if (r.type === 'SYSCALL') {
    const tty = text(r, 'tty');
    if (tty !== undefined) s.tty = tty;
    const ses = setId(text(r, 'ses'));
    if (ses !== undefined) s.ses = ses;
    const key = text(r, 'key');
    if (key !== undefined) s.key = splitKeys(key);
  }
  return s;
}

/** A PROCTITLE read: argv, the title, whether the kernel cut it, and the container ids its argv names. */
type Proctitle = { argv: readonly string[]; title: string; truncated: boolean; relatedIds: readonly string[] };
const PROCTITLES = new WeakMap<AuditField, Proctitle | null>();

function proctitleOf(r: AuditRecord): Proctitle | undefined {
  const f = r.interpreted ? undefined : field(r, 'proctitle');
  let p = f && PROCTITLES.get(f);
  if (p === undefined) {
    p = readProctitle(r);
    if (f) PROCTITLES.set(f, p);
  }
  return p ?? undefined;
}

function readProctitle(r: AuditRecord): Proctitle | null {
  const t = textAndBytes(r, 'proctitle');
  if (!t) return null;
  const argv = splitArgv(t.text);
  const truncated = t.bytes >= PROCTITLE_MAX;
  return Object.freeze({
    argv: Object.freeze(argv),
    // argv joined by spaces, read off the text: the NULs as spaces, less the one ending the last argument
    title: (t.text.endsWith('\0') ? t.text.slice(0, -1) : t.text).replaceAll('\0', ' '),
    truncated,
    // (not frozen: each event gets a copy, and copying a frozen array is a slow path)
    relatedIds: relatedIdsOf(argv, argv, truncated),
  });
}

/** Container ids the arguments name; of a cut title, also the start of one its last argument was cut in. */
function relatedIdsOf(args: readonly string[], argv: readonly string[] | undefined, truncated: boolean): string[] {
  const ids = new Set<string>();
  for (const a of args) for (const id of containerIdsIn(a)) ids.add(id);
  if (truncated && argv?.length) {
    const p = trailingIdPrefix(argv[argv.length - 1]!);
    if (p && ![...ids].some((id) => id.startsWith(p))) ids.add(p);
  }
  return [...ids];
}

function processOf(s: Sender, args: readonly string[] | undefined, title: string | undefined, dir: string | undefined): AuditInterpretation['process'] {
  const process: NonNullable<AuditInterpretation['process']> = {};
  if (s.pid !== undefined) process.pid = s.pid;
  if (s.comm !== undefined) process.name = s.comm;
  if (s.exe !== undefined) process.executable = s.exe;
  if (args) {
    process.args = args as string[];
    process.args_count = args.length;
  }
  if (title !== undefined) process.title = title;
  if (dir !== undefined) process.working_directory = dir;
  if (s.ppid !== undefined) process.parent = { pid: s.ppid };
  return Object.keys(process).length ? process : undefined;
}

/** Objects per sender kept at most: a sender seldom changes its title. */
const PER_SENDER = 32;

/**
 * One process object per sender and title, frozen, shared by the events that name it, and
 * registered with its JSON (event-json.ts): a SIGURG storm names the same few processes a
 * hundred thousand times, and each was built and serialized again.
 */
function sharedProcess(s: Sender, t: Proctitle | undefined): AuditInterpretation['process'] {
  s.processes ??= new Map();
  if (s.processes.has(t)) return s.processes.get(t);
  if (s.processes.size >= PER_SENDER) s.processes.clear();
  const p = processOf(s, t?.argv, t?.title, undefined);
  if (p?.parent) Object.freeze(p.parent);
  const shared = p && fragment(Object.freeze(p));
  s.processes.set(t, shared);
  return shared;
}

function userOf(s: Sender, en: Readonly<Record<string, string>> | undefined): AuditInterpretation['user'] {
  const user: NonNullable<AuditInterpretation['user']> = {};
  if (s.uid !== undefined) user.id = s.uid;
  if (s.auid !== undefined) user.audit = { id: s.auid };
  if (s.euid !== undefined) user.effective = { id: s.euid };
  if (s.gid !== undefined) user.group = { id: s.gid };
  if (en?.UID) user.name = en.UID;
  if (en?.AUID && user.audit) user.audit.name = en.AUID;
  return Object.keys(user).length ? user : undefined;
}

/** userOf, one frozen object per sender and enrichment (see sharedProcess). */
function sharedUser(s: Sender, en: Readonly<Record<string, string>> | undefined): AuditInterpretation['user'] {
  s.users ??= new Map();
  if (s.users.has(en)) return s.users.get(en);
  if (s.users.size >= PER_SENDER) s.users.clear();
  const u = userOf(s, en);
  if (u) for (const part of [u.audit, u.effective, u.group]) if (part) Object.freeze(part);
  const shared = u && fragment(Object.freeze(u));
  s.users.set(en, shared);
  return shared;
}

type TargetProcess = NonNullable<AuditInterpretation['target']>['process'];
/** OBJ_PID targets by their `opid` field: one object per target text (see SENDERS). */
const TARGETS = new WeakMap<AuditField, TargetProcess>();

function targetOf(o: AuditRecord): TargetProcess {
  const f = o.interpreted ? undefined : field(o, 'opid');
  let t = f && TARGETS.get(f);
  if (t === undefined) {
    t = readTarget(o);
    if (f) TARGETS.set(f, fragment(Object.freeze(t)));
  }
  return t;
}

function readTarget(o: AuditRecord): TargetProcess {
  const t: TargetProcess = {};
  const opid = int(text(o, 'opid'));
  if (opid !== undefined) t.pid = opid;
  const ocomm = text(o, 'ocomm');
  if (ocomm !== undefined) t.name = ocomm;
  const ouid = text(o, 'ouid');
  if (ouid !== undefined) t.uid = ouid;
  const oauid = setId(text(o, 'oauid'));
  if (oauid !== undefined) t.auid = oauid;
  const oses = setId(text(o, 'oses'));
  if (oses !== undefined) t.ses = oses;
  return t;
}

const RUNTIMES = new Set(['runc', 'docker-runc', 'crun', 'runsc', 'youki']);

/**
 * The signal a command sends, read from its argv: an OCI runtime's `kill [--all] <id> [SIGNAL]`
 * (runc's default is SIGTERM) or `kill [-s SIG | -SIG | -N] pid`. Undefined for anything else.
 */
function commandSignal(args: readonly string[]): { action: string; signal: SignalInfo; pid?: number; container?: string } | undefined {
  const prog = (args[0] ?? '').split('/').pop()!;
  if (RUNTIMES.has(prog)) {
    const k = args.indexOf('kill');
    if (k < 0) return undefined;
    const rest = args.slice(k + 1).filter((a) => !a.startsWith('-'));
    const id = rest[0];
    if (id === undefined) return undefined;
    const n = rest[1] === undefined ? 15 : /^\d+$/.test(rest[1]) ? Number(rest[1]) : signalNumber(rest[1].toUpperCase());
    if (n === undefined) return undefined;
    return { action: 'runtime-kill', signal: { number: n, name: signalName(n) }, container: id };
  }
  if (prog === 'kill' || prog === 'pkill' || prog === 'killall') {
    if (prog !== 'kill') return undefined;
    let n = 15;
    let pid: number | undefined;
    for (let i = 1; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-s' || a === '-n') {
        const v = args[++i] ?? '';
        n = /^\d+$/.test(v) ? Number(v) : (signalNumber(v.toUpperCase()) ?? n);
      } else if (/^-\d+$/.test(a) && pid === undefined) n = Number(a.slice(1));
      else if (/^-[A-Za-z]+\d*$/.test(a)) n = signalNumber(a.slice(1).toUpperCase()) ?? n;
      else if (/^\d+$/.test(a) && pid === undefined) pid = Number(a);
    }
    return pid === undefined ? undefined : { action: 'kill-command', signal: { number: n, name: signalName(n) }, pid };
  }
  return undefined;
}

/** EXECVE argv: a0..aN, or aN[0..k] chunks for long arguments, possibly spread over several records. */
function execveArgs(records: AuditRecord[]): string[] {
  const parts = new Map<number, string[]>();
  for (const r of records) {
    for (const f of r.fields) {
      const m = /^a(\d+)(?:\[(\d+)\])?$/.exec(f.key);
      if (!m) continue;
      const i = Number(m[1]);
      const v = (f.form === 'bare' && !r.interpreted ? hexText(f.value) : undefined) ?? f.value;
      const list = parts.get(i) ?? [];
      list[m[2] === undefined ? 0 : Number(m[2])] = v;
      parts.set(i, list);
    }
  }
  return [...parts.keys()].sort((x, y) => x - y).map((i) => (parts.get(i) ?? []).join(''));
}

function summary(
  kind: string,
  p: AuditInterpretation['process'],
  sig: SignalInfo | undefined,
  target: AuditInterpretation['target'],
  action: string,
): string {
  const who = `${p?.name ?? '?'}[${p?.pid ?? '?'}]${p?.executable ? ` (${p.executable})` : ''}`;
  if (kind === 'audit-signal') {
    const t = target?.process;
    return `${who} sent ${sig?.name ?? 'a signal'} via ${sig?.syscall ?? '?'} to ${t?.name ?? '?'}[${t?.pid ?? '?'}]`;
  }
  if (action === 'crashed-program') return `${who} crashed with ${sig?.name ?? 'a signal'}`;
  return `${who} ${action}`;
}
