import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byAction, decodeShape } from '../../test/helpers/shapes.ts';
import type { NormalizedEvent } from '../event.ts';

/**
 * journalctl's renderings as people paste them (test/fixtures/field/shapes/journal-*), read
 * through the whole decoder: the same events the node's journal would give, field by field.
 */
const decode = decodeShape;

describe('journalctl short (default): `Mon DD HH:MM:SS host ident[pid]:`', () => {
  it('dockerd stop timeout then kill fallback (moby#32938): the logfmt time, the container, the signal', async () => {
    const ev = await decode('journal-short', 1);
    const [stop] = byAction(ev, 'docker-stop-timeout');
    assert.equal(stop!['@timestamp'], '2018-03-16T07:14:12.899731592Z');
    assert.equal(stop!.exit137.time.basis, 'absolute');
    assert.equal(stop!.container?.id, '679813472f3d5dc082a55b7e3d62a16109115df69609cae50701fa9bcd4133f2');
    assert.equal(stop!.exit137.signal?.number, 15);
    assert.equal(stop!.exit137.grace_seconds, 10);
    assert.equal(stop!.host.name, 'evaluator3');
    assert.equal(stop!.log.syslog?.appname, 'dockerd');
    assert.equal(stop!.log.syslog?.procid, '27857');
    const [kill] = byAction(ev, 'docker-kill-fallback');
    assert.equal(kill!['@timestamp'], '2018-03-16T07:14:22.911874532Z');
    assert.equal(kill!.container?.id, '679813472f3d');
  });

  it('a kubelet line before dockerd’s time="2020-…" takes the year 2020 and the zone dockerd’s lines teach (k8s#91914)', async () => {
    const ev = await decode('journal-short', 2);
    const [kill] = byAction(ev, 'kubelet-kill-grace');
    assert.equal(kill!['@timestamp'], '2020-06-08T15:36:12.678326000Z');
    assert.equal(kill!.exit137.time.basis, 'learned');
    assert.equal(kill!.exit137.time.year_inferred, true);
    assert.ok(!kill!.tags.includes('zone_assumed'));
    assert.equal(kill!.container?.id, '57602d1ebd70b498ea832e50c96a22e4591df2bf50b77689f13b924100b1f8de');
    assert.equal(kill!.exit137.grace_seconds, 10);
    const [reaped] = byAction(ev, 'shim-reaped');
    assert.equal(reaped!['@timestamp'], '2020-06-08T15:36:14.000000000Z');
    assert.equal(reaped!.container?.id, '57602d1ebd70b498ea832e50c96a22e4591df2bf50b77689f13b924100b1f8de');
  });

  it('containerd 2.1 TaskExit with protobuf text in msg (containerd#11836): exit 0, pid, the exec id kept apart', async () => {
    const ev = byAction(await decode('journal-short', 3), 'task-exit-received');
    assert.equal(ev.length, 3);
    assert.equal(ev[0]!['@timestamp'], '2025-05-11T22:18:36.852558301Z');
    assert.equal(ev[0]!.exit137.time.offset_minutes, 480);
    assert.equal(ev[0]!.container?.id, 'e28786a1b2069e77762bb83efe638e000effc88ec196d7aec1749607e938264c');
    assert.deepEqual(ev[0]!.exit137.exit, { code: 0, pid: 477946, exec_id: 'b91276d1e3ddc165d517311b17ada8e5b29f2bd4d5424b9a2f17a584ca6590e8' });
  });

  it('systemd’s SIGTERM to containerd and its shims (bottlerocket-core-kit#773): sender, target pid and comm, signal', async () => {
    const ev = byAction(await decode('journal-short', 5), 'systemd-kill');
    assert.equal(ev.length, 5);
    const shim = ev[1]!;
    assert.equal(shim.exit137.signal?.number, 15);
    assert.deepEqual(shim.exit137.target, { process: { pid: 728194, name: 'containerd-shim' } });
    assert.deepEqual(shim.process, { pid: 1, name: 'systemd' });
    assert.equal(shim.exit137.fields?.unit, 'containerd.service');
    assert.equal(shim.host.name, 'ip-192-168-65-186.us-west-2.compute.internal');
    assert.deepEqual(ev[0]!.exit137.target, { process: { pid: 727332, name: 'containerd' } });
  });

  it('RHEL 7 idents without [pid]: the kernel OOM before containerd’s +08:00 lines takes their year and zone (doris#3525)', async () => {
    const ev = await decode('journal-short', 7);
    const [oom] = ev.filter((e) => e.exit137.kind === 'kernel-oom');
    assert.equal(oom!['@timestamp'], '2020-05-08T06:05:27.000000000Z');
    assert.equal(oom!.exit137.time.basis, 'learned');
    assert.equal(oom!.process?.pid, 18177);
    assert.equal(oom!.exit137.signal?.number, 9);
    assert.equal(oom!.exit137.oom?.victim?.uid, 0);
    const [reaped] = byAction(ev, 'shim-reaped');
    assert.equal(reaped!.container?.id, 'd9b0a9bd41d3f1ecf4efe4bdec0728cc0f1cbbeb310bceeff370ad83aeb955a3');
    assert.equal(reaped!['@timestamp'], '2020-05-08T06:05:34.745916919Z');
  });
});

