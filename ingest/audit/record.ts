import type { Nanos } from '../time/instant.ts';
import { NS_PER_MS, parseEpochSeconds } from '../time/instant.ts';
import type { AuditField } from './fields.ts';
import type { TokenParts } from './fields.ts';
import { escaped, fieldsOf, sharedJson, tokenizeParts } from './fields.ts';
import { recordTypeName } from './tables.ts';

/** One audit record: one line of audit.log, or one kernel-console / journald audit message. */
export type AuditRecord = {
  node?: string;
  type: string;
  epoch: string;
  /** The epoch in milliseconds, for the reassembler's timeouts; `ns` is the exact instant. */
  ms: number;
  readonly ns: Nanos;
  serial: number;
  /** The key=value text after the stamp; tokenized on first use of `fields`. */
  body: string;
  readonly fields: AuditField[];
  readonly enriched?: Record<string, string>;
  readonly warnings: string[];
  /** The line as read, envelope included. */
  raw: string;
  /**
   * `ausearch -i` wrote it: names instead of numbers (`syscall=kill a1=SIGKILL uid=root`), values
   * unquoted and never hex, and the stamp in the reader's local time (its zone unknown here).
   */
  readonly interpreted?: boolean;
};

export type AuditParseError = {
  reason: 'not-audit' | 'malformed-header' | 'foreign-framing' | 'unknown-type-without-id';
  message: string;
};

export type AuditParse = { ok: true; record: AuditRecord } | { ok: false; error: AuditParseError };

const GLOG = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+:\d+\] (.*)$/s;
/** `ausearch -i`: `msg=audit(05/01/2025 13:07:21.965:1704) : ` with the date as the reader's locale writes `%x`. */
const LOCAL_STAMP = /^msg=audit\((\d{1,4})([./-])(\d{1,2})\2(\d{2,4}) (\d\d):(\d\d):(\d\d)\.(\d{3}):(\d{1,10})\) ?: ?/;
const STAMP = /audit\((\d{1,12}(?:\.\d{1,9})?):(\d{1,10})\):?/;

/**
 * Parses the three spellings of one record:
 *   [node=N ]type=SYSCALL msg=audit(1582099207.232:3369619): body   (audit.log, RAW or ENRICHED)
 *   audit: type=1300 audit(1582099207.232:3369619): body             (kernel console, numeric type)
 *   SYSCALL body  + an id given by the envelope                       (journald _TRANSPORT=audit)
 */
