import type { DeadLetter } from './dead-letter.ts';
import type { Decoder, InputRef } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { CommandSource } from './sources/commands.ts';
import { commandLines } from './sources/commands.ts';
import type { FollowPosition } from './sources/follow.ts';
import { PositionStore, followFile } from './sources/follow.ts';
import type { SourceLine } from './sources/lines.ts';
import { LineSplitter } from './sources/lines.ts';

export type FollowSinks = { event: (e: NormalizedEvent) => void; deadLetter: (d: DeadLetter) => void };

function feed(decoder: Decoder, ref: InputRef, l: SourceLine): void {
  if (l.kind === 'line') decoder.pushLine(ref, l.text, l.offset, l.lineNo);
  else if (l.kind === 'oversize') decoder.pushOversize(ref, l.head, l.length, l.offset, l.lineNo);
  else decoder.pushInvalidUtf8(ref, l.raw, l.offset, l.lineNo);
}

/**
 * Follows one file through the decoder; after each chunk's lines are decoded (and so handed to
 * the sinks), the position of the first line not yet complete is saved.
 */
export async function followInto(decoder: Decoder, path: string, ref: InputRef, positionFile: string | undefined, signal: AbortSignal): Promise<void> {
  const store = positionFile ? new PositionStore(positionFile) : undefined;
  let start: FollowPosition | undefined = await store?.load();
  let splitter: LineSplitter | undefined;
  let inode = -1;
  const out: SourceLine[] = [];
  for await (const c of followFile(path, start, { signal })) {
    if (c.inode !== inode || !splitter) {
      if (splitter) {
        splitter.end(out);
        for (const l of out) feed(decoder, ref, l);
        out.length = 0;
      }
      splitter = new LineSplitter(decoder.maxLineBytes, c.offset);
      inode = c.inode;
    }
    splitter.push(c.bytes, out);
    for (const l of out) feed(decoder, ref, l);
    out.length = 0;
    decoder.tick(BigInt(Date.now()) * 1_000_000n);
    start = { path, inode, offset: splitter.lineStart };
    await store?.save(start);
  }
}

/** A journald / docker / ctr event stream through the decoder, until the signal or the command ends. */
export async function commandInto(decoder: Decoder, src: CommandSource, signal: AbortSignal): Promise<void> {
  const ref: InputRef = { id: src.id, format: src.format };
  let n = 0;
  for await (const line of commandLines(src, signal)) decoder.pushLine(ref, line, n, ++n);
}
