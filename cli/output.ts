import { fstatSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
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

/**
 * Lines gathered into large writes: one write per event was a stream call, a buffer and a
 * callback per line, and with stdout on a pipe the pending writes held most of decode's memory.
 */
export class BatchedLines {
  private buf = '';

  /** stdout's descriptor when it is a file (or /dev/null): written directly, see flush. */
  private readonly fd: number | undefined;

  constructor(
    private readonly out: Writable,
    /** Characters gathered before a write. */
    private readonly chunk = 1 << 16,
  ) {
    this.fd = out === process.stdout ? fileFd(1) : undefined;
  }

  push(line: string): void {
    this.buf += `${line}\n`;
    if (this.buf.length >= this.chunk) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    // Node writes a file's stdout synchronously anyway; the stream first made the batch a Buffer
    // of its own, which writeSync does not (about a tenth of writing decode's NDJSON)
    if (this.fd !== undefined) writeSync(this.fd, this.buf);
    else this.out.write(this.buf);
    this.buf = '';
  }

  /** Something to wait for before making more lines, when the stream's buffer is full. */
  backpressure(): Promise<void> | undefined {
    return this.out.writableNeedDrain ? drained(this.out) : undefined;
  }
}

/** `fd` when it is a regular file or a device other than a terminal (Node's stdout writes to those are synchronous). */
function fileFd(fd: number): number | undefined {
  try {
    const st = fstatSync(fd);
    return st.isFile() || (st.isCharacterDevice() && !isatty(fd)) ? fd : undefined;
  } catch {
    return undefined;
  }
}

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
