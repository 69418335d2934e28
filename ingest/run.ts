import type { DeadLetter } from './dead-letter.ts';
import type { DecoderOptions } from './decoder.ts';
import { Decoder } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { Input } from './sources/files.ts';
import { closeSync, openSync, readSync } from 'node:fs';
import { READ_CHUNK_BYTES, readLineBatches } from './sources/lines.ts';

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
    for await (const batch of readLineBatches(input.file === undefined ? input.open() : fileChunks(input.file), decoder.maxLineBytes)) {
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

/**
 * A plain file's bytes, read in the caller's thread. A stream's reads go to libuv's thread pool
 * and come back through the event loop: on a busy machine each of a large log's thousand reads
 * waited for that thread to be scheduled again (decode of the 166 MB capture, one core: 0.7 s of
 * its profile in `read`, the main thread waiting), and here nothing else runs meanwhile.
 */
function* fileChunks(path: string): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      // a new buffer per read: lines and their carried-over bytes may still refer to the last one
      const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