describe('short-iso, short-precise, short-monotonic', () => {
  it('short-iso behind zgrep -n’s `file.gz:line:` (moby#47757): the v2 shim cleanup under the dockerd ident', async () => {
    const ev = await decode('journal-short-iso', 1);
    const [cleanup] = byAction(ev, 'shim-disconnected-cleanup');
    assert.equal(cleanup!['@timestamp'], '2024-04-01T00:32:23.142102041Z');
    assert.equal(cleanup!.container?.id, '15beb68826895f5ab6922c6dceac8a486883366a9ff4ebff0ae9f8da6ca968ef');
    assert.equal(cleanup!.host.name, 'onxl9979');
    assert.ok(ev.every((e) => e.exit137.kind !== 'kernel'), 'an ISO prefix with a host and a tag is no dmesg --time-format iso');
  });

  it('short-iso with +01:00 (k8s#122256): containerd’s ExecSync error at its own instant, on its host', async () => {
    const [e] = await decode('journal-short-iso', 2);
    assert.equal(e!['@timestamp'], '2023-11-13T02:50:55.198678872Z');
    assert.equal(e!.host.name, 'worker-pool4-j7f0skum-pccc-377-3');
    assert.equal(e!.log.syslog?.appname, 'containerd');
  });

  it('short-precise quoted with `> ` and a redacted host (gpud#70): the oom-kill summary alone is an OOM kill', async () => {
    const [oom] = await decode('journal-short-precise', 1);
    assert.equal(oom!.exit137.kind, 'kernel-oom');
    assert.equal(oom!['@timestamp'], '2026-08-30T06:58:55.050705000Z');
    assert.equal(oom!.exit137.time.year_inferred, true);
    assert.equal(oom!.container?.id, 'ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95');
    assert.equal(oom!.process?.pid, 461754);
    assert.equal(oom!.exit137.oom?.constraint, 'CONSTRAINT_MEMCG');
  });

  it('short-monotonic (systemd#30054): host and ident after the stamp are not kernel text; seconds since boot stay relative', async () => {
    const ev = await decode('journal-short-monotonic', 1);
    assert.equal(ev.length, 12);
    for (const e of ev) {
      assert.equal(e.host.name, 'localhost');
      assert.equal(e.log.syslog?.appname, 'systemd');
      assert.equal(e.log.syslog?.procid, '1');
      assert.notEqual(e.exit137.kind, 'kernel');
      assert.equal(e.exit137.time.basis, 'relative');
    }
    assert.equal(ev[0]!.exit137.time.since_boot_ns, '20888224000');
    // order and spacing kept: the last line at the read time, the first 258.9 ms before it
    assert.equal(ev.at(-1)!['@timestamp'], '2026-12-01T00:00:00.000000000Z');
    assert.equal(BigInt(ev.at(-1)!.exit137.ts_ns) - BigInt(ev[0]!.exit137.ts_ns), 21147092000n - 20888224000n);
  });

  it('short-monotonic without a host (systemd#32730): `ident[pid]:` right after the stamp', async () => {
    const ev = await decode('journal-short-monotonic', 2);
    assert.ok(ev.length > 0);
    for (const e of ev) {
      assert.equal(e.log.syslog?.appname, 'TEST-55-OOMD.sh');
      assert.equal(e.log.syslog?.procid, '819');
      assert.equal(e.host.name, 'unknown');
    }
  });
});

