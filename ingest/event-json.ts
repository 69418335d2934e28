import { ECS_VERSION, EventKind, NormalizedEvent, Source, TimeBasisSchema } from './event.ts';

/**
 * An event as one line of JSON, the same as JSON.stringify gives (key for key; for the keys the
 * decoder sets, in the same order), made by hand for the fixed outline of the schema, with the
 * parts many events share written from their JSON kept once (`fragment`).
 *
 * Why: `decode` is mostly serialization, and V8's JSON.stringify pays per property: a SIGURG storm
 * names the same sender, user, target and enrichment in every event, and they were serialized
 * again each time. Written by hand without those fragments it was slower than JSON.stringify;
 * with them, about a quarter faster. A key the schema lacks is left out (as zod's parse would).
 */
export function eventJson(e: NormalizedEvent): string {
  const ev = e.event;
  let s = `{"@timestamp":${str(e['@timestamp'])},"ecs":{"version":${word(e.ecs.version)}},"event":{"id":${str(ev.id)},"kind":${word(ev.kind)},"category":${words(ev.category)},"type":${words(ev.type)},"action":${str(ev.action)}`;
  if (ev.module !== undefined) s += `,"module":${word(ev.module)}`;
  s += `,"dataset":${str(ev.dataset)},"original":${str(ev.original)}`;
  if (ev.sequence !== undefined) s += `,"sequence":${num(ev.sequence)}`;
  if (ev.outcome !== undefined) s += `,"outcome":${word(ev.outcome)}`;
  s += `},"host":{"name":${str(e.host.name)}},"log":${log(e.log)},"tags":${strings(e.tags)},"exit137":${exit137(e.exit137)}`;
  if (e.message !== undefined) s += `,"message":${str(e.message)}`;
  if (e.process !== undefined) s += `,"process":${obj(e.process)}`;
  if (e.user !== undefined) s += `,"user":${obj(e.user)}`;
  if (e.auditd !== undefined) s += `,"auditd":${auditd(e.auditd)}`;
  if (e.container !== undefined) s += `,"container":${obj(e.container)}`;
  if (e.orchestrator !== undefined) s += `,"orchestrator":${obj(e.orchestrator)}`;
  return `${s}}`;
}

/** Objects shared by many events (frozen, so their JSON stays true), with their JSON. */
const FRAGMENTS = new WeakMap<object, string>();

/** Registers a frozen object that many events will share: eventJson writes its JSON as kept here. */
export function fragment<T extends object>(o: T): T {
  if (!Object.isFrozen(o)) throw new Error('a shared fragment must be frozen: its JSON is kept');
  FRAGMENTS.set(o, JSON.stringify(o));
  return o;
}

function obj(o: object): string {
  return FRAGMENTS.get(o) ?? JSON.stringify(o);
}

/** Values of the schema's closed vocabularies: plain words, written without a look for what to escape. */
const WORDS: ReadonlySet<unknown> = new Set<unknown>([
  ECS_VERSION,
  ...EventKind.options,
  ...Source.options,
  ...TimeBasisSchema.options,
  ...NormalizedEvent.shape.event.shape.kind.options,
  ...NormalizedEvent.shape.event.shape.category.element.options,
  ...NormalizedEvent.shape.event.shape.type.element.options,
  ...NormalizedEvent.shape.event.shape.outcome.unwrap().options,
  'exit137',
  'process',
  'thread',
  'process-group',
  'all',
]);

function word(v: string): string {
  return WORDS.has(v) ? `"${v}"` : str(v);
}

