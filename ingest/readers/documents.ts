import { createRequire } from 'node:module';

/**
 * The YAML parser, loaded the first time a YAML document is read: most runs (an audit log, a
 * daemon's log) read none, and loading it cost every run of decode and analyze about 40 ms.
 */
let yaml: typeof import('yaml') | undefined;
function parseAllDocuments(text: string): ReturnType<typeof import('yaml').parseAllDocuments> {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parseAllDocuments(text);
}
import type { BlockKind, InnerLine } from '../blocks/block.ts';
import { storeRecords } from './log-exports.ts';
import type { Draft } from './draft.ts';
import type { DocContext } from './interpret.ts';
import { interpretDocuments } from './interpret.ts';
import { commandOf, flagValue, partition, plainDraft, positional, unquote } from './paste.ts';

/**
 * A JSON or YAML document pasted whole or in part: `docker inspect`, `crictl inspect`,
 * `kubectl get pod|events -o json|yaml`, and the pieces people cut out of them (a `"State": {…}`,
 * a `lastState:` fragment, the JS object view a GUI copies, a bats log's `# `-prefixed YAML).
 * The block gathers the document's lines, parses them leniently (a cut document is closed, a
 * fragment wrapped, trailing commas dropped) and hands the parsed tree to the interpreters.
 */

type Mode = 'command' | 'json' | 'yaml' | 'scalar';
type State = { mode: Mode; depth: number; fragment: boolean; prefix: string; yamlIndent: number; started: boolean; scalar?: Scalar };
export type Documents = { docs: unknown[]; ctx: DocContext; texts: string[]; cleaned: string[]; records?: InnerLine[] };

/** A bats log prints its output as `# `-prefixed lines: the document is what follows the prefix. */
function prefixOf(raw: string): string {
  return /^# (?=\s*(?:[a-zA-Z"{[\]}]|$))/.test(raw) && !raw.startsWith('# $') ? '# ' : '';
}

function clean(raw: string, prefix: string): string {
  const t = prefix && raw.startsWith(prefix.trimEnd()) ? raw.slice(Math.min(prefix.length, raw.length)) : raw;
  return unquote(t).replace(/\s+$/, '');
}

