import { execFile, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';

export type CommandResult = { ok: boolean; code: number | null; stdout: string; stderr: string; why?: string };

/** Runs a command to its end, its output kept in memory (nothing is written on the node). */
export function runBuffered(argv: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 512 << 20, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
      if (e.code === 'ENOENT') return resolve({ ok: false, code: null, stdout: '', stderr: '', why: `${argv[0]} is not installed` });
      const why = e.killed ? `${argv[0]} did not finish within ${timeoutMs / 1000} s` : firstLine(stderr) || e.message;
      resolve({ ok: false, code: typeof e.code === 'number' ? e.code : null, stdout, stderr, why });
    });
  });
}

/**
 * A command's output as a stream for the decoder, without waiting for the command to end (a
 * journal can be large). `result` settles when the command has ended, with the lines it gave.
 */
export function streamCommand(argv: string[]): { open: () => Readable; result: Promise<CommandResult & { lines: number }> } {
  let settle: (r: CommandResult & { lines: number }) => void = () => {};
  const result = new Promise<CommandResult & { lines: number }>((r) => (settle = r));
  const open = () => {
    const out = new PassThrough();
    let lines = 0;
    let stderr = '';
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout.pipe(out);
    child.on('error', (e: NodeJS.ErrnoException) => {
      settle({ ok: false, code: null, stdout: '', stderr, lines, why: e.code === 'ENOENT' ? `${argv[0]} is not installed` : e.message });
      out.end();
    });
    child.on('close', (code) => settle({ ok: code === 0, code, stdout: '', stderr, lines, ...(code === 0 ? {} : { why: firstLine(stderr) || `exited with ${code}` }) }));
    return out;
  };
  return { open, result };
}

export function firstLine(s: string): string {
  return s.trim().split('\n')[0]?.trim().slice(0, 300) ?? '';
}
