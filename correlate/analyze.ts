import type { DeadLetter } from '../ingest/dead-letter.ts';
import type { Decoder, DecoderOptions } from '../ingest/decoder.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import type { Input } from '../ingest/sources/files.ts';
import { attribute } from './attribute.ts';
import { byHost, findIncidents, isEvidence } from './incidents.ts';
import type { Attribution } from './verdict.ts';

export type AnalyzeResult = { verdicts: Attribution[]; decoder: Decoder; evidenceEvents: number; deadLetters: number; evidence: NormalizedEvent[] };

/**
 * The embedded pipeline: ingest and correlate in one process, no services. Only events that can
 * be evidence are kept in memory; the rest are counted and let go.
 */
export async function analyzeInputs(inputs: Input[], opts: DecoderOptions, sinks: { deadLetter: (d: DeadLetter) => void; event?: (e: NormalizedEvent) => void; progress?: (bytes: number) => void }): Promise<AnalyzeResult> {
  const kept: NormalizedEvent[] = [];
  let deadLetters = 0;
  const decodeSinks: Parameters<typeof decodeInputs>[1] = {
    event: (e) => {
      sinks.event?.(e);
      if (isEvidence(e)) kept.push(e);
    },
    deadLetter: (d) => {
      deadLetters++;
      sinks.deadLetter(d);
    },
  };
  if (sinks.progress) decodeSinks.progress = sinks.progress;
  const decoder = await decodeInputs(inputs, decodeSinks, opts);
  return { verdicts: correlate(kept), decoder, evidenceEvents: kept.length, deadLetters, evidence: kept };
}

/** Normalized events in, one verdict per death out, in order of death. */
export function correlate(events: NormalizedEvent[]): Attribution[] {
  const verdicts: Attribution[] = [];
  for (const [host, evs] of byHost(events)) for (const inc of findIncidents(evs, host)) verdicts.push(attribute(inc));
  return verdicts.sort((a, b) => (a.died_at < b.died_at ? -1 : a.died_at > b.died_at ? 1 : a.container.id.localeCompare(b.container.id)));
}
