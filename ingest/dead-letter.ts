/**
 * Input that could not be decoded. It is never dropped: each has a reason (counted), a message a
 * person can act on, where it came from, and the raw bytes.
 */
export type DeadLetter = {
  reason: string;
  message: string;
  input: string;
  offset?: number;
  line?: number;
  /** The raw bytes as base64: exact even for binary input. */
  raw_b64: string;
  /** The first bytes as text, for a person reading the file. */
  preview: string;
  /** Length of the original input when only a prefix of it is kept (gigantic lines). */
  length?: number;
};

export const PREVIEW_CHARS = 240;

export function deadLetter(reason: string, message: string, raw: Buffer | string, where: { input: string; offset?: number; line?: number; length?: number }): DeadLetter {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const d: DeadLetter = { reason, message, input: where.input, raw_b64: buf.toString('base64'), preview: buf.subarray(0, PREVIEW_CHARS * 2).toString('utf8').slice(0, PREVIEW_CHARS) };
  if (where.offset !== undefined) d.offset = where.offset;
  if (where.line !== undefined) d.line = where.line;
  if (where.length !== undefined) d.length = where.length;
  return d;
}

/** Counters by name; a plain object so it serialises into logs and metrics as is. */
export class Counters {
  readonly values: Record<string, number> = {};

  inc(name: string, by = 1): void {
    this.values[name] = (this.values[name] ?? 0) + by;
  }

  get(name: string): number {
    return this.values[name] ?? 0;
  }
}
