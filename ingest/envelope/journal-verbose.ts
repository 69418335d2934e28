/**
 * `journalctl -o verbose`: a header line with the entry's cursor, then its fields one per line,
 * indented, `KEY=value`:
 *
 *     Mon 2024-01-01 10:00:00.123456 UTC [s=…;i=…;b=…;m=…;t=…;x=…]
 *         _PID=1751
 *         MESSAGE=…
 *
 * The header's `t=` is the realtime stamp in hex microseconds, `m=` the monotonic one, `b=` the
 * boot id: the same entry as the JSON and export forms give, read into the same field map.
 */
const HEADER = /^\p{L}{2,3}\.? \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})? \S+ \[(s=[0-9a-f]+;i=[0-9a-f]+;b=([0-9a-f]+);m=([0-9a-f]+);t=([0-9a-f]+);x=[0-9a-f]+)\]$/u;
const FIELD = /^\s+([A-Z_][A-Z0-9_]*)=(.*)$/s;

export function isVerboseHeader(line: string): boolean {
  return line.endsWith(']') && HEADER.test(line);
}

/** A field line of an entry (indented `KEY=value`), or the indented rest of a value that went on. */
export function isVerboseField(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

export type VerboseResult = { ok: true; fields: Record<string, string> } | { ok: false; message: string };

/** The header and its field lines (joined by newlines) as a journal entry's fields. */
export function parseVerboseEntry(block: string): VerboseResult {
  const lines = block.split('\n');
  const h = HEADER.exec(lines[0] ?? '');
  if (!h) return { ok: false, message: 'no journalctl -o verbose header' };
  const fields: Record<string, string> = {
    __CURSOR: h[1]!,
    _BOOT_ID: h[2]!,
    __MONOTONIC_TIMESTAMP: BigInt(`0x${h[3]}`).toString(),
    __REALTIME_TIMESTAMP: BigInt(`0x${h[4]}`).toString(),
  };
  let last: string | undefined;
  for (const l of lines.slice(1)) {
    const f = FIELD.exec(l);
    // a value with a newline in it goes on, indented deeper, on the next line
    if (f && (last === undefined || /^\s{4}\S/.test(l) || !/^\s{5,}/.test(l))) {
      last = f[1]!;
      fields[last] = f[2]!;
    } else if (last !== undefined) fields[last] += `\n${l.trim()}`;
  }
  return { ok: true, fields };
}
