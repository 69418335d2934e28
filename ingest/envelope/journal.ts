import type { Envelope, EnvelopeResult } from './message.ts';
import { fail } from './message.ts';

/** journald stores non-UTF-8 or binary values as byte arrays in JSON output. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
  if (typeof v === 'number') return String(v);
  return undefined;
}

const META_KEYS = ['_TRANSPORT', '_AUDIT_TYPE', '_AUDIT_TYPE_NAME', '_AUDIT_ID', '_SOURCE_REALTIME_TIMESTAMP', '__CURSOR', '_BOOT_ID', '__MONOTONIC_TIMESTAMP', 'CONTAINER_ID', 'CONTAINER_ID_FULL', 'CONTAINER_NAME', '_SYSTEMD_UNIT', '__SEQNUM', 'SYSLOG_TIMESTAMP'];

/** Turns one journal entry (field map) into an envelope. Shared by the JSON and export forms. */
export function journalEntry(fields: Record<string, unknown>): EnvelopeResult {
  const message = fields.MESSAGE;
  if (message === null) return fail('journal-message-null', 'MESSAGE is null (over 4096 bytes without --all)');
  const text = str(message);
  if (text === undefined) return fail('journal-no-message', 'entry has no MESSAGE');
  const env: Envelope = { text };
  // _SOURCE_REALTIME_TIMESTAMP is when the record was made (audit, kernel); __REALTIME_TIMESTAMP when journald got it.
  const us = str(fields._SOURCE_REALTIME_TIMESTAMP) ?? str(fields.__REALTIME_TIMESTAMP);
  if (us && /^\d+$/.test(us)) env.time = { kind: 'absolute', ns: BigInt(us) * 1000n };
  const host = str(fields._HOSTNAME);
  if (host) env.host = host;
  const app = str(fields.SYSLOG_IDENTIFIER) ?? str(fields._COMM) ?? (str(fields._TRANSPORT) === 'kernel' ? 'kernel' : undefined);
  if (app) env.app = app;
  const pid = str(fields.SYSLOG_PID) ?? str(fields._PID);
  if (pid) env.pid = pid;
  const meta: Record<string, string> = {};
  for (const k of META_KEYS) {
    const v = str(fields[k]);
    if (v !== undefined) meta[k] = v;
  }
  if (meta._TRANSPORT === 'audit') env.app = 'audit';
  if (Object.keys(meta).length) env.meta = meta;
  return { ok: true, env };
}

export function parseJournalJson(line: string): EnvelopeResult {
  if (!line.startsWith('{')) return fail('not-journal-json', 'not a JSON object');
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    return fail('bad-json', (e as Error).message);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return fail('bad-json', 'not a JSON object');
  const o = obj as Record<string, unknown>;
  if (!('__REALTIME_TIMESTAMP' in o) && !('__CURSOR' in o)) return fail('not-journal-json', 'no __REALTIME_TIMESTAMP or __CURSOR');
  return journalEntry(o);
}

/**
 * `journalctl -o export`: entries of `KEY=value` lines separated by an empty line; a binary value
 * is `KEY` alone on a line, then a 64-bit little-endian length, the bytes, and a newline.
 * Fed raw lines, it returns an entry when one is complete.
 */
export class JournalExportFramer {
  private fields: Record<string, unknown> = {};
  private pendingBinary: { key: string; buf: Buffer; lines: number } | undefined;
  private started = false;

  push(line: Buffer): { entry?: Record<string, unknown>; error?: string } {
    if (this.pendingBinary) {
      const p = this.pendingBinary;
      // The line split may have cut the length or the data at a 0x0A byte: put it back.
      p.buf = p.lines === 0 ? line : Buffer.concat([p.buf, Buffer.from('\n'), line]);
      p.lines++;
      if (p.buf.length < 8) return {};
      const len = Number(p.buf.readBigUInt64LE(0));
      if (len > 64 * 1024 * 1024) {
        this.pendingBinary = undefined;
        return { error: `binary field ${p.key} claims ${len} bytes` };
      }
      if (p.buf.length - 8 < len) return {};
      this.fields[p.key] = [...p.buf.subarray(8, 8 + len)];
      this.pendingBinary = undefined;
      return {};
    }
    if (line.length === 0) {
      if (!this.started) return {};
      const entry = this.fields;
      this.fields = {};
      this.started = false;
      return { entry };
    }
    this.started = true;
    const eq = line.indexOf(0x3d);
    if (eq < 0) {
      this.pendingBinary = { key: line.toString('latin1'), buf: Buffer.alloc(0), lines: 0 };
      return {};
    }
    this.fields[line.subarray(0, eq).toString('latin1')] = line.subarray(eq + 1).toString('utf8');
    return {};
  }

  end(): Record<string, unknown> | undefined {
    if (!this.started) return undefined;
    const entry = this.fields;
    this.fields = {};
    this.started = false;
    return entry;
  }
}
