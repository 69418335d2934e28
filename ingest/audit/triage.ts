import type { AuditEvent } from './reassemble.ts';
import { signalName, signalSyscall, syscallName } from './tables.ts';

/**
 * Signals whose default action does not end a process, by name (their numbers differ by arch):
 * Go's SIGURG preemption storms, SIGCHLD, SIGWINCH, SIGCONT, the stop signals. With the probe
 * signal 0, such a signal is never evidence of a death.
 */
export const HARMLESS_SIGNALS: ReadonlySet<string> = new Set(['SIGCHLD', 'SIGCLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGWINCH']);

/** A signal that cannot end a process, so cannot be the evidence of a death. */
export function isHarmlessSignal(number: number, name: string): boolean {
  return number === 0 || HARMLESS_SIGNALS.has(name);
}

/**
 * Whether an audit event could become evidence of a death, read from the few fields that decide it
 * (the syscall and its signal argument) before the event is interpreted: an all-signals rule
 * records tens of thousands of SIGURG tgkills a minute on a node running Go, and analyze lets them
 * go here instead of building an event for each. Conservative: anything it cannot read cheaply is
 * kept, for the full interpretation and `isEvidence` to judge. It mirrors interpretAuditEvent:
 * a SYSCALL record decides (a signal syscall is evidence unless its signal is harmless; any other
 * syscall is not); without one, a program run to send a signal (EXECVE) or a crash (ANOM_ABEND) may be.
 */
export function auditEventCanMatter(ev: AuditEvent): boolean {
  let sys: AuditEvent['records'][number] | undefined;
  for (const r of ev.records) {
    // ausearch -i names arguments instead of numbering them: the interpreter reads those
    if (r.interpreted) return true;
    if (r.type === 'SYSCALL') {
      sys = r;
      break;
    }
  }
  if (!sys) {
    for (const r of ev.records) if (r.type === 'EXECVE' || r.type === 'ANOM_ABEND') return true;
    return false;
  }
  const syscall = rawValue(sys.body, 'syscall');
  if (syscall === undefined) return false;
  const arch = rawValue(sys.body, 'arch');
  const num = /^\d{1,4}$/.test(syscall) ? Number(syscall) : undefined;
  const name = arch !== undefined && num !== undefined ? syscallName(arch, num) : syscall;
  const spec = name ? signalSyscall(name) : undefined;
  if (!spec) return false;
  const arg = rawValue(sys.body, `a${spec.signalArg}`);
  if (arg === undefined || !/^[0-9a-fA-F]{1,16}$/.test(arg)) return true;
  const sig = Number(BigInt.asIntN(32, BigInt(`0x${arg}`)));
  return !isHarmlessSignal(sig, signalName(sig));
}

/** The raw text of `key=value` in a record body (up to the next space or the ENRICHED separator). */
function rawValue(body: string, key: string): string | undefined {
  const probe = `${key}=`;
  let at = body.startsWith(probe) ? 0 : -1;
  if (at < 0) {
    const i = body.indexOf(` ${probe}`);
    if (i < 0) return undefined;
    at = i + 1;
  }
  const from = at + probe.length;
  let to = from;
  while (to < body.length) {
    const c = body.charCodeAt(to);
    if (c === 32 || c === 0x1d) break;
    to++;
  }
  return body.slice(from, to);
}
