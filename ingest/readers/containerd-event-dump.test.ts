import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (n: number) => join(FIXTURES, 'field', 'shapes', 'containerd-old-events', `${n}.txt`);

describe('containerd event dumps pasted alone', () => {
  it('pre-1.0 Event{Type:EXIT}: the task exit with its status and pid; the zero ExitedAt is no time', async () => {
    const { events, dead } = await decodeFiles([shape(1)]);
    assert.deepEqual(dead, []);
    const [e] = events;
    assert.equal(e!.exit137.kind, 'container-event');
    assert.equal(e!.exit137.source, 'containerd-events');
    assert.equal(e!.event.action, 'container-tasks-exit');
    assert.deepEqual(e!.event.type, ['end']);
    assert.deepEqual(e!.container, { id: 'e190dfe7c9d67d32c2d360b63511ec3efdc07085ae8d893090c46de3d1547b6b', runtime: 'containerd' });
    assert.deepEqual(e!.exit137.exit, { code: 137, pid: 28746 });
    assert.equal(e!.exit137.time.basis, 'relative');
  });

  it('a human id, exit 0 at its ExitedAt; a stray ``` after the dump', async () => {
    const { events } = await decodeFiles([shape(2)]);
    const [e] = events;
    assert.deepEqual(e!.container, { id: 'redis', runtime: 'containerd' });
    assert.deepEqual(e!.exit137.exit, { code: 0, pid: 4404 });
    assert.equal(e!['@timestamp'], '2017-06-01T13:40:16.846127359Z');
    assert.equal(e!.exit137.time.basis, 'absolute');
  });
});
