import { spawn } from 'node:child_process';
import split2 from 'split2';
import type { Format } from '../detect.ts';

/**
 * Sources that are another program's output: a journald follower, docker and containerd event
 * streams. Each yields text lines in a format the decoder already reads.
 */
export type CommandSource = { id: string; format: Format; argv: string[] };

export function journalFollower(afterCursor?: string, units: string[] = []): CommandSource {
  const argv = ['journalctl', '-f', '-o', 'json', '--all', '--no-pager'];
  if (afterCursor) argv.push(`--after-cursor=${afterCursor}`);
  else argv.push('-n', '0');
  for (const u of units) argv.push('-u', u);
  return { id: 'journald', format: 'journal-json', argv };
}

export function dockerEvents(host?: string, since?: string): CommandSource {
  const argv = ['docker'];
  if (host) argv.push('--host', host);
  argv.push('events', '--format', '{{json .}}');
  if (since) argv.push('--since', since);
  return { id: `docker-events${host ? `:${host}` : ''}`, format: 'docker-events', argv };
}

/**
 * A command whose output can be continued after a restart: `of` reads a line's position (the
 * journal's cursor, docker's event time), `from` builds the command that continues after it.
 */
export type Resumable = {
  of: (line: string) => string | undefined;
  from: (token: string | undefined) => CommandSource;
  /** For a command that cannot start after a token, only over: is this line's token past the saved one? */
  isAfter?: (token: string, saved: string) => boolean;
};

export function resumableJournal(units: string[] = []): Resumable {
  return { of: (line) => jsonString(line, '__CURSOR'), from: (cursor) => journalFollower(cursor, units) };
}

/**
 * docker events from the time of the last one kept. `--since` is inclusive, so that event comes
 * again; its id is its own text (see decoder.ts), and so it is not stored twice.
 */
export function resumableDockerEvents(host?: string): Resumable {
  return {
    of: (line) => {
      const t = /"timeNano":(\d{10,})/.exec(line)?.[1];
      return t ? `${t.slice(0, -9)}.${t.slice(-9)}` : undefined;
    },
    from: (since) => dockerEvents(host, since),
  };
}

/** A string field of a one-line JSON object, found without parsing the whole line. */
function jsonString(line: string, field: string): string | undefined {
  const at = line.indexOf(`"${field}":"`);
  if (at < 0) return undefined;
  const start = at + field.length + 4;
  const end = line.indexOf('"', start);
  return end > start ? line.slice(start, end) : undefined;
}

export function containerdEvents(address?: string): CommandSource {
  const argv = ['ctr'];
  if (address) argv.push('--address', address);
  argv.push('events');
  return { id: `ctr-events${address ? `:${address}` : ''}`, format: 'ctr-events', argv };
}

/** Runs the command and yields its stdout lines; a command that dies is an error, not an end. */
export async function* commandLines(src: CommandSource, signal?: AbortSignal): AsyncGenerator<string> {
  const child = spawn(src.argv[0]!, src.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  // an abort rejects this while the lines are still being read: handled below, not unhandled now
  exited.catch(() => {});
  for await (const line of child.stdout.pipe(split2()) as AsyncIterable<string>) yield line;
  const code = await exited.catch((e: Error) => {
    if (signal?.aborted) return 0;
    throw new Error(`${src.argv.join(' ')}: ${e.message}`);
  });
  if (code !== 0 && !signal?.aborted) throw new Error(`${src.argv.join(' ')} exited with ${code}: ${stderr.trim()}`);
}
