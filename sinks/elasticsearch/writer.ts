import type { Client } from '@elastic/elasticsearch';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { EVENTS_REFRESH_DEFAULT, EVENTS_TEMPLATE, VERDICTS_INDEX, VERDICTS_TEMPLATE, eventsIndex } from './templates.ts';

/**
 * `exit137 setup`: the index templates, installed (idempotently) before anything is written.
 * `eventsRefresh`: the events' indices' refresh interval (an Elasticsearch time value, `-1` for
 * none), EVENTS_REFRESH_DEFAULT when not given.
 */
export async function installTemplates(client: Client, opts: { eventsRefresh?: string } = {}): Promise<void> {
  const events = { ...EVENTS_TEMPLATE, template: { ...EVENTS_TEMPLATE.template, settings: { ...EVENTS_TEMPLATE.template.settings, refresh_interval: opts.eventsRefresh ?? EVENTS_REFRESH_DEFAULT } } };
  await client.indices.putIndexTemplate({ name: 'exit137-events', ...events } as Parameters<Client['indices']['putIndexTemplate']>[0]);
  await client.indices.putIndexTemplate({ name: 'exit137-attributions', ...VERDICTS_TEMPLATE } as Parameters<Client['indices']['putIndexTemplate']>[0]);
  // An index created under an older template keeps its mapping, and the verdicts' is strict: a new
  // field would be refused. New fields are added to existing indices (a changed type is refused
  // by Elasticsearch with its reason, and setup fails loudly).
  for (const t of [events, VERDICTS_TEMPLATE]) {
    await client.indices.putMapping({ index: t.index_patterns.join(','), allow_no_indices: true, ...t.template.mappings } as Parameters<Client['indices']['putMapping']>[0]);
    // and their refresh as the template now sets it (a dynamic setting)
    await client.indices.putSettings({ index: t.index_patterns.join(','), allow_no_indices: true, settings: { refresh_interval: t.template.settings.refresh_interval } });
  }
}

export type WriteResult = { created: number; duplicates: number; updated: number; rejected: { id: string; status: number; reason: string }[] };

/** A document Elasticsearch refused for what it is (400): retrying cannot help, so it is handed back. */
export class TransientWriteError extends Error {}

/**
 * How a write is cut into bulk requests. Elasticsearch's guidance is bulks of a few megabytes
 * (the client's bulk helper flushes at 5 MB); one request per job, of whatever size the job had,
 * left the node parsing one huge body at a time or many tiny ones. A few in flight keep its write
 * threads busy while the next body is built and sent.
 */
export const BULK_MAX_BYTES = 5_000_000;
export const BULK_MAX_DOCS = 2_000;
export const BULK_CONCURRENCY = 2;

/**
 * Writes events (create by id: a replay is a 409, counted as already stored) and verdicts (index by
 * incident id: a re-attribution replaces its document), in sized bulk requests. 429 and 5xx items
 * are retried with backoff; if they keep failing the whole write fails so the caller's job retries
 * it: nothing is lost.
 */
