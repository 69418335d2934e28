import { parseIsoNanos } from '../time/instant.ts';
import type { Envelope } from './message.ts';

/** Zone abbreviations journalctl prints in its banner; an offset like `+09` is read as is. */
const ZONES: Record<string, string> = { UTC: 'Z', GMT: 'Z', CET: '+01:00', CEST: '+02:00', EET: '+02:00', EEST: '+03:00', MSK: '+03:00', EST: '-05:00', EDT: '-04:00', CST: '-06:00', CDT: '-05:00', MST: '-07:00', MDT: '-06:00', PST: '-08:00', PDT: '-07:00', JST: '+09:00', KST: '+09:00', IST: '+05:30', AEST: '+10:00', AEDT: '+11:00' };

const BEGIN = /^-- (?:Logs begin at|Journal begins at) \p{L}{2,3}\.? (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([A-Z]{2,5}|[+-]\d\d(?::?\d\d)?),/u;

/** A zone as journalctl or a log viewer prints it (`PDT`, `+09`, `+05:30`), as an ISO offset; undefined when unknown. */
export function zoneOffset(z: string): string | undefined {
  return Object.hasOwn(ZONES, z) ? ZONES[z] : /^[+-]\d\d$/.test(z) ? `${z}:00` : /^[+-]\d\d:?\d\d$/.test(z) ? z : undefined;
}

/**
 * journalctl's own lines between entries: `-- Logs begin at Sat 2020-04-04 12:49:26 +09, end at … --`,
 * `-- Reboot --`, `-- Boot 5d3c… --`, `-- No entries --`. Framing, not records; the first says the
 * year and the zone the short rendering below it was printed in (the reader's), which its
 * lines do not. Undefined for any other line.
 */
export function journalBanner(text: string): Envelope | undefined {
  if (!text.startsWith('-- ') || !text.endsWith('--')) return undefined;
  const env: Envelope = { text, meta: { framing: 'journalctl' } };
  const m = BEGIN.exec(text);
  if (m) {
    const zone = zoneOffset(m[2]!);
    const t = zone === undefined ? undefined : parseIsoNanos(`${m[1]}${zone}`);
    if (t?.ok) env.time = { kind: 'absolute', ns: t.ns, offsetMinutes: t.offsetMinutes };
  }
  return env;
}
