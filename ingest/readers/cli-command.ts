import type { Draft, LineReader, ReadResult } from './draft.ts';

/**
 * A command line pasted from a terminal (`$ docker kill --signal=SIGKILL web`, `# docker stop -t 0
 * web`) and docker-compose's own progress lines (`Killing web_1 ... done`): what a person asked
 * of the engine, which is evidence of who ended a container when nothing else recorded it.
 */
const PROMPT = /^(?:\[[^\]]{0,200}\][$#] +|[\w.@:~/-]*[$#>] +)?(?:sudo +)?/;
const DOCKER = /^(docker|podman|nerdctl) +(?:container +)?(kill|stop|rm|restart)\b(.*)$/;
const COMPOSE = /^(Killing|Stopping) ([\w.-]+)(?: \.\.\.|\.\.\.)(?: *(done|error))?\s*$/;

const ACTIONS: Record<string, { id: string; what: string }> = {
  kill: { id: 'cli-kill', what: 'killed' },
  stop: { id: 'cli-stop', what: 'stopped' },
  rm: { id: 'cli-rm', what: 'removed' },
  restart: { id: 'cli-restart', what: 'restarted' },
};

function signalOf(flags: string): Draft['signal'] {
  const m = /(?:--signal[= ]|-s +)(?:SIG)?(\w+)/.exec(flags);
  const name = (m?.[1] ?? 'KILL').toUpperCase();
  const numbers: Record<string, number> = { KILL: 9, '9': 9, TERM: 15, '15': 15, INT: 2, '2': 2, HUP: 1, '1': 1, QUIT: 3, '3': 3, USR1: 10, USR2: 12, WINCH: 28 };
  const n = numbers[name];
  return n === undefined ? undefined : { number: n, name: /^\d+$/.test(name) ? `SIG${name}` : `SIG${name}` };
}

export const cliCommand: LineReader = {
  name: 'cli-command',
  detect(text) {
    // an engine's command anywhere after a prompt, or compose's `Killing`/`Stopping` progress line
    return /\b(?:docker|podman|nerdctl) +(?:container +)?(?:kill|stop|rm|restart)\b/.test(text) || /^(?:\^C)?(?:Killing|Stopping) /.test(text);
  },
  read(text): ReadResult {
    const line = text.replace(/^\^C/, '');
    const compose = COMPOSE.exec(line);
    if (compose) {
      const kill = compose[1] === 'Killing';
      const d: Draft = {
        kind: 'runtime-log',
        source: 'docker-cli',
        action: kill ? 'cli-kill' : 'cli-stop',
        type: 'end',
        message: line,
        message_id: kill ? 'compose-kill' : 'compose-stop',
        container: { name: compose[2]! },
      };
      if (kill) d.signal = { number: 9, name: 'SIGKILL' };
      return { ok: true, drafts: [d] };
    }
    const cmd = DOCKER.exec(line.replace(PROMPT, ''));
    if (!cmd) return { ok: true, drafts: [] };
    const args = cmd[3]!.trim().split(/\s+/).filter((a) => a.length > 0);
    const names: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-t' || a === '--time' || a === '-s' || a === '--signal') i++;
      else if (!a.startsWith('-') && /^[\w.-]+$/.test(a)) names.push(a);
    }
    if (names.length === 0) return { ok: true, drafts: [] };
    const action = ACTIONS[cmd[2]!]!;
    const sig = cmd[2] === 'kill' ? signalOf(cmd[3]!) : cmd[2] === 'rm' && /(^|\s)(-f|--force)\b/.test(cmd[3]!) ? { number: 9, name: 'SIGKILL' } : undefined;
    const grace = cmd[2] === 'stop' ? /(?:-t|--time)[= ](\d+)/.exec(cmd[3]!) : null;
    return {
      ok: true,
      drafts: names.map((name) => {
        const d: Draft = { kind: 'runtime-log', source: 'docker-cli', action: `cli-${cmd[2]}`, type: 'end', message: `${cmd[1]} ${cmd[2]} ${name}`, message_id: action.id, container: { name } };
        if (sig) d.signal = sig;
        if (grace) d.grace_seconds = Number(grace[1]);
        return d;
      }),
    };
  },
};
