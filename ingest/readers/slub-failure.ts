import type { BlockKind } from '../blocks/block.ts';
import { cgroupContainer } from '../ids.ts';
import type { Draft } from './draft.ts';
import { bare } from './terminal.ts';

/**
 * The kernel's `SLUB: Unable to allocate memory on node N (gfp=…)` report and its `cache:` and
 * `node N: slabs:` lines. With kmem accounting (cgroup v1, kernels before 5.9) every memory
 * cgroup has its own copy of each slab cache, named `<cache>(<id>:<cgroup>)`; a failure in such a
 * copy is an allocation charged to that cgroup's kernel memory that could not be made. On those
 * kernels (3.10 above all) a memory cgroup with kmem caches is not freed after removal: the
 * caches, and the cgroup, pile up. A failure in a global cache (`cache: kmalloc-256,`) is plain
 * memory shortage and says nothing of cgroups.
 */

const HEADER = /^SLUB: Unable to allocate memory on node (-?\d+) \(gfp=(0x[0-9a-f]+)/;
/** `cache: kmalloc-1024(1793:c8edefa9…)`, `cache: mnt_cache(9946:<id>)`, or a global `cache: dentry,` */
const CACHE = /^\s*cache: ([^\s(,]+)(?:\((\d+):([^)]*)\))?,/;
const NODE = /^\s*node -?\d+: slabs: \d+, objs: \d+, free: \d+/;
/** The tail of a `cache:` line that the paste wrapped (`…default o` / `rder: 1, min order: 0`). */
const WRAPPED_TAIL = /^\S*: \d+, min order: \d+\s*$/;

export type SlubFailure = {
  gfp?: string;
  /** The failing caches, each once, with the cgroup a per-cgroup copy belongs to. */
  caches: { cache: string; cgroup?: string }[];
};

type State = { header: boolean };

export const slubFailure: BlockKind<SlubFailure, State> = {
  name: 'slub-failure',
  // a report whose header a rate limit or the paste dropped starts at a per-cgroup cache line
  starts: (t) => HEADER.test(bare(t)) || CACHE.exec(bare(t))?.[3] !== undefined,
  init: (first) => ({ header: HEADER.test(bare(first)) }),
  accepts(t, s) {
    const b = bare(t);
    // the next report
    if (HEADER.test(b)) return 'no';
    if (CACHE.test(b) || NODE.test(b) || WRAPPED_TAIL.test(b)) return 'yes';
    return 'no';
  },
  finish(lines) {
    const out: SlubFailure = { caches: [] };
    for (const l of lines) {
      const b = bare(l);
      const h = HEADER.exec(b);
      if (h) out.gfp = h[2]!;
      const c = CACHE.exec(b);
      if (!c) continue;
      const entry: SlubFailure['caches'][number] = { cache: c[1]! };
      if (c[3]) entry.cgroup = c[3];
      if (!out.caches.some((x) => x.cache === entry.cache && x.cgroup === entry.cgroup)) out.caches.push(entry);
    }
    return out;
  },
  drafts(r): Draft[] {
    const mine = r.caches.filter((c) => c.cgroup !== undefined);
    const gfp = r.gfp ? ` (gfp=${r.gfp})` : '';
    if (mine.length === 0) {
      const what = r.caches.length ? `cache ${r.caches.map((c) => c.cache).join(', ')}` : 'no cache named';
      return [{ kind: 'kernel', source: 'kernel', action: 'kernel-message', message: `SLUB: Unable to allocate memory${gfp}: ${what}` }];
    }
    return mine.map((c) => {
      const d: Draft = {
        kind: 'memcg-sample',
        source: 'kernel',
        action: 'memcg-kmem-cache-failure',
        type: 'info',
        level: 'warning',
        message: `a memory cgroup's own slab cache could not allocate${gfp}: ${c.cache} of ${c.cgroup}`,
        memcg: { hierarchy: 'v1', failure: { kind: 'kmem-cache', cache: c.cache, cgroup: c.cgroup!, by: 'kernel' } },
      };
      const id = cgroupContainer(c.cgroup);
      if (id) d.container = { id };
      return d;
    });
  },
};
