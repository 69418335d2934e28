import type { Draft, LineReader, ReadResult } from './draft.ts';
import { typed } from './terminal.ts';

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
  // `-s 9` is SIGKILL by its name, as every other record of it says
  const byNumber: Record<number, string> = { 9: 'KILL', 15: 'TERM', 2: 'INT', 1: 'HUP', 3: 'QUIT' };
  return n === undefined ? undefined : { number: n, name: `SIG${byNumber[n] ?? name}` };
}

/**
 * A signal typed at a shell (`$ sudo kill -9 232874`, `# kill -s KILL 4242`, `pkill -9 containerd-shim`):
 * a person on the node ended a process. By pid, what it was comes from a `ps` listing in the same
 * paste (correlate/causes/typed-kill.ts): people list, then kill.
 */
const SHELL_KILL = /^(kill|pkill|killall) +((?:(?:-s|--signal) +\S+ +|-\S+ +)*)([^-\s].*)$/;
/** `-9`, `-KILL`, `-SIGKILL`, `-s KILL`, `--signal=9`; other flags (pkill's `-f`) ask no signal. */
const SIGNAL_FLAG = /^(?:-s|--signal[= ]?|-)(?:SIG)?(\w+)$/;

function typedKill(line: string): ReadResult {
  const m = SHELL_KILL.exec(typed(line));
  if (!m) return { ok: true, drafts: [] };
  let sig: Draft['signal'] = { number: 15, name: 'SIGTERM' };
  for (const f of m[2]!.trim().replace(/^(-s|--signal) +/, '$1').split(/\s+/)) {
    const named = SIGNAL_FLAG.exec(f) ? signalOf(`--signal=${SIGNAL_FLAG.exec(f)![1]}`) : undefined;
    if (named) sig = named;
  }
  const words = m[3]!.trim().split(/\s+/);
  const byPid = m[1] === 'kill';
  if (byPid && !words.every((w) => /^\d{1,9}$/.test(w))) return { ok: true, drafts: [] };
  if (!byPid && (words.length !== 1 || !/^[\w.\-/]+$/.test(words[0]!))) return { ok: true, drafts: [] };
  return {
    ok: true,
    drafts: words.map((w) => {
      const target = byPid ? { pid: Number(w) } : { name: w.replace(/^.*\//, '') };
      return {
        kind: 'runtime-log',
        source: 'docker-cli',
        action: 'typed-kill',
        type: 'end',
        message: `${m[1]} ${sig.name} ${w} (typed at a shell)`,
        message_id: 'typed-kill',
        signal: sig,
        target: { process: target },
      } satisfies Draft;
    }),
  };
}

export const cliCommand: LineReader = {
  name: 'cli-command',
  detect(text) {
    // an engine's command anywhere after a prompt, or compose's `Killing`/`Stopping` progress line
    if (!text.includes('ill') && !text.includes('top') && !text.includes(' rm') && !text.includes('restart')) return false;
    return (
      /\b(?:docker|podman|nerdctl) +(?:container +)?(?:kill|stop|rm|restart)\b/.test(text) ||
      /^(?:\^C)?(?:Killing|Stopping) /.test(text) ||
      /^[^a-z]{0,80}?(?:\S*[$#] +)?(?:sudo +(?:-\S+ +)*)?(?:kill|pkill|killall) +-?\w/.test(text)
    );
  },
  read(text): ReadResult {
    const line = text.replace(/^\^C/, '');
    if (!/\b(?:docker|podman|nerdctl) /.test(line) && /\b(?:kill|pkill|killall) /.test(line)) return typedKill(line);
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
