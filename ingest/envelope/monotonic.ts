import type { Nanos } from '../time/instant.ts';
import type { Envelope } from './message.ts';

// After the stamp: a host, then `kernel:` or a tag with its pid; or the tag alone (`--no-hostname`).
// dmesg's own text can start with a `word:` too (`usb 1-1:`), but not with a pid in brackets, nor
// with `host kernel:`. (systemd logging to kmsg early in boot writes `systemd[1]: …` itself: it is
// systemd's line either way.)
const HOST_TAG = /^(?:(\S+) (?=kernel:)|(\S+) (?=[^\s:[\]]{1,64}\[\d+\]:))?(kernel|[^\s:[\]]{1,64}\[(\d+)\]): ?(.*)$/s;

/**
 * `journalctl -o short-monotonic`: `[ 1234.567890] [host ]ident[pid]: text`. The stamp is the
 * same seconds-since-boot as dmesg's, but the line is a journal entry of any unit, not only the
 * kernel's; undefined when the text after the stamp is not a host and a tag (plain dmesg).
 */
export function monotonicEnvelope(rest: string, bootNs: Nanos): Envelope | undefined {
  const m = HOST_TAG.exec(rest);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const tag = m[3]!;
  // `kernel:` alone is dmesg's own text only with a host before it; a tag with a pid is a unit's line either way
  if (host === undefined && m[4] === undefined) return undefined;
  const env: Envelope = { text: m[5]!, app: m[4] === undefined ? tag : tag.slice(0, tag.indexOf('[')), time: { kind: 'boot', ns: bootNs } };
  if (host !== undefined) env.host = host;
  if (m[4] !== undefined) env.pid = m[4];
  return env;
}
