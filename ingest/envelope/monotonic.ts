import type { Nanos } from '../time/instant.ts';
import type { Envelope } from './message.ts';

// After the stamp: a host, then `kernel:` or a tag with its pid. dmesg's own text can start with a
// `word:` too (`usb 1-1:`, `systemd[1]:`), but never with a second token that carries a pid or is `kernel`.
const HOST_TAG = /^(\S+) (kernel|[^\s:[\]]{1,64}\[(\d+)\]): ?(.*)$/s;

/**
 * `journalctl -o short-monotonic`: `[ 1234.567890] host ident[pid]: text`. The stamp is the
 * same seconds-since-boot as dmesg's, but the line is a journal entry of any unit, not only the
 * kernel's; undefined when the text after the stamp is not a host and a tag (plain dmesg).
 */
export function monotonicEnvelope(rest: string, bootNs: Nanos): Envelope | undefined {
  const m = HOST_TAG.exec(rest);
  if (!m) return undefined;
  const tag = m[2]!;
  const env: Envelope = { text: m[4]!, host: m[1]!, app: m[3] === undefined ? tag : tag.slice(0, tag.indexOf('[')), time: { kind: 'boot', ns: bootNs } };
  if (m[3] !== undefined) env.pid = m[3];
  return env;
}