/** What JSON.stringify escapes in a string (lone surrogates included: all surrogates go the slow way). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(v: string): string {
  // (a value of another type than the schema says is written as JSON.stringify would)
  return typeof v === 'string' && !NEEDS_ESCAPE.test(v) ? `"${v}"` : (JSON.stringify(v) ?? 'null');
}

function num(n: number): string {
  return typeof n === 'number' && Number.isFinite(n) ? `${n}` : (JSON.stringify(n) ?? 'null');
}

function strings(a: readonly string[]): string {
  if (!Array.isArray(a)) return JSON.stringify(a) ?? 'null';
  if (a.length === 0) return '[]';
  let s = `[${str(a[0]!)}`;
  for (let i = 1; i < a.length; i++) s += `,${str(a[i]!)}`;
  return `${s}]`;
}

function words(a: readonly string[]): string {
  return Array.isArray(a) && a.length === 1 && WORDS.has(a[0]) ? `["${a[0]}"]` : strings(a);
}

function log(l: NormalizedEvent['log']): string {
  let s = '{';
  let c = '';
  if (l.offset !== undefined) {
    s += `"offset":${num(l.offset)}`;
    c = ',';
  }
  if (l.line !== undefined) {
    s += `${c}"line":${num(l.line)}`;
    c = ',';
  }
  if (l.file !== undefined) {
    s += `${c}"file":{"path":${str(l.file.path)}}`;
    c = ',';
  }
  if (l.syslog !== undefined) {
    s += `${c}"syslog":${syslog(l.syslog)}`;
    c = ',';
  }
  if (l.level !== undefined) s += `${c}"level":${str(l.level)}`;
  return `${s}}`;
}

function syslog(g: NonNullable<NormalizedEvent['log']['syslog']>): string {
  if (g.appname === undefined) return g.procid === undefined ? '{}' : `{"procid":${str(g.procid)}}`;
  return `{"appname":${str(g.appname)}${g.procid === undefined ? '' : `,"procid":${str(g.procid)}`}}`;
}

function exit137(x: NormalizedEvent['exit137']): string {
  const t = x.time;
  let s = `{"kind":${word(x.kind)},"source":${word(x.source)},"ts_ns":${str(x.ts_ns)},"time":{"basis":${word(t.basis)}`;
  if (t.year_inferred !== undefined) s += `,"year_inferred":${JSON.stringify(t.year_inferred)}`;
  if (t.offset_minutes !== undefined) s += `,"offset_minutes":${num(t.offset_minutes)}`;
  if (t.since_boot_ns !== undefined) s += `,"since_boot_ns":${str(t.since_boot_ns)}`;
  if (t.tie !== undefined) s += `,"tie":${str(t.tie)}`;
  s += '}';
  if (x.message_id !== undefined) s += `,"message_id":${str(x.message_id)}`;
  if (x.fields !== undefined) s += `,"fields":${obj(x.fields)}`;
  if (x.signal !== undefined) {
    const g = x.signal;
    s += `,"signal":{"number":${num(g.number)},"name":${str(g.name)}${g.syscall === undefined ? '' : `,"syscall":${str(g.syscall)}`}}`;
  }
  if (x.target !== undefined) {
    s += `,"target":{"process":${obj(x.target.process)}`;
    if (x.target.others !== undefined) s += `,"others":${JSON.stringify(x.target.others)}`;
    s += '}';
  }
  if (x.exit !== undefined) s += `,"exit":${obj(x.exit)}`;
  if (x.grace_seconds !== undefined) s += `,"grace_seconds":${num(x.grace_seconds)}`;
  if (x.crash !== undefined) s += `,"crash":${obj(x.crash)}`;
  if (x.oom !== undefined) s += `,"oom":${obj(x.oom)}`;
  if (x.hung_task !== undefined) s += `,"hung_task":${obj(x.hung_task)}`;
  if (x.memcg !== undefined) s += `,"memcg":${obj(x.memcg)}`;
  if (x.state !== undefined) s += `,"state":${obj(x.state)}`;
  if (x.processes !== undefined) s += `,"processes":${JSON.stringify(x.processes)}`;
  if (x.related_ids !== undefined) s += `,"related_ids":${strings(x.related_ids)}`;
  return `${s}}`;
}

function auditd(a: NonNullable<NormalizedEvent['auditd']>): string {
  let s = `{"serial":${num(a.serial)},"epoch":${str(a.epoch)},"records":${strings(a.records)}`;
  if (a.node !== undefined) s += `,"node":${str(a.node)}`;
  if (a.arch !== undefined) s += `,"arch":${str(a.arch)}`;
  if (a.syscall !== undefined) s += `,"syscall":${str(a.syscall)}`;
  if (a.success !== undefined) s += `,"success":${JSON.stringify(a.success)}`;
  if (a.exit !== undefined) s += `,"exit":${str(a.exit)}`;
  if (a.a !== undefined) s += `,"a":${strings(a.a)}`;
  if (a.tty !== undefined) s += `,"tty":${str(a.tty)}`;
  if (a.ses !== undefined) s += `,"ses":${str(a.ses)}`;
  if (a.key !== undefined) s += `,"key":${strings(a.key)}`;
  if (a.target_arg !== undefined) s += `,"target_arg":{"pid":${num(a.target_arg.pid)},"scope":${word(a.target_arg.scope)}}`;
  if (a.proctitle_truncated !== undefined) s += `,"proctitle_truncated":${JSON.stringify(a.proctitle_truncated)}`;
  if (a.enriched !== undefined) s += `,"enriched":${obj(a.enriched)}`;
  if (a.warnings !== undefined) s += `,"warnings":${strings(a.warnings)}`;
  return `${s}}`;
}
