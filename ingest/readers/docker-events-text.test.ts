import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sniffFormat } from '../detect.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (n: number) => join(FIXTURES, 'field', 'shapes', 'docker-events-text', `${n}.txt`);

describe('docker events without --format', () => {
  it('an oom event hard-wrapped inside a label: one event, the id and the pod from its labels, its own -05:00 time', async () => {
    const { events, dead } = await decodeFiles([shape(1)]);
    assert.deepEqual(dead, []);
    assert.equal(events.length, 1, 'the wrapped line is part of the event');
    const e = events[0]!;
    assert.equal(e.exit137.kind, 'container-event');
    assert.equal(e.exit137.source, 'docker-events');
    assert.equal(e.event.action, 'container-oom');
    assert.deepEqual(e.event.type, ['end']);
    assert.equal(e['@timestamp'], '2019-05-04T23:05:45.011072877Z');
    assert.equal(e.exit137.time.offset_minutes, -300);
    assert.equal(e.container?.id, '29d72966e0beb17d9b0b9fbcbfc734e2df2eb5428690115f9b24430357de08e5');
    assert.equal(e.container?.name, 'k8s_notebook_jupyter-******_jhub-prod_efa75591-6e89-11e9-bf85-001a4a16016d_0');
    assert.deepEqual(e.orchestrator, { namespace: 'jhub-prod', resource: { type: 'pod', name: 'jupyter-******' } });
    // the label's JSON keeps its commas; the wrap is joined where it cut the sandbox id
    assert.equal(e.exit137.fields?.['annotation.io.kubernetes.container.ports'], '[{"name":"notebook-port","containerPort":8888,"protocol":"TCP"}]');
    assert.equal(e.exit137.fields?.['io.kubernetes.sandbox.id'], '67102bbdc496acefcbb81ee736cb25d4ee7c2753a8660ab54b776e0be321b4f6');
    assert.equal(e.event.original.split('\n').length, 2);
  });

  it('docker stop as events: kill with signal 15, die with exit 143; an elided id is no id', async () => {
    const { events, dead } = await decodeFiles([shape(2)]);
    assert.deepEqual(dead, []);
    assert.deepEqual(events.map((e) => e.event.action), ['container-create', 'container-network-connect', 'container-start', 'container-kill', 'container-die']);
    const [create, , , kill, die] = events;
    assert.equal(create!.container?.id, '0fdb48addc82871eb34eb23a847cfd033dedd1a0a37bef2e6d9eb3870fc7ff37');
    assert.deepEqual(kill!.exit137.signal, { number: 15, name: 'SIGTERM' });
    assert.deepEqual(die!.exit137.exit, { code: 143 });
    assert.deepEqual(die!.container, { runtime: 'docker', name: 'test', image: { name: 'alpine:latest' } });
    assert.equal(die!['@timestamp'], '2017-01-04T16:36:09.840186338Z');
  });

  it('is no syslog or dmesg line to the format sniffer', () => {
    assert.equal(sniffFormat('2017-05-01T12:00:00.000000000Z container die 8f1c (exitCode=137, image=busybox, name=web)'), 'raw');
    assert.equal(sniffFormat('2019-05-04T18:05:45.011072877-05:00 container oom 29d7 (image=x, name=y)'), 'raw');
  });
});
