import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { shortFrameName } from '../ingest/blocks/go-crash.ts';
import { decodeFiles } from './helpers/decode.ts';
import { FIXTURES } from './helpers/paths.ts';

const dir = join(FIXTURES, 'seed-004');

describe('seed 004: the GPU 137s (containerd 1.2.2 shim panic)', async () => {
  const { events, dead } = await decodeFiles([join(dir, 'ausearch.txt'), join(dir, 'messages')]);

  it('decodes every line: nothing dead-lettered', () => {
    assert.deepEqual(dead, []);
  });

  it('reads the nvidia-container-runtime SIGKILL exactly', () => {
    const k = events.find((e) => e.auditd?.serial === 3369619);
    assert.ok(k, 'serial 3369619 decoded');
    assert.equal(k.exit137.kind, 'audit-signal');
    assert.equal(k.auditd?.syscall, 'kill');
    assert.deepEqual(k.exit137.signal, { number: 9, name: 'SIGKILL', syscall: 'kill' });
    assert.equal(k.exit137.target?.process.pid, 18848);
    assert.equal(k.exit137.target?.process.name, 'systemd');
    assert.equal(k.process?.pid, 23413);
    assert.equal(k.process?.parent?.pid, 14134);
    assert.equal(k.process?.executable, '/usr/bin/nvidia-container-runtime');
    assert.deepEqual(k.process?.args, ['nvidia-container-runtime', '--root', '/var/run/docker/runtime-nvidia/moby', '--log-format', 'json', 'delete', '--force', '18b2fe723696358fb06317c427a']);
    assert.equal(k.auditd?.proctitle_truncated, true);
    assert.ok(k.tags.includes('truncated'));
    assert.equal(k.user?.audit, undefined, 'auid 4294967295 is unset: no logged-in user');
    assert.equal(k['@timestamp'], '2020-02-19T08:00:07.232000000Z');
    assert.deepEqual(k.exit137.related_ids, ['18b2fe723696358fb06317c427a']);
  });

  it('reads the SIGTERMs of the same minutes with their own senders', () => {
    const udev = events.find((e) => e.auditd?.serial === 2649752);
    assert.equal(udev?.exit137.signal?.name, 'SIGTERM');
    assert.equal(udev?.process?.executable, '/usr/lib/systemd/systemd-udevd');
    assert.equal(udev?.auditd?.proctitle_truncated, false);
  });

  it('assembles the shim panic into one event whose first frame is (*execProcess).pidv at exec.go:76', () => {
    const crashes = events.filter((e) => e.exit137.kind === 'go-crash');
    assert.equal(crashes.length, 1);
    const c = crashes[0]!.exit137.crash!;
    assert.equal(c.kind, 'panic');
    assert.equal(c.headline, 'panic: runtime error: invalid memory address or nil pointer dereference');
    assert.equal(c.signal, 'SIGSEGV');
    assert.equal(shortFrameName(c.top_frame!.func), '(*execProcess).pidv');
    assert.equal(c.top_frame!.file, '/go/src/github.com/containerd/containerd/runtime/v1/linux/proc/exec.go');
    assert.equal(c.top_frame!.line, 76);
    assert.equal(c.frames.length, 5);
    assert.equal(c.goroutine?.id, 5);
    assert.equal(crashes[0]!.event.original.split('\n').length, 15);
  });

  it('lines the +08:00 syslog lines up with the UTC audit epochs', () => {
    const reaped = events.find((e) => e.exit137.message_id === 'shim-reaped' && e.container?.id?.startsWith('18b2fe72'));
    assert.equal(reaped?.['@timestamp'], '2020-02-19T08:00:07.204930762Z');
    assert.equal(reaped?.exit137.time.offset_minutes, 480);
    const kill = events.find((e) => e.auditd?.serial === 3369619)!;
    assert.ok(BigInt(kill.exit137.ts_ns) - BigInt(reaped!.exit137.ts_ns) === 27_069_238n, 'the kill comes 27 ms after shim reaped');
    // A syslog line with no time= of its own is placed with the offset and year its neighbours taught.
    const slice = events.find((e) => e.message === 'Removed slice User Slice of root.');
    assert.equal(slice?.['@timestamp'], '2020-02-25T14:07:13.000000000Z');
    assert.equal(slice?.exit137.time.basis, 'learned');
    assert.equal(slice?.exit137.time.year_inferred, true);
  });

  it('recognises the containerd 1.2 wordings', () => {
    const ids = events.filter((e) => e.container?.id?.startsWith('de42a6372c1d')).map((e) => e.exit137.message_id);
    assert.deepEqual(ids, ['docker-api-exec', 'docker-api-exec', 'shim-reaped', 'shim-dead-cleanup']);
  });
});
