import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { READ_AT, SHAPES, byAction, decodeShape, shape } from '../../test/helpers/shapes.ts';
import fc from 'fast-check';
import { Decoder } from '../decoder.ts';
import { NormalizedEvent } from '../event.ts';
import { decodeLines } from '../../test/helpers/decode.ts';
import { pasteMutation } from '../../test/helpers/paste-mutation.ts';

/**
 * The last shapes of issue #13 on their real examples (test/fixtures/field/shapes/<shape>/<n>),
 * read through the whole decoder: a cloud log viewer's entries (time, node, line), journalctl's
 * short-precise, its banner and `-o cat`, field by field.
 */
const decode = decodeShape;

describe('a cloud log viewer’s entries: the time alone on a line, the node, then the line', () => {
  it('GKE Logs Explorer with a zone and the node (k8s#110755): one event per entry at the viewer’s time, on that node', async () => {
    const ev = await decode('gke-cloud-logging', 2);
    assert.equal(ev.length, 2, 'the time and node lines are no events of their own');
    const [kill, sync] = ev;
    assert.equal(kill!.event.action, 'kubelet-node-shutdown');
    assert.equal(kill!.exit137.kind, 'runtime-log');
    assert.equal(kill!.exit137.source, 'kubelet');
    assert.equal(kill!['@timestamp'], '2022-06-23T15:42:16.744000000Z');
    assert.equal(kill!.exit137.time.basis, 'absolute');
    assert.equal(kill!.exit137.time.offset_minutes, -420);
    assert.equal(kill!.exit137.time.year_inferred, undefined);
    assert.equal(kill!.host.name, 'gke-dev-default-pool-XXX');
    assert.deepEqual(kill!.orchestrator, { namespace: 'XX', resource: { type: 'pod', name: 'client-64ccc5cc77-6jrfk' } });
    assert.equal(kill!.exit137.grace_seconds, 15);
    assert.deepEqual(kill!.event.original.split('\n'), readFileSync(shape('gke-cloud-logging', 2), 'utf8').split('\n').slice(0, 3));
    assert.equal(sync!['@timestamp'], '2022-06-23T15:44:33.989000000Z');
    assert.equal(sync!.host.name, 'gke-dev-default-pool-XXX');
    assert.equal(sync!.log.level, 'error');
    assert.equal(sync!.message, 'Error syncing pod, skipping');
  });

  it('a viewer time without a zone and no node (k8s#122160): the klog clock in the viewer’s year, the zone assumed', async () => {
    const ev = await decode('gke-cloud-logging', 1);
    const kubelet = ev.filter((e) => e.exit137.source === 'kubelet');
    assert.equal(kubelet.length, 4);
    assert.deepEqual(
      kubelet.map((e) => e['@timestamp']),
      ['2024-02-27T10:42:43.206377000Z', '2024-02-27T10:42:43.206547000Z', '2024-02-27T10:42:43.379059000Z', '2024-02-27T10:42:43.514445000Z'],
    );
    for (const e of kubelet) {
      assert.equal(e.exit137.kind, 'runtime-log');
      assert.equal(e.exit137.time.basis, 'assumed');
      assert.ok(e.tags.includes('zone_assumed'));
      assert.ok(!e.tags.includes('year_inferred'), 'the viewer’s date says the year');
      assert.equal(e.host.name, 'unknown');
    }
    assert.equal(kubelet[0]!.message, 'SyncLoop ADD');
    // the poster's elision is a line of its own, at the time of the entry before it
    const [elision] = ev.filter((e) => e.exit137.kind === 'log');
    assert.match(elision!.message ?? '', /^\.\.\.<repeats/);
    assert.equal(elision!['@timestamp'], '2024-02-27T10:42:43.379059000Z');
    assert.ok(ev.every((e) => !/^\d{4}-\d\d-\d\d \d\d:/.test(e.message ?? '')), 'no viewer time is a message');
  });

  it('a viewer time with no message after it is a dead letter with its reason; a resource name alone after it is the message', () => {
    const lone = decodeLines(['2022-06-23 08:42:16.744 PDT'], { clock: { referenceNs: READ_AT } });
    assert.equal(lone.events.length, 0);
    assert.deepEqual(lone.dead.map((d) => d.reason), ['log-viewer']);
    const named = decodeLines(['2022-06-23 15:42:16.744 Z', 'Starting'], { clock: { referenceNs: READ_AT } });
    assert.equal(named.events.length, 1);
    assert.equal(named.events[0]!.message, 'Starting');
    assert.equal(named.events[0]!['@timestamp'], '2022-06-23T15:42:16.744000000Z');
    assert.equal(named.events[0]!.host.name, 'unknown');
  });

  it('mutated viewer pastes never throw, date nothing 1970 and account for every line', () => {
    const pastes = [1, 2].map((n) => readFileSync(shape('gke-cloud-logging', n), 'utf8').split('\n').filter((l) => l.length > 0));
    fc.assert(
      fc.property(pasteMutation(pastes, ['drop', 'double', 'indent', 'dedent', 'quote', 'prompt', 'cut', 'tabs', 'squeeze']), fc.boolean(), (lines, tick) => {
        const d = new Decoder(
          (e) => {
            NormalizedEvent.parse(e);
            assert.ok(!e['@timestamp'].startsWith('1970'), e.event.original.slice(0, 120));
          },
          () => {},
          { clock: { referenceNs: READ_AT } },
        );
        const ref = { id: 'fuzz' };
        lines.forEach((l, i) => {
          d.pushLine(ref, l, i * 100, i + 1);
          if (tick && i % 3 === 1) d.tick();
        });
        d.endInput(ref);
        d.end();
        assert.equal(d.counters.get('lines'), lines.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('journalctl -o short-precise, its banner, -o cat', () => {
  it('short-precise around kubelet klog lines (k8s#111762): kills with a grace period, at kubelet’s own clock', async () => {
    const ev = byAction(await decode('journal-short-precise', 2), 'kubelet-kill-grace');
    assert.equal(ev.length, 3);
    const [first, second] = ev;
    assert.equal(first!['@timestamp'], '2026-10-09T00:15:38.394801000Z');
    assert.equal(first!.exit137.time.year_inferred, true);
    assert.equal(first!.container?.id, '349bfe54f1da90b8baa3a40b7096ccb05d7caa072ca84555c91153539b871afe');
    assert.equal(first!.container?.name, 'kube-scheduler');
    assert.deepEqual(first!.orchestrator, { namespace: 'kube-system', resource: { type: 'pod', name: 'kube-scheduler-bootstrap-e2e-master' } });
    assert.equal(first!.exit137.grace_seconds, 30);
    assert.equal(first!.host.name, 'bootstrap-e2e-master');
    assert.deepEqual(first!.log.syslog, { appname: 'kubelet', procid: '2291' });
    assert.equal(second!.container?.id, '410cff079bbb2f854243704a3b40022593cc9d673b04aa2c3cda2cd57155ca3b');
    assert.equal(second!.container?.name, 'konnectivity-server-container');
    assert.equal(ev[2]!['@timestamp'], '2026-10-09T00:15:54.450793000Z');
  });

  it('a UTC banner over pager-cut kubelet lines (k8s#112874): the banner’s year and zone, the cut marked', async () => {
    const ev = await decode('journal-banner', 2);
    const kubelet = ev.filter((e) => e.exit137.source === 'kubelet');
    assert.equal(kubelet.length, 4);
    assert.deepEqual(
      kubelet.map((e) => e['@timestamp']),
      ['2022-10-05T06:27:03.438225000Z', '2022-10-05T06:27:03.593964000Z', '2022-10-05T06:27:03.594366000Z', '2022-10-05T06:27:03.694702000Z'],
    );
    for (const e of kubelet) {
      assert.equal(e.exit137.time.basis, 'learned');
      assert.equal(e.host.name, '1k8s-rc02-worker140a');
      assert.ok(e.tags.includes('truncated'));
      assert.equal(e.container, undefined, 'an id the pager cut is no container');
    }
    assert.equal(kubelet[0]!.message, 'Container not found in pod\'s containers');
    assert.ok(ev.every((e) => e['@timestamp'].startsWith('2022-')), 'nothing in the read year');
  });

  it('a PDT banner over docker’s journald driver lines (containerd#10759): -07:00 and the year 2024', async () => {
    const ev = (await decode('journal-banner', 3)).filter((e) => e.log.syslog?.appname === '7f23e91f0901');
    assert.equal(ev.length, 3);
    for (const e of ev) {
      assert.equal(e['@timestamp'], '2024-10-05T16:07:51.000000000Z');
      assert.equal(e.exit137.time.basis, 'learned');
      assert.equal(e.host.name, 'MYDTK1.fyre.ibm.com');
      assert.equal(e.log.syslog?.procid, '1772661');
      assert.equal(e.exit137.kind, 'log');
    }
    assert.match(ev[0]!.message ?? '', /^\/docker-entrypoint\.sh: \/docker-entrypoint\.d\/ is not empty/);
  });

  it('-o cat (AKS docs): every line is kubelet’s own klog line at its own clock, none a plain log line', async () => {
    const ev = await decode('journal-cat', 1);
    assert.equal(ev.length, 8);
    for (const e of ev) {
      assert.equal(e.exit137.kind, 'runtime-log');
      assert.equal(e.exit137.source, 'kubelet');
      assert.equal(e.exit137.time.year_inferred, true);
      assert.equal(e.log.level, 'info');
    }
    assert.equal(ev[0]!['@timestamp'], '2026-05-08T12:26:17.905042000Z');
    assert.equal(ev[0]!.message, 'Using Node Hostname from cloudprovider: "aks-agentpool-11482510-0"');
    assert.equal(ev[2]!.message, 'GET /stats/summary: (10.370874ms) 200 [[Ruby] 10.244.0.2:52292]');
  });

  it('-o cat (AKS on Azure Stack HCI docs): a line cut right after its caller is still kubelet’s, at its clock', async () => {
    const ev = await decode('journal-cat', 2);
    assert.equal(ev.length, 6);
    assert.ok(ev.every((e) => e.exit137.kind === 'runtime-log' && e.exit137.source === 'kubelet'));
    assert.equal(ev[0]!.message, 'Version: v1.19.7');
    const cut = ev.at(-1)!;
    assert.equal(cut['@timestamp'], '2026-05-12T19:15:19.868169000Z');
    assert.equal(cut.message, '');
    assert.equal(cut.exit137.time.basis, 'assumed');
  });
});

/** `Oct 09 00:15:38.394801`: the month, day and clock an expectation gives for a line with no year. */
/** `2022-06-23T15:42:16.744Z` as nanoseconds since the epoch, as ts_ns gives them. */
function isoNs(t: string): string {
  const m = /^(.{19})(?:\.(\d{1,9}))?Z$/.exec(t)!;
  return (BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('every new example’s expectations hold, field by field', () => {
  const examples: [string, number][] = [
    ['gke-cloud-logging', 2],
    ['journal-short-precise', 2],
    ['journal-banner', 2],
    ['journal-banner', 3],
    ['journal-cat', 1],
    ['journal-cat', 2],
  ];
  for (const [dir, n] of examples) {
    it(`${dir}/${n}`, async () => {
      const spec = JSON.parse(readFileSync(join(SHAPES, dir, `${n}.json`), 'utf8')) as { source: string; expect: { container: string | null; time: string; line: string; host?: string }[] };
      assert.match(spec.source, /^https:\/\//);
      const ev = await decode(dir, n);
      for (const x of spec.expect) {
        const e = ev.find((v) => v.event.original.includes(x.line));
        assert.ok(e, `an event for ${x.line.slice(0, 60)}`);
        if (/^\d{4}-/.test(x.time)) assert.equal(e.exit137.ts_ns, isoNs(x.time), x.line);
        else {
          const m = /^(\w{3}) (\d\d) (\d\d:\d\d:\d\d\.\d+)$/.exec(x.time)!;
          assert.equal(e['@timestamp'].slice(5, 26), `${String(MONTHS.indexOf(m[1]!) + 1).padStart(2, '0')}-${m[2]}T${m[3]!.padEnd(15, '0')}`, x.line);
        }
        if (x.container === null) assert.equal(e.container?.id, undefined);
        // (a line of no known wording keeps the pod it names among its fields)
        else assert.ok([e.container?.id, e.container?.name, e.orchestrator?.resource?.name, e.exit137.fields?.pod?.split('/').pop()].includes(x.container), `${x.container} named`);
        if (x.host) assert.equal(e.host.name, x.host);
      }
    });
  }
});
