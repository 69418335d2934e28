import logfmt from 'logfmt';
import type { Nanos } from '../time/instant.ts';
import { parseIsoNanos } from '../time/instant.ts';

/** A dockerd / containerd / cri-o log line: logrus logfmt or logrus TTY text. */
export type LogrusLine = {
  ns?: Nanos;
  offsetMinutes?: number;
  level?: string;
  msg: string;
  fields: Record<string, string>;
  /** `bare`: a message with no logrus envelope (journalctl -o cat, a line quoted in a ticket). */
  form: 'logfmt' | 'tty' | 'bare' | 'json';
};

export type LogrusResult = { ok: true; line: LogrusLine } | { ok: false; reason: string; message: string };

const LEVELS: Record<string, string> = {
  debu: 'debug', debug: 'debug', info: 'info', warn: 'warning', warning: 'warning', erro: 'error', error: 'error',
  fata: 'fatal', fatal: 'fatal', pani: 'panic', panic: 'panic', trac: 'trace', trace: 'trace',
};

export function normalizeLevel(l: string | undefined): string | undefined {
  return l === undefined ? undefined : LEVELS[l.toLowerCase()] ?? l.toLowerCase();
}

/** `time="2020-02-25T22:07:13.874199295+08:00" level=info msg="shim reaped" id=…` */
export function parseLogfmtLine(text: string): LogrusResult {
  if (!/^(time|level|msg|ts)=/.test(text)) return { ok: false, reason: 'not-logfmt', message: 'does not start with time=, level= or msg=' };
  const parsed = logfmt.parse(text) as Record<string, string | boolean | null>;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (k === 'time' || k === 'level' || k === 'msg') continue;
    if (typeof v === 'string') fields[k] = v;
    else if (v === true) fields[k] = '';
  }
  const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
  const line: LogrusLine = { msg, fields, form: 'logfmt' };
  const lvl = normalizeLevel(typeof parsed.level === 'string' ? parsed.level : undefined);
  if (lvl) line.level = lvl;
  if (typeof parsed.time === 'string') {
    // CRI-O writes `time="2023-04-26 20:03:07.316253233Z"` with a space.
    const t = parseIsoNanos(parsed.time);
    if (!t.ok) return { ok: false, reason: 'bad-time', message: t.error };
    line.ns = t.ns;
    line.offsetMinutes = t.offsetMinutes;
  }
  return { ok: true, line };
}

/** `INFO[2019-04-11T10:39:37.413880563-07:00] shim disconnected                          id=…` (logrus on a TTY) */
export function parseLogrusTty(text: string): LogrusResult {
  const m = /^([A-Z]{4})\[([^\]]+)\] (.*)$/s.exec(text);
  if (!m) return { ok: false, reason: 'not-logrus-tty', message: 'no LEVL[time] prefix' };
  const rest = m[3]!;
  // logrus pads the message to 44 characters before the fields; fields start at the first `key=` after a run of two spaces.
  const split = /\s{2,}(?=[\w.-]+=)/.exec(rest);
  const msg = (split ? rest.slice(0, split.index) : rest).trimEnd();
  const fieldText = split ? rest.slice(split.index) : '';
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(logfmt.parse(fieldText.trim()) as Record<string, unknown>)) {
    if (typeof v === 'string') fields[k] = v;
  }
  const line: LogrusLine = { msg, fields, form: 'tty', level: normalizeLevel(m[1])! };
  const t = parseIsoNanos(m[2]!);
  if (t.ok) {
    line.ns = t.ns;
    line.offsetMinutes = t.offsetMinutes;
  }
  // `INFO[0001]` is seconds since start: no absolute time.
  return { ok: true, line };
}

/**
 * `{"level":"error","msg":"StopContainer for \"…\" failed","time":"2024-…","error":"…"}`: logrus's
 * JSON formatter (containerd and dockerd with `--log-format json`, Talos, k3s).
 */
export function parseLogrusJson(text: string): LogrusResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'bad-json', message: (e as Error).message };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'not-logrus-json', message: 'not a JSON object' };
  const o = parsed as Record<string, unknown>;
  if (typeof o.msg !== 'string' || typeof o.level !== 'string') return { ok: false, reason: 'not-logrus-json', message: 'no msg and level' };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'time' || k === 'level' || k === 'msg') continue;
    if (typeof v === 'string') fields[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') fields[k] = String(v);
  }
  const line: LogrusLine = { msg: o.msg, fields, form: 'json' };
  const lvl = normalizeLevel(o.level);
  if (lvl) line.level = lvl;
  if (typeof o.time === 'string') {
    const t = parseIsoNanos(o.time);
    if (!t.ok) return { ok: false, reason: 'bad-time', message: t.error };
    line.ns = t.ns;
    line.offsetMinutes = t.offsetMinutes;
  }
  return { ok: true, line };
}
