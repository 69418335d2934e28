import { fragment } from '../event-json.ts';

/**
 * The key=value body of one audit record, tokenized the way the kernel and auditd write it:
 * `"quoted"` values are text, bare values may be hex-encoded text or numbers, `'…'` holds a nested
 * key=value message (user-space records), and a 0x1D byte starts auditd's ENRICHED interpretations.
 */
export type FieldForm = 'quoted' | 'bare' | 'nested' | 'braced';
export type AuditField = { key: string; value: string; form: FieldForm };

export type Tokenized = { fields: AuditField[]; enriched?: Record<string, string>; warnings: string[]; shared?: SharedText };

/**
 * Where a body's text is the text of memo entries (see tokenizeBody): `body.slice(0, at)`, then
 * the entry's text, then (with an enrichment) 0x1D and its entry's text. What repeats is escaped
 * for JSON once (bodyJson), as it is tokenized once.
 */
export type SharedText = { at: number; stable: Pairs; tail: Enrichment | undefined };

const ENRICHED_SEP = '\x1d';
const REPLACEMENT_CHAR = '\ufffd';

/** `memo` false reads the body whole, as if no text had been seen before (for tests to compare). */
export function tokenizeBody(body: string, memo = true): Tokenized {
  const p = tokenizeParts(body, memo);
  const out: Tokenized = p.enriched ? { fields: fieldsOf(p), enriched: p.enriched, warnings: p.warnings } : { fields: fieldsOf(p), warnings: p.warnings };
  if (p.shared) out.shared = p.shared;
  return out;
}

/**
 * tokenizeBody's pairs as two lists: the record's own, then (when the body ends in a memo entry's
 * text) the entry's, shared with every record of that text. Most readers look up a few keys: the
 * two lists joined into one per record was a fifth of tokenizing a SYSCALL.
 */
export type TokenParts = { own: AuditField[]; stable: readonly AuditField[] | undefined; enriched?: Record<string, string>; warnings: string[]; shared?: SharedText };

/** The pairs of the parts in order, as one list. */
export function fieldsOf(p: TokenParts): AuditField[] {
  if (p.stable === undefined) return p.own;
  // (a body that is all entry text has the entry's own list)
  return p.own.length === 0 ? (p.stable as AuditField[]) : p.own.concat(p.stable);
}

export function tokenizeParts(body: string, memo = true): TokenParts {
  const warnings: string[] = [];
  let raw = body;
  let tail: string | undefined;
  const sep = body.indexOf(ENRICHED_SEP);
  if (sep >= 0) {
    raw = body.slice(0, sep);
    tail = body.slice(sep + 1);
  } else {
    // Pastes and some shippers turn 0x1D into U+FFFD (integrations#5343).
    const rep = body.indexOf(REPLACEMENT_CHAR);
    if (rep >= 0 && /^[A-Z][A-Z0-9_-]*=/.test(body.slice(rep + 1))) {
      raw = body.slice(0, rep);
      tail = body.slice(rep + 1);
      warnings.push('enrichment separator was U+FFFD');
    }
  }
  const own: AuditField[] = [];
  let glued: string | undefined;
  let stable: Pairs | undefined;
  // What a process says of itself repeats record after record (a SIGURG storm is one sender): the
  // part of the body from `ppid=` on, or the whole of a short record, is tokenized once.
  const at = memo ? stableFrom(raw) : -1;
  if (at < 0) {
    glued = scanPairs(raw, own, warnings, true);
  } else {
    stable = PAIRS.get(raw.slice(at));
    if (at > 0) scanPairs(raw.slice(0, at - 1), own, warnings, true);
    for (const w of stable.warnings) warnings.push(w);
    glued = stable.glued;
  }
  if (glued !== undefined) {
    // The 0x1D byte was lost in transit: `key="test"ARCH=x86_64 …` (wazuh#3396).
    warnings.push('enrichment separator lost; tail recognised by its upper-case keys');
    tail = tail === undefined ? glued : `${glued} ${tail}`;
  }
  let enriched: Record<string, string> | undefined;
  let en: Enrichment | undefined;
  if (tail !== undefined) {
    en = memo ? ENRICHMENTS.get(tail) : enrichmentOf(tail);
    for (const w of en.warnings) warnings.push(w);
    enriched = en.enriched;
  }
  const out: TokenParts = enriched ? { own, stable: stable?.fields, enriched, warnings } : { own, stable: stable?.fields, warnings };
  // the body is its parts as they are only when the tail came after a 0x1D (not a U+FFFD, not glued)
  if (stable !== undefined && glued === undefined && (tail === undefined || sep >= 0)) out.shared = { at, stable, tail: en };
  return out;
}

