import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeFiles } from '../helpers/decode.ts';
import { findHealth } from '../../correlate/health/findings.ts';
import { checkLabBundle } from '../helpers/lab.ts';
import { checkNodeForm } from '../helpers/node-form.ts';
import { REPO } from '../helpers/paths.ts';

/** Runs a lab script; a machine that cannot run it fails the test with the script's own reason. */
function runLab(script: string, args: string[], timeout: number): string {
  try {
    return execFileSync('bash', [join(REPO, 'test', 'lab', script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const why = new Error(`${script} failed on this machine: ${err.stderr?.trim() || err.message}`);
    Object.assign(why, { stdout: err.stdout });
    throw why;
  }
}

/**
 * The truth machine: starts a private auditd, containerd and dockerd, causes every death on
 * purpose, and checks exit137's verdicts against what was done. A machine that cannot run the lab
 * (no root, no audit, no memory cgroup) fails here with the reason; it never passes silently.
 */
describe('live lab: real runtimes, real deaths, right verdicts', { timeout: 900_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'exit137-live-lab-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('every scenario attributed right, decoys left alone', async () => {
    runLab('containers.sh', [out], 700_000);
    await checkLabBundle(out);
    await checkLabBundle(out, 'syslog');
  });

  it('analyze with no inputs, the lab as the node, says which sources it read and gives the same verdicts', async () => {
    const { verdicts } = await checkLabBundle(out, 'syslog');
    const { node, needCtr } = await checkNodeForm(out, verdicts);
    assert.ok(node.length >= 30, `${node.length} verdicts`);
    assert.ok(needCtr.length <= 8, `only the kills by pid: ${needCtr.join(', ')}`);
  });

  it('captures audit records of the runtime’s own cleanup kill through the rule pack', async () => {
    const { events } = await decodeFiles([join(out, 'audit.log')]);
    const kills = events.filter((e) => e.exit137.kind === 'audit-signal' && e.auditd?.key?.includes('exit137_kill'));
    assert.ok(kills.some((e) => e.process?.executable === '/usr/sbin/runc' && e.process.args?.includes('delete')), 'runc delete --force SIGKILL recorded');
  });
});

describe('kernel reports reproduced live (memcg OOM, wrong OOM victim, FUSE stuck kill)', { timeout: 180_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'exit137-live-kernel-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  it('each OOM and the hung task come out as one event each', async () => {
    runLab('capture-kernel.sh', [out], 120_000);
    const { events } = await decodeFiles([join(out, 'dmesg-iso.txt')]);
    const oom = events.filter((e) => e.exit137.kind === 'kernel-oom');
    const hung = events.filter((e) => e.exit137.kind === 'kernel-hung-task');
    assert.deepEqual(oom.map((e) => e.exit137.oom?.memcg), ['/exit137-lab-oom', '/exit137-lab-oom-adj', '/exit137-lab-oom-adj']);
    // the kernel chose the helper with oom_score_adj 1000 over the hog, and exit137 says so
    const wrong = findHealth(events).filter((f) => f.finding === 'oom-wrong-victim');
    assert.deepEqual(wrong.map((f) => f.oom?.mechanism), ['oom_score_adj']);
    assert.equal(wrong[0]!.oom?.victim, `python3[${oom[1]!.exit137.oom?.victim?.pid}]`);
    assert.ok(hung.some((h) => h.exit137.hung_task!.stack.includes('fuse_flush')), 'a task stuck in fuse_flush');
  });
});

