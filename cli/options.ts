import { InvalidArgumentError, Option } from 'commander';
import type { Format } from '../ingest/detect.ts';
import { FORMATS } from '../ingest/detect.ts';
import type { DecoderOptions } from '../ingest/decoder.ts';
import { parseIsoNanos } from '../ingest/time/instant.ts';

/** The ingest options every command that reads node records shares. */
export function ingestOptions(): Option[] {
  return [
    new Option('-f, --format <format>', 'force the input format instead of detecting it').choices([...FORMATS]),
    new Option('--host <name>', 'host name for inputs whose lines do not name one (audit.log without node=, a daemon log file)'),
    new Option('--utc-offset <offset>', 'UTC offset of syslog lines without a zone, e.g. +08:00 (default: learned from zoned lines, else UTC)').argParser(parseOffset),
    new Option('--year <year>', 'year of syslog lines without one (default: inferred)').argParser((v) => int(v, 'year')),
    new Option('--boot-time <iso>', 'boot time of the node, to place kernel [seconds.since.boot] stamps').argParser((v) => {
      const t = parseIsoNanos(v);
      if (!t.ok) throw new InvalidArgumentError(t.error);
      return t.ns;
    }),
    new Option('--dead-letter <file>', 'write undecodable input here as NDJSON (default: stderr)'),
  ];
}

export type IngestCliOptions = { format?: Format; host?: string; utcOffset?: number; year?: number; bootTime?: bigint; deadLetter?: string };

export function decoderOptions(o: IngestCliOptions): DecoderOptions {
  const d: DecoderOptions = { clock: {} };
  if (o.host) d.host = o.host;
  if (o.utcOffset !== undefined) d.clock!.offsetMinutes = o.utcOffset;
  if (o.year !== undefined) d.clock!.year = o.year;
  if (o.bootTime !== undefined) d.bootNs = o.bootTime;
  return d;
}

function parseOffset(v: string): number {
  const m = /^([+-])(\d{1,2}):?(\d\d)?$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected an offset like +08:00 or -0500');
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

function int(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number`);
  return Number(v);
}

export type EsCliOptions = { es?: string; esApiKey?: string; esUser?: string; esCa?: string };

/** Connection options; secrets come from the environment so they stay out of shell history and logs. */
export function esOptions(): Option[] {
  return [
    new Option('--es <url>', 'Elasticsearch URL (also EXIT137_ES_URL)').env('EXIT137_ES_URL'),
    new Option('--es-api-key <key>', 'API key (prefer EXIT137_ES_API_KEY)').env('EXIT137_ES_API_KEY'),
    new Option('--es-user <user:password>', 'basic auth (prefer EXIT137_ES_USER)').env('EXIT137_ES_USER'),
    new Option('--es-ca <file>', 'CA certificate for TLS (also EXIT137_ES_CA)').env('EXIT137_ES_CA'),
  ];
}
