import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import lucene from 'lucene';
import { z } from 'zod';
import { analyzeInputs } from '../../correlate/analyze.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { EVENTS_TEMPLATE, VERDICTS_TEMPLATE, fieldTypes } from '../elasticsearch/templates.ts';
import { EVENTS_VIEW, SEARCHES, VERDICTS_VIEW, savedObjects, toNdjson } from './objects.ts';

const shipped = readFileSync(join(import.meta.dirname, 'exit137-saved-objects.ndjson'), 'utf8');
const objects = shipped.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string; attributes: Record<string, unknown>; references: { name: string; type: string; id: string }[] });
const typesOf = { [VERDICTS_VIEW]: fieldTypes(VERDICTS_TEMPLATE.template.mappings), [EVENTS_VIEW]: fieldTypes(EVENTS_TEMPLATE.template.mappings) };

const Base = z.object({ type: z.string(), id: z.string().regex(/^[a-z0-9-]+$/), coreMigrationVersion: z.literal('8.8.0'), typeMigrationVersion: z.string(), attributes: z.record(z.string(), z.unknown()), references: z.array(z.object({ name: z.string(), type: z.string(), id: z.string() })) });
const SearchAttrs = z.object({ title: z.string(), columns: z.array(z.string()), sort: z.array(z.tuple([z.string(), z.enum(['asc', 'desc'])])), kibanaSavedObjectMeta: z.object({ searchSourceJSON: z.string() }) });
const DashboardAttrs = z.object({ title: z.string(), panelsJSON: z.string(), optionsJSON: z.string(), kibanaSavedObjectMeta: z.object({}).passthrough(), timeRestore: z.boolean(), timeFrom: z.string(), timeTo: z.string(), description: z.string() }).strict();

type Ast = { field?: string; term?: string; quoted?: boolean; left?: Ast; right?: Ast; operator?: string; start?: string };

function fieldsOf(ast: Ast): string[] {
  const out: string[] = [];
  if (ast.field && ast.field !== '<implicit>') out.push(ast.field);
  if (ast.left) out.push(...fieldsOf(ast.left));
  if (ast.right) out.push(...fieldsOf(ast.right));
  return out;
}

/** Lucene semantics enough for our searches: field:term, quoted, trailing *, AND / OR / AND NOT. */
function matches(ast: Ast, doc: Record<string, unknown>): boolean {
  if (ast.operator) {
    const l = matches(ast.left!, doc);
    const r = matches(ast.right!, doc);
    if (ast.operator === 'AND' || ast.operator === '<implicit>') return l && r;
    if (ast.operator === 'OR') return l || r;
    if (ast.operator === 'AND NOT') return l && !r;
    throw new Error(`operator ${ast.operator}`);
  }
  if (ast.left && !ast.field) return ast.start === 'NOT' ? !matches(ast.left, doc) : matches(ast.left, doc);
  const v = ast.field!.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
  const values = (Array.isArray(v) ? v : [v]).filter((x) => x !== undefined && x !== null).map(String);
  const term = ast.term!;
  if (term === '*') return values.length > 0;
  if (!ast.quoted && term.endsWith('*')) return values.some((x) => x.startsWith(term.slice(0, -1)));
  return values.includes(term);
}

describe('Kibana saved objects', () => {
  it('the shipped NDJSON is what objects.ts generates', () => {
    assert.equal(shipped, toNdjson(savedObjects()));
  });

  it('every object has a valid shape and every reference resolves', () => {
    const ids = new Set(objects.map((o) => o.id));
    for (const o of objects) {
      Base.parse(o);
      for (const r of o.references) assert.ok(ids.has(r.id), `${o.id} → ${r.id}`);
      if (o.type === 'search') SearchAttrs.parse(o.attributes);
      if (o.type === 'dashboard') {
        DashboardAttrs.parse(o.attributes);
        const panels = JSON.parse(o.attributes.panelsJSON as string) as { panelIndex: string; panelRefName: string }[];
        for (const p of panels) assert.ok(o.references.some((r) => r.name === `${p.panelIndex}:${p.panelRefName}`), `panel ${p.panelIndex}`);
      }
      const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON?: string } | undefined;
      if (meta?.searchSourceJSON) {
        const ss = JSON.parse(meta.searchSourceJSON) as { indexRefName?: string; query: { language: string } };
        if (ss.indexRefName) assert.ok(o.references.some((r) => r.name === ss.indexRefName), `${o.id}: indexRefName resolves`);
        assert.equal(ss.query.language, 'lucene');
      }
    }
  });

  it('every query parses and names only mapped fields; every column and aggregation field is mapped', () => {
    for (const o of objects.filter((x) => x.type === 'search' || x.type === 'visualization')) {
      const ss = JSON.parse((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
      const view = o.references[0]!.id as keyof typeof typesOf;
      const types = typesOf[view];
      if (ss.query.query) for (const f of fieldsOf(lucene.parse(ss.query.query) as Ast)) assert.ok(types.has(f), `${o.id}: ${f} is mapped in ${view}`);
      for (const c of (o.attributes.columns as string[] | undefined) ?? []) assert.ok(types.has(c), `${o.id}: column ${c}`);
      if (o.type === 'visualization') {
        const vis = JSON.parse(o.attributes.visState as string) as { aggs: { params: { field?: string } }[] };
        for (const a of vis.aggs) if (a.params.field) assert.match(types.get(a.params.field) ?? '', /^(keyword|date_nanos|date)$/, `${o.id}: ${a.params.field}`);
      }
    }
  });

  it('each verdict search returns exactly the expected lab and seed verdicts', async () => {
    const lab = join(FIXTURES, 'lab', 'containers');
    const inputs = await expandInputs([...['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(lab, f)), join(FIXTURES, 'seed-004')]);
    const { verdicts } = await analyzeInputs(inputs, {}, { deadLetter: () => {} });
    const docs = verdicts.map((v) => ({ ...v, '@timestamp': v.died_at }) as Record<string, unknown>);
    const hits = (id: string) => {
      const q = SEARCHES.find((s) => s.id === id)!.query;
      return docs.filter((d) => matches(lucene.parse(q) as Ast, d)).map((d) => ((d.container as { name?: string; id: string }).name ?? (d.container as { id: string }).id.slice(0, 12))).sort();
    };
    assert.deepEqual(hits('exit137-attributed'), ['docker-kill', 'lab-shim-v1', 'lab-shim-v2', 'oom', 'stop-timeout', 'stuck', 'user-kill'], 'seed 004 has no exit status, so it is not a 137 here');
    assert.deepEqual(hits('exit137-shim-crashes'), ['de42a6372c1d', 'lab-shim-v1']);
    assert.deepEqual(hits('exit137-login-kills'), ['user-kill']);
    assert.deepEqual(hits('exit137-oom-wrong-victim'), []);
    assert.deepEqual(hits('exit137-unknown'), []);
  });
});
