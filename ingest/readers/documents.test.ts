import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { lenientJson } from './documents.ts';

const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);
const fieldCase = (slug: string, file: string) => join(FIXTURES, 'field', 'cases', slug, file);

async function decode(path: string): Promise<NormalizedEvent[]> {
  const r = await decodeFiles([path]);
  assert.deepEqual(r.dead, [], 'no dead letters');
  return r.events;
}
async function only(path: string, kind: string): Promise<NormalizedEvent> {
  const es = (await decode(path)).filter((e) => e.exit137.kind === kind);
  assert.equal(es.length, 1, `one ${kind} event`);
  return es[0]!;
}

describe('docker inspect, whole or in part', () => {
  it('`docker inspect X --format ‘{{.State.ExitCode}}’` and its answer on the next line (moby#44644): the exit code of X, read as the document’s own field', async () => {
    const e = await only(fieldCase('stop-timeout-moby-44644', 'terminal.txt'), 'container-state');
    assert.equal(e.container?.name, 'test');
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.equal(e.event.original, "$ docker inspect test --format='{{.State.ExitCode}}'\n137");
  });

  it('the head of an array behind its command, cut after Image: the container’s 137 with OOMKilled false', async () => {
    const e = await only(shape('docker-inspect', 1), 'container-state');
    assert.equal(e.exit137.source, 'docker-cli');
    assert.equal(e.event.action, 'container-terminated');
    assert.deepEqual(e.container, { id: 'c35e838c9646ec13d3120dc96b930068b8afd4f20b9481bbdbddf01cffb4c1ca', runtime: 'docker' });
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.deepEqual(e.exit137.state, { status: 'exited', which: 'current', oom_killed: false, started: '2023-05-08T08:03:05.553904873Z', finished: '2023-05-08T08:05:05.514785974Z' });
    assert.equal(e['@timestamp'], '2023-05-08T08:05:05.514785974Z');
    assert.equal(e.exit137.time.basis, 'absolute');
  });

  it('the State object alone, microsecond times', async () => {
    const e = await only(shape('docker-inspect', 2), 'container-state');
    assert.equal(e.container, undefined);
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.equal(e.exit137.state?.finished, '2020-07-31T22:28:17.557863000Z');
  });

  it('a GUI’s object view: unquoted keys in backticks', async () => {
    const e = await only(shape('docker-inspect', 3), 'container-state');
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.deepEqual(e.exit137.state, { status: 'exited', which: 'current', oom_killed: false, started: '2025-05-30T16:31:28.528427274Z', finished: '2025-05-30T21:45:11.910895562Z' });
  });

  it('re-quoted markdown (`> ` before and after each line), cut: the full Id from the body, prose around it kept as lines', async () => {
    const events = await decode(shape('docker-inspect', 4));
    const [e] = events.filter((x) => x.exit137.kind === 'container-state');
    assert.equal(e!.container?.id, '26e2673339033fc9365d45295f2be5551f92e0dddcacb151ed49666cda9c0b3b');
    assert.deepEqual(e!.exit137.exit, { code: 137 });
    assert.equal(e!.exit137.state?.started, '2024-09-11T11:48:53.935129050Z');
    assert.equal(events.filter((x) => x.exit137.kind === 'log').length, 3);
  });

  it('`docker inspect -f {{json .State}} NAME`: a running container named by the command, its pid, no exit', async () => {
    const e = await only(shape('docker-inspect', 5), 'container-state');
    assert.deepEqual(e.container, { name: 'da43013cb1b7_da43013cb1b7_airflow_webserver_1', runtime: 'docker' });
    assert.equal(e.event.action, 'container-running');
    assert.deepEqual(e.event.type, ['info']);
    assert.deepEqual(e.process, { pid: 7890 });
    // a running container's ExitCode 0 is no exit
    assert.equal(e.exit137.exit, undefined);
    assert.equal(e['@timestamp'], '2018-02-02T11:10:38.286341575Z');
    assert.equal(e.exit137.state?.finished, '2018-02-02T11:10:36.486942820Z');
  });

  it('a swarm task’s status: its container’s 137 and the health check that failed it', async () => {
    const e = await only(fieldCase('probe-failure-docker-horizon-core-web-13', 'docker-inspect.json'), 'container-state');
    assert.equal(e.container?.id, '1bdba066ba24d30eba4d0dade88c58405f86d8e22dde0a0cb62f8ef0cac0294d');
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.equal(e.exit137.state?.error, 'task: non-zero exit (137): dockerexec: unhealthy container');
    assert.equal(e['@timestamp'], '2017-11-28T10:53:08.397808922Z');
  });
});

