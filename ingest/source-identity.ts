import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * Where an event came from, as a key that survives what happens to log files: an event id is
 * derived from the identity of its input plus the byte offset of its line. The identity is a
 * fingerprint of the input's first line (as Filebeat's fingerprint file identity does), not its
 * path or inode: a rename by logrotate keeps every id, a re-read never duplicates, and neither
 * inode reuse nor copytruncate can give new lines the ids of old ones (409 in Elasticsearch, so
 * silently lost).
 */
export const FINGERPRINT_BYTES = 1024;

export function fingerprint(firstLine: Buffer): string {
  const head = firstLine.subarray(0, FINGERPRINT_BYTES).toString('latin1');
  return `fp:${eventId(head)}`;
}

/**
 * The fingerprint of a file on disk, as the decoder computes it from the line at offset 0 (CR of
 * a CRLF line dropped); undefined while the first line is not complete yet.
 */
export async function fileFingerprint(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    return await handleFingerprint(fh);
  } finally {
    await fh.close();
  }
}

/** The same, from a file already open (the generation a follower holds, whatever its name is now). */
export async function handleFingerprint(fh: FileHandle): Promise<string | undefined> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES + 2);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
  if (nl < 0 && bytesRead <= FINGERPRINT_BYTES) return undefined;
  let line = buf.subarray(0, nl < 0 ? FINGERPRINT_BYTES : nl);
  if (nl >= 0 && line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
  return fingerprint(line);
}

/**
 * A stable id from where an event came from. Two independent 53-bit string hashes (cyrb53) give
 * 106 bits: collisions are out of reach for any node's history, at a fraction of a crypto hash's
 * per-call cost, which dominated the hot path.
 */
export function eventId(key: string): string {
  return hashed(SEED, key);
}

/** The hash's four lanes after some text: where hashing the text after it goes on from. */
type Lanes = { h1: number; h2: number; g1: number; g2: number };
const SEED: Lanes = Object.freeze({ h1: 0xdeadbeef ^ 0x9e3779b9, h2: 0x41c6ce57 ^ 0x9e3779b9, g1: 0xdeadbeef ^ 0x85ebca6b, g2: 0x41c6ce57 ^ 0x85ebca6b });

function lanesAfter(from: Lanes, key: string): Lanes {
  let { h1, h2, g1, g2 } = from;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
    g1 = Math.imul(g1 ^ ch, 2654435761);
    g2 = Math.imul(g2 ^ ch, 1597334677);
  }
  return { h1, h2, g1, g2 };
}

function hashed(from: Lanes, key: string): string {
  // both hashes in one pass over the key: this runs once per event
  let h1 = from.h1;
  let h2 = from.h2;
  let g1 = from.g1;
  let g2 = from.g2;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
    g1 = Math.imul(g1 ^ ch, 2654435761);
    g2 = Math.imul(g2 ^ ch, 1597334677);
  }
  return base36x11(finish(h1, h2)) + base36x11(finish(g1, g2));
}

/**
 * eventId of keys that start alike (a node's audit events: `host|audit|node|` then the stamp),
 * the common start hashed once: half of an audit event's key is its node's.
 */
export class IdsAfter {
  private readonly lanes: Lanes;

  constructor(readonly prefix: string) {
    this.lanes = lanesAfter(SEED, prefix);
  }

  /** eventId(prefix + rest). */
  id(rest: string): string {
    return hashed(this.lanes, rest);
  }
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
/** The digits' character codes. */
const CODES = [...DIGITS].map((c) => c.charCodeAt(0));
const D2 = 36 ** 2;
const D3 = 36 ** 3;
const D4 = 36 ** 4;

/**
 * A 53-bit integer as 11 base-36 digits, zero-padded: what `n.toString(36).padStart(11, '0')`
 * gives, without V8's generic radix conversion for doubles, which was most of an id's cost; the
 * digits made into a string at once (one digit at a time was a string per digit).
 */
export function base36x11(n: number): string {
  const lo = n % D4;
  const rest = (n - lo) / D4;
  const mid = rest % D4;
  const hi = (rest - mid) / D4;
  const c = CODES;
  return String.fromCharCode(
    c[Math.floor(hi / D2) % 36]!,
    c[Math.floor(hi / 36) % 36]!,
    c[hi % 36]!,
    c[Math.floor(mid / D3)]!,
    c[Math.floor(mid / D2) % 36]!,
    c[Math.floor(mid / 36) % 36]!,
    c[mid % 36]!,
    c[Math.floor(lo / D3)]!,
    c[Math.floor(lo / D2) % 36]!,
    c[Math.floor(lo / 36) % 36]!,
    c[lo % 36]!,
  );
}

/** cyrb53's final mix of its two 32-bit lanes into 53 bits. */
function finish(a: number, b: number): number {
  const h1 = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  const h2 = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
