import logfmt from 'logfmt';
import type { Nanos } from '../time/instant.ts';
import type { LocalClock } from '../time/syslog-time.ts';

/** A kubelet line: klog text (`I0612 10:51:25.799595   30173 file.go:123] "msg" k=v`) or klog JSON. */
export type KlogLine = {
  level: string;
  msg: string;
  fields: Record<string, string>;
  caller?: string;
  clock?: LocalClock;
  ns?: Nanos;
};

export type KlogResult = { ok: true; line: KlogLine } | { ok: false; reason: string; message: string };

const LEVEL: Record<string, string> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };

/**
 * A klog header, or one whose severity letter a terminal selection cut (`0708 10:49:49.949088
 * 1091 preemption.go:114] …`, k8s#92906): without the letter, only the whole header (microseconds,
 * pid, a Go file and line) says it is klog's.
 */
const HEAD = /^[IWEF]\d{4} /;
const CUT_HEAD = /^\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.-]+\.go:\d+\]/;

export function isKlogText(text: string): boolean {
  const c = text.charCodeAt(0);
  return c >= 48 && c <= 57 ? CUT_HEAD.test(text) : HEAD.test(text);
}

export function parseKlogText(text: string): KlogResult {
  // (a header with nothing after its caller is still the kubelet's line: a doc or a paste cut its message)
  const m = /^([IWEF])?(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9})\s+\d+ ([^\]]+)\](?: (.*))?$/s.exec(text);
  if (!m || (m[1] === undefined && !CUT_HEAD.test(text))) return { ok: false, reason: 'not-klog', message: 'no klog header' };
  const body = m[9] ?? '';
  let msg = body;
  let fields: Record<string, string> = {};
  if (body.startsWith('"')) {
    // structured: a quoted message then key=value pairs
    const end = closingQuote(body);
    if (end > 0) {
      msg = unquote(body.slice(0, end + 1));
      fields = strings(logfmt.parse(body.slice(end + 1).trim()) as Record<string, unknown>);
    }
  }
  return {
    ok: true,
    line: {
      // the severity is unknown when its letter was cut
      level: m[1] ? LEVEL[m[1]]! : '',
      msg,
      fields,
      caller: m[8]!,
      clock: { month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), frac9: m[7]!.padEnd(9, '0') },
    },
  };
}

/** `--logging-format=json`: `{"ts":1658736000123.456,"caller":"…","msg":"…","v":0,…}` */
export function parseKlogJson(text: string): KlogResult {
  if (!text.startsWith('{"ts":')) return { ok: false, reason: 'not-klog-json', message: 'no ts' };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, reason: 'bad-json', message: (e as Error).message };
  }
  if (typeof o.ts !== 'number' || typeof o.msg !== 'string') return { ok: false, reason: 'not-klog-json', message: 'ts or msg missing' };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'ts' || k === 'msg' || k === 'caller' || k === 'v') continue;
    fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  // ts is epoch milliseconds as a float: keep the microseconds its decimals carry. Seconds (as
  // the Kubernetes docs print it, `1580306777.04728`) are told by their size: 1e11 ms is 1973.
  const [whole, frac = ''] = String(o.ts).split('.');
  const seconds = o.ts < 1e11;
  const ns = seconds ? BigInt(whole!) * 1_000_000_000n + BigInt(frac.slice(0, 9).padEnd(9, '0')) : BigInt(whole!) * 1_000_000n + BigInt(frac.slice(0, 6).padEnd(6, '0'));
  const line: KlogLine = { level: typeof o.err === 'string' ? 'error' : 'info', msg: o.msg, fields, ns };
  if (typeof o.caller === 'string') line.caller = o.caller;
  return { ok: true, line };
}

/**
 * A Go-quoted message as text. A pager or a paste can leave a raw tab or a cut escape inside the
 * quotes (a line joined to the one it was wrapped onto), which JSON does not take: the text
 * between the quotes is kept as it is then, with its escaped quotes undone.
 */
function unquote(q: string): string {
  try {
    return JSON.parse(q) as string;
  } catch {
    return q.slice(1, -1).replace(/\\"/g, '"');
  }
}

function closingQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function strings(o: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v;
  return out;
}