describe('the rule pack on the real auditctl', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-live-rules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const lab = (script: string, ...args: string[]) => runLab(script, args, 120_000);

  it('loads whole (auditctl -l lists every rule) and is removed by key afterwards', () => {
    const listed = lab('with-auditd.sh', join(dir, 'a'), '--', 'auditctl', '-l');
    const inFile = execFileSync('grep', ['-c', '^-a', join(REPO, 'rules', 'exit137-signals.rules')], { encoding: 'utf8' }).trim();
    assert.equal(listed.trim().split('\n').filter((l) => l.includes('key=exit137_')).length, Number(inFile));
    assert.match(listed, /-S pidfd_send_signal -F a1=0x9 -F key=exit137_kill/);
    assert.match(listed, /-S tgkill,rt_tgsigqueueinfo -F a2=0x9 -F key=exit137_kill/);
    assert.doesNotMatch(execFileSync('auditctl', ['-l'], { encoding: 'utf8' }), /exit137_/);
  });

  it('every signal path (kill, tkill, tgkill, pidfd_send_signal, rt_sigqueueinfo) arrives with its key', async () => {
    lab('capture-audit.sh', join(dir, 'cap'));
    for (const f of ['audit-raw.log', 'audit-enriched.log']) {
      const { events } = await decodeFiles([join(dir, 'cap', f)]);
      const got = events.filter((e) => e.exit137.kind === 'audit-signal').map((e) => `${e.auditd?.syscall}:${e.exit137.signal?.name}:${e.auditd?.key?.join()}`);
      assert.deepEqual(got.sort(), ['kill:SIGKILL:exit137_kill', 'kill:SIGTERM:exit137_term', 'pidfd_send_signal:SIGKILL:exit137_kill', 'rt_sigqueueinfo:SIGKILL:exit137_kill', 'tgkill:SIGKILL:exit137_kill', 'tkill:SIGTERM:exit137_term'], f);
    }
  });

  it('costs almost nothing on a busy node: SIGURG storms and normal exits are not recorded', () => {
    const out = lab('rule-cost.sh', '20');
    const m = /rule pack cost: (\d+) records with exit137 keys in 20 s/.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[1]) <= 5, `the pack recorded ${m[1]} records on an idle-but-busy node`);
  });

  it('the optional runtime-exec rules load and are removed by key', () => {
    const listed = lab('with-auditd.sh', join(dir, 'x'), '--no-rules', '--', 'sh', '-c', `auditctl -R ${join(REPO, 'rules', 'exit137-runtime-exec.rules')} >/dev/null && auditctl -l; auditctl -D -k exit137_runtime_exec >/dev/null`);
    assert.equal(listed.split('\n').filter((l) => l.includes('key=exit137_runtime_exec')).length, 6);
    assert.doesNotMatch(execFileSync('auditctl', ['-l'], { encoding: 'utf8' }), /exit137_/);
  });

  it('exit137 selftest passes with the pack loaded, and says what is wrong without it', () => {
    const ok = lab('with-auditd.sh', join(dir, 's1'), '--', 'node', join(REPO, 'bin', 'exit137.js'), 'selftest', '--audit-log', join(dir, 's1', 'audit.log'));
    assert.match(ok, /^ok {3}attribution: SIGKILL from .*node/m);
    assert.match(ok, /selftest passed/);
    // this machine boots without audit=1: said, never a failure
    if (!/(^|\s)audit=1(\s|$)/.test(readFileSync('/proc/cmdline', 'utf8'))) assert.match(ok, /^warn audit from boot: /m);
    try {
      lab('with-auditd.sh', join(dir, 's2'), '--no-rules', '--', 'node', join(REPO, 'bin', 'exit137.js'), 'selftest', '--audit-log', join(dir, 's2', 'audit.log'));
      assert.fail('selftest must fail without the rule pack');
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? '';
      assert.match(out, /FAIL rule pack: .*auditctl -R rules\/exit137-signals.rules/);
    }
  });
});

describe('the memory cgroup leak reproduced live (seed 001)', { timeout: 180_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'exit137-live-leak-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  it('exit137 collect samples show it and health names it', async () => {
    runLab('memcg-leak.sh', [out, '60'], 150_000);
    const { events } = await decodeFiles([join(out, 'samples.ndjson')]);
    const f = findHealth(events);
    assert.equal(f.length, 1, 'one memcg-leak finding');
    assert.equal(f[0]!.finding, 'memcg-leak');
    assert.ok(f[0]!.memcg!.dying_cgroups >= 50, `dying ${f[0]!.memcg!.dying_cgroups}`);
    assert.ok((f[0]!.memcg!.growth_per_hour ?? 0) > 0);
  });
});
