import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkLabBundle } from '../test/helpers/lab.ts';
import { decodeFiles } from '../test/helpers/decode.ts';
import { isEvidence } from './incidents.ts';
import { FIXTURES } from '../test/helpers/paths.ts';

describe('verdicts on the lab run’s daemon logs read through rsyslog (+08:00 prefixes, #011 escapes)', async () => {
  it('every scenario comes out the same', async () => {
    const { verdicts } = await checkLabBundle(join(FIXTURES, 'lab', 'containers'), 'syslog');
    assert.ok(verdicts.every((v) => v.host !== 'unknown'), 'the syslog host names the node for the audit and event files too');
  });
});

describe('verdicts on the captured lab run (real containerd 1.6 / dockerd 20.10 / kernel 6.18 records)', async () => {
  const { verdicts, truth } = await checkLabBundle(join(FIXTURES, 'lab', 'containers'));
  const of = (scenario: string) => verdicts.find((v) => v.container.id === truth.find((t) => t.scenario === scenario)!.container)!;

  it('the killed v2 shim: the shim’s killer named, the 137 from runc’s cleanup', () => {
    const v = of('shim-v2-killed');
    assert.match(v.headline, /containerd-shim was killed by/);
    assert.equal(v.killer, undefined, 'the container’s killer is runc’s cleanup, not the shell that killed the shim');
  });

  it('the crashed v1 shim: the SIGSEGV dump’s own frame is the crash site', () => {
    const v = of('shim-v1-crashed');
    assert.equal(v.crash?.top_frame, 'main.handleSignals');
    assert.match(v.crash!.headline, /^SIGSEGV: segmentation violation/);
  });

  it('stop timeout: the 2 s grace period is reported', () => {
    assert.equal(of('stop-timeout').grace_seconds, 2);
  });

  it('memcg OOM: limit and victim from the kernel report', () => {
    const v = of('memcg-oom');
    assert.equal(v.oom?.limit_kb, 32768);
    assert.match(v.oom?.victim ?? '', /^sh\[\d+\]$/);
    assert.equal(v.oom?.wrong_victim, false);
    assert.equal(v.exit_origin, 'oom');
  });

  it('kill by a logged-in user names the login uid and the command', () => {
    const v = of('logged-in-kill');
    assert.equal(v.killer?.auid, '1000');
    assert.equal(v.killer?.login_user, true);
    assert.ok(v.killer?.args?.join(' ').includes('kill -9'));
  });

  it('the FUSE-stuck docker kill (seed 003 reproduced): how long it hung and on what', () => {
    const v = of('stuck-kill');
    assert.equal(v.sub_cause, 'fuse-request');
    assert.match(v.headline, /took \d+ s to exit/);
    assert.ok(v.evidence.some((e) => e.action === 'hung-task'), 'the hung-task stack is in the evidence');
    assert.match(v.remedy, /\/sys\/fs\/fuse\/connections/);
  });
});

describe('verdicts on a busy lab run: an all-signals audit rule, twenty containers killed in one second, a stop that hangs, an engine restart', async () => {
  const dir = join(FIXTURES, 'lab', 'containers-busy');

  it('every one of its 32 scenarios comes out right, on the daemons’ own logs and through rsyslog', async () => {
    const { truth } = await checkLabBundle(dir);
    assert.equal(truth.length, 32);
    await checkLabBundle(dir, 'syslog');
  });

  it('the Go runtimes’ SIGURG storms in the audit log are no evidence of anything', async () => {
    const { events } = await decodeFiles([join(dir, 'audit.log')]);
    const urg = events.filter((e) => e.exit137.signal?.name === 'SIGURG');
    assert.ok(urg.length > 1000, `the catch-all rule recorded the storms (${urg.length})`);
    assert.deepEqual(urg.filter(isEvidence).length, 0);
  });

  it('the stop whose SIGKILL hung in a FUSE flush is a stuck kill, not a stop timeout; the restart is the restart', async () => {
    const { verdicts, truth } = await checkLabBundle(dir);
    const of = (scenario: string) => verdicts.find((v) => v.container.id === truth.find((t) => t.scenario === scenario)!.container)!;
    assert.equal(of('stuck-stop').cause, 'stuck-kill');
    assert.ok(of('stuck-stop').alternatives.some((a) => a.cause === 'stop-timeout'), 'the stop timeout it began as is listed');
    assert.equal(of('runtime-restart').cause, 'runtime-restart');
  });
});
