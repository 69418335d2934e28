import type { Writable } from 'node:stream';
import type { FollowSink } from '../ingest/follow-run.ts';

/** Writes a line; a closed pipe (`| head`) ends the program quietly, as Unix tools do. */
export function writeLine(out: Writable, line: string): void {
  out.write(`${line}\n`);
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/** Resolves when what was written so far has left the stream's buffer. */
export function drained(out: Writable): Promise<void> {
  return out.writableNeedDrain ? new Promise((r) => out.once('drain', () => r())) : Promise.resolve();
}

/** Events as NDJSON on stdout, dead letters on stderr (or a file): the sink of the one-shot commands. */
export function stdoutSink(deadLetters?: Writable): FollowSink {
  return {
    event: (e) => writeLine(process.stdout, JSON.stringify(e)),
    deadLetter: (d) => {
      if (deadLetters) deadLetters.write(`${JSON.stringify(d)}\n`);
      else process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
    },
    backlogged: false,
    durable: () => drained(process.stdout),
  };
}
