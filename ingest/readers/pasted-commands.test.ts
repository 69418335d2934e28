import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cliCommand } from './cli-command.ts';
import { goMapState } from './go-map-state.ts';
import { kubectlGetPods } from './kubectl-get-pods.ts';
import { unwrapShipped } from '../envelope/shipped.ts';
import { parseLogrusJson } from '../runtime/logrus.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { scoreCase } from '../../test/field/score.ts';

const cases = join(FIXTURES, 'field', 'cases');

describe('commands and pod rows as people paste them (field cases, field by field)', () => {
  it('a docker kill in a transcript: the container, and SIGKILL unless another signal is asked', async () => {
    const { events } = await decodeFiles([join(cases, 'external-kill-nerdctl-2315')]);
    const kill = events.filter((e) => e.exit137.message_id === 'cli-kill');
    assert.deepEqual(kill.map((e) => [e.container?.name, e.exit137.signal?.name, e.exit137.source]), [['haha', 'SIGKILL', 'docker-cli']]);
  });

  it('a prompt in brackets before the command ([user@host dir]$ sudo docker kill id)', async () => {
    const { events } = await decodeFiles([join(cases, 'stuck-kill-cc-oci-runtime-692')]);
    const kill = events.filter((e) => e.exit137.message_id === 'cli-kill');
    assert.deepEqual(kill.map((e) => e.container?.name), ['a8af0bf32c7f']);
  });

  it('a kill typed at a shell (containerd#3199): the pid and SIGKILL; the listing before it names that pid a shim, so the shim died', async () => {
    const { events } = await decodeFiles([join(cases, 'shim-death-containerd-3199')]);
    const kills = events.filter((e) => e.exit137.message_id === 'typed-kill');
    assert.deepEqual(kills.map((e) => [e.exit137.target?.process.pid, e.exit137.signal?.name]), [[232874, 'SIGKILL']]);
    const r = await scoreCase('shim-death-containerd-3199');
    assert.equal(r.right, true, r.said);
    assert.match(r.said, /^e4d06a0eaca5: shim-death/, 'the verdict names the container whose shim it was');
  });

  it('kill, pkill and killall with their signal flags; prose that says kill is no command', () => {
    const read = (l: string) => {
      const r = cliCommand.detect(l) ? cliCommand.read(l) : { ok: true as const, drafts: [] };
      return r.ok ? r.drafts.map((d) => [d.target?.process.pid ?? d.target?.process.name, d.signal?.name]) : [];
    };
    assert.deepEqual(read('# kill -s KILL 4242 4243'), [[4242, 'SIGKILL'], [4243, 'SIGKILL']]);
    assert.deepEqual(read('root@node:~# sudo pkill -9 containerd-shim'), [['containerd-shim', 'SIGKILL']]);
    assert.deepEqual(read('$ kill -SIGKILL 77'), [[77, 'SIGKILL']]);
    assert.deepEqual(read('$ kill 77'), [[77, 'SIGTERM']]);
    assert.deepEqual(read('$ pkill -f foo'), [['foo', 'SIGTERM']]);
    assert.deepEqual(read('I will kill the process'), []);
    assert.deepEqual(read('$ kill -9 %1'), []);
  });

  it("docker-compose's second Ctrl+C: Killing each service's container", async () => {
    const { events } = await decodeFiles([join(cases, 'external-kill-compose-1729')]);
    assert.deepEqual(
      events.filter((e) => e.exit137.message_id === 'compose-kill').map((e) => e.container?.name),
      ['composedemo_web_1', 'composedemo_redis_1'],
    );
    assert.deepEqual(events.filter((e) => e.exit137.message_id === 'compose-stop').map((e) => e.container?.name), ['composedemo_web_1']);
  });

  it('kubectl get pods rows: STATUS Shutdown and Evicted as the pod state, Running rows are no event', async () => {
    const shutdown = await decodeFiles([join(cases, 'host-shutdown-kubernetes-100184')]);
    const rows = shutdown.events.filter((e) => e.exit137.kind === 'container-state');
    assert.deepEqual(rows.map((e) => [e.orchestrator?.resource?.name, e.exit137.state?.reason]), [
      ['shutdown-test-deploy-69cff7d9b7-bvzj9', 'Shutdown'],
      ['shutdown-test-deploy-69cff7d9b7-gncbf', 'Shutdown'],
    ]);
    const evicted = await decodeFiles([join(cases, 'eviction-kubernetes-105358')]);
    assert.ok(evicted.events.some((e) => e.exit137.state?.reason === 'Evicted' && e.orchestrator?.resource?.name === 'evictme'));
  });

  it("a Go template's map of the last state (kubectl -o go-template, 2015): OOM Killed, 137, the container's name and id", async () => {
    const { events } = await decodeFiles([join(cases, 'oom-kill-runbooks-45-b')]);
    const st = events.filter((e) => e.exit137.kind === 'container-state');
    assert.deepEqual(
      st.map((e) => [e.container?.name, e.container?.id, e.exit137.exit?.code, e.exit137.state?.oom_killed, e.exit137.state?.finished, e['@timestamp']]),
      [['simmemleak', '0e4095bba1feccdfe7ef9fb6ebffe972b4b14285d5acdec6f0d3ae8a22fad8b2', 137, true, '2015-07-07T20:58:43.000000000Z', '2015-07-07T20:58:43.000000000Z']],
    );
  });

  it("a log viewer's export: the viewer's time and a tab, then JSON around the kubelet's klog line", async () => {
    const { events } = await decodeFiles([join(cases, 'host-shutdown-karpenter-1894')]);
    const kill = events.find((e) => e.exit137.message_id === 'kubelet-node-shutdown' && e.orchestrator?.resource?.name?.startsWith('kube-proxy'));
    assert.ok(kill, 'the shutdown manager line inside the JSON is read');
    assert.equal(kill!['@timestamp'].slice(0, 23), '2024-11-30T20:42:02.785');
    assert.equal(kill!.exit137.time.basis, 'assumed', 'a viewer time without a zone is not an instant');
  });

  it("logrus JSON behind talosctl's node prefix: containerd's StopContainer failure", async () => {
    const { events } = await decodeFiles([join(cases, 'stuck-kill-talos-9454')]);
    const e = events.find((x) => x.exit137.message_id === 'cri-stop-failed');
    assert.ok(e);
    assert.equal(e!.container?.id, 'a96e7dc6ce5cae0af965d63a71238f78932e00520f8103fc24850db7a7b94bb8');
    assert.match(e!.exit137.fields?.error ?? '', /DeadlineExceeded/);
  });
});

describe('the readers are total', () => {
  it('never throw, whatever the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('', 'LastState: map[terminated:map[', '$ docker kill ', 'Killing ', 'pod/x 0/1 ', '2024-11-30 20:42:02.782\t{', '{"level":"info","msg":'), (s, prefix) => {
        const line = prefix + s;
        if (cliCommand.detect(line)) cliCommand.read(line);
        if (kubectlGetPods.detect(line)) kubectlGetPods.read(line);
        if (goMapState.starts(line)) goMapState.finish([line], true);
        unwrapShipped(line);
        parseLogrusJson(line);
      }),
      { numRuns: 3000 },
    );
  });
});
