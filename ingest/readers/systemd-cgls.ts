import type { BlockKind } from '../blocks/block.ts';
import type { ProcessNode } from '../event.ts';
import type { Draft } from './draft.ts';
import { bare, typed } from './terminal.ts';

/**
 * `systemd-cgls` as pasted: the cgroup tree with the processes in each cgroup. A container is a
 * cgroup named by its id (`docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`,
 * `libpod-<id>.scope`, or the bare id under cgroupfs), so the tree says which pid runs in which
 * container: what a pasted stack or a blocked pid alone does not.
 */

/** Box-drawing indentation (`│ `, `├─`, `└─`; a first line that lost its `├` starts at `─`). */
const TREE_LINE = /^([\s│├└]*)[├└]?─(\S.*)$/;
const PROCESS = /^(\d+) (.*)$/;
const CONTAINER_SCOPE = /^(?:(?:docker|cri-containerd|crio|libpod)-)?([0-9a-f]{64})(?:\.scope)?$/;
const ELISION = /^\s*(?:\.{3,}|…)\s*$/;
const HEADER = /^(?:Control group \/.*:|Working directory \/.*:|-\.slice)\s*$/;

export type CglsLine = { depth: number; pid?: number; command?: string; unit?: string };
export type Cgls = { lines: CglsLine[] };

function parse(line: string): CglsLine | undefined {
  const m = TREE_LINE.exec(bare(line).replace(/\s+$/, ''));
  if (!m) return undefined;
  // two columns per level (`│ `), the last one `├─`: the `─` sits at column 2·depth + 1
  const depth = Math.max(0, Math.floor((m[1]!.length - 1) / 2));
  const p = PROCESS.exec(m[2]!);
  return p ? { depth, pid: Number(p[1]), command: p[2]!.trim() } : { depth, unit: m[2]!.trim() };
}

export const systemdCgls: BlockKind<Cgls, Record<string, never>> = {
  name: 'systemd-cgls',
  starts: (t) => (/[─]/.test(t) && parse(t) !== undefined) || (t.includes('systemd-cgls') && /^systemd-cgls(?:\s|$)/.test(typed(t))),
  init: () => ({}),
  accepts: (t) => (parse(t) !== undefined || ELISION.test(t) || HEADER.test(bare(t).trim()) ? 'yes' : 'no'),
  finish(lines) {
    const out: Cgls = { lines: [] };
    for (const l of lines) {
      const p = parse(l);
      if (p) out.lines.push(p);
    }
    return out;
  },
  drafts(c): Draft[] {
    const out: Draft[] = [];
    const lines = c.lines;
    for (let i = 0; i < lines.length; i++) {
      const scope = CONTAINER_SCOPE.exec(lines[i]!.unit ?? '');
      if (!scope) continue;
      const depth = lines[i]!.depth;
      const processes: ProcessNode[] = [];
      for (let j = i + 1; j < lines.length && lines[j]!.depth > depth; j++) {
        const l = lines[j]!;
        if (l.pid !== undefined) processes.push({ pid: l.pid, command: l.command ?? '', depth: l.depth - depth });
      }
      out.push({ kind: 'process-tree', source: 'proc', action: 'cgroup-tree', type: 'info', container: { id: scope[1]! }, processes, message: `container ${scope[1]!.slice(0, 12)}: ${processes.length} process${processes.length === 1 ? '' : 'es'} (systemd-cgls)` });
    }
    if (out.length === 0) {
      // no container in the tree: its processes, so the paste is not lost
      const processes = lines.filter((l) => l.pid !== undefined).map((l): ProcessNode => ({ pid: l.pid!, command: l.command ?? '', depth: l.depth }));
      out.push({ kind: processes.length ? 'process-tree' : 'log', source: 'proc', action: 'cgroup-tree', type: 'info', ...(processes.length ? { processes } : {}), message: `systemd-cgls: ${processes.length} processes, no container` });
    }
    return out;
  },
};
