/**
 * Audit hex-encodes a text value (without quotes) when it contains a space, a quote, a control or a
 * non-ASCII byte. Which fields may be hex is a per-field rule, not a guess on every value: `a0=top`
 * in an ausearch paste is plain text, `a0=1fde` on a SYSCALL is a number.
 */
const HEX_TEXT_FIELDS = new Set(['proctitle', 'comm', 'exe', 'cwd', 'name', 'ocomm', 'cmd', 'data', 'acct', 'key', 'path', 'old', 'new', 'root_dir', 'vm', 'grp', 'id', 'sauid']);

export function isHexTextField(recordType: string, key: string): boolean {
  if (recordType === 'EXECVE') return /^a\d+(\[\d+\])?$/.test(key);
  if (recordType === 'SYSCALL' && key === 'id') return false;
  return HEX_TEXT_FIELDS.has(key);
}

/** Where hex is decoded: one buffer reused, not a Buffer allocated per value (a proctitle per event). */
let scratch = Buffer.allocUnsafe(4096);

/**
 * Hex-encoded text as UTF-8 (invalid sequences as U+FFFD), or undefined when the value is not hex:
 * empty, odd length, or a non-hex digit (the native decoder stops there, so fewer bytes come out).
 */
export function hexText(v: string): string | undefined {
  if (v.length === 0 || v.length % 2 !== 0) return undefined;
  const bytes = v.length / 2;
  if (bytes > scratch.length) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  const n = scratch.write(v, 0, bytes, 'hex');
  return n === bytes ? scratch.toString('utf8', 0, n) : undefined;
}

/** argv from NUL-separated text (proctitle, EXECVE): empty strings in the middle are real arguments. */
export function splitArgv(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Audit keys: several keys on one rule are joined by 0x01. */
export function splitKeys(text: string): string[] {
  return text.split('\x01').filter((k) => k.length > 0);
}
