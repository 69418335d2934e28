import type { DeadLetter } from './dead-letter.ts';
import type { DecoderOptions } from './decoder.ts';
import { Decoder } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { Input } from './sources/files.ts';
import { readLineBatches } from './sources/lines.ts';

export type DecodeSinks = {
  event: (e: NormalizedEvent) => void;
  deadLetter: (d: DeadLetter) => void;
  /** Bytes read so far, for a progress bar. */
  progress?: (bytes: number) => void;
  /** Input `index` of `count` is about to be read. */
  inputStart?: (index: number, count: number) => void;
  /** Asked after each batch of lines: a promise to wait for before reading on (output backpressure). */
  backpressure?: () => Promise<void> | undefined;
};

/** Reads inputs one after the other through one decoder: the embedded, single-process ingest. */
export async function decodeInputs(inputs: Input[], sinks: DecodeSinks, opts: DecoderOptions = {}): Promise<Decoder> {
  const decoder = new Decoder(sinks.event, sinks.deadLetter, opts);
  let bytes = 0;
  for (const [index, input] of inputs.entries()) {
    sinks.inputStart?.(index, inputs.length);
    let last = 0;
    for await (const batch of readLineBatches(input.open(), decoder.maxLineBytes)) {
      for (const l of batch) decoder.pushSource(input.ref, l);
      const wait = sinks.backpressure?.();
      if (wait) await wait;
      const at = batch.at(-1)!.offset;
      if (sinks.progress && at - last > 1 << 20) {
        sinks.progress(bytes + at);
        last = at;
      }
    }
    decoder.endInput(input.ref);
    bytes += input.size ?? 0;
  }
  decoder.end();
  return decoder;
}
