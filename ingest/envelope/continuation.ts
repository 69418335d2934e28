import type { Format } from '../detect.ts';
import { isVerboseField, isVerboseHeader, parseVerboseEntry } from './journal-verbose.ts';
import { isViewerResource, isViewerStamp, viewerEntry } from './log-viewer.ts';
import { isExportKeyLine } from '../readers/log-exports.ts';
import type { Envelope } from './message.ts';

/**
 * A record as it leaves the joiner: a line with its envelope (its text joined from the lines it
 * went on over), or a journal entry made of several lines (`-o verbose`, `-o json-pretty`); a log
 * viewer's entry (its time, the node, the line: log-viewer.ts) leaves as that line with that time and host.
 */
export type Joined<W> =
  | { kind: 'line'; format: Format; env: Envelope; text: string; where: W }
  | { kind: 'entry'; entry: Record<string, unknown>; text: string; where: W }
  | { kind: 'bad-entry'; reason: string; message: string; text: string; where: W };

type Held<W> = {
  kind: 'line' | 'verbose' | 'json' | 'viewer';
  format: Format;
  env: Envelope;
  /** The lines as read, joined by newlines: the event's original. */
  text: string;
  where: W;
  lines: number;
  /** Length of the last physical line: a line cut at a terminal's width is as long as the width. */
  lastLength: number;
  /** The message was empty: the poster's wrap put all of it on the next line. */
  empty: boolean;
  /** A json-pretty entry has had its closing brace; a log viewer's entry its message. */
  closed?: boolean;
  /** A log viewer's entry: its lines as read (time, resource, message). */
  parts?: string[];
};

/** A record never goes on over more lines than this (a runaway quote must not swallow a file). */
const MAX_LINES = 64;
/** Below this, a line was not cut by a terminal but wrapped at a space (a mail client, an editor). */
const TERMINAL_WIDTH = 78;
/** A line this long that breaks mid-word was cut at a width even with no open quote to say so. */
const HARD_WRAP = 100;

/**
 * Joins a record that a pager, a terminal or a mail client broke over several lines back into one
 * (hard-wrapped `journalctl` lines, a logfmt message cut mid-quote, the indented lines of a
 * multi-line message), and gathers the entries of `journalctl -o verbose` and `-o json-pretty`.
 * It holds one record per input, the last one read, until the next line shows whether it goes
 * on: a line with an envelope of its own, a blank line, the end of the input or a follower's idle
 * tick or its saving of its place let it go. Only lines with a syslog or kernel envelope are held, and raw lines that open an
 * entry; audit and journald JSON lines pass by untouched.
 */
export class LineJoiner<W> {
  private readonly held = new Map<string, Held<W>>();

  constructor(
    private readonly out: (input: string, r: Joined<W>) => void,
    private readonly maxBytes: number,
  ) {}

  /** Offers a line with its envelope; true when the joiner took it (held, or joined to the record held). */
  take(input: string, format: Format, env: Envelope, text: string, where: W): boolean {
    if (this.held.size > 0) {
      const h = this.held.get(input);
      if (h) {
        if (format === 'raw' && this.join(h, text)) {
          if (h.closed) this.flush(input);
          return true;
        }
        this.flush(input);
      }
    }
    if (format === 'syslog' || format === 'kmsg') {
      this.held.set(input, { kind: 'line', format, env, text, where, lines: 1, lastLength: text.length, empty: env.text.trim().length === 0 });
      return true;
    }
    if (format === 'raw' && (text === '{' || isVerboseHeader(text))) {
      this.held.set(input, { kind: text === '{' ? 'json' : 'verbose', format, env, text, where, lines: 1, lastLength: text.length, empty: false });
      return true;
    }
    if (format === 'raw' && isViewerStamp(text)) {
      this.held.set(input, { kind: 'viewer', format, env, text, where, lines: 1, lastLength: text.length, empty: false, parts: [text] });
      return true;
    }
    return false;
  }

  /** Lets the record held for an input go (its end, a blank line). */
  flush(input: string): void {
    const h = this.held.get(input);
    if (!h) return;
    this.held.delete(input);
    this.out(input, this.finish(h));
  }

  /** Lets every held record go (end of all input, a follower's idle tick). */
  flushAll(): void {
    for (const input of [...this.held.keys()]) this.flush(input);
  }

