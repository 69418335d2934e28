import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);

async function states(path: string) {
  const { events, dead } = await decodeFiles([path]);
  assert.deepEqual(dead, []);
  return events.filter((e) => e.exit137.kind === 'container-state');
}

describe('docker ps -a rows', () => {
  it('a grep’d row: the exit code, the dockershim name’s pod, relative times kept as said', async () => {
    const [e] = await states(shape('docker-ps-a', 1));
    assert.equal(e!.exit137.source, 'docker-cli');
    assert.equal(e!.event.action, 'container-terminated');
    assert.deepEqual(e!.exit137.exit, { code: 2 });
    assert.equal(e!.container?.id, '81583ddcebdd');
    assert.equal(e!.container?.name, 'k8s_kube-apiserver.5b0f77ec_kube-apiserver-k-a-master_kube-system_ca98dd4f5fc2d57332838d5431ca6d72_0a7165aa');
    assert.deepEqual(e!.orchestrator, { namespace: 'kube-system', resource: { type: 'pod', name: 'kube-apiserver-k-a-master' } });
    assert.equal(e!.exit137.fields?.exited_ago, '2 seconds ago');
    assert.equal(e!.exit137.fields?.created, '25 seconds ago');
    assert.equal(e!.exit137.time.basis, 'relative');
  });

  it('a truncated command with an ellipsis; the pause container Up', async () => {
    const [exited, up] = await states(shape('docker-ps-a', 2));
    assert.deepEqual(exited!.exit137.exit, { code: 1 });
    assert.equal(exited!.container?.id, 'e7dd23a3e2c9');
    assert.equal(exited!.exit137.fields?.['io.kubernetes.container.name'], 'kube-scheduler');
    assert.equal(up!.event.action, 'container-running');
    assert.equal(up!.exit137.exit, undefined);
  });

  it('with its header, from `docker container ls`', async () => {
    const [e] = await states(shape('docker-cli-error', 2));
    assert.deepEqual(e!.container, { id: 'd8caa273a7a7', name: 'funny_wescoff', runtime: 'docker', image: { name: 'xhongc/music_tag_web:latest' } });
    assert.equal(e!.exit137.fields?.ports, '0.0.0.0:5035->8001/tcp, :::5035->8001/tcp');
  });
});

describe('docker ps rows in the field corpus', () => {
  it('a row cut after PORTS: the port mappings are not taken for the name', async () => {
    const [e] = await states(join(FIXTURES, 'field', 'cases', 'external-kill-moby-34053', 'docker-ps.txt'));
    assert.deepEqual(e!.container, { id: '234e846498f6', runtime: 'docker', image: { name: 'mongo:3.4' } });
    assert.equal(e!.exit137.fields?.ports, '0.0.0.0:27017->27017/tcp');
    assert.equal(e!.event.action, 'container-running');
  });
});

describe('crictl ps -a rows', () => {
  it('the same container Running, then Exited after crictl stop: no exit code, the attempt', async () => {
    const [running, exited] = await states(shape('crictl-ps-a', 1));
    assert.equal(running!.event.action, 'container-running');
    assert.equal(exited!.event.action, 'container-terminated');
    assert.deepEqual(exited!.container, { id: '00740ba6a36b7', name: 'stress5', image: { name: '127.0.0.1:5000/alpine:latest' } });
    assert.equal(exited!.exit137.exit, undefined);
    assert.equal(exited!.exit137.state?.restart_count, 0);
    assert.equal(exited!.exit137.fields?.pod_id, '395a8bd7b6978');
  });

  it('the older CONTAINER ID header; an image shown as its 64-hex id', async () => {
    const [e] = await states(shape('crictl-ps-a', 2));
    assert.equal(e!.container?.name, 'etcd');
    assert.equal(e!.exit137.state?.restart_count, 25);
  });

  it('a grep’d row', async () => {
    const [e] = await states(shape('crictl-ps-a', 3));
    assert.equal(e!.container?.id, '337c691e99b0e');
    assert.equal(e!.container?.name, 'drone-gwnr9euh15qpjikc58yu');
  });
});

describe('ctr tasks ls rows', () => {
  it('full ids with their pids, RUNNING', async () => {
    const es = await states(shape('ctr-tasks-ls', 1));
    assert.equal(es.length, 2);
    assert.deepEqual(es[1]!.container, { id: '98d226befc56b51e4687264c1d16a175133d577a07d591867dcb9c64400e5f0a', runtime: 'containerd' });
    assert.deepEqual(es[1]!.process, { pid: 1523419 });
    assert.equal(es[1]!.exit137.source, 'ctr');
    assert.equal(es[1]!.event.action, 'container-running');
  });

  it('a node where every task still runs', async () => {
    const es = await states(shape('ctr-tasks-ls', 2));
    assert.equal(es.length, 10);
    assert.ok(es.every((e) => e.event.action === 'container-running'));
  });

  it('a task named by its client, paused and resumed', async () => {
    const es = await states(shape('ctr-tasks-ls', 3));
    assert.deepEqual(es.map((e) => e.exit137.state?.status), ['running', 'paused', 'running']);
    assert.deepEqual(es[0]!.container, { id: 'foobar', runtime: 'containerd' });
  });
});
