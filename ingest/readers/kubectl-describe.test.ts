import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (n: number) => join(FIXTURES, 'field', 'shapes', 'kubectl-describe-pod', `${n}.txt`);
const fieldCase = (slug: string, file = 'kubectl-describe.txt') => join(FIXTURES, 'field', 'cases', slug, file);

async function decode(path: string) {
  const r = await decodeFiles([path]);
  assert.deepEqual(r.dead, [], 'no dead letters');
  return r.events;
}
const states = (es: NormalizedEvent[]) => es.filter((e) => e.exit137.kind === 'container-state');
const kube = (es: NormalizedEvent[]) => es.filter((e) => e.exit137.kind === 'runtime-log');

/** Every line of the paste is in exactly one event's original: the block drops nothing and repeats nothing. */
function coversEachLineOnce(path: string, events: NormalizedEvent[]) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const seen = events.flatMap((e) => e.event.original.split('\n')).filter((l) => l.trim() !== '');
  assert.deepEqual(seen.sort(), [...lines].sort());
}

describe('kubectl describe pod, as pasted', () => {
  it('a bare Last State block (no container named): the OOM kill, its times with the +0200 offset', async () => {
    const [s, ...rest] = states(await decode(shape(1)));
    assert.equal(rest.length, 0);
    assert.equal(s!.exit137.source, 'kubectl');
    assert.equal(s!.event.action, 'container-terminated');
    assert.deepEqual(s!.event.type, ['end']);
    assert.deepEqual(s!.exit137.exit, { code: 137 });
    assert.deepEqual(s!.exit137.state, { status: 'terminated', which: 'last', reason: 'OOMKilled', oom_killed: true, started: '2023-09-15T07:56:14.000000000Z', finished: '2023-09-15T07:56:17.000000000Z' });
    // the event is placed at Finished, an instant the paste states
    assert.equal(s!['@timestamp'], '2023-09-15T07:56:17.000000000Z');
    assert.equal(s!.exit137.time.basis, 'absolute');
    assert.equal(s!.exit137.time.offset_minutes, 120);
    assert.equal(s!.container, undefined);
  });

  it('re-typed with single spaces, the container name on a line of its own: Running now, Error 137 before', async () => {
    const [now, last] = states(await decode(shape(2)));
    assert.deepEqual(now!.container, { name: 'wk64c' });
    assert.equal(now!.event.action, 'container-running');
    assert.deepEqual(now!.exit137.state, { status: 'running', which: 'current', started: '2023-11-13T02:50:57.000000000Z', restart_count: 1 });
    assert.equal(now!.exit137.exit, undefined);
    assert.deepEqual(last!.container, { name: 'wk64c' });
    assert.deepEqual(last!.exit137.exit, { code: 137 });
    assert.deepEqual(last!.exit137.state, { status: 'terminated', which: 'last', reason: 'Error', oom_killed: false, started: '2023-11-13T02:48:52.000000000Z', finished: '2023-11-13T02:50:55.000000000Z', restart_count: 1 });
    assert.equal(last!['@timestamp'], '2023-11-13T02:50:55.000000000Z');
    assert.equal(last!.log.line, 4, 'the Last State line');
  });

  it('OOMKilled with Exit Code 0 (k8s 1.28) stays exit 0: the reason does not make a 137', async () => {
    const [s] = states(await decode(shape(3)));
    assert.deepEqual(s!.exit137.exit, { code: 0 });
    assert.equal(s!.exit137.state?.reason, 'OOMKilled');
    assert.equal(s!.exit137.state?.oom_killed, true);
    assert.equal(s!.exit137.state?.which, 'current');
    assert.equal(s!.exit137.state?.restart_count, 0);
    assert.equal(s!['@timestamp'], '2025-04-29T06:10:51.000000000Z');
  });

  it('2015 tab-aligned describe behind a prompt: the pod, its node, the running container and its 5 restarts', async () => {
    const events = await decode(shape(4));
    const [s] = states(events);
    assert.deepEqual(s!.orchestrator, { namespace: 'default', resource: { type: 'pod', name: 'simmemleak-hra99' } });
    assert.deepEqual(s!.container, { name: 'simmemleak' });
    assert.deepEqual(s!.exit137.state, { status: 'running', which: 'current', started: '2015-07-07T19:54:41.000000000Z', restart_count: 5 });
    assert.deepEqual(s!.exit137.fields, { node: 'kubernetes-minion-tf0f' });
    coversEachLineOnce(shape(4), events);
  });

  it('an Events table alone: one event per row at its own line; probe failures and the kill they caused', async () => {
    const events = kube(await decode(shape(5)));
    assert.deepEqual(events.map((e) => e.exit137.fields?.reason), ['Scheduled', 'Pulled', 'Created', 'Started', 'Unhealthy', 'Killing']);
    assert.deepEqual(events.map((e) => e.log.line), [1, 5, 6, 7, 8, 9]);
    const [, , , , unhealthy, killing] = events;
    assert.equal(unhealthy!.exit137.message_id, 'kubelet-liveness-failed');
    assert.equal(unhealthy!.exit137.source, 'kubelet');
    assert.deepEqual(unhealthy!.exit137.fields, { reason: 'Unhealthy', type: 'Warning', count: '3', age: '11s (x3 over 31s)', from: 'kubelet' });
    assert.equal(unhealthy!.message, 'Liveness probe failed: Get "http://10.244.0.36:8080/healthzzzzz": dial tcp 10.244.0.36:8080: connect: connection refused');
    assert.equal(unhealthy!.log.level, 'warning');
    assert.equal(killing!.exit137.message_id, 'kubelet-liveness-failed');
    assert.deepEqual(killing!.container, { name: 'trivy-dojo-report-operator' });
    assert.equal(killing!.event.original, readFileSync(shape(5), 'utf8').split('\n')[8]);
    // ages are not instants: no time is made up for them
    assert.equal(killing!.exit137.time.basis, 'relative');
    assert.equal(events[0]!.exit137.source, 'kubectl', 'the scheduler’s event is no kubelet line');
  });

  it('the command names the pod the Events table belongs to; a CgroupOOM event names its victim', async () => {
    const events = kube(await decode(shape(6)));
    for (const e of events) assert.deepEqual(e.orchestrator, { namespace: 'default', resource: { type: 'pod', name: 'memory-demo-2' } });
    const oom = events.find((e) => e.exit137.fields?.reason === 'CgroupOOM')!;
    assert.equal(oom.exit137.message_id, 'kubelet-oom-event');
    assert.deepEqual(oom.process, { pid: 470521, name: 'stress' });
    assert.deepEqual(oom.event.type, ['end']);
  });
});