describe('kubectl get pod -o json|yaml', () => {
  it('an indented lastState fragment with a trailing comma: the docker:// id, Error 137, its times', async () => {
    const e = await only(shape('kubectl-get-pod-json-yaml', 1), 'container-state');
    assert.deepEqual(e.container, { id: '5954f621c17f13706c25a215db06fe2bf7b9a9a6c732a909eb0db39d62346724', runtime: 'docker' });
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.deepEqual(e.exit137.state, { status: 'terminated', which: 'last', reason: 'Error', oom_killed: false, started: '2017-10-10T17:20:37.000000000Z', finished: '2017-10-10T17:41:58.000000000Z' });
  });

  it('pre-1.0 status keyed by container name, `termination`, reason `OOM Killed`', async () => {
    const e = await only(shape('kubectl-get-pod-json-yaml', 2), 'container-state');
    assert.deepEqual(e.container, { name: 'oom-test' });
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.equal(e.exit137.state?.reason, 'OOM Killed');
    assert.equal(e.exit137.state?.oom_killed, true);
    assert.equal(e['@timestamp'], '2014-12-18T23:22:26.000000000Z');
  });

  it('`oc get pod test -o yaml` after `...`: the pod named by the command, lastState OOMKilled 137, running again', async () => {
    const events = (await decode(fieldCase('oom-kill-openshift-docs-diagnosing-oom-kill', 'oc-get-pod.txt'))).filter((e) => e.exit137.kind === 'container-state');
    const last = events.find((e) => e.exit137.state?.which === 'last')!;
    assert.deepEqual(last.container, { name: 'test' });
    assert.deepEqual(last.orchestrator, { resource: { type: 'pod', name: 'test' } });
    assert.deepEqual(last.exit137.exit, { code: 137 });
    assert.equal(last.exit137.state?.reason, 'OOMKilled');
    assert.equal(last.exit137.state?.restart_count, 1);
    const now = events.find((e) => e.exit137.state?.which === 'current')!;
    assert.equal(now.event.action, 'container-running');
  });

  it('a pod status in YAML: Evicted, the eviction message folded over lines, the container it names', async () => {
    for (const [slug, container] of [['eviction-apps-1352', 'sparkoperator'], ['eviction-hush-house-8', 'hush-house-worker']] as const) {
      const e = await only(fieldCase(slug, 'pod-status.yaml'), 'runtime-log');
      assert.equal(e.exit137.message_id, 'kubelet-eviction');
      assert.deepEqual(e.container, { name: container });
      assert.deepEqual(e.exit137.fields, { status: 'Failed', reason: 'Evicted' });
    }
  });
});

describe('crictl inspect', () => {
  it('`jq .status` trimmed to two keys with a trailing comma: Exited with reason Error, no exit code claimed', async () => {
    const e = await only(shape('crictl-inspect', 1), 'container-state');
    assert.equal(e.exit137.source, 'crictl');
    assert.equal(e.event.action, 'container-terminated');
    assert.deepEqual(e.exit137.state, { status: 'exited', which: 'current', reason: 'Error', oom_killed: false });
    assert.equal(e.exit137.exit, undefined);
  });

  it('`-o yaml` printed by bats (`# ` before each line), cut: the id, exit 137, its finish', async () => {
    const e = await only(shape('crictl-inspect', 2), 'container-state');
    assert.deepEqual(e.container, { id: 'd1ec6b5f2586ad2fcc2cdc93599cdbc3ae20c99979b3489109af39c638dd6f56' });
    assert.deepEqual(e.exit137.exit, { code: 137 });
    assert.equal(e['@timestamp'], '2018-09-06T15:10:46.972213988Z');
  });

  it('the head of a full inspect behind its command: id, name, attempt, +01:00 times', async () => {
    const e = await only(shape('crictl-inspect', 3), 'container-state');
    assert.deepEqual(e.container, { id: '337c691e99b0ed479a6e32f117e90224b02da14cd99083063b752ad46082ab95', name: 'drone-gwnr9euh15qpjikc58yu' });
    assert.deepEqual(e.exit137.state, { status: 'exited', which: 'current', started: '2021-03-29T17:24:53.329339520Z', finished: '2021-03-29T17:31:25.937723670Z', restart_count: 1 });
    assert.equal(e.exit137.time.offset_minutes, 60);
  });
});

describe('kubectl get events -o json|yaml', () => {
  it('a watch event wrapping node-problem-detector’s OOMKilling, cut: the kernel’s victim at the event’s time', async () => {
    const e = await only(shape('kubectl-get-events-json-yaml', 1), 'kernel-oom');
    assert.deepEqual(e.process, { pid: 3504804, name: 'kubectl' });
    assert.equal(e['@timestamp'], '2023-06-13T14:35:38.000000000Z');
    assert.equal(e.exit137.oom?.victim?.anon_rss_kb, 58776);
    assert.equal(e.exit137.fields?.object, 'Node/<node_name>');
    assert.equal(e.orchestrator, undefined);
  });

  it('an items[] element cut out of its list: the pod, the container of its fieldPath, the event’s own time', async () => {
    const e = await only(shape('kubectl-get-events-json-yaml', 2), 'runtime-log');
    assert.deepEqual(e.container, { name: 'heapster' });
    assert.deepEqual(e.orchestrator, { namespace: 'kube-system', resource: { type: 'pod', name: 'heapster-564189836-dfalg' } });
    assert.equal(e.exit137.fields?.reason, 'Created');
    assert.equal(e['@timestamp'], '2017-03-03T00:27:50.000000000Z');
    assert.equal(e.exit137.source, 'kubelet');
  });
});

describe('lenient JSON', () => {
  it('wraps a fragment, quotes bare keys, drops trailing commas, closes what was cut, ignores the parent’s closer', () => {
    assert.deepEqual(lenientJson('"a": {"b": 1,},'), { a: { b: 1 } });
    assert.deepEqual(lenientJson('State:{\nDead:false,\nExitCode:137\n}'), { State: { Dead: false, ExitCode: 137 } });
    assert.deepEqual(lenientJson('[\n {\n "Id": "x",\n "State": {\n "ExitCode": 137,'), [{ Id: 'x', State: { ExitCode: 137 } }]);
    assert.deepEqual(lenientJson('"x": 1\n},\n{'), { x: 1 });
    assert.equal(lenientJson('not json at all ]'), undefined);
  });
});