  private join(h: Held<W>, quoted: string): boolean {
    if (h.lines >= MAX_LINES || h.text.length + quoted.length > this.maxBytes) return false;
    // the paste's quote marks (`> `) on the lines a record went on over are the paste's, not the record's
    const line = quoted.charCodeAt(0) === 62 ? quoted.replace(/^>[ \t]?/, '') : quoted;
    let sep: string;
    if (h.kind === 'json') {
      // json-pretty: `{` then `\t"__CURSOR" : "…",` (a journal field: upper case, ` : `), or a
      // kubelet's JSON line pretty-printed (`"ts": 1580306777.04728,`); any other `{` is someone
      // else someone's document (kubectl's `"apiVersion": …`); a log store's exported record
      // (`"insertId": …`, `"@message": …`) is one line pretty-printed too
      if (h.lines === 1 && !/^\s*"_{0,2}[A-Z][A-Z0-9_]*" : "|^\s*"ts"\s*:\s*\d/.test(line) && !isExportKeyLine(line)) return false;
      h.closed = line === '}' || line === '},';
      this.append(h, line, '\n');
      return true;
    }
    if (h.kind === 'verbose') {
      if (!isVerboseField(line)) return false;
      this.append(h, line, '\n');
      return true;
    }
    if (h.kind === 'viewer') {
      // the next entry's time: this one had no message
      if (isViewerStamp(line)) return false;
      h.parts!.push(line);
      // a name alone after the time is the node, and the message follows; anything else is the message
      h.closed = h.parts!.length === 3 || !isViewerResource(line);
      this.append(h, quoted, '\n');
      return true;
    }
    if (h.empty) {
      // `docker[1430]:` and nothing: the message is the next line
      h.env.text = line.trim();
      h.empty = h.env.text.length === 0;
      this.append(h, quoted, '\n');
      return true;
    }
    const c0 = line.charCodeAt(0);
    const indented = c0 === 32 || c0 === 9;
    if (oddQuotes(h.env.text)) sep = h.lastLength >= TERMINAL_WIDTH ? '' : ' ';
    else if (indented && h.format === 'syslog' && h.env.app !== 'kernel') sep = '\n';
    // a kernel line wrapped by the terminal it was copied from (a task row's ` 0 python`); a stack
    // frame that lost its prefix is a line of its own
    else if (indented && h.format === 'kmsg' && !KERNEL_OWN_LINE.test(line)) sep = '';
    else if (!indented && h.lastLength >= HARD_WRAP && midToken(h.text, line)) sep = '';
    else return false;
    h.env.text += sep + (sep === '\n' ? line.trim() : line);
    this.append(h, quoted, '\n');
    return true;
  }

  private append(h: Held<W>, line: string, textSep: string): void {
    h.text += textSep + line;
    h.lines++;
    h.lastLength = line.length;
  }

  private finish(h: Held<W>): Joined<W> {
    if (h.kind === 'viewer') {
      // (a lone name after the time, with nothing after it, was the message itself)
      const v = viewerEntry(h.parts!);
      return v.ok ? { kind: 'line', format: 'raw', env: v.env, text: h.text, where: h.where } : { kind: 'bad-entry', reason: v.reason, message: v.message, text: h.text, where: h.where };
    }
    if (h.kind === 'line' || h.lines === 1) {
      // a quote still open when the record ends: a pager cut the line at the screen's edge
      if (h.kind === 'line' && oddQuotes(h.env.text)) h.env.meta = { ...h.env.meta, truncated: '1' };
      return { kind: 'line', format: h.format, env: h.env, text: h.text, where: h.where };
    }
    if (h.kind === 'verbose') {
      const v = parseVerboseEntry(h.text);
      return v.ok ? { kind: 'entry', entry: v.fields, text: h.text, where: h.where } : { kind: 'bad-entry', reason: 'journal-verbose', message: v.message, text: h.text, where: h.where };
    }
    try {
      const o = JSON.parse(h.text.replace(/,\s*$/, '')) as unknown;
      if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
        // not a journal entry: the one line it was before someone pretty-printed it
        if (!('__CURSOR' in o) && !('__REALTIME_TIMESTAMP' in o)) return { kind: 'line', format: 'raw', env: { text: JSON.stringify(o) }, text: h.text, where: h.where };
        return { kind: 'entry', entry: o as Record<string, unknown>, text: h.text, where: h.where };
      }
      return { kind: 'bad-entry', reason: 'journal-json-pretty', message: 'not a JSON object', text: h.text, where: h.where };
    } catch (e) {
      return { kind: 'bad-entry', reason: 'journal-json-pretty', message: (e as Error).message, text: h.text, where: h.where };
    }
  }
}

/** Indented kernel text that stands alone: a stack frame, raw stack words, a register dump. */
const KERNEL_OWN_LINE = /^\s*(?:\[<[0-9a-f]+>\]|\? |[A-Za-z_.][\w.]*\+0x[0-9a-f]+\/|(?:[0-9a-f]{8,16}\s*)+$|<\/?TASK>|(?:RIP|RSP|RAX|RBX|RCX|RDX|RSI|RDI|RBP|R\d\d|Code):)/;

/** An odd number of unescaped double quotes: a quoted value that has not ended on this line. */
function oddQuotes(s: string): boolean {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) if (s.charCodeAt(i - 1) !== 92) n++;
  return n % 2 === 1;
}

/** The break falls inside a token (`/kubepo` + `ds/pod…`, `rss:44` + `8KB`): both sides are word characters. */
function midToken(before: string, after: string): boolean {
  return /[\w/.:,=-]$/.test(before) && /^[\w/.:,=-]/.test(after);
}
