import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeInputs } from './analyze.ts';
import { Attribution } from './verdict.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import { FIXTURES } from '../test/helpers/paths.ts';

describe('seed 004 verdicts', async () => {
  const { verdicts } = await analyzeInputs(await expandInputs([join(FIXTURES, 'seed-004')]), {}, { deadLetter: () => assert.fail('nothing undecodable') });
  const of = (prefix: string) => verdicts.find((v) => v.container.id.startsWith(prefix));

  it('finds exactly the three deaths, each a valid Attribution', () => {
    assert.deepEqual(verdicts.map((v) => v.container.id.slice(0, 12)).sort(), ['18b2fe723696', 'de42a6372c1d', 'ff1a37ba009b']);
    for (const v of verdicts) Attribution.parse(v);
  });

  it('de42a6372c1d: the shim’s nil-pointer panic in (*execProcess).pidv, with the upstream fix named', () => {
    const v = of('de42a6372c1d')!;
    assert.equal(v.cause, 'shim-death');
    assert.equal(v.sub_cause, 'shim-crashed');
    assert.match(v.crash!.top_frame!, /proc\.\(\*execProcess\)\.pidv$/);
    assert.equal(v.crash!.file, '/go/src/github.com/containerd/containerd/runtime/v1/linux/proc/exec.go:76');
    assert.deepEqual(v.known_bugs.map((b) => b.id), ['containerd-2969']);
    assert.match(v.known_bugs[0]!.fixed_in, /^containerd v1\.2\.3/);
    assert.equal(v.container.id, 'de42a6372c1d996efc475d294afc42f430beaad3ff443a86f124754a70a1b517');
    // The dump comes before containerd's cleanup; the earlier exec exit is the exec's, not the container's.
    const roles = v.evidence.filter((e) => e.role).map((e) => e.role);
    assert.deepEqual(roles, ['the shim’s crash dump', 'containerd saw the v1 shim exit', 'containerd cleans up after the dead shim, before the container exited']);
  });

  it('18b2fe723696: SIGKILL by nvidia-container-runtime delete --force during the cleanup', () => {
    const v = of('18b2fe723696')!;
    assert.equal(v.cause, 'shim-death');
    assert.equal(v.killer?.executable, '/usr/bin/nvidia-container-runtime');
    assert.equal(v.killer?.pid, 23413);
    assert.deepEqual(v.killer?.args?.slice(5, 7), ['delete', '--force']);
    assert.equal(v.killer?.args_truncated, true);
    assert.equal(v.killer?.login_user, undefined);
    assert.equal(v.exit_origin, 'signal');
    assert.ok(v.confidence >= 0.8);
  });

  it('ff1a37ba009b: from the audit record alone, the same force-delete signature (prefix id from the cut argv)', () => {
    const v = of('ff1a37ba009b')!;
    assert.equal(v.cause, 'shim-death');
    assert.equal(v.sub_cause, 'runtime-force-delete');
    assert.equal(v.container.id_is_prefix, true);
    assert.equal(v.killer?.pid, 6558);
    assert.ok(v.missing.some((m) => m.includes('no exit status')));
  });

  it('the systemd-udevd and systemd SIGTERMs of the same minutes are not blamed for anything', () => {
    for (const v of verdicts) {
      assert.ok(!v.evidence.some((e) => /systemd-udevd|sshd\[/.test(e.summary)), `${v.container.id} evidence`);
      assert.notEqual(v.killer?.name, 'systemd-udevd');
    }
  });
});
