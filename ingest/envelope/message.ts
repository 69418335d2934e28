import type { Nanos } from '../time/instant.ts';
import type { LocalClock } from '../time/syslog-time.ts';

/**
 * What an envelope (syslog prefix, journald entry, dmesg prefix) says around the payload text.
 * A time is either absolute, a wall clock still to be placed in a year and zone by the node's
 * clock, or seconds since boot.
 */
export type EnvelopeTime =
  | { kind: 'absolute'; ns: Nanos; offsetMinutes?: number }
  | { kind: 'wall'; clock: LocalClock }
  | { kind: 'boot'; ns: Nanos };

export type Envelope = {
  text: string;
  time?: EnvelopeTime;
  host?: string;
  app?: string;
  pid?: string;
  /** journald / kmsg facts that ride along (transport, audit id, cursor, boot id). */
  meta?: Record<string, string>;
};

export type EnvelopeResult = { ok: true; env: Envelope } | { ok: false; reason: string; message: string };

export const fail = (reason: string, message: string): EnvelopeResult => ({ ok: false, reason, message });
