import type { DecoderOptions } from './decoder.ts';
import { Decoder } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { DecodeSinks } from './run.ts';
import type { Input } from './sources/files.ts';
import type { SourceLine } from './sources/lines.ts';
import { readLineBatches } from './sources/lines.ts';

export type TimeOrderSinks = DecodeSinks & {
  /**
   * After each batch: the time every input not yet read to its end has reached (ns), once each
   * has reached one. Evidence older than it (less a lateness) is as complete as the inputs make it.
   */
  watermark?: (ns: bigint) => void;
};

type Reading = {
  input: Input;
  batches: AsyncIterator<SourceLine[]> | undefined;
  /** The newest event time this input has given so far. */
  reached: bigint | undefined;
  done: boolean;
  offset: number;
};

/**
 * Reads several inputs through one decoder batch by batch, always going on with the input whose
 * events are the oldest so far: a node's audit.log, daemon logs and kernel log are read side by
 * side in time, as they were written. Read one after the other, every input but the last had to
 * be held whole before anything could be decided (a later file may hold evidence of any time);
 * read in time, the watermark is the slowest input's time and only the open window is held.
 *
 * Small inputs are one batch each, so they are read in the order given, exactly as before. The
 * decoder keeps its multi-line and reassembly state per input (it follows many sources at once in
 * `watch`), so interleaving inputs changes no event.
 */
export async function decodeInputsInTimeOrder(inputs: Input[], sinks: TimeOrderSinks, opts: DecoderOptions = {}): Promise<Decoder> {
  const readings: Reading[] = inputs.map((input) => ({ input, batches: undefined, reached: undefined, done: false, offset: 0 }));
  let current: Reading | undefined;
  const decoder = new Decoder(
    (e: NormalizedEvent) => {
      if (current) {
        const ns = BigInt(e.exit137.ts_ns);
        if (current.reached === undefined || ns > current.reached) current.reached = ns;
      }
      sinks.event(e);
    },
    sinks.deadLetter,
    // an audit event's records are all in one input: another input read between two of its
    // batches must not settle it early
    { ...opts, auditPerInput: true },
  );
  let done = 0;
  let lastProgress = 0;
  while (done < readings.length) {
    const r = leastFar(readings);
    if (!r.batches) {
      sinks.inputStart?.(readings.indexOf(r), readings.length);
      r.batches = readLineBatches(r.input.open(), decoder.maxLineBytes)[Symbol.asyncIterator]();
    }
    const step = await r.batches.next();
    if (step.done) {
      current = r;
      decoder.endInput(r.input.ref);
      current = undefined;
      r.done = true;
      r.offset = r.input.size ?? r.offset;
      done++;
    } else {
      current = r;
      for (const l of step.value) decoder.pushSource(r.input.ref, l);
      current = undefined;
      r.offset = step.value.at(-1)!.offset;
      const wait = sinks.backpressure?.();
      if (wait) await wait;
    }
    if (sinks.watermark) {
      const w = watermarkOf(readings);
      if (w !== undefined) sinks.watermark(w);
    }
    if (sinks.progress) {
      const bytes = readings.reduce((n, x) => n + x.offset, 0);
      if (bytes - lastProgress > 1 << 20) {
        sinks.progress(bytes);
        lastProgress = bytes;
      }
    }
  }
  decoder.end();
  return decoder;
}

/** How far in time an input has been read, and whether it is read to its end. */
export type ReadProgress = { done: boolean; reached: bigint | undefined };

/** The unfinished input read least far in time; one that has given no time yet comes first, in the order given. */
export function leastFar<T extends ReadProgress>(inputs: T[]): T {
  let best: T | undefined;
  for (const r of inputs) {
    if (r.done) continue;
    if (r.reached === undefined) return r;
    if (!best || r.reached < best.reached!) best = r;
  }
  return best!;
}

/** The time every unfinished input has reached, once each has given one. */
export function watermarkOf(inputs: ReadProgress[]): bigint | undefined {
  let w: bigint | undefined;
  for (const r of inputs) {
    if (r.done) continue;
    if (r.reached === undefined) return undefined;
    if (w === undefined || r.reached < w) w = r.reached;
  }
  return w;
}
