import arches from './tables/arches.json' with { type: 'json' };
import recordTypes from './tables/record-types.json' with { type: 'json' };
import signalSyscalls from './tables/signal-syscalls.json' with { type: 'json' };
import signals from './tables/signals.json' with { type: 'json' };
import syscalls from './tables/syscalls.json' with { type: 'json' };

type ArchInfo = { name: string; table: keyof typeof syscalls };
export type SignalSyscall = { signalArg: number; targetArg?: number; scope?: 'process' | 'thread' };

const archByHex = arches as Record<string, ArchInfo>;
const typeByNumber = recordTypes as Record<string, string>;
const signalByNumber = signals as Record<string, string>;
const syscallTables = syscalls as Record<string, Record<string, string>>;
const signalSyscallSpec = signalSyscalls as unknown as Record<string, SignalSyscall>;

export function archName(hex: string): string | undefined {
  return archByHex[hex.toLowerCase()]?.name;
}

export function syscallName(archHex: string, num: number): string | undefined {
  const arch = archByHex[archHex.toLowerCase()];
  return arch ? syscallTables[arch.table]?.[String(num)] : undefined;
}

/** `1300` → `SYSCALL`; unknown numbers keep auditd's own spelling `UNKNOWN[n]`. */
export function recordTypeName(num: number): string {
  return typeByNumber[String(num)] ?? `UNKNOWN[${num}]`;
}

export function signalName(num: number): string {
  if (num >= 34 && num <= 64) return num === 34 ? 'SIGRTMIN' : num === 64 ? 'SIGRTMAX' : `SIGRTMIN+${num - 34}`;
  return signalByNumber[String(num)] ?? `SIG${num}`;
}

const numberBySignal = new Map(Object.entries(signalByNumber).filter(([k]) => k !== '_comment').map(([k, v]) => [v, Number(k)]));

/** `SIGKILL` (or `KILL`) → 9, as ausearch -i names signal arguments. */
export function signalNumber(name: string): number | undefined {
  const n = name.startsWith('SIG') ? name : `SIG${name}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(n);
  if (rt) return 34 + Number(rt[1] ?? 0);
  return n === 'SIGRTMAX' ? 64 : numberBySignal.get(n);
}

export function signalSyscall(name: string): SignalSyscall | undefined {
  return name === '_comment' ? undefined : signalSyscallSpec[name];
}
