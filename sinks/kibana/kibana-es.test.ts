import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { startElasticsearch } from '../../test/helpers/elasticsearch.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { VERDICTS_ALIAS, VERDICTS_INDEX, VERDICTS_TEMPLATE } from '../elasticsearch/templates.ts';
import { SEARCHES } from './objects.ts';

/** The saved searches run as Kibana runs them (Lucene → query_string in bool.must) on a real node. */
describe('saved searches on a real Elasticsearch 8 holding the lab’s verdicts', { timeout: 900_000 }, () => {
  let es: Awaited<ReturnType<typeof startElasticsearch>>;
  let client: Client;
  let verdicts: Attribution[];

  before(async () => {
    es = await startElasticsearch();
    client = new Client({ node: es.url });
    const lab = join(FIXTURES, 'lab', 'containers');
    const inputs = await expandInputs([...['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(lab, f)), join(FIXTURES, 'seed-004')]);
    verdicts = (await analyzeInputs(inputs, {}, { deadLetter: () => {} })).verdicts;
    await client.indices.putIndexTemplate({ name: 'exit137-attributions', ...VERDICTS_TEMPLATE } as Parameters<typeof client.indices.putIndexTemplate>[0]);
    const body = verdicts.flatMap((v) => [{ index: { _index: VERDICTS_INDEX, _id: v.incident_id } }, { ...v, '@timestamp': v.died_at }]);
    const r = await client.bulk({ operations: body, refresh: true });
    assert.equal(r.errors, false, JSON.stringify(r.items.find((i) => i.index?.error)));
  });
  after(() => es?.stop());

  it('the strict verdict mapping takes every verdict, under the alias', async () => {
    const n = await client.count({ index: VERDICTS_ALIAS });
    assert.equal(n.count, verdicts.length);
  });

  it('each search returns exactly the expected verdicts', async () => {
    const names = async (id: string) => {
      const q = SEARCHES.find((s) => s.id === id)!.query;
      const r = await client.search<Attribution>({ index: VERDICTS_ALIAS, size: 100, query: { bool: { must: [{ query_string: { query: q, analyze_wildcard: true } }], filter: [], should: [], must_not: [] } } });
      return r.hits.hits.map((h) => h._source!.container.name ?? h._source!.container.id.slice(0, 12)).sort();
    };
    assert.deepEqual(await names('exit137-attributed'), ['docker-kill', 'lab-shim-v1', 'lab-shim-v2', 'oom', 'stop-timeout', 'stuck', 'user-kill']);
    assert.deepEqual(await names('exit137-shim-crashes'), ['de42a6372c1d', 'lab-shim-v1']);
    assert.deepEqual(await names('exit137-login-kills'), ['user-kill']);
    assert.deepEqual(await names('exit137-oom-wrong-victim'), []);
    assert.deepEqual(await names('exit137-unknown'), []);
  });
});
