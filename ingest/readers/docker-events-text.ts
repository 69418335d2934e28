import type { BlockKind } from '../blocks/block.ts';
import { isContainerRef } from '../ids.ts';
import type { Draft } from './draft.ts';
import type { At } from './paste.ts';
import { instant, plainDraft, podRef, signalInfo, startsWithIsoStamp } from './paste.ts';

/**
 * `docker events` without `--format`: `<time> <type> <action> <id> (<key>=<value>, …)`, e.g.
 * `2017-05-01T12:00:00.000000000Z container die 8f1… (exitCode=137, image=busybox, name=web)`.
 * The same facts as the JSON form (runtime/events.ts). A terminal or a ticket hard-wraps the
 * long attribute list: the lines up to its closing parenthesis are one event.
 */
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (container|image|network|volume|daemon|plugin|service|node|secret|config) (\S+?(?:: .*?)?) (\S+)(?: \((.*))?$/;

type State = { closed: boolean; lines: number };
export type DockerTextEvent = { at?: At; type: string; action: string; detail?: string; id: string; attributes: Record<string, string> };

/** A line the envelopes would take for their own (its time, then a word they would call the host). */
export function isDockerEventText(t: string): boolean {
  return startsWithIsoStamp(t) && LINE.test(t);
}

/** `k=v, k=v`: a value may hold commas (a label's JSON), so a pair starts only where `, key=` does. */
export function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const starts = [...s.matchAll(/(?:^|, )([A-Za-z0-9_.\-/]+)=/g)];
  starts.forEach((m, i) => {
    const from = m.index! + m[0].length;
    const to = i + 1 < starts.length ? starts[i + 1]!.index! : s.length;
    out[m[1]!] = s.slice(from, to);
  });
  return out;
}

export function parseDockerEventText(text: string): DockerTextEvent | undefined {
  const m = LINE.exec(text);
  if (!m) return undefined;
  const [action, ...detail] = m[3]!.split(': ');
  const ev: DockerTextEvent = { type: m[2]!, action: action!, id: m[4]!, attributes: attributes((m[5] ?? '').replace(/\)\s*$/, '')) };
  if (detail.length) ev.detail = detail.join(': ');
  const at = instant(m[1]!);
  if (at) ev.at = at;
  return ev;
}

export const dockerEventsText: BlockKind<{ event?: DockerTextEvent; texts: string[] }, State> = {
  name: 'docker-events-text',
  starts: isDockerEventText,
  init: (first) => ({ closed: first.trimEnd().endsWith(')') || !first.includes(' ('), lines: 1 }),
  accepts(t, s) {
    if (s.closed || isDockerEventText(t) || ++s.lines > 8) return 'no';
    if (t.trimEnd().endsWith(')')) {
      s.closed = true;
      return 'end';
    }
    return 'yes';
  },
  // a hard wrap cuts mid-word (inside an id): the pieces join without a space
  finish: (lines) => ({ event: parseDockerEventText(lines.map((l) => l.trimEnd()).join('')), texts: lines }),
  drafts({ event: ev, texts }): Draft[] {
    if (!ev) return texts.map(plainDraft);
    const a = ev.attributes;
    const action = ev.type === 'container' ? ev.action : `${ev.type}-${ev.action}`;
    const d: Draft = {
      kind: 'container-event',
      source: 'docker-events',
      action: `container-${action}`,
      type: ['die', 'kill', 'oom', 'stop'].includes(action) ? 'end' : 'info',
      message: `${action}${ev.type === 'container' ? ` ${ev.id.slice(0, 12)}` : ''}${a.exitCode !== undefined ? ` exit ${a.exitCode}` : ''}`,
      lines: { from: 0, to: texts.length - 1 },
    };
    if (ev.at) d.at = ev.at;
    if (ev.type === 'container') {
      d.container = { runtime: 'docker' };
      // a poster's elision (`0fdb...ff37`) is no id
      if (isContainerRef(ev.id)) d.container.id = ev.id;
      if (a.name) d.container.name = a.name;
      if (a.image) d.container.image = { name: a.image };
    }
    if (a.exitCode !== undefined && /^-?\d+$/.test(a.exitCode)) d.exit = { code: Number(a.exitCode) };
    const sig = signalInfo(a.signal);
    if (sig) d.signal = sig;
    const fields = { ...a };
    if (ev.detail) fields.detail = ev.detail;
    if (Object.keys(fields).length) d.fields = fields;
    const pod = podRef(a['io.kubernetes.pod.name'], a['io.kubernetes.pod.namespace']);
    if (pod) d.orchestrator = pod;
    return [d];
  },
};