export function parseAuditRecord(line: string, given?: { type?: string; epoch?: string; serial?: number }, raw = line): AuditParse {
  let s = line;
  let node: string | undefined;
  if (s.startsWith('node=')) {
    const sp = s.indexOf(' ');
    if (sp < 0) return err('malformed-header', 'node= with nothing after it');
    node = s.slice(5, sp);
    s = s.slice(sp + 1);
  }
  let type: string | undefined;
  let rest: string;
  if (s.startsWith('type=')) {
    const sp = s.indexOf(' ');
    const t = sp < 0 ? s.slice(5) : s.slice(5, sp);
    type = /^\d+$/.test(t) ? recordTypeName(Number(t)) : t;
    rest = sp < 0 ? '' : s.slice(sp + 1);
  } else if (s.startsWith('audit: type=')) {
    const sp = s.indexOf(' ', 12);
    const t = sp < 0 ? s.slice(12) : s.slice(12, sp);
    if (!/^\d+$/.test(t)) return err('malformed-header', `kernel audit type is not a number: ${t}`);
    type = recordTypeName(Number(t));
    rest = sp < 0 ? '' : s.slice(sp + 1);
  } else if (given?.type) {
    type = given.type;
    // journald keeps the type name as the first word of MESSAGE
    rest = s.startsWith(`${given.type} `) ? s.slice(given.type.length + 1) : s;
  } else if (/^[A-Z][A-Z_]+(\[\d+\])? /.test(s) && given) {
    const sp = s.indexOf(' ');
    type = s.slice(0, sp);
    rest = s.slice(sp + 1);
  } else if (GLOG.test(s)) {
    // osquery logs netlink payloads behind a glog prefix with the numeric type: `…] 1300, audit(…): body`.
    const g = GLOG.exec(s)!;
    const num = /^(\d{3,4}), /.exec(g[1]!);
    if (!num) return err('foreign-framing', 'glog-framed line without an audit payload');
    type = recordTypeName(Number(num[1]));
    rest = g[1]!.slice(num[0].length);
  } else {
    return err('not-audit', 'no type= field');
  }
  let epoch = given?.epoch;
  let serial = given?.serial;
  let ms: number | undefined;
  const fast = readStamp(rest);
  const m = fast ? undefined : STAMP.exec(rest);
  if (fast) {
    epoch = fast.epoch;
    serial = fast.serial;
    ms = fast.ms;
    rest = rest.slice(fast.end);
  } else if (m && m.index <= 4) {
    epoch = m[1];
    serial = Number(m[2]);
    rest = rest.slice(m.index + m[0].length);
  } else if (rest.startsWith('msg=audit(')) {
    const local = readLocalStamp(rest);
    if (!local) return err('malformed-header', 'unreadable audit(...) stamp');
    const record = new LazyRecord(type, local.epoch, local.ms, undefined, local.serial, rest.slice(local.end), raw);
    record.interpreted = true;
    if (node !== undefined) record.node = node;
    return { ok: true, record };
  }
  if (epoch === undefined || serial === undefined) {
    return err(type.startsWith('UNKNOWN') ? 'unknown-type-without-id' : 'malformed-header', `record ${type} has no audit(epoch:serial) stamp`);
  }
  // The stamp read by hand is well formed; the exact instant waits until someone asks for it.
  const ns = fast ? undefined : parseEpochSeconds(epoch);
  if (!fast && ns === undefined) return err('malformed-header', `bad epoch ${epoch}`);
  if (serial > 0xffffffff) return err('malformed-header', `serial ${serial} exceeds 32 bits`);
  const record = new LazyRecord(type, epoch, ms ?? Number(epoch) * 1000, ns, serial, rest, raw);
  // (the body is the end of the line read; of `raw` too when that is the line itself)
  if (raw === line) record.rawEndsWithBody = true;
  if (node !== undefined) record.node = node;
  return { ok: true, record };
}

/**
 * The stamp as audit.log and the kernel console write it, `msg=audit(1582099207.232:3369619): `
 * or `audit(…): `, read without the regex (once per record); anything else goes to STAMP.
 */
function readStamp(s: string): { epoch: string; serial: number; ms: number; end: number } | undefined {
  const open = s.startsWith('msg=audit(') ? 10 : s.startsWith('audit(') ? 6 : -1;
  if (open < 0) return undefined;
  // the numbers are summed as the digits go by: no slice and Number() per record
  let i = open;
  let whole = 0;
  while (i < s.length && i - open <= 12 && isDigit(s.charCodeAt(i))) whole = whole * 10 + (s.charCodeAt(i++) - 48);
  if (i === open || i - open > 12) return undefined;
  let ms = whole * 1000;
  if (s.charCodeAt(i) === 46 /* . */) {
    const from = ++i;
    let scale = 100;
    while (i < s.length && i - from <= 9 && isDigit(s.charCodeAt(i))) {
      ms += (s.charCodeAt(i++) - 48) * scale;
      scale /= 10;
    }
    if (i === from || i - from > 9) return undefined;
  }
  if (s.charCodeAt(i) !== 58 /* : */) return undefined;
  const epochEnd = i++;
  const serialStart = i;
  let serial = 0;
  while (i < s.length && i - serialStart <= 10 && isDigit(s.charCodeAt(i))) serial = serial * 10 + (s.charCodeAt(i++) - 48);
  if (i === serialStart || i - serialStart > 10 || s.charCodeAt(i) !== 41 /* ) */) return undefined;
  const end = s.charCodeAt(i + 1) === 58 ? i + 2 : i + 1;
  return { epoch: s.slice(open, epochEnd), serial, ms, end };
}

/**
 * The local-time stamp of `ausearch -i`, as if the reader's zone were UTC (the caller marks the
 * zone as assumed). `%x` differs by locale: `05/01/25` (C), `05/01/2025` (en_US), `01/05/2025`
 * (en_GB, fr: read as month first unless the first number cannot be a month), `13.01.2021` (de,
 * ru: day first), `2025-05-01` (sv, ISO).
 */
