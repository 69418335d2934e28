import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (n: number) => join(FIXTURES, 'field', 'shapes', 'kubectl-get-events', `${n}.txt`);
const fieldCase = (slug: string, file: string) => join(FIXTURES, 'field', 'cases', slug, file);

async function events(path: string): Promise<NormalizedEvent[]> {
  const r = await decodeFiles([path]);
  assert.deepEqual(r.dead, [], 'no dead letters');
  return r.events.filter((e) => e.exit137.kind !== 'log');
}

describe('kubectl get events rows, every layout since 2015', () => {
  it('k8s 1.2 --all-namespaces rows without their header: namespace, pod, container from the subobject, the reporter in braces', async () => {
    const rows = await events(shape(1));
    assert.equal(rows.length, 3);
    for (const e of rows) {
      assert.deepEqual(e.orchestrator, { namespace: 'rkoubsky', resource: { type: 'pod', name: 'basic-sti-1-p7jnr' } });
      assert.deepEqual(e.container, { name: 'basic-sti' });
      assert.equal(e.exit137.source, 'kubelet');
      assert.equal(e.exit137.fields?.from, '{kubelet ip-XXXX}');
      assert.equal(e.exit137.fields?.age, '1h');
    }
    assert.deepEqual(rows.map((e) => e.exit137.fields?.count), ['2', '1', '1']);
    assert.equal(rows[0]!.message, 'Readiness probe failed:');
    // the probe that errored on a dead container is still a liveness failure as worded
    assert.equal(rows[2]!.exit137.message_id, 'kubelet-liveness-failed');
    assert.deepEqual(rows[2]!.exit137.related_ids, ['569bdd1b2051a84be701788d12f584396b69904f563144386133c5c9863f8805']);
  });

  it('custom columns TIME REASON MSG: each row at its RFC 3339 instant, not read as a syslog line with a host', async () => {
    const rows = await events(shape(2));
    assert.deepEqual(rows.map((e) => e.exit137.fields?.reason), ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started', 'Unhealthy', 'Unhealthy', 'Unhealthy', 'Killing']);
    const kill = rows.at(-1)!;
    assert.equal(kill['@timestamp'], '2021-07-01T13:58:59.000000000Z');
    assert.equal(kill.exit137.time.basis, 'absolute');
    assert.equal(kill.host.name, 'unknown');
    assert.equal(kill.exit137.message_id, 'kubelet-liveness-failed');
    assert.deepEqual(kill.container, { name: 'gadget' });
    assert.equal(kill.message, 'Container gadget failed liveness probe, will be restarted');
    // `<nil>` is no time
    assert.equal(rows[0]!.exit137.time.basis, 'relative');
    assert.equal(rows[0]!.exit137.source, 'kubectl');
  });

  it('2015 tab-separated rows: RFC 1123 first/last seen, lowercase reasons, the docker id the kill names', async () => {
    const rows = await events(shape(3));
    const kills = rows.filter((e) => e.exit137.fields?.reason === 'killing');
    assert.deepEqual(kills.map((e) => [e.container?.id, e['@timestamp'], e.exit137.message_id]), [
      ['0b7743acd1a5f54aeccf4fe16c8cfbaa5e935a541c2fca59150cc250f7035d4e', '2015-04-07T19:08:30.000000000Z', 'kubelet-kill-grace'],
      ['39e349fd00c1cbcbb25e588e29e70e2c12b2e7b9a8020e02fbe462ae9fa61ea1', '2015-04-07T19:09:00.000000000Z', 'kubelet-kill-grace'],
    ]);
    assert.equal(kills[0]!.container?.name, 'nginx');
    assert.equal(kills[0]!.exit137.time.offset_minutes, -420);
  });

  it('k8s 1.5 -o wide rows with Go time strings (`+0100 CET`) and an empty SUBOBJECT', async () => {
    const rows = await events(shape(4));
    const kill = rows.find((e) => e.exit137.fields?.reason === 'Killing')!;
    assert.deepEqual(kill.container, { id: '069359c8acce', name: 'helper' });
    assert.equal(kill['@timestamp'], '2017-03-09T17:46:20.000000000Z');
    assert.deepEqual(kill.orchestrator, { namespace: 'gitlab', resource: { type: 'pod', name: 'runner-33463c05-project-250-concurrent-0jn5pd' } });
    assert.equal(kill.exit137.message_id, 'kubelet-kill-grace');
    const sync = rows.find((e) => e.exit137.fields?.reason === 'FailedSync')!;
    assert.deepEqual(sync.container, { name: 'svc-0' });
    assert.equal(sync.exit137.fields?.object, 'Pod/runner-33463c05-project-250-concurrent-0jn5pd');
  });
});

describe('events as the field corpus has them', () => {
  it('kubectl get events (LAST SEEN TYPE REASON OBJECT MESSAGE) behind other commands', async () => {
    const rows = await events(fieldCase('probe-failure-uptime-kuma-helm-67', 'kubectl-events.txt'));
    const liveness = rows.filter((e) => e.exit137.message_id === 'kubelet-liveness-failed');
    assert.equal(liveness.length, 2);
    assert.deepEqual(liveness[0]!.orchestrator, { resource: { type: 'pod', name: 'uptime-kuma-helm-57f9d6fd5c-czdlh' } });
    assert.equal(liveness[1]!.exit137.fields?.age, '2s');
  });

  it('≤1.9 describe rows (FirstSeen LastSeen Count From SubObjectPath): the kill with its docker id, the runtime’s deadline', async () => {
    const [kill, sync] = await events(fieldCase('stuck-kill-kubernetes-49108', 'kubectl-events.txt'));
    assert.equal(kill!.exit137.message_id, 'kubelet-kill-grace');
    assert.deepEqual(kill!.container, { id: 'fd110a30094acb46dfcc2f21bd4d5b6ba8f368925f9ec429c842bb27219e5d79', name: 'wordpress-mariadb' });
    assert.equal(sync!.exit137.message_id, 'kubelet-kill-deadline');
    assert.deepEqual(sync!.container, { name: 'wordpress-mariadb' });
  });

  it('a web console’s table (`5:26:57 PM | Warning | Unhealthy | …`)', async () => {
    const [readiness, liveness] = await events(fieldCase('probe-failure-syndesis-1616', 'events.txt'));
    assert.equal(readiness!.exit137.message_id, undefined);
    assert.equal(liveness!.exit137.message_id, 'kubelet-liveness-failed');
    assert.equal(liveness!.exit137.fields?.type, 'Warning');
  });

  it('event messages quoted alone, or behind a time in no envelope’s format', async () => {
    const [e] = await events(fieldCase('eviction-kilo-329', 'kubectl-describe.txt'));
    assert.equal(e!.exit137.message_id, 'kubelet-eviction');
    assert.deepEqual(e!.container, { name: 'kilo' });
    const [failed, restart] = await events(fieldCase('probe-failure-antrea-833', 'kubectl-events.txt'));
    assert.equal(failed!.exit137.message_id, 'kubelet-liveness-failed');
    assert.equal(restart!.exit137.message_id, 'kubelet-liveness-failed');
    assert.deepEqual(restart!.container, { name: 'antrea-ovs' });
    assert.equal(restart!.exit137.fields?.time, '6/11/2020, 17:52:33.000');
    const [old] = await events(fieldCase('probe-failure-kubernetes-46218', 'kubectl-describe.txt'));
    assert.deepEqual(old!.container, { name: 'my-container' });
    assert.deepEqual(old!.orchestrator, { namespace: 'my-namespace', resource: { type: 'pod', name: 'my-pod-3965xxx' } });
  });

  it('node-problem-detector’s OOMKilling row carries the kernel’s victim line: a kernel OOM, cut to its victim', async () => {
    const [e] = await events(fieldCase('oom-kill-website-12576', 'events.txt'));
    assert.equal(e!.exit137.kind, 'kernel-oom');
    assert.deepEqual(e!.process, { pid: 4481, name: 'stress' });
    assert.equal(e!.exit137.oom?.chosen?.score, 1994);
    assert.equal(e!.exit137.fields?.reason, 'OOMKilling');
  });
});