export async function writeBatch(client: Client, events: NormalizedEvent[], verdicts: Attribution[], opts: { attempts?: number; refresh?: boolean } = {}): Promise<WriteResult> {
  const result: WriteResult = { created: 0, duplicates: 0, updated: 0, rejected: [] };
  // each document serialized once: its size decides its bulk, and the client sends the string as is
  type Op = { body: string; id: string };
  const ops: Op[] = [
    ...events.map((e) => ({ body: `${JSON.stringify({ create: { _index: eventsIndex(e['@timestamp']), _id: e.event.id } })}\n${JSON.stringify(e)}`, id: e.event.id })),
    ...verdicts.map((v) => ({ body: `${JSON.stringify({ index: { _index: VERDICTS_INDEX, _id: v.incident_id } })}\n${JSON.stringify({ ...v, '@timestamp': v.died_at })}`, id: v.incident_id })),
  ];
  const attempts = opts.attempts ?? 5;
  const send = async (chunk: Op[]) => {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const r = await client.bulk({
        operations: pending.map((p) => p.body),
        refresh: opts.refresh ? 'wait_for' : false,
        // the items' status and error only: the rest of a large bulk's answer is parsed for nothing
        filter_path: ['items.*.status', 'items.*.error.type', 'items.*.error.reason'],
      });
      const retry: Op[] = [];
      (r.items ?? []).forEach((item, i) => {
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
  };
  const chunks = sized(ops);
  let next = 0;
  const lanes = Array.from({ length: Math.min(BULK_CONCURRENCY, chunks.length) }, async () => {
    while (next < chunks.length) await send(chunks[next++]!);
  });
  await Promise.all(lanes);
  return result;
}

/** Consecutive operations in bulks of at most BULK_MAX_DOCS and about BULK_MAX_BYTES each. */
function sized<T extends { body: string }>(ops: T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const op of ops) {
    if (cur.length && (cur.length >= BULK_MAX_DOCS || bytes + op.body.length > BULK_MAX_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(op);
    bytes += op.body.length + 1;
  }
  if (cur.length) out.push(cur);
  return out;
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

/**
 * Events of the jobs a worker has in hand gathered into shared bulks, sent once `maxDocs` are
 * waiting or `lingerMs` after the first: one bulk per job (about 330 documents once only evidence
 * and context are indexed) cost the node about three times its CPU per document at its own ceiling
 * in bulk overhead. Each caller returns once its documents are in (its job is acknowledged only
 * then: nothing acknowledged is lost) and gets those of its own that were refused; the counts are
 * the shared bulk's. A failed bulk fails every caller, whose jobs retry (creates by id: a replay is a 409).
 */
export function eventWriter(client: Client, opts: { lingerMs?: number; maxDocs?: number } = {}): (events: NormalizedEvent[]) => Promise<WriteResult> {
  const lingerMs = opts.lingerMs ?? 100;
  const maxDocs = opts.maxDocs ?? BULK_MAX_DOCS;
  type Waiting = { events: NormalizedEvent[]; resolve: (r: WriteResult) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  let docs = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    const batch = waiting;
    waiting = [];
    docs = 0;
    clearTimeout(timer);
    timer = undefined;
    try {
      const r = await writeBatch(client, batch.flatMap((b) => b.events), []);
      for (const b of batch) {
        const mine = new Set(b.events.map((e) => e.event.id));
        b.resolve({ ...r, rejected: r.rejected.filter((x) => mine.has(x.id)) });
      }
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  };
  return (events) =>
    new Promise<WriteResult>((resolve, reject) => {
      if (events.length === 0) return resolve({ created: 0, duplicates: 0, updated: 0, rejected: [] });
      waiting.push({ events, resolve, reject });
      docs += events.length;
      if (docs >= maxDocs) void flush();
      else timer ??= setTimeout(() => void flush(), lingerMs);
    });
}

/**
 * Verdict writes gathered for `lingerMs` into one bulk that returns once they are visible
 * (refresh=wait_for), then the withdrawals. Each finalize wrote its own: on a node of two cores a
 * wait_for bulk cost Elasticsearch about 12 ms of CPU whatever its size, so under load the verdict
 * writes took more of the node than indexing the events did. Each caller gets the documents of its
 * own that were refused; a failed bulk fails every caller, whose jobs retry (writes are by id).
 * Withdrawn and written ids never meet in one gathering: a bucket's finalizes run one at a time,
 * each waiting for its own write, and an incident belongs to the bucket of its death.
 */
export function verdictWriter(client: Client, lingerMs = 100): (verdicts: Attribution[], withdrawn: string[]) => Promise<WriteResult> {
  type Waiting = { verdicts: Attribution[]; withdrawn: string[]; resolve: (r: WriteResult) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    const batch = waiting;
    waiting = [];
    timer = undefined;
    try {
      const r = await writeBatch(client, [], batch.flatMap((b) => b.verdicts), { refresh: true });
      await withdrawVerdicts(client, batch.flatMap((b) => b.withdrawn));
      for (const b of batch) {
        const mine = new Set(b.verdicts.map((v) => v.incident_id));
        b.resolve({ ...r, rejected: r.rejected.filter((x) => mine.has(x.id)) });
      }
    } catch (e) {
      for (const b of batch) b.reject(e);
    }
  };
  return (verdicts, withdrawn) =>
    new Promise<WriteResult>((resolve, reject) => {
      waiting.push({ verdicts, withdrawn, resolve, reject });
      timer ??= setTimeout(() => void flush(), lingerMs);
    });
}
