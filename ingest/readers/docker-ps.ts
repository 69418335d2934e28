import type { Draft, LineReader } from './draft.ts';
import { podRef, stateAction } from './paste.ts';

/**
 * A `docker ps -a` row (with its header or grep'd out of it): `81583ddcebdd  image  "cmd"
 * 25 seconds ago  Exited (2) 2 seconds ago  [ports]  name`. The exit code and the name are facts;
 * the times are relative to when the command ran, which the row does not say: kept as said.
 */
const AGO = '(?:(?:About )?(?:an?|\\d+) \\w+|Less than a second) ago';
const STATUS = `Exited \\((-?\\d+)\\) (${AGO})|Up (?:${AGO.slice(0, -4)}|.+?)(?: \\((?:healthy|unhealthy|health: starting|Paused)\\))?|Created|Dead|Restarting \\((-?\\d+)\\) ${AGO}|Removal In Progress|Paused`;
const ROW = new RegExp(`^([0-9a-f]{12}|[0-9a-f]{64})\\s+(\\S+)\\s+("[^"]*"|\\S+)\\s+(${AGO})\\s+(${STATUS})(?:\\s{2,}(.*?))?\\s{2,}(\\S+)\\s*$`);

/** dockershim's names: `k8s_<container>[.<hash>]_<pod>_<namespace>_<uid>_<attempt>`. */
const DOCKERSHIM = /^k8s_([^_.]+)(?:\.[0-9a-f]+)?_([^_]+)_([^_]+)_([^_]+)_(\w+)$/;

export function parseDockerPsRow(text: string): Draft | undefined {
  const m = ROW.exec(text);
  if (!m) return undefined;
  const [, id, image, , created, status, exitCode, exitedAgo, restartCode] = m;
  let [, , , , , , , , , ports, name] = m;
  // a row cut after PORTS (NAMES is last): the port mappings are no name
  if (name && /\/(?:tcp|udp|sctp)\b|->/.test(name)) {
    ports = ports ? `${ports} ${name}` : name;
    name = undefined;
  }
  const word = /^(Exited|Up|Created|Dead|Restarting|Removal|Paused)/.exec(status!)![1]!;
  const { action, type } = stateAction(word === 'Exited' ? 'exited' : word === 'Up' ? 'running' : word === 'Removal' ? 'dead' : word.toLowerCase());
  const fields: Record<string, string> = { status: status!, created: created! };
  if (exitedAgo) fields.exited_ago = exitedAgo;
  if (ports) fields.ports = ports.trim();
  const d: Draft = {
    kind: 'container-state',
    source: 'docker-cli',
    action,
    type,
    message: `${name ?? id} ${status}`,
    container: { id: id!, runtime: 'docker', image: { name: image! } },
    state: { status: word === 'Up' ? 'running' : word.toLowerCase(), which: 'current' },
    fields,
  };
  const code = exitCode ?? restartCode;
  if (code !== undefined) d.exit = { code: Number(code) };
  if (name) d.container!.name = name;
  const shim = name ? DOCKERSHIM.exec(name) : null;
  if (shim) {
    d.orchestrator = podRef(shim[2], shim[3])!;
    fields['io.kubernetes.container.name'] = shim[1]!;
  }
  return d;
}

export const dockerPsRow: LineReader = {
  name: 'docker-ps-row',
  detect: (t) => t.length > 40 && /^[0-9a-f]{12}\s/.test(t) && ROW.test(t),
  read(t) {
    const d = parseDockerPsRow(t);
    return d ? { ok: true, drafts: [d] } : { ok: false, reason: 'not-docker-ps', message: 'no docker ps columns' };
  },
};
