import type { BlockKind } from '../blocks/block.ts';
import type { Draft } from './draft.ts';
import { bare, typed } from './terminal.ts';

/**
 * `cat /proc/cgroups` as pasted: the kernel's count of cgroups per controller, removed-but-not-freed
 * ones included. The memory row far above the directories that exist (or above every other
 * controller, which a container's cgroups are made and removed with) is removed memory cgroups the
 * kernel still holds: the leak. Read as a memcg reading with the kernel's side only; a count of
 * directories elsewhere in the input is the other side (see correlate/health).
 */

const HEADER = /^#subsys_name\s+hierarchy\s+num_cgroups\s+enabled\s*$/;
/** `cat /proc/cgroups`, alone or piped (`| grep memory`). */
const COMMAND = /^cat\s+\/proc\/cgroups(?:\s|$)/;
const ROW = /^([a-z_][a-z0-9_]*)\s+(\d+)\s+(\d+)\s+([01])\s*$/;

export type ProcCgroups = {
  /** num_cgroups per controller, in the table's order. */
  controllers: Record<string, number>;
  /** The memory controller's hierarchy id (0: the unified v2 hierarchy). */
  memoryHierarchy?: number;
  rows: number;
};

type State = { header: boolean; rows: number };

/** One row, or undefined when the line is not one: `memory\t4\t64734\t1` (a markdown `**…**` around it kept by some posts). */
export function parseRow(line: string): { name: string; hierarchy: number; count: number } | undefined {
  const m = ROW.exec(bare(line).trim());
  return m ? { name: m[1]!, hierarchy: Number(m[2]), count: Number(m[3]) } : undefined;
}

export const procCgroups: BlockKind<ProcCgroups, State> = {
  name: 'proc-cgroups',
  starts: (t) => {
    const b = bare(t).trim();
    return HEADER.test(b) || (b.includes('/proc/cgroups') && COMMAND.test(typed(t)));
  },
  init: (first) => ({ header: HEADER.test(bare(first).trim()), rows: 0 }),
  accepts(t, s) {
    if (parseRow(t)) {
      s.rows++;
      return 'yes';
    }
    // the header after the command that printed it, once
    if (!s.header && s.rows === 0 && HEADER.test(bare(t).trim())) {
      s.header = true;
      return 'yes';
    }
    return 'no';
  },
  finish(lines) {
    const out: ProcCgroups = { controllers: {}, rows: 0 };
    for (const l of lines) {
      const r = parseRow(l);
      if (!r) continue;
      out.rows++;
      out.controllers[r.name] = r.count;
      if (r.name === 'memory') out.memoryHierarchy = r.hierarchy;
    }
    return out;
  },
  drafts(r): Draft[] {
    const memory = r.controllers.memory;
    // a table without the memory row (grep'd for another controller, memory disabled) counts no memory cgroup
    if (memory === undefined) {
      const message = r.rows === 0 ? 'cat /proc/cgroups (no rows pasted)' : `/proc/cgroups without a memory row (${Object.keys(r.controllers).join(', ')})`;
      return [{ kind: 'log', source: 'proc', action: 'proc-cgroups', message }];
    }
    const others = Object.entries(r.controllers).filter(([k]) => k !== 'memory');
    return [
      {
        kind: 'memcg-sample',
        source: 'proc',
        action: 'proc-cgroups',
        type: 'info',
        message: `memory cgroups counted by the kernel: ${memory} (/proc/cgroups${others.length ? `; ${others.map(([k, v]) => `${k} ${v}`).join(', ')}` : ''})`,
        memcg: { hierarchy: r.memoryHierarchy === 0 ? 'v2' : 'v1', kernel_cgroups: memory, ...(others.length ? { controllers: r.controllers } : {}) },
      },
    ];
  },
};
