import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLines } from '../../test/helpers/decode.ts';
import { parseKlogJson, parseKlogText } from './klog.ts';
import { parseLogfmtLine, parseLogrusTty } from './logrus.ts';
import { parseTaskPayload } from './payload.ts';
import { matchWording } from './wordings.ts';

const ID = '18b2fe723696358fb06317c427ab72777f430f074c8473612fad0fc99cbcb226';

describe('containerd task payloads in every encoding (FORMATS.md §1)', () => {
  it('gogo &TaskExit{…}', () => {
    assert.deepEqual(parseTaskPayload(`&TaskExit{ContainerID:${ID},ID:${ID},Pid:18848,ExitStatus:137,ExitedAt:2020-02-19 08:00:07.2 +0000 UTC,XXX_unrecognized:[],}`), { type: 'TaskExit', containerId: ID, execId: ID, pid: 18848, exitStatus: 137 });
  });
  it('protobuf-go text with two spaces, and a missing exit_status meaning 0', () => {
    assert.deepEqual(parseTaskPayload(`container_id:"${ID}"  id:"${ID}"  pid:627351  exit_status:137  exited_at:{seconds:1700000000  nanos:5}`), { containerId: ID, execId: ID, pid: 627351, exitStatus: 137 });
    assert.equal(parseTaskPayload(`container_id:"${ID}" id:"${ID}" pid:627351 exited_at:{seconds:1700000000 nanos:5}`)?.exitStatus, 0);
  });
  it('pre-1.0 hex status', () => {
    assert.equal(parseTaskPayload('&types.Event{Type:"exit", Id:"x", Status:0x89, Pid:"init"}')?.exitStatus, 137);
  });
});

describe('logrus lines', () => {
  it('logfmt with escaped quotes and nanoseconds', () => {
    const r = parseLogfmtLine('time="2020-02-25T22:07:13.374608247+08:00" level=debug msg="form data: {\\"Cmd\\":[\\"ip\\",\\"a\\"]}"');
    assert.ok(r.ok);
    assert.equal(r.line.msg, 'form data: {"Cmd":["ip","a"]}');
    assert.equal(r.line.ns, 1582639633374608247n);
    assert.equal(r.line.offsetMinutes, 480);
  });
  it('TTY form: INFO[time] msg   fields', () => {
    const r = parseLogrusTty(`INFO[2019-04-11T10:39:37.413880563-07:00] shim disconnected                             id=${ID}`);
    assert.ok(r.ok);
    assert.equal(r.line.msg, 'shim disconnected');
    assert.equal(r.line.fields.id, ID);
    assert.equal(r.line.level, 'info');
    assert.equal(r.line.ns, 1555004377413880563n);
  });
  it('CRI-O time with a space', () => {
    const r = parseLogfmtLine('time="2023-04-26 20:03:07.316253233Z" level=info msg="Stopped container abc: ns/pod/ctr"');
    assert.ok(r.ok && r.line.ns === 1682539387316253233n);
  });
});

describe('kubelet klog', () => {
  it('structured text', () => {
    const r = parseKlogText(`I0612 10:51:25.799595   30173 kuberuntime_container.go:709] "Killing container with a grace period" pod="shop/web-1" podUID="u1" containerName="app" containerID="containerd://${ID}" gracePeriod=30`);
    assert.ok(r.ok);
    assert.equal(r.line.msg, 'Killing container with a grace period');
    assert.equal(r.line.fields.gracePeriod, '30');
    assert.equal(r.line.fields.containerID, `containerd://${ID}`);
  });
  it('a header whose severity letter a terminal selection cut (k8s#92906): read whole, the severity unknown; a bare year and clock is no klog', () => {
    const line = '0708 10:49:49.949088    1091 preemption.go:114] preemption: pod domain-d9c95557-hs6k6_default(de9427fc-0db2-4bf4-b9f6-344be5233a7b) evicted successfully';
    const r = parseKlogText(line);
    assert.ok(r.ok);
    assert.equal(r.line.caller, 'preemption.go:114');
    assert.equal(r.line.level, '');
    assert.deepEqual(r.line.clock, { month: 7, day: 8, hour: 10, minute: 49, second: 49, frac9: '949088000' });
    const [e] = decodeLines([line]).events;
    assert.equal(e?.exit137.message_id, 'kubelet-preemption');
    assert.equal(parseKlogText('2023 10:49:49.949088 1091 some words] x').ok, false);
  });

  it('JSON with epoch-ms float', () => {
    const r = parseKlogJson(`{"ts":1686567085799.595,"caller":"kuberuntime/kuberuntime_container.go:709","msg":"Killing container with a grace period","v":0,"pod":{"name":"web-1","namespace":"shop"},"containerID":"containerd://${ID}","gracePeriod":30}`);
    assert.ok(r.ok);
    assert.equal(r.line.ns, 1686567085799595000n);
    assert.equal(r.line.fields.gracePeriod, '30');
  });
});

