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

export function looksHex(v: string): boolean {
  if (v.length === 0 || v.length % 2 !== 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
    if (!ok) return false;
  }
  return true;
}

export function hexToBytes(v: string): Buffer {
  return Buffer.from(v, 'hex');
}

/** argv from a NUL-separated buffer (proctitle, EXECVE): empty strings in the middle are real arguments. */
export function splitArgv(buf: Buffer): string[] {
  const text = buf.toString('utf8');
  const parts = text.split('\0');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Audit keys: several keys on one rule are joined by 0x01. */
export function splitKeys(text: string): string[] {
  return text.split('\x01').filter((k) => k.length > 0);
}
