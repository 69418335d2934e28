import { parseTaskPayload } from '../runtime/payload.ts';
import type { Draft, LineReader } from './draft.ts';
import { instant } from './paste.ts';

/**
 * A containerd event as Go's `%v` printed it, pasted on a line of its own: pre-1.0
 * `&Event{ID:redis,Type:EXIT,Pid:4404,ExitStatus:0,ExitedAt:2017-06-01 13:40:16.846127359 +0000 UTC,}`,
 * 0.2's `&types.Event{Type:"exit", Id:"…", Status:137, …}`, 1.x's `&TaskExit{ContainerID:…,
 * ExitStatus:137,…}`. Inside a daemon's log line runtime/payload.ts reads them; alone, here.
 */
const DUMP = /^&(?:types\.)?(Event|TaskExit|TaskOOM|TaskDelete|TaskStart|TaskCreate|TaskPaused|TaskResumed)\{(.*)\}/s;
const TOPICS: Record<string, string> = { exit: 'tasks-exit', oom: 'tasks-oom', delete: 'tasks-delete', start: 'tasks-start', create: 'tasks-create', 'start-process': 'tasks-exec-started', paused: 'tasks-paused', resumed: 'tasks-resumed', pause: 'tasks-paused', resume: 'tasks-resumed' };

function field(body: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|[,{\\s])${key}:("(?:[^"\\\\]|\\\\.)*"|[^,{}]*)`).exec(body);
  if (!m) return undefined;
  const v = m[1]!.trim();
  if (!v.startsWith('"')) return v;
  try {
    return JSON.parse(v) as string;
  } catch {
    // a raw tab or a cut escape a paste left inside the quotes: the text between them as it stands
    return v.slice(1, -1);
  }
}

export function parseEventDump(text: string): Draft | undefined {
  const m = DUMP.exec(text.trim());
  if (!m) return undefined;
  const [, name, body] = m;
  const type = name === 'Event' ? (field(body!, 'Type') ?? '').toLowerCase() : name!.slice(4).toLowerCase();
  const topic = TOPICS[type] ?? `tasks-${type || 'event'}`;
  const p = parseTaskPayload(text) ?? {};
  const id = p.containerId ?? p.execId ?? field(body!, 'Id');
  const d: Draft = {
    kind: 'container-event',
    source: 'containerd-events',
    action: `container-${topic}`,
    type: ['tasks-exit', 'tasks-oom', 'tasks-delete'].includes(topic) ? 'end' : 'info',
    message: `${topic}${id ? ` ${id.slice(0, 12)}` : ''}${p.exitStatus !== undefined && topic === 'tasks-exit' ? ` exit ${p.exitStatus}` : ''}`,
    fields: { type: name === 'Event' ? (field(body!, 'Type') ?? '') : name! },
  };
  if (id) d.container = { id, runtime: 'containerd' };
  if (p.exitStatus !== undefined && (topic === 'tasks-exit' || topic === 'tasks-delete')) {
    d.exit = { code: p.exitStatus };
    if (p.pid !== undefined) d.exit.pid = p.pid;
    if (p.execId && p.containerId && p.execId !== p.containerId) d.exit.exec_id = p.execId;
  }
  if (p.pid !== undefined) d.process = { pid: p.pid };
  // Go's zero time (`0001-01-01 00:00:00 +0000 UTC`, the exit time pre-1.0 forgot) is no instant
  const at = instant(field(body!, 'ExitedAt') ?? field(body!, 'Timestamp'));
  if (at) d.at = at;
  return d;
}

export const containerdEventDump: LineReader = {
  name: 'containerd-event-dump',
  detect: (t) => t.charCodeAt(0) === 38 && DUMP.test(t),
  read(t) {
    const d = parseEventDump(t);
    return d ? { ok: true, drafts: [d] } : { ok: false, reason: 'not-event-dump', message: 'no &Event{…}' };
  },
};
