import type { Writable } from 'node:stream';

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