/**
 * A line escaped for JSON (without the quotes) whose body `t` describes: `head` is the line up to
 * where the shared text starts. What repeats is escaped once, as it is tokenized once.
 */
export function sharedJson(head: string, t: SharedText): string {
  const stable = (t.stable.json ??= escaped(t.stable.text));
  const s = head.length === 0 ? stable : `${escaped(head)}${stable}`;
  return t.tail === undefined ? s : `${s}\\u001d${(t.tail.json ??= escaped(t.tail.text))}`;
}

/** JSON.stringify's escape of a string, without its quotes. */
export function escaped(s: string): string {
  // (a record's head, `type=… msg=audit(…): ` and its arguments, seldom has anything to escape)
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s).slice(1, -1) : s;
}

/** What JSON.stringify escapes in a string (lone surrogates included: all surrogates go the slow way). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Pairs read once and handed to every record with the same text (which never change them). */
type Pairs = { fields: AuditField[]; warnings: string[]; glued: string | undefined; text: string; json?: string };
type Enrichment = { enriched: Record<string, string>; warnings: string[]; text: string; json?: string };

/**
 * Texts read once, by the text. The last few found are looked at first, by comparing the text
 * (which stops at the first character that differs) instead of hashing all of it for the map: in
 * a storm the same few senders come back record after record.
 */
class Memo<T> {
  private readonly map = new Map<string, { key: string; value: T }>();
  private readonly recentKeys: string[] = [];
  private readonly recentValues: T[] = [];
  private next = 0;

  constructor(private readonly make: (key: string) => T) {}

  get(key: string): T {
    const keys = this.recentKeys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.recentValues[i]!;
    let e = this.map.get(key);
    if (e === undefined) {
      // a full memo starts again: a node's busy senders come back within a few records
      if (this.map.size >= MEMO_SIZE) this.map.clear();
      const own = detached(key);
      e = { key: own, value: this.make(own) };
      this.map.set(own, e);
    }
    // (the memo's own copy: the text looked up is a slice that holds its whole chunk)
    keys[this.next] = e.key;
    this.recentValues[this.next] = e.value;
    this.next = (this.next + 1) % RECENT;
    return e.value;
  }
}

/** Distinct texts kept per memo: a few hundred processes send most records; the rest is read each time. */
const MEMO_SIZE = 4096;
/** Texts compared before the map is asked. */
const RECENT = 8;

const PAIRS = new Memo<Pairs>(pairsOf);
const ENRICHMENTS = new Memo<Enrichment>(enrichmentOf);

/**
 * A copy of a string that holds only its own characters: a line is a slice of the 128 KiB chunk
 * it was read in, and a memo that kept the slice (or values sliced from it) kept the chunk.
 */
function detached(s: string): string {
  // slicing a concatenation flattens it into a string of its own first
  return `${s} `.slice(0, -1);
}

function pairsOf(text: string): Pairs {
  const fields: AuditField[] = [];
  const warnings: string[] = [];
  const glued = scanPairs(text, fields, warnings, true);
  return { fields, warnings, glued, text };
}

function enrichmentOf(tail: string): Enrichment {
  const pairs: AuditField[] = [];
  const warnings: string[] = [];
  scanPairs(tail, pairs, warnings, false);
  const enriched: Record<string, string> = {};
  for (const p of pairs) if (!(p.key in enriched)) enriched[p.key] = p.value;
  return { enriched: fragment(Object.freeze(enriched)), warnings: Object.freeze(warnings) as string[], text: tail };
}

/** Records that name a process and nothing that changes call by call: OBJ_PID, PROCTITLE, CWD. */
const WHOLE = /^ *(?:opid|proctitle|cwd)=/;

/**
 * Where the part of a record body that repeats starts: 0 for a record that only names a process
 * (up to 1000 characters), else at ` ppid=` (a SYSCALL's sender, after the arguments that change
 * each call) when everything before it is plain `key=value` words, so that no quote, brace or tab
 * can carry a value across that point. -1: read the body whole, each time.
 */
function stableFrom(raw: string): number {
  const at = raw.indexOf(' ppid=');
  if (at < 0) return raw.length <= 1000 && WHOLE.test(raw) ? 0 : -1;
  // (a native search of the arguments, not a loop over their characters)
  return CARRIES.test(raw.slice(0, at)) ? -1 : at + 1;
}

