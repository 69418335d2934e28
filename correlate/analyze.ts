import { auditEventCanMatter } from '../ingest/audit/triage.ts';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import type { Decoder, DecoderOptions } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import type { Input } from '../ingest/sources/files.ts';
import { attribute } from './attribute.ts';
import { isHealthEvidence } from './health/findings.ts';
import { byHost, findIncidents, isEvidence } from './incidents.ts';
import type { Attribution } from './verdict.ts';
import { EvidenceWindow } from './window.ts';

export type AnalyzeResult = {
  verdicts: Attribution[];
  decoder: Decoder;
  /** Events kept as evidence, in all. */
  evidenceEvents: number;
  deadLetters: number;
  /** The evidence still held at the end: all of it with `keepEvidence`, otherwise what was not let go. */
  evidence: NormalizedEvent[];
  /** The events node-health findings are read from (correlate/health), all of them. */
  health: NormalizedEvent[];
  /** Evidence let go before the end of the input, once the deaths it could serve were decided. */
  released: number;
};

export type AnalyzeSinks = {
  deadLetter: (d: DeadLetter) => void;
  /** Every event decoded (then nothing is let go before it is built). */
  event?: (e: NormalizedEvent) => void;
  progress?: (bytes: number) => void;
};

/**
 * Events of one input that may come this much older than the newest one seen (a writer's buffer,
 * records of one second interleaved): the watermark trails the input by it.
 */
const LATENESS_NS = 300n * 1_000_000_000n;

/**
 * The embedded pipeline: ingest and correlate in one process, no services. Only events that can
 * be evidence are kept in memory, and, while the last input is read, only as long as an open death
 * can use them (correlate/window.ts); the rest are counted and let go. `keepEvidence` keeps it all
 * (to publish it, or to draw one death's timeline).
 */
export async function analyzeInputs(inputs: Input[], opts: DecoderOptions, sinks: AnalyzeSinks, options: { keepEvidence?: boolean; releaseAt?: number } = {}): Promise<AnalyzeResult> {
  const window = new EvidenceWindow(options.keepEvidence ? Infinity : options.releaseAt);
  const all: NormalizedEvent[] = [];
  const health: NormalizedEvent[] = [];
  let evidenceEvents = 0;
  let deadLetters = 0;
  // Inputs are read one after the other, and a later one may hold evidence of any time: only
  // while the last is read does its time say that older evidence is complete.
  let last = false;
  let newest: bigint | undefined;
  const decodeSinks: Parameters<typeof decodeInputs>[1] = {
    event: (e) => {
      sinks.event?.(e);
      if (last) {
        const ns = BigInt(e.exit137.ts_ns);
        if (newest === undefined || ns > newest) {
          newest = ns;
          window.advance(ns - LATENESS_NS);
        }
      }
      if (!isEvidence(e)) return;
      evidenceEvents++;
      const copy = detached(e);
      if (isHealthEvidence(copy)) health.push(copy);
      if (options.keepEvidence) all.push(copy);
      window.add(copy);
    },
    deadLetter: (d) => {
      deadLetters++;
      sinks.deadLetter(d);
    },
    inputStart: (index, count) => {
      last = index === count - 1;
    },
  };
  if (sinks.progress) decodeSinks.progress = sinks.progress;
  // an event that can never be evidence is let go before it is built (ingest/audit/triage.ts),
  // unless the caller wants every event
  const decoder = await decodeInputs(inputs, decodeSinks, sinks.event ? opts : { ...opts, wantAudit: auditEventCanMatter });
  const verdicts = sortVerdicts(window.finish());
  return { verdicts, decoder, evidenceEvents, deadLetters, evidence: options.keepEvidence ? all : [], health, released: window.releasedEarly };
}

/**
 * A copy that shares no string with the input's text: the decoder's strings are slices of the
 * 128 KiB chunk they were read from, and one kept event would hold its whole chunk (a 166 MB audit
 * log kept 116 MB of chunks for 6,642 events). A third of the cost of a JSON round trip.
 */
export function detached<T>(v: T): T {
  // V8 slices strings of 13 characters or more; `(' ' + s).slice(1)` flattens into a fresh copy
  if (typeof v === 'string') return (v.length > 12 ? (' ' + v).slice(1) : v) as T;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(detached) as T;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = detached((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Normalized events in, one verdict per death out, in order of death. */
export function correlate(events: NormalizedEvent[]): Attribution[] {
  const verdicts: Attribution[] = [];
  for (const [host, evs] of byHost(events)) for (const inc of findIncidents(evs, host)) verdicts.push(attribute(inc));
  return sortVerdicts(verdicts);
}

function sortVerdicts(verdicts: Attribution[]): Attribution[] {
  return verdicts.sort((a, b) => (a.died_at < b.died_at ? -1 : a.died_at > b.died_at ? 1 : a.container.id.localeCompare(b.container.id)));
}
