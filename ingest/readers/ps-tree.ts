import type { BlockKind } from '../blocks/block.ts';
import type { ProcessNode } from '../event.ts';
import type { Draft } from './draft.ts';
import { bare, typed } from './terminal.ts';

/**
 * `ps` output as pasted: `ps auxf`, `ps -ef --forest`, `ps ajxf`, `ps -O s`, `ps -o pid,stat,wchan,cmd`,
 * `ps <pid>`, `docker top`, with or without their header (a `| grep` drops it), columns squeezed
 * by the paste. What it shows of a dying container: its shim (the container id is in the shim's
 * argv), the container's init under it, `<defunct>` zombies, and tasks in state D, which no signal
 * reaches until the kernel call they wait in returns.
 */

/** Column names ps and `docker top` print; a header is a line of these that ends with the command. */
const COLUMNS = new Set(['USER', 'UID', 'PID', 'PPID', 'PGID', 'SID', 'TTY', 'TT', 'TPGID', 'STAT', 'S', 'C', 'STIME', 'START', 'TIME', '%CPU', '%MEM', 'VSZ', 'RSS', 'SZ', 'F', 'PRI', 'NI', 'ADDR', 'WCHAN', 'LWP', 'NLWP', 'PSR', 'ELAPSED', 'LABEL']);
const COMMAND_COLUMNS = new Set(['CMD', 'COMMAND', 'ARGS']);

/** Layouts of the common invocations, for rows whose header the paste lost. */
const HEADERLESS: string[][] = [
  ['PPID', 'PID', 'PGID', 'SID', 'TTY', 'TPGID', 'STAT', 'UID', 'TIME', 'COMMAND'], // ps ajx
  ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND'], // ps aux
  ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], // ps -ef, docker top
  ['PID', 'TTY', 'STAT', 'TIME', 'COMMAND'], // ps ax, ps <pid>
];

const STATE = /^[DRSTtZIWXP][<NLsl+]*$/;
const TIME = /^(?:\d+-)?\d+:\d\d(?::\d\d)?$/;
const INT = /^\d+$/;
const VALID: Record<string, RegExp> = { PID: INT, PPID: INT, PGID: INT, SID: INT, TPGID: /^-?\d+$/, STAT: STATE, S: STATE, TIME, C: INT, VSZ: INT, RSS: INT, SZ: INT, '%CPU': /^\d+(?:[.,]\d+)?$/, '%MEM': /^\d+(?:[.,]\d+)?$/, NI: /^-?\d+$|^-$/, PRI: /^-?\d+$/ };

/** A process as a row shows it; `wchan` only when the row has that column. */
export type PsRow = ProcessNode & { wchan?: string };

