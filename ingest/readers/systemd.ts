import { containerIdsIn } from '../ids.ts';
import { signalName, signalNumber } from '../audit/tables.ts';
import type { Draft, LineReader, ReadResult } from './draft.ts';

/**
 * What systemd (PID 1) says about the processes of a unit: the signals it sends them when a unit
 * is stopped or killed (`containerd.service: Sending signal SIGTERM to process 728194
 * (containerd-shim) on client request.`), how a unit's main process ended, and the OOM killer's
 * kill inside a unit. A container's scope (`docker-<id>.scope`, `cri-containerd-<id>.scope`)
 * names the container; a runtime's service names the runtime whose children were signalled.
 */
const UNIT = /^([\w@.:\\-]+\.(?:service|scope)): (.*)$/s;
const SENDING = /^(?:Sending|Sent) signal (SIG\w+) to (main |control )?process (\d+) \((.*?)\)/;
const KILLING = /^Killing process (\d+) \((.*?)\) with signal (SIG\w+)\.?$/;
const EXITED = /^Main process exited, code=(killed|dumped|exited), status=(\d+)(?:\/(\w+))?$/;
const OOM = /^A process of this unit has been killed by the OOM killer\.?$|^Failed with result 'oom-kill'\.?$/;
/** A process of the unit's last run still alive when it starts again: a runtime restarted over its shims. */
const LEFT_OVER = /^Found left-over process (\d+) \((.*?)\) in control group while starting unit/;

function signal(name: string): Draft['signal'] {
  const n = signalNumber(name);
  return n === undefined ? undefined : { number: n, name: signalName(n) };
}

export const systemdUnit: LineReader = {
  name: 'systemd-unit',
  // a unit name ends its first word: `….service: ` or `….scope: `
  detect: (text) => text.includes('.service: ') || text.includes('.scope: '),
  read(text): ReadResult {
    const u = UNIT.exec(text);
    if (!u) return { ok: true, drafts: [] };
    const unit = u[1]!;
    const msg = u[2]!;
    const id = containerIdsIn(unit)[0];
    const base = (action: string): Draft => {
      const d: Draft = { kind: 'runtime-log', source: 'syslog', action, type: 'end', message: text, message_id: action, fields: { unit } };
      if (id) d.container = { id };
      return d;
    };
    let m = SENDING.exec(msg);
    const k = m ? undefined : KILLING.exec(msg);
    if (m || k) {
      const [sig, pid, comm] = m ? [m[1]!, m[3]!, m[4]!] : [k![3]!, k![1]!, k![2]!];
      const d = base('systemd-kill');
      const s = signal(sig);
      if (s) d.signal = s;
      d.target = { process: { pid: Number(pid), name: comm } };
      d.process = { pid: 1, name: 'systemd' };
      return { ok: true, drafts: [d] };
    }
    m = EXITED.exec(msg);
    if (m) {
      const d = base('systemd-main-exited');
      if (m[1] === 'exited') d.exit = { code: Number(m[2]) };
      else {
        const s = signal(m[3] ?? m[2]!) ?? { number: Number(m[2]), name: signalName(Number(m[2])) };
        d.signal = s;
        d.exit = { code: 128 + s.number };
      }
      return { ok: true, drafts: [d] };
    }
    if (OOM.test(msg)) return { ok: true, drafts: [base('systemd-unit-oom')] };
    m = LEFT_OVER.exec(msg);
    if (m) {
      const d = base('systemd-left-over-process');
      d.type = 'info';
      d.process = { pid: Number(m[1]), name: m[2]! };
      return { ok: true, drafts: [d] };
    }
    return { ok: true, drafts: [] };
  },
};