function readLocalStamp(s: string): { epoch: string; ms: number; serial: number; end: number } | undefined {
  const m = LOCAL_STAMP.exec(s);
  if (!m) return undefined;
  const [a, sep, b, c] = [m[1]!, m[2]!, Number(m[3]), m[4]!];
  let year: number;
  let month: number;
  let day: number;
  if (a.length === 4) [year, month, day] = [Number(a), b, Number(c)];
  else if (sep === '.' || Number(a) > 12) [day, month, year] = [Number(a), b, Number(c)];
  else [month, day, year] = [Number(a), b, Number(c)];
  if (year < 100) year += 2000;
  const ms = Date.UTC(year, month - 1, day, Number(m[5]), Number(m[6]), Number(m[7])) + Number(m[8]);
  const back = new Date(ms);
  if (!Number.isFinite(ms) || back.getUTCDate() !== day || back.getUTCMonth() !== month - 1) return undefined;
  const serial = Number(m[9]);
  if (serial > 0xffffffff) return undefined;
  return { epoch: `${Math.floor(ms / 1000)}.${m[8]}`, ms, serial, end: m[0].length };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Most records are only grouped, never read field by field (PATH, SOCKADDR, auditctl's own
 * events): tokenizing waits until an interpretation asks for the fields.
 */
class LazyRecord implements AuditRecord {
  node?: string;
  interpreted?: boolean;
  rawEndsWithBody?: true;
  private tokens: TokenParts | undefined;
  private all: AuditField[] | undefined;

  constructor(
    readonly type: string,
    readonly epoch: string,
    readonly ms: number,
    private exact: Nanos | undefined,
    readonly serial: number,
    readonly body: string,
    readonly raw: string,
  ) {}

  /** Made on demand: a BigInt per record is an allocation on the hot path, and only an event's first record is asked. */
  get ns(): Nanos {
    // a stamp with milliseconds (as the kernel writes it) has them exactly in `ms`
    this.exact ??= Number.isInteger(this.ms) && this.epoch.length - this.epoch.indexOf('.') === 4 ? BigInt(this.ms) * NS_PER_MS : parseEpochSeconds(this.epoch)!;
    return this.exact;
  }

  private get tokenized(): TokenParts {
    this.tokens ??= tokenizeParts(this.body);
    return this.tokens;
  }

  get fields(): AuditField[] {
    this.all ??= fieldsOf(this.tokenized);
    return this.all;
  }

  /** The first field of that key, as `fields` would give it, without joining the record's own pairs to the shared ones. */
  find(key: string): AuditField | undefined {
    const t = this.tokenized;
    for (const f of t.own) if (f.key === key) return f;
    if (t.stable !== undefined) for (const f of t.stable) if (f.key === key) return f;
    return undefined;
  }

  lists(): readonly (readonly AuditField[])[] {
    const t = this.tokenized;
    return t.stable === undefined ? [t.own] : [t.own, t.stable];
  }

  get enriched(): Record<string, string> | undefined {
    return this.tokenized.enriched;
  }

  get warnings(): string[] {
    return this.tokenized.warnings;
  }

  /** `raw` escaped for JSON (see rawJson), when its body was tokenized from memo entries. */
  sharedRawJson(): string | undefined {
    const shared = this.tokens?.shared;
    if (shared === undefined || !this.rawEndsWithBody) return undefined;
    return sharedJson(this.raw.slice(0, this.raw.length - this.body.length + shared.at), shared);
  }
}

/**
 * A record's line escaped as JSON.stringify escapes it, without the quotes: the parts a storm
 * repeats (a sender's text from ppid= on, a process's OBJ_PID and PROCTITLE, the enrichment) are
 * escaped once. (Every piece starts and ends beside an ASCII character, so no escape spans two.)
 */
export function rawJson(r: AuditRecord): string {
  return (r instanceof LazyRecord ? r.sharedRawJson() : undefined) ?? escaped(r.raw);
}

function err(reason: AuditParseError['reason'], message: string): AuditParse {
  return { ok: false, error: { reason, message } };
}

/** A record's pairs as one or two lists that, one after the other, are its `fields` (see TokenParts). */
export function fieldLists(r: AuditRecord): readonly (readonly AuditField[])[] {
  return r instanceof LazyRecord ? r.lists() : [r.fields];
}

export function field(r: AuditRecord, key: string): AuditField | undefined {
  if (r instanceof LazyRecord) return r.find(key);
  for (const f of r.fields) if (f.key === key) return f;
  return undefined;
}