const JSON_OPEN = /^\s*(?:[[{]\s*(?:[[{]\s*)?$|\[\s*\{)/;
const JSON_KEY_OPEN = /^\s*"[^"]+"\s*:\s*[{[]\s*$/;
const JS_KEY_OPEN = /^[A-Za-z_]\w*\s*:\s*\{\s*$/;
const JSON_LINE = /^\s*(?:[{}[\],]|"|-?\d|true\b|false\b|null\b|[A-Za-z_]\w*\s*:|\.\.\.|…|$)/;
const YAML_OPEN = /^(?:(?:apiVersion|kind):\s+\S|(?:status|metadata|items|spec|lastState|state|containerStatuses|involvedObject|regarding|object|event):\s*$)/;
const YAML_FRAGMENT = /^\s+(?:lastState|containerStatuses):\s*$/;
const YAML_LINE = /^(?:[a-z][\w.-]*:(?:\s|$)|- |-$|---$|\.\.\.$|#)/;

/** The brackets a line opens less those it closes, outside its strings. */
function balance(t: string): number {
  let d = 0;
  let inString = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) d++;
    else if (c === 125 || c === 93) d--;
  }
  return d;
}

/** `docker inspect X`, `crictl inspect X`, `kubectl get pod X -o yaml`: what the document will be about. */
function documentCommand(raw: string): DocContext | undefined {
  const c = commandOf(raw);
  if (!c) return undefined;
  const a = c.args;
  const ctx: DocContext = { program: c.program };
  if (c.program === 'docker' || c.program === 'crictl') {
    const at = a.findIndex((x) => x === 'inspect' || x === 'inspectp');
    if (at < 0) return undefined;
    const pos = positional(a.slice(at + 1), new Set(['-f', '--format', '-o', '--output', '--type']));
    if (pos[0]) ctx.target = pos[0];
    const template = flagValue(a, '-f', '--format');
    if (template) ctx.template = template.replace(/^(['"])(.*)\1$/, '$2');
    return ctx;
  }
  if (c.program === 'ctr') {
    if (!a.some((x) => x === 'info')) return undefined;
    const pos = positional(a.slice(a.indexOf('info') + 1), new Set());
    if (pos[0]) ctx.target = pos[0];
    return ctx;
  }
  const out = a.findIndex((x, i) => /^-o(json|yaml)$|^--output=(json|yaml)$/.test(x) || ((x === '-o' || x === '--output') && /^(json|yaml)$/.test(a[i + 1] ?? '')));
  const get = a.indexOf('get');
  if (out < 0 || get < 0) return undefined;
  const pos = positional(a.slice(get + 1), new Set(['-n', '--namespace', '-o', '--output', '-l', '--selector', '--field-selector', '--context']));
  const what = pos[0] ?? '';
  if (!/^(po|pods?|events?|ev)(\/|$)/.test(what)) return undefined;
  const name = what.includes('/') ? what.slice(what.indexOf('/') + 1) : pos[1];
  if (name && /^(po|pods?)/.test(what)) ctx.target = name;
  const nsAt = a.findIndex((x) => x === '-n' || x === '--namespace');
  if (nsAt >= 0 && a[nsAt + 1]) ctx.namespace = a[nsAt + 1]!;
  return ctx;
}

/**
 * `docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}}' X` answers with the template's
 * fields on one line (`137 false`): the template read as a pattern of those fields, each answer
 * put back where the document has it, so the same interpreters read it as they read the JSON.
 */
type Scalar = { paths: string[][]; pattern: RegExp };

function scalarTemplate(template: string | undefined): Scalar | undefined {
  if (!template || !/^(?:[^{}]*\{\{\s*\.[\w.]+\s*\}\})+[^{}]*$/.test(template)) return undefined;
  const paths: string[][] = [];
  let source = '';
  let last = 0;
  for (const m of template.matchAll(/\{\{\s*\.([\w.]+)\s*\}\}/g)) {
    source += escapeRegExp(template.slice(last, m.index)).replace(/\s+/g, '\\s+');
    source += '(\\S+)';
    paths.push(m[1]!.split('.'));
    last = m.index + m[0].length;
  }
  source += escapeRegExp(template.slice(last)).replace(/\s+/g, '\\s+');
  // only the fields that say how a container ended are worth a pattern
  if (!paths.some((p) => p[0] === 'State')) return undefined;
  return { paths, pattern: new RegExp(`^\\s*${source}\\s*$`) };
}

function escapeRegExp(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The answer line as the part of the document it stands for: `137 false` → {State: {ExitCode: 137, OOMKilled: false}}. */
function scalarDocument(sc: Scalar, line: string): unknown {
  const m = sc.pattern.exec(line);
  if (!m) return undefined;
  const doc: Record<string, unknown> = {};
  sc.paths.forEach((path, i) => {
    const raw = m[i + 1]!;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    let o = doc;
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[path.at(-1)!] = value;
  });
  return doc;
}

type Opening = { mode: 'json' | 'yaml'; fragment: boolean; depth: number; done: boolean } | undefined;

function opening(t: string): Opening {
  if (JSON_OPEN.test(t) || JSON_KEY_OPEN.test(t) || JS_KEY_OPEN.test(t)) {
    const depth = balance(t);
    return { mode: 'json', fragment: !/^\s*[[{]/.test(t), depth, done: false };
  }
  // a one-line document (`docker inspect -f '{{json .State}}'`): whole when balanced
  if (/^\s*[[{]/.test(t) && balance(t) === 0 && /[\]}]\s*,?$/.test(t) && /"\w+"\s*:/.test(t)) return { mode: 'json', fragment: false, depth: 0, done: true };
  if (YAML_OPEN.test(t) || YAML_FRAGMENT.test(t)) return { mode: 'yaml', fragment: false, depth: 0, done: false };
  return undefined;
}

function startsDocument(raw: string): boolean {
  const c0 = raw.charCodeAt(0);
  // quick exits for the lines of every other log: a document line starts with a bracket, a
  // quote, a lowercase key, spaces, `>`/`#`/backtick quoting, or a prompt
  if (!(c0 === 123 || c0 === 91 || c0 === 34 || c0 === 32 || c0 === 9 || c0 === 62 || c0 === 35 || c0 === 96 || c0 === 36 || (c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90))) return false;
  // a journald/klog JSON line is no pasted document
  if (raw.startsWith('{"ts":') || raw.startsWith('{"__')) return false;
  // a document opens with a bracket or a key, never far into its line
  const colon = raw.indexOf(':');
  if (c0 !== 123 && c0 !== 91 && (colon < 0 || colon > 40) && !raw.includes('{') && !raw.includes('[')) return mayCommand(raw) && documentCommand(raw) !== undefined;
  const t = clean(raw, prefixOf(raw));
  const o = opening(t);
  if (o) return o.mode === 'json' && o.done ? isKnownOneLiner(t) : true;
  return mayCommand(raw) && documentCommand(raw) !== undefined;
}

/** Only a line that names one of the verbs is parsed as a command. */
function mayCommand(raw: string): boolean {
  return raw.includes('inspect') || raw.includes('-o') || raw.includes('--output') || raw.includes(' info');
}

/** A one-line JSON document is taken only when an interpreter knows it (a JSON log line is not one). */
function isKnownOneLiner(t: string): boolean {
  const v = lenientJson(t);
  return v !== undefined && interpretDocuments([v], {}).length > 0;
}

export const documents: BlockKind<Documents, State> = {
  name: 'document',
  starts: startsDocument,
  init(first) {
    const prefix = prefixOf(first);
    const t = clean(first, prefix);
    const o = opening(t);
    if (!o) {
      const scalar = scalarTemplate(documentCommand(first)?.template);
      return { mode: 'command', depth: 0, fragment: false, prefix, yamlIndent: 0, started: false, ...(scalar ? { scalar } : {}) };
    }
    return { mode: o.mode, depth: o.depth, fragment: o.fragment, prefix, yamlIndent: /^\s*/.exec(t)![0].length, started: o.done };
  },
  accepts(raw, s) {
    if (s.started && s.mode === 'json' && !s.fragment && s.depth <= 0) return 'no';
    const t = clean(raw, s.prefix || prefixOf(raw));
    if (s.mode === 'command') {
      if (t.trim() === '...' || t.trim() === '' || /^`{3}\w*$/.test(t.trim())) return 'yes';
      if (s.scalar?.pattern.test(t)) {
        s.mode = 'scalar';
        return 'end';
      }
      const o = opening(t);
      if (!o) return 'no';
      s.prefix ||= prefixOf(raw);
      s.mode = o.mode;
      s.depth = o.depth;
      s.fragment = o.fragment;
      s.yamlIndent = /^\s*/.exec(t)![0].length;
      s.started = true;
      return o.done ? 'end' : 'yes';
    }
    if (s.mode === 'json') {
      if (!JSON_LINE.test(t)) return 'no';
      s.started = true;
      s.depth += balance(t);
      // a whole document ends where its brackets close; a fragment where its parent's do
      if (!s.fragment && s.depth <= 0) return 'end';
      if (s.fragment && s.depth < 0) return 'end';
      return 'yes';
    }
    if (t.trim() === '') return 'yes';
    const indent = /^\s*/.exec(t)![0].length;
    if (indent > s.yamlIndent) return 'yes';
    return indent === s.yamlIndent && YAML_LINE.test(t.slice(indent)) ? 'yes' : 'no';
  },
  finish(lines) {
    const first = lines[0] ?? '';
    const prefix = prefixOf(first) || prefixOf(lines[1] ?? '');
    const cleaned = lines.map((l) => clean(l, prefix));
    const ctx = (opening(cleaned[0]!) ? undefined : documentCommand(first)) ?? {};
    const body = cleaned.filter((l, i) => !(i === 0 && !opening(l)) && !/^\s*(?:\.\.\.|…|`{3}\w*)\s*$/.test(l));
    const yaml = body.length > 0 && opening(body[0]!)?.mode === 'yaml';
    const scalar = body.length > 0 && !opening(body[0]!) ? scalarTemplate(ctx.template) : undefined;
    const docs = scalar ? [scalarDocument(scalar, body.at(-1)!)].filter((d) => d !== undefined) : yaml ? parseYaml(body) : [lenientJson(body.join('\n'))].filter((d) => d !== undefined);
    const out: Documents = { docs, ctx, texts: lines, cleaned };
    const records = docs.length === 1 ? storeRecords(docs[0]) : undefined;
    if (records) out.records = recordLines(records, cleaned);
    return out;
  },
  inner: (r) => r.records,
  drafts(r): Draft[] {
    const found = interpretDocuments(r.docs, r.ctx);
    if (found.length === 0) return r.texts.map(plainDraft);
    const drafts = found.map((f) => {
      const at = anchor(r.cleaned, f.hints);
      f.draft.lines = { from: at, to: at };
      return f.draft;
    });
    return partition(drafts, r.texts.length);
  },
};

/**
 * Each record as a line, at the line where it begins: the first line, from the last record's on,
 * that holds one of its own values (a pretty-printed record spans lines; a one-line one shares it).
 */
function recordLines(records: Record<string, unknown>[], lines: string[]): InnerLine[] {
  let at = 0;
  let before = new Set<string>();
  return records.map((r) => {
    // the values the last record shares with this one (a stream's name) say nothing of where it begins
    const all = Object.values(r).filter((v): v is string | number => (typeof v === 'string' && v.length > 3) || typeof v === 'number').map((v) => JSON.stringify(v));
    const keys = all.filter((k) => !before.has(k));
    before = new Set(all);
    for (let i = at; i < lines.length; i++) {
      if (keys.some((k) => lines[i]!.includes(k))) {
        at = i;
        break;
      }
    }
    return { text: JSON.stringify(r), line: at };
  });
}

/** The first line that holds one of a draft's hints (its finish time, its id, its name). */
function anchor(lines: string[], hints: string[]): number {
  for (const h of hints) {
    if (!h) continue;
    const i = lines.findIndex((l) => l.includes(h));
    if (i >= 0) return i;
  }
  return 0;
}

function parseYaml(lines: string[]): unknown[] {
  // a cut document may end mid-structure: drop its last lines until the rest parses
  for (let cut = 0; cut < 4 && cut < lines.length; cut++) {
    const text = lines.slice(0, lines.length - cut).join('\n');
    try {
      const docs = parseAllDocuments(text);
      const list = Array.isArray(docs) ? docs : [docs];
      if (list.some((d) => d.errors.length > 0)) continue;
      return list.map((d) => d.toJS() as unknown).filter((v) => v !== null && v !== undefined);
    } catch {
      continue;
    }
  }
  return [];
}

/**
 * JSON as pasted: a fragment (`"State": {…},`) is wrapped, a key the GUI left unquoted is
 * quoted, trailing commas are dropped, a document cut short is closed, and a closing bracket of
 * the parent that the fragment took along is left out. Undefined when even that does not parse.
 */
export function lenientJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // repaired below
  }
  let src = text.trim();
  if (/^(?:"[^"]*"|[A-Za-z_]\w*)\s*:/.test(src)) src = `{${src}`;
  let out = '';
  const stack: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) break;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (c === '{' || c === '[') {
      stack.push(c === '{' ? '}' : ']');
      out += c;
      i++;
    } else if (c === '}' || c === ']') {
      out = out.replace(/,\s*$/, '');
      if (stack.length > 0) out += stack.pop();
      i++;
      if (stack.length === 0) break;
    } else if (/[A-Za-z_$]/.test(c)) {
      const word = /^[A-Za-z_$][\w$.-]*/.exec(src.slice(i))![0];
      const isKey = /^\s*:/.test(src.slice(i + word.length));
      out += isKey && word !== 'true' && word !== 'false' && word !== 'null' ? JSON.stringify(word) : word;
      i += word.length;
    } else {
      out += c;
      i++;
    }
  }
  out = out.replace(/[\s,]*$/, '').replace(/,?\s*"[^"]*"\s*:\s*$/, '');
  while (stack.length) {
    out = out.replace(/,\s*$/, '');
    out += stack.pop();
  }
  try {
    return JSON.parse(out) as unknown;
  } catch {
    return undefined;
  }
}
