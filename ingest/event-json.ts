import type { NormalizedEvent } from './event.ts';
import { SCHEMA_WORDS } from './event-check.ts';

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
  // Few pieces, not many small ones: V8 joins the pieces of a line when it is written, and that
  // cost follows their number more than their length. The runs of keys that repeat from one event
  // to the next (the schema's words, the host, the input) are written once and kept while their
  // values stay the same (`Run`); what changes per event goes in between.
  // (a string with nothing to escape is written between quotes the runs around it hold: fewer pieces)
  const ts = e['@timestamp'];
  const id = ev.id;
  let s =
    plain(ts) && plain(id)
      ? `{"@timestamp":"${ts}${HEAD_Q.of1(e.ecs.version, headQuoted)}${id}${EVENT_Q.of6(ev.kind, words(ev.category), words(ev.type), ev.action, ev.module, ev.dataset, eventQuoted)}`
      : `{"@timestamp":${str(ts)}${HEAD.of1(e.ecs.version, headJson)}${str(id)}${EVENT.of6(ev.kind, words(ev.category), words(ev.type), ev.action, ev.module, ev.dataset, eventJsonRun)}`;
  s += ev.original === original.text && original.parts !== undefined ? originalJson() : str(ev.original);
  if (ev.sequence !== undefined) s += `,"sequence":${num(ev.sequence)}`;
  s += HOST.of2(ev.outcome, e.host.name, hostJson);
  s += `${logJson(e.log)}${TAGS.of1(strings(e.tags), tagsJson)}${exit137(e.exit137)}`;
  if (e.message !== undefined) s += `,"message":${str(e.message)}`;
  if (e.process !== undefined) s += `,"process":${obj(e.process)}`;
  if (e.user !== undefined) s += `,"user":${obj(e.user)}`;
  if (e.auditd !== undefined) s += `,"auditd":${auditd(e.auditd)}`;
  if (e.container !== undefined) s += `,"container":${obj(e.container)}`;
  if (e.orchestrator !== undefined) s += `,"orchestrator":${obj(e.orchestrator)}`;
  return `${s}}`;
}

/**
 * A run of JSON made from a few values, kept while they stay the same (===: a string's text, a
 * number's value, a frozen fragment's identity). Only values whose JSON cannot change under the
 * same === go in: strings, numbers, booleans, undefined, JSON already written, frozen fragments.
 */
class Run {
  private a: unknown = NaN;
  private b: unknown = NaN;
  private c: unknown = NaN;
  private d: unknown = NaN;
  private e: unknown = NaN;
  private f: unknown = NaN;
  private json = '';

  of1<A>(a: A, make: (a: A) => string): string {
    if (a !== this.a) {
      this.a = a;
      this.json = make(a);
    }
    return this.json;
  }

  of2<A, B>(a: A, b: B, make: (a: A, b: B) => string): string {
    if (a !== this.a || b !== this.b) {
      this.a = a;
      this.b = b;
      this.json = make(a, b);
    }
    return this.json;
  }

  of3<A, B, C>(a: A, b: B, c: C, make: (a: A, b: B, c: C) => string): string {
    if (a !== this.a || b !== this.b || c !== this.c) {
      this.a = a;
      this.b = b;
      this.c = c;
      this.json = make(a, b, c);
    }
    return this.json;
  }

  of4<A, B, C, D>(a: A, b: B, c: C, d: D, make: (a: A, b: B, c: C, d: D) => string): string {
    if (a !== this.a || b !== this.b || c !== this.c || d !== this.d) {
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.json = make(a, b, c, d);
    }
    return this.json;
  }

  of5<A, B, C, D, E>(a: A, b: B, c: C, d: D, e: E, make: (a: A, b: B, c: C, d: D, e: E) => string): string {
    if (a !== this.a || b !== this.b || c !== this.c || d !== this.d || e !== this.e) {
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.e = e;
      this.json = make(a, b, c, d, e);
    }
    return this.json;
  }

  of6<A, B, C, D, E, F>(a: A, b: B, c: C, d: D, e: E, f: F, make: (a: A, b: B, c: C, d: D, e: E, f: F) => string): string {
    if (a !== this.a || b !== this.b || c !== this.c || d !== this.d || e !== this.e || f !== this.f) {
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.e = e;
      this.f = f;
      this.json = make(a, b, c, d, e, f);
    }
    return this.json;
  }
}

const HEAD = new Run();
const headJson = (version: string) => `,"ecs":{"version":${word(version)}},"event":{"id":`;
const HEAD_Q = new Run();
const headQuoted = (version: string) => flat(`"${headJson(version)}"`);
const EVENT_Q = new Run();
const eventQuoted = (kind: string, category: string, type: string, action: string, module: string | undefined, dataset: string) => flat(`"${eventJsonRun(kind, category, type, action, module, dataset)}`);

const EVENT = new Run();
function eventJsonRun(kind: string, category: string, type: string, action: string, module: string | undefined, dataset: string): string {
  let s = `,"kind":${word(kind)},"category":${category},"type":${type},"action":${str(action)}`;
  if (module !== undefined) s += `,"module":${word(module)}`;
  return flat(`${s},"dataset":${str(dataset)},"original":`);
}

