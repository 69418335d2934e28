import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attribution } from '../../correlate/verdict.ts';
import { join } from 'node:path';
import { analyzeFiles } from '../helpers/analyze.ts';
import { decodeFiles } from '../helpers/decode.ts';
import { CONFIDENT, FIELD_DIR, judge, listCases, readCase, scoreAll, scoreCase, tally } from './score.ts';
import type { FieldCase } from './score.ts';

/**
 * The field corpus (issue #14): real excerpts from public threads, each analyzed alone. Confidence
 * is a promise, so not one answer may be confidently wrong; and at least 95% must be right.
 */
describe('the field corpus', async () => {
  const results = await scoreAll();

  it('has at least 120 cases, 10 of each cause and finding, and 25 decoys, each with its address', () => {
    assert.ok(results.length >= 120, `${results.length} cases`);
    const by = new Map(tally(results).map((t) => [t.label, t.total]));
    for (const label of ['shim-death', 'oom-kill', 'stop-timeout', 'stuck-kill', 'external-kill', 'probe-failure', 'eviction', 'host-shutdown', 'memcg-leak', 'cgroup-teardown-freeze']) {
      assert.ok((by.get(label) ?? 0) >= 10, `${label}: ${by.get(label) ?? 0} cases`);
    }
    assert.ok((by.get('decoy') ?? 0) >= 25, `decoys: ${by.get('decoy') ?? 0}`);
    for (const slug of listCases()) assert.match(readCase(slug).c.source, /^https?:\/\//, slug);
  });

  it('no answer is confidently wrong', () => {
    assert.deepEqual(results.filter((r) => r.confidentWrong).map((r) => `${r.slug}: ${r.said}`), []);
  });

  it('at least 95% are right', () => {
    const right = results.filter((r) => r.right).length;
    assert.ok(right / results.length >= 0.95, `${right}/${results.length} right; failing: ${results.filter((r) => !r.right).map((r) => r.slug).join(', ')}`);
  });
});

describe('cases each answered by one mechanism', () => {
  const said = async (slug: string) => (await scoreCase(slug)).said;

  it('a runtime oom event with no exit of the container is no confident death: the kernel may have killed a child (ecs-agent#261: postgres kept running); with its exit cut (moby#18470) it is still an OOM, unconfirmed', async () => {
    assert.equal(await said('decoy-amazon-ecs-agent-261'), 'd47dd049d534: oom-kill 0.60');
    assert.match(await said('oom-kill-moby-18470'), /^36eb96d6c134: oom-kill 0\.6/);
  });

  it('dockerd’s kill event with signal 9 and no die (a Wazuh alert, wazuh#14416) is a death asked of the engine, below confident: that it ended is inferred', async () => {
    assert.match(await said('external-kill-wazuh-14416'), /^crazy_lederberg: external-kill 0\.6/);
    assert.equal(await said('decoy-wazuh-12150'), 'nothing');
  });

  it('a SIGKILL past the stop’s grace period is the grace running out (k8s#57707: runc kill --all 31 s after a 30 s grace; the PLEG ContainerDied)', async () => {
    assert.match(await said('stop-timeout-kubernetes-57707'), /^763de1ad420f: stop-timeout 0\.7/);
  });

  it('an audited SIGKILL from an agent to apptainer, which its container lives under, with no container named (apptainer#2650)', async () => {
    assert.equal(await said('external-kill-apptainer-2650'), '?: external-kill 0.70');
  });

  it('a journal whose stamps lost their first letter still gives its lines to the shim’s crash dump (containerd#7468)', async () => {
    assert.match(await said('shim-death-containerd-7468'), /^\?: shim-death 0\.6/);
  });

  it('log lines each wrapped in markdown inline code (k8s#41347): the kubelet’s eviction read through the backticks', async () => {
    assert.match(await said('eviction-kubernetes-41347'), /^9a4c58c575f7: eviction/);
  });

  it('a probe that errored because the container was not running anymore is no probe kill (k8s#25149); a failed one still is', async () => {
    assert.equal(await said('decoy-kubernetes-25149'), 'nothing');
    assert.match(await said('probe-failure-trivy-dojo-report-operator-24'), /^trivy-dojo-report-operator: probe-failure/);
  });

  it('busybox syslogd’s facility.level before the tag (`kern.notice kernel: …`): the kernel’s seccomp records are read as audit, none a signal (security-profiles-operator#780)', async () => {
    const { events } = await decodeFiles([join(FIELD_DIR, 'decoy-security-profiles-operator-780', 'messages.txt')]);
    assert.deepEqual(events.map((e) => [e.exit137.kind, e.event.action, e.exit137.signal]), Array(4).fill(['audit', 'seccomp', undefined]));
    assert.equal(await said('decoy-security-profiles-operator-780'), 'nothing');
  });

  it('a runtime’s signal refused by the kernel (`unable to signal init: permission denied`, AppArmor 4’s runc profile) is a kill that never arrived, said as such: the kubelet’s KillContainerError (runc#4281), its FailedKillPod event with the quotes escaped (kURL#5354) or not (watchtower#1891), dockerd’s stop error (moby#47720)', async () => {
    assert.equal(await said('stuck-kill-runc-4281'), '12aff81d2d78: stuck-kill 0.85');
    assert.equal(await said('stuck-kill-kurl-5354'), 'nginx: stuck-kill 0.85');
    assert.equal(await said('stuck-kill-watchtower-1891'), '98837f85dacd: stuck-kill 0.85');
    assert.equal(await said('stop-timeout-moby-47720'), '24cf886faaa4: stuck-kill 0.85');
    const dir = join(FIELD_DIR, 'stop-timeout-moby-47720');
    const { verdicts } = await analyzeFiles([join(dir, 'dockerd.log')]);
    assert.equal(verdicts[0]?.sub_cause, 'signal-denied');
    assert.match(verdicts[0]?.headline ?? '', /refused them \(permission denied\)/);
  });

  it('dmesg stamps rendered as bracketed dates, the report’s header cut (mesos/kibana#13)', async () => {
    assert.match(await said('oom-kill-mesos-kibana-13'), /^50c016035226: oom-kill/);
  });
});

describe('the scorer', () => {
  const base: FieldCase = { source: 'https://example.org/x', expect: { kind: 'death', cause: 'oom-kill', container: 'abcdef123456' }, naive_mistake: 'x', established_by: 'y' };
  const verdict = (cause: Attribution['cause'], confidence: number, id = 'abcdef1234567890'): Attribution =>
    ({ container: { id, id_is_prefix: true }, cause, confidence }) as Attribution;

  it('a right cause on the named container is right; the same cause at 0.8 on another container is confidently wrong', () => {
    assert.equal(judge(base, [verdict('oom-kill', 0.5)], []).right, true);
    const other = judge(base, [verdict('oom-kill', CONFIDENT, 'fedcba9876543210')], []);
    assert.equal(other.right, false);
    assert.equal(other.confidentWrong, true);
  });

  it('a wrong cause is confidently wrong only at 0.8 or more; unknown never is', () => {
    assert.equal(judge(base, [verdict('shim-death', 0.79)], []).confidentWrong, false);
    assert.equal(judge(base, [verdict('shim-death', 0.8)], []).confidentWrong, true);
    assert.equal(judge(base, [verdict('unknown', 0.9)], []).confidentWrong, false);
  });

  it('a decoy is right only when no cause of death is named, and a confident one is confidently wrong', () => {
    const decoy: FieldCase = { ...base, expect: { kind: 'decoy', container: null } };
    assert.equal(judge(decoy, [verdict('normal-exit', 0.9)], []).right, true);
    assert.equal(judge(decoy, [verdict('shim-death', 0.45)], []).right, false);
    assert.equal(judge(decoy, [verdict('shim-death', 0.45)], []).confidentWrong, false);
    assert.equal(judge(decoy, [verdict('stop-timeout', 0.9)], []).confidentWrong, true);
  });
});
