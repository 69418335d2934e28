import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { startElasticsearch } from '../../test/helpers/elasticsearch.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { SEARCHES } from '../kibana/objects.ts';
import { EVENTS_REFRESH_DEFAULT, VERDICTS_ALIAS, VERDICTS_INDEX, VERDICTS_TEMPLATE, eventsIndex } from './templates.ts';
import { eventWriter, installTemplates, verdictWriter, writeBatch } from './writer.ts';

/** One real Elasticsearch 8 node for the sink and the Kibana searches. */
describe('Elasticsearch: the sink and the saved searches on a real 8.19 node', { timeout: 900_000 }, () => {
  let es: Awaited<ReturnType<typeof startElasticsearch>>;
  let client: Client;
  let verdicts: Attribution[];
  const events: NormalizedEvent[] = [];

  before(async () => {
    es = await startElasticsearch();
    client = new Client({ node: es.url });
    const lab = join(FIXTURES, 'lab', 'containers');
    const inputs = await expandInputs([...['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(lab, f)), join(FIXTURES, 'seed-004')]);
    verdicts = (await analyzeInputs(inputs, {}, { deadLetter: () => {}, event: (e) => events.push(e) })).verdicts;
    await installTemplates(client);
    await installTemplates(client); // setup is idempotent
  });
  after(() => es?.stop());

  it('stores every event and verdict once; a replay changes nothing; a re-attribution replaces its verdict', async () => {
    const first = await writeBatch(client, events, verdicts, { refresh: true });
    assert.deepEqual(first.rejected, []);
    assert.equal(first.created, events.length + verdicts.length);
    const replay = await writeBatch(client, events, verdicts, { refresh: true });
    assert.equal(replay.duplicates, events.length, 'events replayed are 409s, counted as stored');
    assert.equal(replay.updated, verdicts.length);
    assert.equal((await client.count({ index: 'exit137-events-*' })).count, events.length);
    const v2 = { ...verdicts[0]!, version: 2, confidence: 0.5 };
    await writeBatch(client, [], [v2], { refresh: true });
    assert.equal((await client.count({ index: VERDICTS_ALIAS })).count, verdicts.length);
    const doc = await client.get<Attribution>({ index: VERDICTS_ALIAS, id: v2.incident_id });
    assert.equal(doc._source?.version, 2);
    await writeBatch(client, [], [verdicts[0]!], { refresh: true });
  });

  it('setup brings an index made under an older mapping up to date', async () => {
    // the verdict index as an earlier release made it: strict, without the OOM victim's mechanism
    const old = 'exit137-attributions-v0';
    // without the current template, which would otherwise shape the new index itself
    await client.indices.deleteIndexTemplate({ name: 'exit137-attributions' });
    await client.indices.create({ index: old, mappings: { dynamic: 'strict', properties: { incident_id: { type: 'keyword' }, oom: { properties: { wrong_victim: { type: 'boolean' } } } } } });
    await installTemplates(client);
    const m = await client.indices.getMapping({ index: old });
    const oom = (m[old]!.mappings.properties!.oom as { properties: Record<string, { type: string }> }).properties;
    assert.equal(oom.mechanism?.type, 'keyword');
    assert.equal(oom.wrong_victim?.type, 'boolean');
    await client.index({ index: old, id: 'x', document: { incident_id: 'x', oom: { wrong_victim: true, mechanism: 'oom_score_adj' } }, refresh: true });
    await client.indices.delete({ index: old });
  });

  it('the events are refreshed at the interval set (a setting), the verdicts still fast; setup puts it on indices already there', async () => {
    const refreshOf = async (index: string) => (await client.indices.getSettings({ index, flat_settings: true }))[index]!.settings!['index.refresh_interval'];
    const index = eventsIndex(events[0]!['@timestamp']);
    // made by the earlier writes under the default
    assert.equal(await refreshOf(index), EVENTS_REFRESH_DEFAULT);
    await installTemplates(client, { eventsRefresh: '7s' });
    assert.equal(await refreshOf(index), '7s', 'an index already there follows the setting');
    const fresh = 'exit137-events-1999.01';
    await client.indices.create({ index: fresh });
    assert.equal(await refreshOf(fresh), '7s', 'a new index takes it from the template');
    assert.equal(await refreshOf(VERDICTS_INDEX), VERDICTS_TEMPLATE.template.settings.refresh_interval);
    await client.indices.delete({ index: fresh });
    await installTemplates(client);
    assert.equal(await refreshOf(index), EVENTS_REFRESH_DEFAULT, 'unset: the default');
  });

  it('keeps nanosecond order: events sort by @timestamp exactly as their ts_ns', async () => {
    const r = await client.search<NormalizedEvent>({ index: 'exit137-events-*', size: 50, sort: [{ '@timestamp': 'asc' }], query: { term: { 'exit137.kind': 'runtime-log' } } });
    const ns = r.hits.hits.map((h) => BigInt(h._source!.exit137.ts_ns));
    assert.ok(ns.length > 10);
    for (let i = 1; i < ns.length; i++) assert.ok(ns[i]! >= ns[i - 1]!, `order at ${i}`);
  });

  it('hands back what the mapping refuses, with the reason, instead of dropping it', async () => {
    const bad = { ...verdicts[0]!, incident_id: 'inc-bad', confidence: 'very' as unknown as number };
    const r = await writeBatch(client, [], [bad], { refresh: true });
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0]!.status, 400);
    assert.match(r.rejected[0]!.reason, /document_parsing_exception|mapper_parsing_exception/);
  });

  it('verdict writes gathered into one bulk: each caller returns once its verdicts are visible, with only its own refusals; withdrawals apply', async () => {
    const write = verdictWriter(client, 50);
    const mine = verdicts.slice(0, 4).map((v, i) => ({ ...v, incident_id: `inc-gathered-${i}` }));
    const bad = { ...verdicts[0]!, incident_id: 'inc-gathered-bad', confidence: 'very' as unknown as number };
    let bulks = 0;
    const count = (_e: unknown, r: { meta: { request: { params: { path: string } } } } | null) => void (r?.meta.request.params.path.endsWith('/_bulk') && bulks++);
    client.diagnostic.on('request', count);
    const results = await Promise.all([write([mine[0]!, mine[1]!], []), write([mine[2]!, bad], []), write([mine[3]!], [])]);
    client.diagnostic.off('request', count);
    assert.equal(bulks, 1, 'three finalizes, one bulk');
    assert.deepEqual(results.map((r) => r.rejected.map((x) => x.id)), [[], ['inc-gathered-bad'], []]);
    const ids = mine.map((v) => v.incident_id);
    // searched with no refresh of the test's own: the write returned once they were visible
    const seen = await client.search({ index: VERDICTS_ALIAS, size: 10, query: { ids: { values: ids } } });
    assert.deepEqual(seen.hits.hits.map((h) => h._id).sort(), ids);
    await write([], ids);
    await client.indices.refresh({ index: VERDICTS_ALIAS });
    assert.equal((await client.count({ index: VERDICTS_ALIAS, query: { ids: { values: ids } } })).count, 0, 'withdrawn');
  });

  it('events of jobs in hand share one bulk: each caller returns once its documents are stored, with only its own refusals', async () => {
    const write = eventWriter(client, { lingerMs: 50 });
    // the lab's events under fresh ids, in three jobs' worth; one of them has a document the mapping refuses
    const fresh = events.slice(0, 90).map((e, i) => ({ ...e, event: { ...e.event, id: `gathered-${i}` } }));
    const bad = { ...fresh[0]!, event: { ...fresh[0]!.event, id: 'gathered-bad', sequence: 'not-a-number' } } as unknown as NormalizedEvent;
    let bulks = 0;
    const count = (_e: unknown, r: { meta: { request: { params: { path: string } } } } | null) => void (r?.meta.request.params.path.endsWith('/_bulk') && bulks++);
    client.diagnostic.on('request', count);
    const jobs = [fresh.slice(0, 30), [...fresh.slice(30, 60), bad], fresh.slice(60)];
    const results = await Promise.all(jobs.map(async (job) => {
      const r = await write(job);
      // stored by the time the job would be acknowledged: a real-time get needs no refresh
      const got = await client.mget({ docs: job.filter((e) => e !== bad).map((e) => ({ _index: eventsIndex(e['@timestamp']), _id: e.event.id })) });
      return { r, missing: got.docs.filter((d) => !('found' in d) || !d.found).length };
    }));
    client.diagnostic.off('request', count);
    assert.equal(bulks, 1, 'three jobs, one bulk');
    assert.deepEqual(results.map((x) => x.missing), [0, 0, 0]);
    assert.deepEqual(results.map((x) => x.r.rejected.map((y) => y.id)), [[], ['gathered-bad'], []]);
  });

  it('each Kibana search, run as Kibana runs Lucene, returns exactly the expected verdicts', async () => {
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
    // the container timeline search, on the events, with the lab's stuck container
    const stuck = verdicts.find((v) => v.container.name === 'stuck')!.container.id.slice(0, 12);
    const tl = SEARCHES.find((s) => s.id === 'exit137-container-timeline')!.query.replace(/0123456789ab/g, stuck);
    const r = await client.search<NormalizedEvent>({ index: 'exit137-events-*', size: 200, query: { bool: { must: [{ query_string: { query: tl, analyze_wildcard: true } }] } } });
    assert.ok(r.hits.hits.length >= 5, `timeline has ${r.hits.hits.length} events`);
    assert.ok(r.hits.hits.every((h) => h._source!.container?.id?.startsWith(stuck) || h._source!.exit137.related_ids?.some((x) => x.startsWith(stuck))));
  });
});
