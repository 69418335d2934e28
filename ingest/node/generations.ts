import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Nanos } from '../time/instant.ts';

export type Generation = { path: string; mtimeNs: Nanos };

/**
 * A log and its rotated generations (`audit.log.1`, `syslog.2.gz`, `messages-20260101`), oldest
 * first, keeping only those that overlap [fromNs, toNs]. A generation ends at its last write
 * (its mtime) and starts where the next older one ended: nothing is parsed to know its span, so
 * a format without a year (syslog) or a compressed one costs no read.
 */
export async function generationsOverlapping(path: string, fromNs: Nanos, toNs: Nanos): Promise<Generation[]> {
  const dir = dirname(path);
  const base = basename(path);
  const rotated = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:[.-]\\d+)?(?:\\.gz)?$`);
  const all: Generation[] = [];
  for (const name of await readdir(dir)) {
    if (!rotated.test(name)) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isFile()) all.push({ path: join(dir, name), mtimeNs: BigInt(Math.round(st.mtimeMs * 1e6)) });
  }
  all.sort((a, b) => (a.mtimeNs < b.mtimeNs ? -1 : a.mtimeNs > b.mtimeNs ? 1 : 0));
  return all.filter((g, i) => g.mtimeNs >= fromNs && (i === 0 || all[i - 1]!.mtimeNs <= toNs));
}
