import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, rmdirSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { externalKill } from '../correlate/causes/external-kill.ts';
import type { Ev } from '../correlate/context.ts';
import { Decoder } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';

const KEY = 'exit137_kill';

type Check = { ok: boolean; what: string; detail: string };

/**
 * `exit137 selftest`: on a real node, proves the setup works before it is needed. Checks that
 * audit is on and the rule pack loaded, puts a canary process in a throwaway cgroup, SIGKILLs it,
 * and checks that the record arrives and is attributed to this very process.
 */
export function selftestCommand(program: Command): void {
  program
    .command('selftest')
    .description('kill a canary process in a throwaway cgroup and check exit137 sees and attributes it (root)')
    .option('--audit-log <file>', 'where auditd writes', '/var/log/audit/audit.log')
    .option('--wait <seconds>', 'how long to wait for the record', '5')
    .action(async (o: { auditLog: string; wait: string }) => {
      const checks: Check[] = [];
      const say = (c: Check) => {
        checks.push(c);
        process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}\n`);
        return c.ok;
      };
      const status = run('auditctl', ['-s']);
      const enabled = /^enabled (\d)/m.exec(status ?? '')?.[1];
      if (!say({ ok: enabled === '1' || enabled === '2', what: 'kernel audit', detail: status === undefined ? 'auditctl not found or not permitted (run as root; apt-get install auditd)' : `enabled ${enabled}` })) return fail();
      const rules = run('auditctl', ['-l']) ?? '';
      const mine = rules.split('\n').filter((l) => l.includes(`key=${KEY}`));
      const paths = ['kill', 'tgkill', 'pidfd_send_signal'].filter((s) => mine.some((l) => new RegExp(`-S [^ ]*\\b${s}\\b`).test(l)));
      if (!say({ ok: paths.length === 3, what: 'rule pack', detail: paths.length === 3 ? `${mine.length} rules with key ${KEY}` : `rules with key ${KEY} cover ${paths.join(', ') || 'nothing'}: load it with auditctl -R rules/exit137-signals.rules` })) return fail();
      const boot = auditFromBoot(readFileSync('/proc/cmdline', 'utf8'));
      process.stdout.write(`${boot.ok ? 'ok  ' : 'warn'} ${boot.what}: ${boot.detail}\n`);
      if (!say({ ok: existsSync(o.auditLog), what: 'audit log', detail: existsSync(o.auditLog) ? o.auditLog : `${o.auditLog} does not exist: is auditd running? (--audit-log to point elsewhere)` })) return fail();

      const cg = throwawayCgroup();
      const start = statSync(o.auditLog).size;
      const canary = spawn('sleep', ['300'], { stdio: 'ignore' });
      const pid = canary.pid!;
      if (cg) writeFileSync(join(cg, 'cgroup.procs'), String(pid));
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => canary.once('exit', r));
      say({ ok: true, what: 'canary', detail: `sleep ${pid}${cg ? ` in ${cg}` : ''} sent SIGKILL by this process (${process.pid})` });

      let found: NormalizedEvent | undefined;
      const deadline = Date.now() + Number(o.wait) * 1000;
      while (!found && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        found = readKills(o.auditLog, start).find((e) => e.exit137.target?.process.pid === pid && e.process?.pid === process.pid);
      }
      if (cg) rmdirSync(cg);
      if (!say({ ok: found !== undefined, what: 'audit record', detail: found ? `${found.message} (key ${found.auditd?.key?.join(',')})` : `no SIGKILL record for pid ${pid} in ${o.auditLog} within ${o.wait} s: is auditd writing there? is the backlog overflowing (auditctl -s lost)?` })) return fail();

      const ev = { ...found!, ns: BigInt(found!.exit137.ts_ns) } as Ev;
      const verdict = externalKill.assess({ host: found!.host.name, containerId: 'exit137-selftest-canary', deathNs: ev.ns, exitCode: 137, initPids: new Set([pid]), evidence: [ev], sources: { audit: true, runtimeLogs: false, kernel: false, containerEvents: false, kubelet: false } });
      const right = verdict?.cause === 'external-kill' && verdict.killer?.pid === process.pid;
      if (!say({ ok: right, what: 'attribution', detail: right ? verdict!.headline : `expected an external kill by pid ${process.pid}, got ${verdict?.headline ?? 'nothing'}` })) return fail();
      process.stdout.write(`selftest passed: ${checks.length} checks\n`);
    });
}

/**
 * The kernel gives a task an audit context when it is forked, and only if audit had been enabled
 * at least once since boot by then (kernel/auditsc.c, audit_alloc: audit_ever_enabled). Without
 * audit=1 on the kernel command line, whatever started before auditd first enabled audit is never
 * audited, rules or not: pid 1 (a unit stopped or restarted by systemd), and any shell, daemon or
 * agent older than auditd (on a node where auditd was installed while it ran). A warning, not a
 * failure: processes forked later, runc and the shims among them, are recorded.
 */
export function auditFromBoot(cmdline: string): Check {
  const args = cmdline.trim().split(/\s+/);
  const audit = args.filter((a) => a.startsWith('audit=')).at(-1);
  const backlog = args.find((a) => a.startsWith('audit_backlog_limit='));
  if (audit === 'audit=1')
    return { ok: true, what: 'audit from boot', detail: `audit=1 on the kernel command line${backlog ? `, ${backlog}` : ' (add audit_backlog_limit=8192: the boot-time backlog is 64 records)'}` };
  return {
    ok: false,
    what: 'audit from boot',
    detail:
      `${audit ?? 'no audit='} on the kernel command line: processes started before auditd first enabled audit (pid 1 — systemd's own kills — and any shell or agent older than auditd) are never audited, ` +
      'so their kills leave no record. Add audit=1 audit_backlog_limit=8192 to the kernel command line, or restart those processes after auditd is up',
  };
}

function fail(): void {
  process.stdout.write('selftest FAILED\n');
  process.exitCode = 1;
}

function run(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}

/** A cgroup of our own, v1 memory or v2, so the canary looks like a container's process. */
function throwawayCgroup(): string | undefined {
  for (const root of ['/sys/fs/cgroup/memory', '/sys/fs/cgroup']) {
    if (!existsSync(join(root, 'cgroup.procs'))) continue;
    const dir = join(root, `exit137-selftest-${process.pid}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function readKills(path: string, from: number): NormalizedEvent[] {
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  const buf = Buffer.alloc(Math.max(0, size - from));
  readSync(fd, buf, 0, buf.length, from);
  closeSync(fd);
  const out: NormalizedEvent[] = [];
  const d = new Decoder((e) => {
    if (e.exit137.kind === 'audit-signal') out.push(e);
  }, () => {});
  buf.toString('utf8').split('\n').forEach((l, i) => d.pushLine({ id: path }, l, i, i + 1));
  d.end();
  return out;
}
