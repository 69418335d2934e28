import type { Readable } from 'node:stream';

/**
 * One line of an input with the byte offset where it starts, so a position can be persisted and
 * an event id derived from it. Lines over the limit are not buffered whole: only their head is kept.
 */
export type SourceLine =
  | { kind: 'line'; text: string; offset: number; lineNo: number }
  | { kind: 'oversize'; head: Buffer; length: number; offset: number; lineNo: number }
  | { kind: 'invalid-utf8'; raw: Buffer; offset: number; lineNo: number };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits a byte stream into lines (LF or CRLF). split2 would do the splitting but gives no byte
 * offsets and drops over-long lines silently (skipOverflow); both matter here.
 */
export async function* readLines(stream: Readable | AsyncIterable<Buffer> | Iterable<Buffer>, maxLineBytes: number, startOffset = 0): AsyncGenerator<SourceLine> {
  let carry: Buffer[] = [];
  let carryLen = 0;
  let offset = startOffset;
  let lineNo = 0;
  let oversize: { head: Buffer; length: number; offset: number } | undefined;

  const finishLine = (parts: Buffer[], len: number, lineStart: number): SourceLine => {
    lineNo++;
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, len);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    try {
      return { kind: 'line', text: decoder.decode(buf), offset: lineStart, lineNo };
    } catch {
      return { kind: 'invalid-utf8', raw: Buffer.from(buf), offset: lineStart, lineNo };
    }
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (oversize) {
        oversize.length += piece.length;
      } else if (carryLen + piece.length > maxLineBytes) {
        const head = Buffer.concat([...carry, piece]).subarray(0, Math.min(4096, maxLineBytes));
        oversize = { head: Buffer.from(head), length: carryLen + piece.length, offset: offset - carryLen };
        carry = [];
        carryLen = 0;
      } else if (piece.length > 0) {
        // Copy: the chunk's memory is reused by the stream.
        carry.push(nl < 0 ? Buffer.from(piece) : piece);
        carryLen += piece.length;
      }
      offset += piece.length;
      if (nl < 0) break;
      offset += 1;
      if (oversize) {
        lineNo++;
        yield { kind: 'oversize', head: oversize.head, length: oversize.length, offset: oversize.offset, lineNo };
        oversize = undefined;
      } else {
        yield finishLine(carry, carryLen, offset - 1 - carryLen);
        carry = [];
        carryLen = 0;
      }
      start = nl + 1;
    }
  }
  if (oversize) {
    lineNo++;
    yield { kind: 'oversize', head: oversize.head, length: oversize.length, offset: oversize.offset, lineNo };
  } else if (carryLen > 0) {
    yield finishLine(carry, carryLen, offset - carryLen);
  }
}