/** What can start a value that goes on past a space, or change how words end (tabs). */
const CARRIES = /["'{\t]/;

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const APOS = 39;
const EQ = 61;
const LBRACE = 123;
const RBRACE = 125;
const isSpaceCode = (c: number) => c === SPACE || c === TAB;
const UPPER_KEY = /^[A-Z][A-Z0-9_-]*=/;

/**
 * Appends the pairs of `s` to `out`. Returns the rest of the string when a quoted value is directly
 * followed by an upper-case `KEY=` (a lost enrichment separator), so the caller can read it as the tail.
 * (Hot path: it reads char codes, not one-character strings.)
 */
function scanPairs(s: string, out: AuditField[], warnings: string[], detectGlue: boolean): string | undefined {
  let i = 0;
  const n = s.length;
  // The kernel separates fields with one space and never writes a tab: without tabs a word's end
  // is a native indexOf, not a loop over a proctitle's hundreds of hex digits.
  const spacesOnly = s.indexOf('\t') < 0;
  // where the look-ahead after a bare value already found the next key's `=`
  let knownKeyAt = -1;
  let knownEq = -1;
  while (i < n) {
    while (i < n && isSpaceCode(s.charCodeAt(i))) i++;
    if (i >= n) break;
    const eq = i === knownKeyAt ? knownEq : findKeyEnd(s, i);
    if (eq < 0) {
      // A word with no `=`: keep going, but say so (laurel: TrailingGarbage).
      let j = i;
      while (j < n && !isSpaceCode(s.charCodeAt(j))) j++;
      warnings.push(`stray word ${JSON.stringify(s.slice(i, Math.min(j, i + 40)))}`);
      i = j;
      continue;
    }
    const key = s.slice(i, eq);
    i = eq + 1;
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const end = s.indexOf('"', i + 1);
      if (end < 0) {
        warnings.push(`unterminated quote in ${key}`);
        out.push({ key, value: s.slice(i + 1), form: 'quoted' });
        break;
      }
      out.push({ key, value: s.slice(i + 1, end), form: 'quoted' });
      i = end + 1;
      if (detectGlue && i < n && !isSpaceCode(s.charCodeAt(i)) && UPPER_KEY.test(s.slice(i, i + 40))) return s.slice(i);
    } else if (c === APOS) {
      const end = s.indexOf("'", i + 1);
      const inner = end < 0 ? s.slice(i + 1) : s.slice(i + 1, end);
      if (end < 0) warnings.push(`unterminated ' in ${key}`);
      out.push({ key, value: inner, form: 'nested' });
      // The nested message carries the real fields of user-space records (op=, exe=, res=).
      scanPairs(inner, out, warnings, false);
      i = end < 0 ? n : end + 1;
    } else if (c === LBRACE) {
      // SADDR={ fam=local path=/tmp/.{FD2…} }: braces nest inside paths.
      let depth = 0;
      let end = -1;
      for (let j = i; j < n; j++) {
        const cj = s.charCodeAt(j);
        if (cj === LBRACE) depth++;
        else if (cj === RBRACE && --depth === 0 && (j + 1 >= n || isSpaceCode(s.charCodeAt(j + 1)))) {
          end = j;
          break;
        }
      }
      if (end < 0) end = s.lastIndexOf('}');
      const stop = end < i ? n : end + 1;
      out.push({ key, value: s.slice(i, stop), form: 'braced' });
      i = stop;
    } else {
      // A bare value ends at white space, unless what follows is not a `key=` (values with spaces:
      // `subj==/usr/sbin/ntpd (enforce)`, `SADDR=unknown family`).
      let j = wordEnd(s, i, spacesOnly);
      while (j < n) {
        let k = j;
        while (k < n && isSpaceCode(s.charCodeAt(k))) k++;
        if (k >= n) break;
        const nextEq = findKeyEnd(s, k);
        if (nextEq >= 0) {
          knownKeyAt = k;
          knownEq = nextEq;
          break;
        }
        j = wordEnd(s, k, spacesOnly);
      }
      out.push({ key, value: s.slice(i, j), form: 'bare' });
      i = j;
    }
  }
  return undefined;
}

/** Where the word at i ends: the next space (or tab, when the text has any), or the end. */
function wordEnd(s: string, i: number, spacesOnly: boolean): number {
  if (spacesOnly) {
    const sp = s.indexOf(' ', i);
    return sp < 0 ? s.length : sp;
  }
  let j = i;
  while (j < s.length && !isSpaceCode(s.charCodeAt(j))) j++;
  return j;
}

/** Index of the `=` that ends a key starting at i, or -1 if the word at i is not `key=…`. */
function findKeyEnd(s: string, i: number): number {
  let j = i;
  const n = s.length;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === EQ) return j > i ? j : -1;
    if (c === SPACE || c === TAB || c === QUOTE || c === APOS) return -1;
    j++;
  }
  return -1;
}
