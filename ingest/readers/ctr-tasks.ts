import type { Draft, LineReader } from './draft.ts';
import { isContainerRef } from '../ids.ts';
import { stateAction } from './paste.ts';

/**
 * A `ctr tasks ls` row: `TASK  PID  STATUS`. A task is a container's running process: the row
 * says whether containerd still holds it (RUNNING after a kill is a kill that did not end it).
 */
const ROW = /^(\S+)\s+(\d+)\s+(RUNNING|STOPPED|PAUSED|PAUSING|CREATED|UNKNOWN)\s*$/;

export function parseCtrTaskRow(text: string): Draft | undefined {
  const m = ROW.exec(text);
  if (!m) return undefined;
  const [, task, pid, status] = m;
  // containerd's ids are whatever the client chose (`ctr run … foobar`): the task's name is its id
  if (!isContainerRef(task!)) return undefined;
  const { action, type } = stateAction(status === 'STOPPED' ? 'stopped' : status!.toLowerCase());
  const d: Draft = {
    kind: 'container-state',
    source: 'ctr',
    action,
    type,
    message: `task ${task} ${status}${pid !== '0' ? ` pid ${pid}` : ''}`,
    container: { id: task!, runtime: 'containerd' },
    state: { status: status!.toLowerCase(), which: 'current' },
  };
  // a stopped task shows pid 0
  if (pid !== '0') d.process = { pid: Number(pid) };
  return d;
}

export const ctrTaskRow: LineReader = {
  name: 'ctr-task-row',
  detect: (t) => {
    const c = t.charCodeAt(t.length - 1);
    // the row ends with its status (and the header's padding): cheap before the pattern
    return (c === 32 || (c >= 65 && c <= 90)) && ROW.test(t);
  },
  read(t) {
    const d = parseCtrTaskRow(t);
    return d ? { ok: true, drafts: [d] } : { ok: false, reason: 'not-ctr-task', message: 'no TASK PID STATUS columns' };
  },
};