describe('month names of the reader’s locale', () => {
  it('French `mai`, lines hard-wrapped at the terminal’s width (containerd#11837): two TaskExit events, not six lines', async () => {
    for (const [dir, n] of [['journal-locale', 1], ['journal-wrapped', 1]] as const) {
      const ev = await decode(dir, n);
      assert.equal(ev.length, 2, `${dir}/${n}: one event per record`);
      assert.deepEqual(ev.map((e) => e.event.action), ['task-exit-received', 'task-exit-received']);
      assert.equal(ev[0]!['@timestamp'], '2025-05-11T23:19:45.319398178Z');
      assert.equal(ev[0]!.container?.id, 'bf59c7e883d11515ddcdf6295ef23ba8d46d8278d3bcc16c320d6be6d7093d35');
      assert.deepEqual(ev[0]!.exit137.exit, { code: 0, pid: 162385, exec_id: 'fe1c9fcb494bf96b6e8ac9f4e520c735b9dd52fdba3ae0d7da5f682231b2f44d' });
      assert.equal(ev[1]!.container?.id, 'fcb2134010b88e88e4848ce18edc0deedea0efe35eeffaf1312db2119d04b405');
      assert.deepEqual(ev[1]!.exit137.exit, { code: 0, pid: 162405, exec_id: 'be03079c030309eed60386cc0cd4ec43ba748dbb2f5623998c6be37500dd6a76' });
      assert.equal(ev[0]!.event.original.split('\n').length, 3, 'the original keeps the three lines as read');
    }
  });

  it('Chinese `8月` (containerd#4515): shim cleanup of its container at containerd’s own time', async () => {
    const ev = await decode('journal-locale', 2);
    const [cleanup] = byAction(ev, 'shim-disconnected-cleanup');
    assert.equal(cleanup!['@timestamp'], '2020-08-31T09:15:11.000604894Z');
    assert.equal(cleanup!.container?.id, 'd226b42a8b21bb7c309621c3dcec6a53fee201dc2f2f1d1e265ab7d69d25a00d');
    assert.equal(cleanup!.host.name, 'konvymaster-01');
  });

  it('Russian `апр` under journalctl’s banner (earlyoom#203): the banner’s year and +09 zone place the lines', async () => {
    const ev = await decode('journal-locale', 3);
    assert.equal(ev.length, 8, 'the banner is framing, not an event');
    for (const e of ev) {
      assert.equal(e['@timestamp'], '2020-04-04T12:53:13.000000000Z');
      assert.equal(e.exit137.time.basis, 'learned');
      assert.equal(e.host.name, 'PC');
    }
  });

  it('the banner with -05 (2016) places a line its year and zone are not on', async () => {
    const ev = await decode('journal-banner', 1);
    const line = ev.find((e) => e.log.syslog?.appname === 'systemd-journal')!;
    assert.equal(line['@timestamp'], '2016-05-07T04:00:44.000000000Z');
    assert.equal(line.exit137.time.basis, 'learned');
    assert.equal(line.host.name, 'fedora');
  });
});

describe('lines whose prefix was cut', () => {
  it('logfmt lines with the whole journal prefix cut (moby#41352): stop timeout then SIGKILL, +08:00', async () => {
    const ev = await decode('journal-cut-prefix', 1);
    const [stop] = byAction(ev, 'docker-stop-timeout');
    assert.equal(stop!['@timestamp'], '2020-08-13T14:09:21.618808663Z');
    assert.equal(stop!.exit137.time.offset_minutes, 480);
    assert.equal(stop!.exit137.grace_seconds, 30);
    assert.equal(stop!.container?.id, 'c82310d34e65fa7b60fa56312778239a4283099541cb98b158707a36126c5c0a');
    const kills = byAction(ev, 'docker-kill-signal');
    assert.deepEqual(kills.map((e) => e.exit137.signal?.number), [15, 9]);
    assert.equal(kills[1]!['@timestamp'], '2020-08-13T14:09:21.618880931Z');
  });

  it('host cut (`Dec 29 13:07:05 kubelet[1579]:`) and an audit EXECVE without its serial (k8s#57707): the runc kill --all … SIGKILL', async () => {
    const ev = await decode('journal-cut-prefix', 2);
    const [grace] = byAction(ev, 'kubelet-kill-grace');
    assert.equal(grace!.log.syslog?.appname, 'kubelet');
    assert.equal(grace!.log.syslog?.procid, '1579');
    assert.equal(grace!.container?.id, '763de1ad420fc26c5fd4997bac7cc44f5c540a123778fc18b636eb24fbc83d5a');
    assert.equal(grace!.exit137.grace_seconds, 30);
    const [kill] = byAction(ev, 'runtime-kill');
    assert.equal(kill!.exit137.kind, 'audit-signal');
    assert.equal(kill!.container?.id, '763de1ad420fc26c5fd4997bac7cc44f5c540a123778fc18b636eb24fbc83d5a');
    assert.deepEqual(kill!.exit137.signal, { number: 9, name: 'SIGKILL' });
    assert.deepEqual(kill!.process?.args, ['docker-runc', 'kill', '--all', '763de1ad420fc26c5fd4997bac7cc44f5c540a123778fc18b636eb24fbc83d5a', 'SIGKILL']);
    // 31 s after the grace period began, both in the year the read time gives (nothing in the paste says otherwise)
    assert.equal(BigInt(kill!.exit137.ts_ns) - BigInt(grace!.exit137.ts_ns), 31_000_000_000n);
    assert.equal(grace!['@timestamp'], '2025-12-29T13:07:05.000000000Z');
  });
});

