/**
 * containerd task events as its logs print them, across versions (FORMATS.md §1):
 *   gogo protobuf (1.0–1.6):   &TaskExit{ContainerID:abc,ID:abc,Pid:42,ExitStatus:137,ExitedAt:…,XXX_unrecognized:[],}
 *   protobuf-go (1.7+, 2.x):   container_id:"abc"  id:"abc"  pid:42  exit_status:137  exited_at:{seconds:1 nanos:2}
 *   JSON (ctr events):         {"container_id":"abc","id":"abc","pid":42,"exit_status":137,…}
 *   pre-1.0:                   &types.Event{Type:"exit", …, Status:0x89, …}
 * protobuf-go omits zero values: an exit event without exit_status exited 0.
 */
export type TaskPayload = {
  type?: string;
  containerId?: string;
  execId?: string;
  pid?: number;
  exitStatus?: number;
};

const CAMEL: Record<string, keyof TaskPayload> = {
  ContainerID: 'containerId', container_id: 'containerId', ID: 'execId', id: 'execId', Pid: 'pid', pid: 'pid',
  ExitStatus: 'exitStatus', exit_status: 'exitStatus', Status: 'exitStatus',
};

export function parseTaskPayload(text: string, topic?: string): TaskPayload | undefined {
  const gogo = /&(?:types\.)?(\w+)\{(.*)\}/s.exec(text);
  if (gogo) {
    const out: TaskPayload = { type: gogo[1]! };
    for (const m of gogo[2]!.matchAll(/(\w+):("(?:[^"\\]|\\.)*"|[^,{}]*)/g)) assign(out, m[1]!, m[2]!);
    return out;
  }
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      const out: TaskPayload = {};
      for (const [k, v] of Object.entries(o)) assign(out, k, typeof v === 'string' ? JSON.stringify(v) : String(v));
      if (isExitTopic(topic) && out.exitStatus === undefined) out.exitStatus = 0;
      return out;
    } catch {
      return undefined;
    }
  }
  if (/\bcontainer_id:"/.test(t)) {
    const out: TaskPayload = {};
    // nested messages (exited_at:{…}) are skipped by the value pattern
    for (const m of t.matchAll(/(?:^|\s)(\w+):("(?:[^"\\]|\\.)*"|\d+)/g)) assign(out, m[1]!, m[2]!);
    if ((isExitTopic(topic) || /\bexited_at:/.test(t)) && out.exitStatus === undefined) out.exitStatus = 0;
    return out;
  }
  return undefined;
}

function isExitTopic(topic: string | undefined): boolean {
  return topic === '/tasks/exit';
}

/** A quoted value; one a paste broke (a raw control character inside the quotes) is kept as it stands between them. */
function unquote(q: string): string {
  try {
    return JSON.parse(q) as string;
  } catch {
    return q.slice(1, -1);
  }
}

function assign(out: TaskPayload, key: string, raw: string): void {
  const k = CAMEL[key];
  if (!k) return;
  const v = raw.startsWith('"') ? unquote(raw) : raw.trim();
  if (k === 'pid' || k === 'exitStatus') {
    const n = v.startsWith('0x') ? parseInt(v, 16) : Number(v);
    if (Number.isFinite(n)) out[k] = n;
  } else if (k === 'containerId' || k === 'execId') {
    if (v) out[k] = v;
  }
}
