import { spawnSync } from 'node:child_process';

/** One timed run of a command: wall seconds, peak RSS of the process tree's largest member, its stdout. */
export type Run = { seconds: number; maxRssMb: number; stdout: string; stderr: string };

/**
 * Runs `cmd` under GNU time, pinned to `cores` (taskset), stdout kept unless `discard`. Wall time
 * and peak RSS are time's own figures, so every row (ours, the peers') is measured the same way.
 */
export function timed(cmd: string[] | string, opts: { cores?: string; discard?: boolean; env?: NodeJS.ProcessEnv } = {}): Run {
  const cores = opts.cores ?? '0';
  // `sh -c` so output can go to /dev/null without passing through this process; a string is a shell line
  const line = `${typeof cmd === 'string' ? cmd : cmd.map(quote).join(' ')}${opts.discard ? ' > /dev/null' : ''}`;
  const r = spawnSync('/usr/bin/time', ['-f', 'EXIT137_BENCH_TIME %e %M', 'taskset', '-c', cores, 'sh', '-c', line], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  const mark = r.stderr.lastIndexOf('EXIT137_BENCH_TIME ');
  if (r.status !== 0 || mark < 0) throw new Error(`bench: ${line} failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  const [s, kb] = r.stderr.slice(mark).trim().split(' ').slice(1).map(Number);
  return { seconds: s!, maxRssMb: kb! / 1024, stdout: r.stdout, stderr: r.stderr.slice(0, mark) };
}

/** The run with the median wall time of `n`, with the largest peak RSS of all of them. */
export function median(n: number, run: () => Run): Run {
  const runs = Array.from({ length: n }, run).sort((a, b) => a.seconds - b.seconds);
  const m = runs[Math.floor((runs.length - 1) / 2)]!;
  return { ...m, maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

export function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Prints rows under a header, the first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

/** One of the issue's targets as the bench measured it. */
export type Target = { target: string; figure: string; met: boolean };
