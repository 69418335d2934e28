import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

const shape = (n: number) => join(FIXTURES, 'field', 'shapes', 'docker-cli-error', `${n}.txt`);

async function errors(n: number) {
  const { events, dead } = await decodeFiles([shape(n)]);
  assert.deepEqual(dead, []);
  return events.filter((e) => e.exit137.source === 'docker-cli' && e.exit137.kind === 'runtime-log' && e.log.level === 'error');
}

describe('docker CLI errors', () => {
  it('rm -f: the stuck kill, and the full id the daemon names (the command had a prefix)', async () => {
    const [e] = await errors(1);
    assert.equal(e!.exit137.message_id, 'docker-kill-no-exit-event');
    assert.deepEqual(e!.container, { id: 'ef21e590981d84c54d3f3dfc61ca4bc7e43433bf15e888e0ab42f9575088595f' });
    assert.deepEqual(e!.exit137.fields, { operation: 'kill' });
    assert.deepEqual(e!.event.type, ['end']);
  });

  it('stop then kill of the same container, both refused the same way', async () => {
    const es = await errors(2);
    assert.deepEqual(es.map((e) => [e.exit137.fields?.operation, e.container?.id, e.exit137.message_id]), [
      ['stop', 'd8caa273a7a7', 'docker-kill-no-exit-event'],
      ['kill', 'd8caa273a7a7', 'docker-kill-no-exit-event'],
    ]);
  });

  it('a container named, not by id', async () => {
    const [e] = await errors(3);
    assert.deepEqual(e!.container, { name: 'pigen_work' });
  });

  it('behind compose v2 progress lines', async () => {
    const [e] = await errors(4);
    assert.deepEqual(e!.container, { id: 'dfbd45c94df45eb634d39ee1dede6f0a511863fff50ca0a487e15f82e7f4df72' });
    assert.equal(e!.exit137.fields?.operation, 'stop');
  });
});