describe('wordings across versions', () => {
  const cases: [string, Record<string, string>, string, Record<string, string>][] = [
    ['cleaning up after killed shim', {}, 'shim-dead-cleanup', {}],
    ['cleaning up after shim dead', {}, 'shim-dead-cleanup', {}],
    [`Container ${ID} failed to exit within 10 seconds of signal 15 - using the force`, {}, 'docker-stop-timeout', { id: ID, grace: '10', signal: '15' }],
    ['Container failed to exit within 2s of signal 15 - using the force', { container: ID }, 'docker-stop-timeout', { grace: '2s', signal: '15' }],
    ['Container failed to exit within 10s of kill - trying direct SIGKILL', {}, 'docker-kill-fallback', { grace: '10s' }],
    [`Sending kill signal 9 to container ${ID}`, {}, 'docker-kill-signal', { signal: '9', id: ID }],
    ['event published', { topic: '/tasks/exit' }, 'task-exit-published', {}],
    ['event published', { topic: '/tasks/exec-started' }, '', {}],
  ];
  for (const [msg, fields, id, captures] of cases) {
    it(`${msg.slice(0, 60)} → ${id || 'none'}`, () => {
      const m = matchWording(msg, fields);
      assert.equal(m?.wording.id ?? '', id);
      for (const [k, v] of Object.entries(captures)) assert.equal(m?.captures[k], v);
    });
  }
});

describe('decoded runtime events', () => {
  it('a CRI exit event carries the container, pid and status', () => {
    const { events } = decodeLines([`time="2024-03-01T10:00:00.000000001Z" level=info msg="received exit event container_id:\\"${ID}\\"  id:\\"${ID}\\"  pid:4242  exit_status:137  exited_at:{seconds:1709287200  nanos:1}"`]);
    const e = events[0]!;
    assert.equal(e.exit137.message_id, 'task-exit-received');
    assert.equal(e.container?.id, ID);
    assert.deepEqual(e.exit137.exit, { code: 137, pid: 4242 });
  });
  it('dockerd stop timeout, 20.10.10+ wording, gives grace and signal', () => {
    const { events } = decodeLines([`time="2024-03-01T10:00:00Z" level=info msg="Container failed to exit within 2s of signal 15 - using the force" container=${ID}`]);
    assert.equal(events[0]!.exit137.grace_seconds, 2);
    assert.equal(events[0]!.exit137.signal?.name, 'SIGTERM');
    assert.equal(events[0]!.container?.id, ID);
  });
  it('journald JSON entries: audit transport with its id, and a dockerd line', () => {
    const lines = [
      JSON.stringify({ __CURSOR: 's=1;i=1', __REALTIME_TIMESTAMP: '1582099207232412', _TRANSPORT: 'audit', _HOSTNAME: 'gpu-ser-xyz', _AUDIT_TYPE: '1300', _AUDIT_TYPE_NAME: 'SYSCALL', _AUDIT_ID: '3369619', _SOURCE_REALTIME_TIMESTAMP: '1582099207232000', MESSAGE: 'SYSCALL arch=c000003e syscall=62 success=yes exit=0 a0=49a0 a1=9 a2=0 a3=0 items=0 ppid=14134 pid=23413 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="nvidia-containe" exe="/usr/bin/nvidia-container-runtime" key="trace_kill_9"' }),
      JSON.stringify({ __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: '1582099207232500', _TRANSPORT: 'audit', _HOSTNAME: 'gpu-ser-xyz', _AUDIT_TYPE: '1318', _AUDIT_TYPE_NAME: 'OBJ_PID', _AUDIT_ID: '3369619', _SOURCE_REALTIME_TIMESTAMP: '1582099207232000', MESSAGE: 'OBJ_PID opid=18848 oauid=-1 ouid=0 oses=-1 ocomm="systemd"' }),
      JSON.stringify({ __CURSOR: 's=1;i=3', __REALTIME_TIMESTAMP: '1582099207204931', _HOSTNAME: 'gpu-ser-xyz', SYSLOG_IDENTIFIER: 'dockerd', _PID: '1234', MESSAGE: `time="2020-02-19T16:00:07.204930762+08:00" level=info msg="shim reaped" id=${ID}` }),
      JSON.stringify({ __CURSOR: 's=1;i=4', __REALTIME_TIMESTAMP: '1582099207300000', _HOSTNAME: 'gpu-ser-xyz', SYSLOG_IDENTIFIER: 'big', MESSAGE: null }),
    ];
    const { events, dead } = decodeLines(lines);
    const kill = events.find((e) => e.exit137.kind === 'audit-signal')!;
    assert.equal(kill.host.name, 'gpu-ser-xyz');
    assert.equal(kill.auditd?.serial, 3369619);
    assert.equal(kill.exit137.target?.process.pid, 18848);
    assert.equal(kill['@timestamp'], '2020-02-19T08:00:07.232000000Z');
    assert.equal(events.find((e) => e.exit137.message_id === 'shim-reaped')?.['@timestamp'], '2020-02-19T08:00:07.204930762Z');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.reason, 'journal-message-null');
  });
  it('journalctl -o export, with a binary field whose length holds a newline byte', () => {
    const bin = Buffer.concat([Buffer.from('MESSAGE\n'), Buffer.from([10, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('bad\nline!!'), Buffer.from('\n')]);
    const text = `__CURSOR=s=1\n__REALTIME_TIMESTAMP=1582099207204931\n_HOSTNAME=n1\nSYSLOG_IDENTIFIER=dockerd\nMESSAGE=time="2020-02-19T16:00:07.204930762+08:00" level=info msg="shim reaped" id=${ID}\n\n__CURSOR=s=2\n__REALTIME_TIMESTAMP=1582099207300000\n_HOSTNAME=n1\nSYSLOG_IDENTIFIER=x\n`;
    const all = Buffer.concat([Buffer.from(text), bin, Buffer.from('\n')]).toString('latin1').split('\n');
    // the decoder takes text lines; the export framer re-joins what a newline byte split
    const { events } = decodeLines(all.map((l) => Buffer.from(l, 'latin1').toString('utf8')));
    assert.equal(events[0]!.exit137.message_id, 'shim-reaped');
    assert.equal(events[1]!.message, 'bad\nline!!');
  });
});
