import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byAction, decodeShape } from '../../test/helpers/shapes.ts';
import { parseDockerEvent } from '../runtime/events.ts';
import { exportedLine } from './log-exports.ts';

/**
 * A log store's or a SIEM's record around the node's line (test/fixtures/field/shapes/wazuh-alert,
 * cloud-logging-entry), read through the whole decoder: the line inside, at its own time, on the
 * node the record names.
 */
describe('a SIEM’s or a log store’s record: the node’s line inside it', () => {
  it('a Wazuh docker-listener alert (wazuh#14416): docker’s kill event from full_log, to the nanosecond, though the paste broke the line', async () => {
    const ev = await decodeShape('wazuh-alert', 1);
    const [kill] = byAction(ev, 'container-kill');
    assert.ok(kill, 'the kill is read');
    assert.equal(kill.container?.id, 'e85fd22f8938f0e3ceb486f1baf0e72d70a844e6e628461713e59f63987e7343');
    assert.equal(kill.container?.name, 'crazy_lederberg');
    assert.equal(kill.exit137.signal?.number, 9);
    assert.equal(kill.exit137.source, 'docker-events');
    // full_log's timeNano, not data's float (…688): the microseconds are docker's
    assert.match(kill['@timestamp'], /^2022-07-25T16:15:18\.950834/);
    assert.equal(ev.length, 2, 'the rest of the broken line is a line of its own, not dropped');
  });

  it('a Wazuh die alert with exitCode 0 (wazuh#12150): a die, exit 0', async () => {
    const ev = await decodeShape('wazuh-alert', 2);
    const [die] = byAction(ev, 'container-die');
    assert.ok(die);
    assert.equal(die.container?.name, 'angry_brahmagupta');
    assert.equal(die.exit137.exit?.code, 0);
    assert.match(die['@timestamp'], /^2022-02-09T12:21:08\.028317/);
  });

  it('the alert whole on one line is read the same, and the listener’s record alone too', () => {
    const alert = {
      timestamp: '2022-07-25T16:15:18.952+0000',
      rule: { description: 'Docker: Container crazy_lederberg received the action: kill' },
      agent: { name: 'b041b633de29' },
      full_log: JSON.stringify({ integration: 'docker', docker: { status: 'kill', id: 'e85f', Type: 'container', Action: 'kill', Actor: { ID: 'e85f', Attributes: { name: 'crazy_lederberg', signal: '9' } }, timeNano: 1658765718950834779 } }),
    };
    const r = parseDockerEvent(JSON.stringify(alert));
    assert.ok(r.ok);
    assert.equal(r.event.action, 'kill');
    assert.equal(r.event.signal, 9);
    assert.equal(exportedLine(alert)?.host, 'b041b633de29');
    assert.match(exportedLine(JSON.parse(alert.full_log) as Record<string, unknown>)?.text ?? '', /^\{"status":"kill"/);
  });

  it('a GKE LogEntry pretty-printed (Sekoia’s sample): containerd’s StopContainer from jsonPayload.MESSAGE, on the node its resource names', async () => {
    const ev = await decodeShape('cloud-logging-entry', 1);
    assert.equal(ev.length, 1, 'one entry, one event');
    const [stop] = ev;
    assert.equal(stop!.event.action, 'cri-stop');
    assert.equal(stop!.container?.id, '4c2b21624d4488ea8305bec91bb58135e840ab50b779da3db19ddf87864a760e');
    assert.equal(stop!.exit137.grace_seconds, 30);
    assert.equal(stop!.host.name, 'gke-cluster-1-default-pool-476246ab-wnl7');
    assert.equal(stop!['@timestamp'], '2022-06-01T14:01:35.371006269Z');
  });

  it('GKE’s events log: an Event kept whole in jsonPayload is read as that Event; a textPayload entry as its line', async () => {
    const ev = await decodeShape('cloud-logging-entry', 2);
    assert.equal(ev.length, 2);
    const [created, exporter] = ev;
    assert.equal(created!.event.action, 'k8s-event');
    assert.equal(created!.message, 'Created container prometheus-to-sd');
    assert.equal(created!.orchestrator?.resource?.name, 'kube-dns-56494768b7-544n6');
    assert.equal(created!.container?.name, 'prometheus-to-sd');
    assert.equal(exporter!.message, 'Event exporter started watching. Some events may have been lost up to this point.');
    assert.equal(exporter!['@timestamp'], '2022-06-16T09:42:39.200653463Z');
  });

  it('CloudWatch Logs records as `aws logs filter-log-events` prints them (aws-cli’s own example): the message, its epoch-ms time, its stream', () => {
    // awscli/examples/logs/filter-log-events.rst, the first event of its output
    const r = exportedLine({ logStreamName: 'teststream', timestamp: 1712567843827, message: 'Test MESSAGE1', ingestionTime: 1712567844822, eventId: '00091539120382912324200901570000096855579456010247667712' });
    assert.deepEqual(r, { text: 'Test MESSAGE1', stamp: 1712567843827, host: 'teststream' });
    // a Lambda-style stream name is a path, not a host
    assert.equal(exportedLine({ logStreamName: '2024/05/09/[$LATEST]abc1024', timestamp: 1712568068991, message: 'Test MESSAGE2', ingestionTime: 1712568070017 })?.host, undefined);
    // a shipper's plain {message, timestamp} is no CloudWatch record: the generic keys read it
    assert.equal(exportedLine({ timestamp: 1, message: 'x' }), undefined);
  });

  it('Wazuh’s archives.log (wazuh#20372): the manager’s year, not the reader’s; docker’s event from the listener’s record; the manager as the host', async () => {
    const ev = await decodeShape('wazuh-archives', 1);
    assert.equal(ev.length, 4, 'every line is an event');
    assert.equal(ev[0]!['@timestamp'], '2023-12-01T14:59:05.000000000Z');
    assert.ok(ev.every((e) => e.host.name === 'be499c120b52'), ev.map((e) => e.host.name).join());
    const [create] = byAction(ev, 'container-create');
    assert.equal(create?.container?.id, '26d33a28c65307e8d251df562d8116c2c69878cfcfde42526c594d5d38093560');
    assert.equal(create?.container?.name, 'nginx_container');
    assert.equal(create?.exit137.source, 'docker-events');
    assert.equal(byAction(ev, 'container-image-pull').length, 1);
  });

  it('archives.log lines of files (Wazuh’s GDPR guide): the agent’s line read under its own syslog header, at the archive’s time', async () => {
    const ev = await decodeShape('wazuh-archives', 2);
    assert.deepEqual(
      ev.map((e) => [e.host.name, e.log.syslog?.appname, e['@timestamp']]),
      [
        ['wazuh-manager', 'multipathd', '2022-09-30T09:57:25.000000000Z'],
        ['Ubuntu', 'su', '2022-09-30T09:57:30.000000000Z'],
        ['wazuh-manager', 'multipathd', '2022-09-30T09:57:31.000000000Z'],
      ],
    );
    assert.equal(ev[1]!.message, 'pam_unix(su:session): session closed for user root');
    // the manager's zone is not in the line
    assert.ok(ev.every((e) => e.exit137.time.basis === 'assumed'));
  });

  it('a Wazuh alert read as docker’s event names its agent as the host (wazuh#14416, wazuh#12150)', async () => {
    assert.equal(byAction(await decodeShape('wazuh-alert', 1), 'container-kill')[0]?.host.name, 'b041b633de29');
    const [die] = byAction(await decodeShape('wazuh-alert', 2), 'container-die');
    assert.equal(die?.host.name, 'vagrant');
    // docker's timeNano past 2^53, as written, not through a float
    assert.equal(die?.['@timestamp'], '2022-02-09T12:21:08.028317451Z');
  });

  it('`aws logs filter-log-events` output whole (aws-cli’s example): each event read as a line of the input, where it begins, at its own time', async () => {
    const ev = await decodeShape('cloudwatch-cli', 1);
    const inner = ev.filter((e) => e.message?.startsWith('Test MESSAGE'));
    assert.deepEqual(
      inner.map((e) => [e.message, e.host.name, e['@timestamp'], e.log.line]),
      [
        ['Test MESSAGE1', 'teststream', '2024-04-08T09:17:23.827000000Z', 7],
        // a Lambda-style stream is a path, not a node
        ['Test MESSAGE2', 'unknown', '2024-04-08T09:21:08.991000000Z', 14],
      ],
    );
    assert.equal(new Set(ev.map((e) => e.event.id)).size, ev.length, 'each record its own id');
    assert.equal(ev.length, 4, 'the command’s two lines, then the two events');
  });

  it('a Logs Insights `get-query-results` answer (aws-cli’s example): each row is its record, @timestamp in UTC, each at its own line', async () => {
    const ev = await decodeShape('cloudwatch-cli', 2);
    const rows = ev.filter((e) => e.message?.startsWith('Test BENCHMARK'));
    assert.deepEqual(
      rows.map((e) => [e.message, e.host.name, e['@timestamp'], e.exit137.time.basis]),
      [
        ['Test BENCHMARK 3', 'TestStream', '2024-05-19T06:10:35.743000000Z', 'absolute'],
        ['Test BENCHMARK 2', 'TestStream', '2024-05-19T06:10:27.559000000Z', 'absolute'],
        ['Test BENCHMARK 1', 'TestStream', '2024-05-19T06:10:16.682000000Z', 'absolute'],
      ],
    );
    assert.equal(new Set(rows.map((e) => e.log.line)).size, 3, 'each row where it begins');
  });
});