/** The container a shim (or conmon) serves, from its argv: `-id <id>`, `-workdir …/<id>`, v0.2/1.0's first argument, conmon's `-c <id>`. */
export function shimContainerId(command: string): string | undefined {
  const argv = command.trim().split(/\s+/);
  const exe = (argv[0] ?? '').replace(/^.*\//, '');
  if (/^(?:docker-)?containerd-shim(?:-runc-v[12]|-runsc-v1|-kata-v2|-\S+-v\d)?$/.test(exe)) {
    const id = flag(argv, '-id') ?? flag(argv, '--id');
    if (id) return hexOrName(id);
    const workdir = flag(argv, '-workdir') ?? flag(argv, '--workdir');
    if (workdir) return hexOrName(workdir.replace(/\/+$/, '').replace(/^.*\//, ''));
    // docker-containerd-shim <id> <bundle> <runtime>: the id first (cut at the terminal width, often)
    const first = argv[1];
    if (first && /^[0-9a-f]{8,64}$/.test(first)) return first;
    return undefined;
  }
  if (exe === 'conmon') {
    const id = flag(argv, '-c') ?? flag(argv, '--cid');
    return id ? hexOrName(id) : undefined;
  }
  return undefined;
}

export function isShim(command: string): boolean {
  const exe = (command.trim().split(/\s+/)[0] ?? '').replace(/^.*\//, '');
  return /^(?:docker-)?containerd-shim/.test(exe) || exe === 'conmon';
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

function hexOrName(s: string): string | undefined {
  return /^[A-Za-z0-9][\w.-]*$/.test(s) && s.length <= 128 ? s : undefined;
}

/** The header's columns, or undefined when the line is not a ps header. */
export function headerColumns(line: string): string[] | undefined {
  const t = bare(line).trim();
  if (!t.includes('PID')) return undefined;
  const cols = t.split(/\s+/);
  const last = cols.at(-1)!;
  if (!COMMAND_COLUMNS.has(last) || !cols.includes('PID')) return undefined;
  return cols.slice(0, -1).every((c) => COLUMNS.has(c)) ? cols : undefined;
}

/** One row by a header's columns (the last one the command, spaces and forest marks kept), or undefined. */
export function parseRow(line: string, cols: string[]): PsRow | undefined {
  const t = bare(line);
  const fixed = cols.length - 1;
  const re = /\S+/g;
  const values: string[] = [];
  let end = 0;
  for (let i = 0; i < fixed; i++) {
    const m = re.exec(t);
    if (!m) return undefined;
    values.push(m[0]);
    end = m.index + m[0].length;
  }
  const rest = t.slice(end);
  if (!/^\s+\S/.test(rest)) return undefined;
  for (let i = 0; i < fixed; i++) {
    const v = VALID[cols[i]!];
    if (v && !v.test(values[i]!)) return undefined;
  }
  const col = (name: string) => {
    const i = cols.indexOf(name);
    return i >= 0 && i < fixed ? values[i] : undefined;
  };
  // the forest: ` \_ ` after four columns of indentation per level (`|` marks a sibling below)
  const forest = /^(\s[\s|]*)\\_ /.exec(rest);
  const command = (forest ? rest.slice(forest[0].length) : rest).trim();
  const row: PsRow = { pid: Number(col('PID')), command, depth: forest ? Math.round((forest[1]!.length - 2) / 4) + 1 : 0 };
  const ppid = col('PPID');
  if (ppid !== undefined) row.ppid = Number(ppid);
  const state = col('STAT') ?? col('S');
  if (state !== undefined) row.state = state;
  else if (/<defunct>\s*$/.test(command)) row.state = 'Z';
  const wchan = col('WCHAN');
  if (wchan !== undefined && wchan !== '-' && wchan !== '0') row.wchan = wchan;
  return row;
}

/** A headerless row: the first common layout that reads it. */
function headerlessLayout(line: string): string[] | undefined {
  return HEADERLESS.find((cols) => parseRow(line, cols) !== undefined);
}

const PS_COMMAND = /^(?:ps|docker\s+top|podman\s+top)(?:\s|$)/;
/** `...` or `…`: rows the poster left out. */
const ELISION = /^\s*(?:\.{3,}|…)\s*$/;

export type PsTree = { rows: PsRow[]; command?: string };
type State = { cols?: string[]; rows: number };

export const psTree: BlockKind<PsTree, State> = {
  name: 'process-tree',
  // a header, the ps command that printed the rows, or (headerless) a shim's row
  starts(t) {
    if (headerColumns(t)) return true;
    if (/\bps\b|\btop\b/.test(t) && PS_COMMAND.test(typed(t))) return true;
    if (!/shim|conmon/.test(t)) return false;
    const cols = headerlessLayout(t);
    return cols !== undefined && isShim(parseRow(t, cols)!.command);
  },
  init(first) {
    const header = headerColumns(first);
    if (header) return { cols: header, rows: 0 };
    const cols = PS_COMMAND.test(typed(first)) ? undefined : headerlessLayout(first);
    return cols ? { cols, rows: 1 } : { rows: 0 };
  },
  accepts(t, s) {
    if (ELISION.test(t)) return 'yes';
    if (s.cols) {
      if (parseRow(t, s.cols)) {
        s.rows++;
        return 'yes';
      }
      return 'no';
    }
    // after the command: its header, or its first row tells the layout
    const header = headerColumns(t);
    const cols = header ?? headerlessLayout(t);
    if (!cols) return 'no';
    s.cols = cols;
    if (!header) s.rows++;
    return 'yes';
  },
  finish(lines) {
    const out: PsTree = { rows: [] };
    let cols: string[] | undefined;
    for (const l of lines) {
      if (!cols) {
        if (PS_COMMAND.test(typed(l)) && !headerColumns(l)) {
          out.command = typed(l);
          continue;
        }
        cols = headerColumns(l) ?? headerlessLayout(l);
        if (!cols || headerColumns(l)) continue;
      }
      const r = parseRow(l, cols);
      if (r) out.rows.push(r);
    }
    inferParents(out.rows);
    return out;
  },
  drafts(tree): Draft[] {
    if (tree.rows.length === 0) return [{ kind: 'log', source: 'proc', action: 'log-line', message: tree.command ? `${tree.command} (no rows pasted)` : 'ps header (no rows pasted)' }];
    // `docker top <container>` lists that container's processes
    const top = /^(?:docker|podman)\s+top\s+(\S+)/.exec(tree.command ?? '')?.[1];
    const container = top === undefined ? undefined : /^[0-9a-f]{12,64}$/.test(top) ? { id: top } : { name: top };
    return [...processTreeDrafts(tree.rows, container), ...wchanDrafts(tree.rows)];
  },
};

/** A forest without a PPID column: each row's parent is the nearest row above it one level up. */
function inferParents(rows: PsRow[]): void {
  const stack: PsRow[] = [];
  for (const r of rows) {
    const d = r.depth ?? 0;
    while (stack.length > 0 && (stack.at(-1)!.depth ?? 0) >= d) stack.pop();
    if (r.ppid === undefined && d > 0 && stack.length > 0 && (stack.at(-1)!.depth ?? 0) === d - 1) r.ppid = stack.at(-1)!.pid;
    stack.push(r);
  }
}

/** Each shim with what runs under it is one tree, named by the shim's container; the other rows are one more. */
export function processTreeDrafts(rows: PsRow[], container?: Container): Draft[] {
  const children = new Map<number, PsRow[]>();
  for (const r of rows) if (r.ppid !== undefined) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const taken = new Set<PsRow>();
  const out: Draft[] = [];
  for (const shim of rows.filter((r) => isShim(r.command))) {
    if (taken.has(shim)) continue;
    const tree: PsRow[] = [];
    const walk = (r: PsRow) => {
      if (taken.has(r)) return;
      taken.add(r);
      tree.push(r);
      for (const c of children.get(r.pid) ?? []) if (c !== r) walk(c);
    };
    walk(shim);
    const id = shimContainerId(shim.command);
    out.push(treeDraft(tree, id === undefined ? undefined : { id }));
  }
  const rest = rows.filter((r) => !taken.has(r));
  if (rest.length) out.push(treeDraft(rest, container));
  return out;
}

function node(r: PsRow): ProcessNode {
  const n: ProcessNode = { pid: r.pid, command: r.command };
  if (r.ppid !== undefined) n.ppid = r.ppid;
  if (r.state !== undefined) n.state = r.state;
  if (r.depth !== undefined) n.depth = r.depth;
  return n;
}

type Container = NonNullable<Draft['container']>;

function treeDraft(rows: PsRow[], container: Container | undefined): Draft {
  const label = container?.id?.slice(0, 12) ?? container?.name;
  const blocked = rows.filter((r) => r.state?.startsWith('D')).length;
  const zombies = rows.filter((r) => r.state?.startsWith('Z')).length;
  const notes = [blocked ? `${blocked} in state D` : '', zombies ? `${zombies} zombie${zombies > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
  const d: Draft = {
    kind: 'process-tree',
    source: 'proc',
    action: 'process-tree',
    type: 'info',
    message: `${label ? `container ${label}: ` : ''}${rows.length} process${rows.length > 1 ? 'es' : ''}${notes ? ` (${notes})` : ''}`,
    processes: rows.map(node),
  };
  if (container) d.container = container;
  return d;
}

/** `ps -o …,wchan`: a task in state D and the kernel function it sleeps in, a one-frame stack. */
function wchanDrafts(rows: PsRow[]): Draft[] {
  return rows
    .filter((r) => r.wchan !== undefined && r.state?.startsWith('D'))
    .map((r) => {
      const name = r.command.replace(/^\[|\]$/g, '').split(/\s+/)[0]!.replace(/^.*\//, '');
      const h: NonNullable<Draft['hung_task']> = { name, pid: r.pid, state: r.state!, stack: [r.wchan!.replace(/^[.]/, '')], complete: false };
      if (r.ppid !== undefined) h.ppid = r.ppid;
      return { kind: 'task-stack', source: 'proc', action: 'task-wchan', type: 'info', hung_task: h, process: { pid: r.pid, name }, message: `task ${name}:${r.pid} in state ${r.state} sleeping in ${r.wchan}` } satisfies Draft;
    });
}