describe('pager-truncated and re-flowed lines', () => {
  it('cut at the screen’s edge (moby#32827): each stop timeout still names its container, marked truncated', async () => {
    const ev = byAction(await decode('journal-wrapped', 3), 'docker-stop-timeout');
    assert.deepEqual(
      ev.map((e) => e.container?.id),
      ['aa7c7db5ecdcb4a0efc01a12d3d3d59c02a3652385ee3f16b39299a11d08e68e', '1fe3b70c473d5d4ccf1569de5a7037ed56d3971576c8a654e0d27a98781fcbb1', '6c515012e30a37ec70abd168999d0b3d83a7e43acb130c76ec8ea5d50a36e846'],
    );
    for (const e of ev) {
      assert.ok(e.tags.includes('truncated'));
      assert.equal(e.exit137.grace_seconds, 10);
      assert.equal(e.exit137.signal, undefined, 'the signal the pager cut is not guessed');
    }
    assert.equal(ev[0]!['@timestamp'], '2018-01-20T13:30:28.099112541Z');
    assert.equal(ev[0]!.log.syslog?.appname, 'env');
  });

  it('a mail client’s re-flow with `> ` (systemd-docker#31): the tag’s message on the next line, the quote joined', async () => {
    const ev = await decode('journal-wrapped', 2);
    // four records; the last one's head was re-flowed onto the third's tail, so three events
    assert.equal(ev.length, 3, 'one event per record, not one per line');
    assert.equal(ev[0]!.message, 'GET /v1.11/containers/35f101d97881e543d40370ee4242216dfb88103f2947c0446ad0ad03a1bcd810/json');
    assert.equal(ev[0]!['@timestamp'], '2015-07-10T00:13:47.000000000Z');
    assert.equal(ev[0]!.exit137.time.offset_minutes, -180);
    assert.equal(ev[0]!.log.syslog?.appname, 'docker');
    assert.equal(ev[0]!.host.name, 'newhope.belkin.home');
  });
});

describe('journalctl -o verbose and -o json-pretty: one entry from many lines', () => {
  it('verbose (octoprobe, CET): the header’s t= is the instant, the indented fields the entry', async () => {
    const ev = await decode('journal-verbose', 1);
    assert.equal(ev.length, 2);
    assert.equal(ev[0]!['@timestamp'], '2025-01-20T14:05:58.411543000Z');
    assert.equal(ev[0]!.exit137.kind, 'kernel');
    assert.equal(ev[0]!.message, 'usb 1-1.4.4.3: Not enough bandwidth for new device state.');
    assert.equal(ev[0]!.host.name, 'hans-Yoga-260');
    assert.equal(ev[1]!['@timestamp'], '2025-01-20T14:05:58.411820000Z');
    assert.equal(ev[1]!.message, "usb 1-1.4.4.3: can't set config #1, error -28");
  });

  it('verbose (octoprobe, CEST): summer time is in t=, not in the header text', async () => {
    const [e] = await decode('journal-verbose', 2);
    assert.equal(e!['@timestamp'], '2025-07-17T19:48:27.298561000Z');
    assert.equal(e!.host.name, 'maerki-ideapad-320');
  });

  it('json-pretty (luvit-systemd-journal, 2012): `{ … },` is one entry at _SOURCE_REALTIME_TIMESTAMP', async () => {
    const ev = await decode('journal-json-pretty', 1);
    const e = ev.find((x) => x.message === 'Hello World From Print')!;
    assert.equal(e['@timestamp'], '2012-08-30T21:40:06.948744000Z');
    assert.equal(e.host.name, 'fedora17vm.local');
    assert.equal(e.log.syslog?.appname, 'luvit');
    assert.equal(e.log.syslog?.procid, '4129');
    assert.equal(ev.length, 2, 'the command line and the entry');
  });

  it('json-pretty (DigitalOcean tutorial, 2015): systemd starting nginx', async () => {
    const ev = await decode('journal-json-pretty', 2);
    const e = ev.find((x) => x.log.syslog?.appname === 'systemd')!;
    assert.equal(e['@timestamp'], '2015-02-03T19:06:04.737973000Z');
    assert.equal(e.message, 'Starting A high performance web server and a reverse proxy server...');
    assert.equal(e.host.name, 'desktop');
  });
});
