import type { Client } from '@elastic/elasticsearch';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { EVENTS_TEMPLATE, VERDICTS_INDEX, VERDICTS_TEMPLATE, eventsIndex } from './templates.ts';

/** `exit137 setup`: the index templates, installed (idempotently) before anything is written. */
export async function installTemplates(client: Client): Promise<void> {
  await client.indices.putIndexTemplate({ name: 'exit137-events', ...EVENTS_TEMPLATE } as Parameters<Client['indices']['putIndexTemplate']>[0]);
  await client.indices.putIndexTemplate({ name: 'exit137-attributions', ...VERDICTS_TEMPLATE } as Parameters<Client['indices']['putIndexTemplate']>[0]);
  // An index created under an older template keeps its mapping, and the verdicts' is strict: a new
  // field would be refused. New fields are added to existing indices (a changed type is refused
  // by Elasticsearch with its reason, and setup fails loudly).
  for (const t of [EVENTS_TEMPLATE, VERDICTS_TEMPLATE]) {
    await client.indices.putMapping({ index: t.index_patterns.join(','), allow_no_indices: true, ...t.template.mappings } as Parameters<Client['indices']['putMapping']>[0]);
  }
}

export type WriteResult = { created: number; duplicates: number; updated: number; rejected: { id: string; status: number; reason: string }[] };

/** A document Elasticsearch refused for what it is (400): retrying cannot help, so it is handed back. */
export class TransientWriteError extends Error {}

/**
 * Writes events (create by id: a replay is a 409, counted as already stored) and verdicts (index by
 * incident id: a re-attribution replaces its document). 429 and 5xx items are retried with backoff;
 * if they keep failing the whole write fails so the caller's job retries it: nothing is lost.
 */
export async function writeBatch(client: Client, events: NormalizedEvent[], verdicts: Attribution[], opts: { attempts?: number; refresh?: boolean } = {}): Promise<WriteResult> {
  const result: WriteResult = { created: 0, duplicates: 0, updated: 0, rejected: [] };
  type Op = { action: object; doc: object; id: string };
  let pending: Op[] = [
    ...events.map((e) => ({ action: { create: { _index: eventsIndex(e['@timestamp']), _id: e.event.id } }, doc: e, id: e.event.id })),
    ...verdicts.map((v) => ({ action: { index: { _index: VERDICTS_INDEX, _id: v.incident_id } }, doc: { ...v, '@timestamp': v.died_at }, id: v.incident_id })),
  ];
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const r = await client.bulk({ operations: pending.flatMap((p) => [p.action, p.doc]), refresh: opts.refresh ? 'wait_for' : false });
    const retry: Op[] = [];
    r.items.forEach((item, i) => {
      const res = item.create ?? item.index!;
      const op = pending[i]!;
      if (res.status === 201) result.created++;
      else if (res.status === 200) result.updated++;
      else if (res.status === 409) result.duplicates++;
      else if (res.status === 429 || res.status >= 500) retry.push(op);
      else result.rejected.push({ id: op.id, status: res.status, reason: `${res.error?.type ?? 'error'}: ${res.error?.reason ?? ''}` });
    });
    if (retry.length && attempt >= attempts) throw new TransientWriteError(`${retry.length} documents still refused after ${attempts} attempts (429/5xx)`);
    pending = retry;
    if (pending.length) await new Promise((res) => setTimeout(res, Math.min(30_000, 250 * 2 ** attempt)));
  }
  return result;
}

/**
 * Withdraws verdicts the evidence no longer supports (their death was re-dated into another
 * incident). A document already gone is what was wanted.
 */
export async function withdrawVerdicts(client: Client, incidentIds: string[]): Promise<number> {
  if (incidentIds.length === 0) return 0;
  const r = await client.bulk({ operations: incidentIds.map((id) => ({ delete: { _index: VERDICTS_INDEX, _id: id } })) });
  const failed = r.items.filter((i) => i.delete && i.delete.status !== 200 && i.delete.status !== 404);
  if (failed.length) throw new TransientWriteError(`${failed.length} verdicts could not be withdrawn: ${failed[0]!.delete!.error?.reason ?? failed[0]!.delete!.status}`);
  return r.items.length;
}
