import { isShim, shimContainerId } from '../../ingest/readers/ps-tree.ts';
import type { Ev } from '../context.ts';
import { S } from '../context.ts';

/** A listing this long before a typed kill still says what its pid was (a terminal session). */
const LISTED_WITHIN_S = 3600n;

/**
 * A kill typed at a shell names a pid; what that pid was, the terminal says too when the person
 * listed processes first (`ps aux | grep containerd-shim`, then `kill -9 <pid>`). The nearest
 * earlier listing of the same input that shows the pid names the target: its program, and the
 * container a shim's argv serves. Pids are reused, so only a listing before the kill counts.
 */
export function nameTypedKillTargets(events: Ev[]): void {
  let listings: Ev[] | undefined;
  for (const e of events) {
    if (e.exit137.message_id !== 'typed-kill') continue;
    const target = e.exit137.target?.process;
    if (target?.pid === undefined || target.name !== undefined) continue;
    listings ??= events.filter((x) => x.exit137.kind === 'process-tree');
    let row: { command: string } | undefined;
    for (const l of listings) {
      if (l.ns > e.ns || e.ns - l.ns > LISTED_WITHIN_S * S || l.log.file?.path !== e.log.file?.path) continue;
      // same time in a paste with no clock: the order of the lines is the order things happened
      if (l.ns === e.ns && (l.log.line ?? 0) > (e.log.line ?? 0)) continue;
      row = l.exit137.processes?.find((p) => p.pid === target.pid) ?? row;
    }
    if (!row) continue;
    const exe = (row.command.trim().split(/\s+/)[0] ?? '').replace(/^.*\//, '');
    e.exit137.target = { ...e.exit137.target!, process: { ...target, name: exe } };
    const id = isShim(row.command) ? shimContainerId(row.command) : undefined;
    if (id) e.exit137.related_ids = [id];
  }
}

/** A shim a person killed at a shell (its pid resolved above, or `pkill containerd-shim`). */
export function isTypedShimKill(e: Ev): boolean {
  return e.exit137.message_id === 'typed-kill' && e.exit137.signal?.number === 9 && /^(?:docker-)?containerd-shi/.test(e.exit137.target?.process.name ?? '');
}
