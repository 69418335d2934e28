import { formatNanos, parseIsoNanos } from '../time/instant.ts';
import type { BlockKind } from '../blocks/block.ts';
import type { Draft } from './draft.ts';

/**
 * A container's state printed by a Go template (`kubectl get pod -o go-template='{{.lastState}}'`,
 * the Kubernetes docs of 2015): `LastState: map[terminated:map[exitCode:137 reason:OOM Killed
 * startedAt:… finishedAt:… containerID:docker://…]]`. Values may hold spaces, so a value runs to
 * the next known key.
 */
const LINE = /^\s*(Last ?State|State|lastState|state):\s*map\[(terminated|running|waiting):map\[(.*)\]\]\s*$/;
const KEYS = /\b(exitCode|signal|reason|message|startedAt|finishedAt|containerID):/g;

const NAME = /^\s*Container Name:\s*(\S+)\s*$/;

/** One container's state lines, and its name when the template printed it first. */
export const goMapState: BlockKind<Draft[], { name?: string }> = {
  name: 'go-map-state',
  starts: (t) => NAME.test(t) || (t.includes(':map[') && LINE.test(t)),
  init: (first) => ({ name: NAME.exec(first)?.[1] }),
  accepts: (t) => (t.includes(':map[') && LINE.test(t) ? 'yes' : 'no'),
  finish(lines) {
    const name = NAME.exec(lines[0] ?? '')?.[1];
    const out: Draft[] = [];
    for (const l of lines) {
      const d = stateDraft(l);
      if (!d) continue;
      if (name) d.container = { ...(d.container ?? {}), name };
      out.push(d);
    }
    // a name with no state after it is still a line read: a plain log line, not nothing
    if (out.length === 0) out.push({ kind: 'log', action: 'log-line', message: lines.join(' ') });
    return out;
  },
  drafts: (d) => d,
};

function stateDraft(text: string): Draft | undefined {
  const m = LINE.exec(text);
  if (!m || m[2] !== 'terminated') return undefined;
  const body = m[3]!;
  const found = [...body.matchAll(KEYS)];
  const v: Record<string, string> = {};
  found.forEach((k, i) => {
    const end = i + 1 < found.length ? found[i + 1]!.index! : body.length;
    v[k[1]!] = body.slice(k.index! + k[0].length, end).trim();
  });
  const d: Draft = { kind: 'container-state', source: 'kubectl', action: 'container-terminated', type: 'end', message: `terminated${v.exitCode ? ` exit ${v.exitCode}` : ''}${v.reason ? ` (${v.reason})` : ''}`, state: { which: /^last/i.test(m[1]!) ? 'last' : 'current' } };
  if (v.reason) {
    d.state!.reason = v.reason;
    // 2015 kubelets spelled it `OOM Killed`
    if (v.reason.replace(/\s+/g, '') === 'OOMKilled') d.state!.oom_killed = true;
  }
  if (v.exitCode && /^\d+$/.test(v.exitCode)) d.exit = { code: Number(v.exitCode) };
  if (v.signal && /^\d+$/.test(v.signal) && v.signal !== '0') d.signal = { number: Number(v.signal), name: v.signal === '9' ? 'SIGKILL' : `SIG${v.signal}` };
  const id = v.containerID?.replace(/^[a-z-]+:\/\//, '');
  if (id && /^[0-9a-f]{12,64}$/.test(id)) d.container = { id };
  for (const [k, key] of [['startedAt', 'started'], ['finishedAt', 'finished']] as const) {
    const t = v[k] ? parseIsoNanos(v[k]!) : undefined;
    if (t?.ok) {
      d.state![key] = formatNanos(t.ns);
      if (key === 'finished') d.at = { ns: t.ns, basis: 'absolute' };
    }
  }
  return d;
}
