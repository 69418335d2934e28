import type { Draft, LineReader } from './draft.ts';
import { podRef, stateAction } from './paste.ts';

/**
 * A `crictl ps -a` row: `CONTAINER  IMAGE  CREATED  STATE  NAME  ATTEMPT  [POD ID  [POD]]`
 * (`CONTAINER ID` in older crictl). crictl shows no exit code and no time of death: the row says
 * which container is Exited, its name and its attempt.
 */
const ROW = /^([0-9a-f]{13}|[0-9a-f]{64})\s+(\S+)\s+((?:About )?(?:an?|\d+) \w+ ago|Less than a second ago)\s+(Running|Exited|Created|Unknown|CONTAINER_[A-Z]+)\s+(\S+)\s+(\d+)(?:\s+([0-9a-f]{13}|[0-9a-f]{64})(?:\s+(\S+))?)?\s*$/;

export function parseCrictlPsRow(text: string): Draft | undefined {
  const m = ROW.exec(text);
  if (!m) return undefined;
  const [, id, image, created, rawState, name, attempt, podId, pod] = m;
  const status = rawState!.replace(/^CONTAINER_/, '').toLowerCase();
  const { action, type } = stateAction(status);
  const fields: Record<string, string> = { created: created!, attempt: attempt! };
  if (podId) fields.pod_id = podId;
  const d: Draft = {
    kind: 'container-state',
    source: 'crictl',
    action,
    type,
    message: `${name} ${rawState} (attempt ${attempt})`,
    container: { id: id!, name: name!, image: { name: image! } },
    state: { status, which: 'current', restart_count: Number(attempt) },
    fields,
  };
  if (pod) d.orchestrator = podRef(pod, undefined)!;
  return d;
}

export const crictlPsRow: LineReader = {
  name: 'crictl-ps-row',
  detect: (t) => t.length > 40 && /^[0-9a-f]{13}/.test(t) && ROW.test(t),
  read(t) {
    const d = parseCrictlPsRow(t);
    return d ? { ok: true, drafts: [d] } : { ok: false, reason: 'not-crictl-ps', message: 'no crictl ps columns' };
  },
};