const HOST = new Run();
function hostJson(outcome: string | undefined, host: string): string {
  return flat(`${outcome === undefined ? '' : `,"outcome":${word(outcome)}`}},"host":{"name":${str(host)}},"log":`);
}

const TAGS = new Run();
const tagsJson = (tags: string) => `,"tags":${tags},"exit137":`;

const LOG_REST = new Run();

function logJson(l: NormalizedEvent['log']): string {
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
  const g = l.syslog;
  return s + LOG_REST.of5(c, l.file === undefined ? NONE : l.file.path, g === undefined ? NONE : g.appname, g === undefined ? NONE : g.procid, l.level, logRest);
}

/** What stands for an object that is not there, where its field's undefined means something else. */
const NONE = Object.freeze({});

/** The rest of `log` after its numbers: `c` is the comma they need before the next key. */
function logRest(c: string, path: unknown, appname: unknown, procid: unknown, level: string | undefined): string {
  let s = '';
  if (path !== NONE) {
    s += `${c}"file":{"path":${str(path as string)}}`;
    c = ',';
  }
  if (appname !== NONE) {
    s += `${c}"syslog":${syslog({ appname: appname as string | undefined, procid: procid as string | undefined })}`;
    c = ',';
  }
  if (level !== undefined) s += `${c}"level":${str(level)}`;
  return flat(`${s}}`);
}

/** A string made of many pieces, joined now: it is kept and written many times. */
function flat(s: string): string {
  // (a number parsed back is how V8 is asked to flatten a string without changing it)
  Number(s);
  return s;
}

/** The lines of the event about to be written, when its decoder said what they were (linesOf). */
const original: { text: string | undefined; parts: readonly unknown[] | undefined; json: (part: never) => string } = { text: undefined, parts: undefined, json: () => '' };

/**
 * Says that `text`, the original of the event about to be written, is `parts` joined by newlines,
 * and how each part is escaped for JSON (without quotes): an audit event's records escape the text
 * they share with other records once (audit/record.ts rawJson). Kept for that text only.
 */
export function linesOf<T>(text: string, parts: readonly T[], json: (part: T) => string): void {
  original.text = text;
  original.parts = parts;
  original.json = json;
}

function originalJson(): string {
  const parts = original.parts!;
  const json = original.json as (part: unknown) => string;
  let s = `"${json(parts[0])}`;
  for (let i = 1; i < parts.length; i++) s += `\\n${json(parts[i])}`;
  return `${s}"`;
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
// (the schema's, from the generated check: loading zod for them was most of decode's start-up)
const WORDS: ReadonlySet<unknown> = new Set<unknown>([...SCHEMA_WORDS, 'exit137', 'process', 'thread', 'process-group', 'all']);

function word(v: string): string {
  return WORDS.has(v) ? `"${v}"` : str(v);
}

/** What JSON.stringify escapes in a string (lone surrogates included: all surrogates go the slow way). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string JSON writes as it is, between quotes. */
function plain(v: unknown): v is string {
  return typeof v === 'string' && !NEEDS_ESCAPE.test(v);
}

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

/**
 * A short list of short strings (a syscall's arguments: hex words), each looked at by its
 * characters for anything to escape: a regex or JSON.stringify per list cost more than the words.
 * Anything else is written as JSON.stringify writes it.
 */
function plainStrings(a: readonly string[]): string {
  if (!Array.isArray(a)) return JSON.stringify(a) ?? 'null';
  if (a.length === 0) return '[]';
  let s = '["';
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'string' || !plainChars(v)) return JSON.stringify(a);
    s += i === 0 ? v : `","${v}`;
  }
  return `${s}"]`;
}

