import type { Nanos } from '../time/instant.ts';
import { parseEpochSeconds } from '../time/instant.ts';
import type { AuditField } from './fields.ts';
import type { Tokenized } from './fields.ts';
import { tokenizeBody } from './fields.ts';
import { recordTypeName } from './tables.ts';

/** One audit record: one line of audit.log, or one kernel-console / journald audit message. */
export type AuditRecord = {
  node?: string;
  type: string;
  epoch: string;
  ns: Nanos;
  serial: number;
  /** The key=value text after the stamp; tokenized on first use of `fields`. */
  body: string;
  readonly fields: AuditField[];
  readonly enriched?: Record<string, string>;
  readonly warnings: string[];
  /** The line as read, envelope included. */
  raw: string;
};

export type AuditParseError = {
  reason: 'not-audit' | 'malformed-header' | 'foreign-framing' | 'unknown-type-without-id';
  message: string;
};

export type AuditParse = { ok: true; record: AuditRecord } | { ok: false; error: AuditParseError };

const GLOG = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w.]+:\d+\] (.*)$/s;
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
  const fast = readStamp(rest);
  const m = fast ? undefined : STAMP.exec(rest);
  if (fast) {
    epoch = fast.epoch;
    serial = fast.serial;
    rest = rest.slice(fast.end);
  } else if (m && m.index <= 4) {
    epoch = m[1];
    serial = Number(m[2]);
    rest = rest.slice(m.index + m[0].length);
  } else if (rest.startsWith('msg=audit(')) {
    return err('malformed-header', 'unreadable audit(...) stamp');
  }
  if (epoch === undefined || serial === undefined) {
    return err(type.startsWith('UNKNOWN') ? 'unknown-type-without-id' : 'malformed-header', `record ${type} has no audit(epoch:serial) stamp`);
  }
  const ns = parseEpochSeconds(epoch);
  if (ns === undefined) return err('malformed-header', `bad epoch ${epoch}`);
  if (serial > 0xffffffff) return err('malformed-header', `serial ${serial} exceeds 32 bits`);
  const record = new LazyRecord(type, epoch, ns, serial, rest, raw);
  if (node !== undefined) record.node = node;
  return { ok: true, record };
}

/**
 * The stamp as audit.log and the kernel console write it, `msg=audit(1582099207.232:3369619): `
 * or `audit(…): `, read without the regex (once per record); anything else goes to STAMP.
 */
function readStamp(s: string): { epoch: string; serial: number; end: number } | undefined {
  const open = s.startsWith('msg=audit(') ? 10 : s.startsWith('audit(') ? 6 : -1;
  if (open < 0) return undefined;
  let i = open;
  const whole = digitsEnd(s, i, 12);
  if (whole === i) return undefined;
  i = whole;
  if (s.charCodeAt(i) === 46 /* . */) {
    const frac = digitsEnd(s, i + 1, 9);
    if (frac === i + 1) return undefined;
    i = frac;
  }
  if (s.charCodeAt(i) !== 58 /* : */) return undefined;
  const serialEnd = digitsEnd(s, i + 1, 10);
  if (serialEnd === i + 1 || s.charCodeAt(serialEnd) !== 41 /* ) */) return undefined;
  const epoch = s.slice(open, i);
  const serial = Number(s.slice(i + 1, serialEnd));
  const end = s.charCodeAt(serialEnd + 1) === 58 ? serialEnd + 2 : serialEnd + 1;
  return { epoch, serial, end };
}

/** The end of a run of at most `max` digits from i (a longer run is no stamp: i returned). */
function digitsEnd(s: string, i: number, max: number): number {
  let j = i;
  while (j < s.length && j - i <= max) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) break;
    j++;
  }
  return j - i > max ? i : j;
}

/**
 * Most records are only grouped, never read field by field (PATH, SOCKADDR, auditctl's own
 * events): tokenizing waits until an interpretation asks for the fields.
 */
class LazyRecord implements AuditRecord {
  node?: string;
  private tokens: Tokenized | undefined;

  constructor(
    readonly type: string,
    readonly epoch: string,
    readonly ns: Nanos,
    readonly serial: number,
    readonly body: string,
    readonly raw: string,
  ) {}

  private get tokenized(): Tokenized {
    this.tokens ??= tokenizeBody(this.body);
    return this.tokens;
  }

  get fields(): AuditField[] {
    return this.tokenized.fields;
  }

  get enriched(): Record<string, string> | undefined {
    return this.tokenized.enriched;
  }

  get warnings(): string[] {
    return this.tokenized.warnings;
  }
}

function err(reason: AuditParseError['reason'], message: string): AuditParse {
  return { ok: false, error: { reason, message } };
}

export function field(r: AuditRecord, key: string): AuditField | undefined {
  for (const f of r.fields) if (f.key === key) return f;
  return undefined;
}
