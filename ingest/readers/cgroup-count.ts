import type { BlockKind } from '../blocks/block.ts';
import type { Draft } from './draft.ts';
import { typed } from './terminal.ts';

/**
 * A count typed at a shell and its answer: `find /sys/fs/cgroup/memory -type d | wc -l` then
 * `64734`. Two counts matter to a memory cgroup leak: the memory cgroups that exist as
 * directories (the live side, to set against /proc/cgroups), and the entries of /sys/kernel/slab
 * (with kmem accounting every memory cgroup gets its own copy of each slab cache it used, and a
 * removed one keeps them until it is freed).
 */

export type CountTarget =
  | { what: 'memcg-dirs'; dir: string; recursive: boolean; root: boolean }
  | { what: 'slab-caches'; dir: string }
  /** A count that is not one of cgroups: `ls /sys/fs/cgroup/memory | wc -l` counts the control files too. */
  | { what: 'files'; dir: string };

export type CgroupCount = { target: CountTarget; command: string; count?: number };

const MEMORY_DIR = /(\/sys\/fs\/cgroup\/memory)(\/[^\s|;'"]*)?/;
const SLAB_DIR = /\/sys\/kernel\/slab\/?(?=[\s|;]|$)/;
const NUMBER = /^\s*(\d+)\s*$/;

/** What a `… | wc -l` command line counts, or undefined when it is not a count of these. */
export function countTarget(line: string): CountTarget | undefined {
  if (!line.includes('wc -l')) return undefined;
  const cmd = typed(line);
  if (!/\|\s*wc -l\s*$/.test(cmd)) return undefined;
  const slab = SLAB_DIR.exec(cmd);
  if (slab && /^ls\b/.test(cmd)) return { what: 'slab-caches', dir: '/sys/kernel/slab' };
  const m = MEMORY_DIR.exec(cmd);
  if (!m) return undefined;
  const dir = `${m[1]}${(m[2] ?? '').replace(/\/+$/, '')}`;
  const root = dir === '/sys/fs/cgroup/memory';
  // `find DIR -type d`: every cgroup below DIR, DIR itself included
  if (/^find\b/.test(cmd) && /-type\s+d\b/.test(cmd)) return { what: 'memcg-dirs', dir, recursive: true, root };
  // `ls -F DIR | grep /`, `ls -l DIR | grep ^d`, `ls -d DIR/*/`: the directories right below DIR
  if (/^ls\b/.test(cmd) && (/\|\s*grep\s+['"]?(?:\/|\^d)['"]?\s*\|/.test(cmd) || /\s-\w*d\w*\s+\S*\*\/?/.test(cmd))) return { what: 'memcg-dirs', dir, recursive: false, root };
  if (/^(?:ls|find)\b/.test(cmd)) return { what: 'files', dir };
  return undefined;
}

type State = Record<string, never>;

export const cgroupCount: BlockKind<CgroupCount, State> = {
  name: 'cgroup-count',
  starts: (t) => countTarget(t) !== undefined,
  init: () => ({}),
  // the answer is the next line, and the count ends with it
  accepts: (t) => (NUMBER.test(t) ? 'end' : 'no'),
  finish(lines) {
    const out: CgroupCount = { target: countTarget(lines[0] ?? '')!, command: typed(lines[0] ?? '') };
    const n = NUMBER.exec(lines[1] ?? '');
    if (n) out.count = Number(n[1]);
    return out;
  },
  drafts(c): Draft[] {
    const t = c.target;
    if (c.count === undefined) return [{ kind: 'log', source: 'proc', action: 'log-line', message: `${c.command} (no count pasted)` }];
    if (t.what === 'slab-caches') {
      return [{ kind: 'memcg-sample', source: 'proc', action: 'slab-cache-count', type: 'info', message: `${c.count} slab caches in /sys/kernel/slab`, memcg: { hierarchy: 'v1', slab_caches: c.count } }];
    }
    if (t.what === 'files') return [{ kind: 'log', source: 'proc', action: 'log-line', message: `${c.count} entries in ${t.dir} (files and directories: not a count of cgroups)` }];
    const memcg: NonNullable<Draft['memcg']> = { hierarchy: 'v1', live_cgroups: c.count };
    // only `find` over the whole hierarchy counts every live memory cgroup; anything less is a lower bound
    if (!(t.recursive && t.root)) memcg.counted_under = t.dir;
    const how = t.recursive ? `directories under ${t.dir}` : `sub-directories of ${t.dir}`;
    return [{ kind: 'memcg-sample', source: 'proc', action: 'memcg-dir-count', type: 'info', message: `${c.count} ${how} (live memory cgroups)`, memcg }];
  },
};