/** NEEDS_ESCAPE by hand, for a string of a few characters. */
function plainChars(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

function words(a: readonly string[]): string {
  return Array.isArray(a) && a.length === 1 && WORDS.has(a[0]) ? `["${a[0]}"]` : strings(a);
}

function syslog(g: NonNullable<NormalizedEvent['log']['syslog']>): string {
  if (g.appname === undefined) return g.procid === undefined ? '{}' : `{"procid":${str(g.procid)}}`;
  return `{"appname":${str(g.appname)}${g.procid === undefined ? '' : `,"procid":${str(g.procid)}`}}`;
}

const EXIT137 = new Run();
const exit137Head = (kind: string, source: string) => flat(`{"kind":${word(kind)},"source":${word(source)},"ts_ns":`);

const EXIT137_Q = new Run();
const exit137Quoted = (kind: string, source: string) => flat(`${exit137Head(kind, source)}"`);
const TIME_Q = new Run();
const timeQuoted = (basis: string, yearInferred: boolean | undefined, offsetMinutes: number | undefined, sinceBootNs: string | undefined, tie: string | undefined) =>
  flat(`"${timeJson(basis, yearInferred, offsetMinutes, sinceBootNs, tie)}`);

const TIME = new Run();
function timeJson(basis: string, yearInferred: boolean | undefined, offsetMinutes: number | undefined, sinceBootNs: string | undefined, tie: string | undefined): string {
  let s = `,"time":{"basis":${word(basis)}`;
  if (yearInferred !== undefined) s += `,"year_inferred":${JSON.stringify(yearInferred)}`;
  if (offsetMinutes !== undefined) s += `,"offset_minutes":${num(offsetMinutes)}`;
  if (sinceBootNs !== undefined) s += `,"since_boot_ns":${str(sinceBootNs)}`;
  if (tie !== undefined) s += `,"tie":${str(tie)}`;
  return flat(`${s}}`);
}

const SIGNAL = new Run();
function signalJson(n: number, name: string, syscall: string | undefined): string {
  return flat(`,"signal":{"number":${num(n)},"name":${str(name)}${syscall === undefined ? '' : `,"syscall":${str(syscall)}`}}`);
}

const TARGET = new Run();
const targetJson = (p: object) => flat(`,"target":{"process":${obj(p)}`);

function exit137(x: NormalizedEvent['exit137']): string {
  const t = x.time;
  let s = plain(x.ts_ns)
    ? `${EXIT137_Q.of2(x.kind, x.source, exit137Quoted)}${x.ts_ns}${TIME_Q.of5(t.basis, t.year_inferred, t.offset_minutes, t.since_boot_ns, t.tie, timeQuoted)}`
    : `${EXIT137.of2(x.kind, x.source, exit137Head)}${str(x.ts_ns)}${TIME.of5(t.basis, t.year_inferred, t.offset_minutes, t.since_boot_ns, t.tie, timeJson)}`;
  if (x.message_id !== undefined) s += `,"message_id":${str(x.message_id)}`;
  if (x.fields !== undefined) s += `,"fields":${obj(x.fields)}`;
  if (x.signal !== undefined) s += SIGNAL.of3(x.signal.number, x.signal.name, x.signal.syscall, signalJson);
  if (x.target !== undefined) {
    const p = x.target.process;
    // (kept by identity only while it cannot change)
    s += Object.isFrozen(p) ? TARGET.of1(p, targetJson) : targetJson(p);
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

/** A list of strings written as the last one was: its JSON kept while its items stay the same. */
class ListRun {
  private last: readonly unknown[] | undefined;
  private json = '';

  of(a: readonly string[], prefix: string): string {
    const l = this.last;
    if (l !== undefined && Array.isArray(a) && a.length === l.length) {
      let same = true;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== l[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.json;
    }
    this.json = flat(`${prefix}${strings(a)}`);
    // (a copy: the event's own list is the caller's to change)
    this.last = Array.isArray(a) ? a.slice() : undefined;
    return this.json;
  }
}

const RECORDS = new ListRun();
const KEYS = new ListRun();

const SYSCALL = new Run();
function syscallJson(arch: string | undefined, syscall: string | undefined, success: boolean | undefined, exit: string | undefined): string {
  let s = '';
  if (arch !== undefined) s += `,"arch":${str(arch)}`;
  if (syscall !== undefined) s += `,"syscall":${str(syscall)}`;
  if (success !== undefined) s += `,"success":${JSON.stringify(success)}`;
  if (exit !== undefined) s += `,"exit":${str(exit)}`;
  return flat(s);
}

const SESSION = new Run();
function sessionJson(tty: string | undefined, ses: string | undefined): string {
  let s = '';
  if (tty !== undefined) s += `,"tty":${str(tty)}`;
  if (ses !== undefined) s += `,"ses":${str(ses)}`;
  return flat(s);
}

const ENRICHED = new Run();
function enrichedJson(truncated: boolean | undefined, enriched: object | undefined): string {
  let s = '';
  if (truncated !== undefined) s += `,"proctitle_truncated":${JSON.stringify(truncated)}`;
  if (enriched !== undefined) s += `,"enriched":${obj(enriched)}`;
  return flat(s);
}

function auditd(a: NonNullable<NormalizedEvent['auditd']>): string {
  let s = `{"serial":${num(a.serial)},"epoch":${str(a.epoch)}${RECORDS.of(a.records, ',"records":')}`;
  if (a.node !== undefined) s += `,"node":${str(a.node)}`;
  s += SYSCALL.of4(a.arch, a.syscall, a.success, a.exit, syscallJson);
  if (a.a !== undefined) s += `,"a":${plainStrings(a.a)}`;
  s += SESSION.of2(a.tty, a.ses, sessionJson);
  if (a.key !== undefined) s += KEYS.of(a.key, ',"key":');
  if (a.target_arg !== undefined) s += `,"target_arg":{"pid":${num(a.target_arg.pid)},"scope":${word(a.target_arg.scope)}}`;
  const en = a.enriched;
  if (en === undefined || Object.isFrozen(en)) s += ENRICHED.of2(a.proctitle_truncated, en, enrichedJson);
  else s += enrichedJson(a.proctitle_truncated, en);
  if (a.warnings !== undefined) s += `,"warnings":${strings(a.warnings)}`;
  return `${s}}`;
}
