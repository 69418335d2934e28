import { containerIdsIn, isHexId } from '../ids.ts';
import { matchWording } from '../runtime/wordings.ts';
import type { Draft, LineReader } from './draft.ts';

/**
 * What the docker CLI printed when the daemon refused: `Error response from daemon: Cannot kill
 * container: web: tried to kill container, but did not receive an exit event`, `cannot stop
 * container: <id>: …`, `Could not kill running container <id>, cannot remove - …`, `Cannot kill
 * container <id>: Container <id> is not running`. The daemon's message is matched against the
 * wordings; the container is the one the message names (an id when it is hex, else a name).
 */
const PREFIX = 'Error response from daemon: ';
const TARGETS: RegExp[] = [
  /^(?:Cannot|cannot|Could not|could not) (kill|stop|remove|restart|start|pause|unpause)(?: running)? container:? ([^\s:,]+)[:,]/,
  /^(?:failed|unable) to (kill|stop|remove) container:? "?([^\s:",]+)/,
  /^Container ([^\s:,]+) is (not running|paused|restarting)/,
  /^No such container: (\S+)/,
];

export function parseDockerCliError(text: string): Draft | undefined {
  const t = text.trimEnd();
  const msg = t.startsWith(PREFIX) ? t.slice(PREFIX.length) : t.startsWith('Error: ') ? t.slice(7) : undefined;
  if (msg === undefined) return undefined;
  let op: string | undefined;
  let target: string | undefined;
  for (const re of TARGETS) {
    const m = re.exec(msg);
    if (!m) continue;
    if (m.length > 2 && re !== TARGETS[2]) {
      op = m[1];
      target = m[2];
    } else target = m[1];
    break;
  }
  const match = matchWording(msg, {});
  // `Error: …` is every CLI's prefix: only a docker daemon's message about a container is ours
  if (!t.startsWith(PREFIX) && !target && !match) return undefined;
  const id = match?.wording.component === 'dockerd' ? match.wording.id : undefined;
  const d: Draft = {
    kind: 'runtime-log',
    source: 'docker-cli',
    action: id ?? 'docker-cli-error',
    type: id && /kill|stop/.test(id) ? 'end' : 'info',
    level: 'error',
    message: t,
  };
  if (id) d.message_id = id;
  if (target) d.container = isHexId(target) ? { id: target } : { name: target };
  if (op) d.fields = { operation: op };
  const related = containerIdsIn(msg).filter((x) => x !== target);
  if (related.length) d.related_ids = related;
  return d;
}

export const dockerCliError: LineReader = {
  name: 'docker-cli-error',
  detect: (t) => t.charCodeAt(0) === 69 && (t.startsWith(PREFIX) || (t.startsWith('Error: ') && parseDockerCliError(t) !== undefined)),
  read(t) {
    const d = parseDockerCliError(t);
    return d ? { ok: true, drafts: [d] } : { ok: false, reason: 'not-docker-error', message: 'no daemon error' };
  },
};