describe('kubectl describe pod in the field corpus', () => {
  it('an evicted pod: the status message is the eviction, with the pod, its node and its container ids', async () => {
    const path = fieldCase('eviction-kubernetes-122932');
    const events = await decode(path);
    const [e] = kube(events);
    assert.equal(e!.exit137.message_id, 'kubelet-eviction');
    assert.equal(e!.exit137.source, 'kubectl');
    assert.deepEqual(e!.orchestrator, { namespace: 'admin', resource: { type: 'pod', name: 'postgres-keycloak-6d8858f5b-4khf2' } });
    assert.deepEqual(e!.exit137.fields, { status: 'Failed', reason: 'Evicted', node: 'kaapana' });
    assert.deepEqual(e!.exit137.related_ids, ['9adca7dc7065fb7788b0fe6e1e62833d578afbd6e4e5cc54f608c22bce0c7feb']);
    assert.equal(e!.message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 777784Ki.');
    coversEachLineOnce(path, events);
  });

  it('the containers over their request are named by the eviction message: the first one is the container', async () => {
    const [e] = kube(await decode(fieldCase('eviction-kubeplus-1382-a')));
    assert.deepEqual(e!.container, { name: 'helmer' });
    assert.equal(e!.exit137.message_id, 'kubelet-eviction');
  });

  it('two pods described one after the other are two blocks, each with its own eviction', async () => {
    const evictions = kube(await decode(fieldCase('eviction-kubernetes-94073'))).filter((e) => e.exit137.message_id === 'kubelet-eviction');
    assert.deepEqual(evictions.map((e) => e.container?.name), ['ebaogi-bff-app', 'ebaogi-report-app']);
    assert.deepEqual(evictions[1]!.orchestrator, { namespace: 'ebaogi', resource: { type: 'pod', name: 'ebaogi-report-app-5dbc89ff58-zqsn2' } });
  });

  it('a node shutdown: Reason Terminated and the shutdown manager’s message', async () => {
    const [e] = kube(await decode(fieldCase('host-shutdown-kubernetes-104798')));
    assert.equal(e!.exit137.message_id, 'kubelet-node-shutdown');
    assert.deepEqual(e!.orchestrator, { namespace: 'default', resource: { type: 'pod', name: 'nginx-deployment-66b6c48dd5-2pw4q' } });
  });

  it('k8s ≤1.10 rows: the liveness kill names the container in its docker:// reference', async () => {
    const [probe, kill] = kube(await decode(fieldCase('probe-failure-kubernetes-elasticsearch-cluster-204')));
    assert.equal(probe!.exit137.fields?.from, 'kubelet, kubernetes-node1');
    assert.equal(kill!.exit137.message_id, 'kubelet-liveness-failed');
    assert.deepEqual(kill!.container, { name: 'es-data' });
  });
});
