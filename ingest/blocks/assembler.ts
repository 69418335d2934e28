import type { BlockKind, InnerLine } from './block.ts';
import { MAX_BLOCK_LINES } from './block.ts';
import type { Draft } from '../readers/draft.ts';

export type BlockLine<C> = { text: string; ctx: C };
export type FinishedBlock<C> = { kind: string; result: unknown; drafts: Draft[]; lines: BlockLine<C>[]; complete: boolean; cut: boolean; inner?: InnerLine[] };

type Open<C> = { kind: BlockKind<unknown, unknown>; state: unknown; lines: BlockLine<C>[]; touchedAt: number };

/**
 * Assembles multi-line reports per stream (a stream = one program on one node in one input), so a
 * panic interleaved with another program's lines still comes out whole. Bounded: a report that
 * never ends is cut at MAX_BLOCK_LINES and reported as cut.
 */
export class BlockAssembler<C> {
  private readonly open = new Map<string, Open<C>>();

  constructor(
    private readonly kinds: BlockKind<unknown, unknown>[],
    private readonly maxLines = MAX_BLOCK_LINES,
    /** Wall clock in ms, for `expire` (a parameter so tests control time). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Offers a line. Returns the reports this line finished, and whether the line was taken into a
   * report (if not, the caller decodes it as a single line).
   */
  push(stream: string, text: string, ctx: C): { taken: boolean; finished: FinishedBlock<C>[] } {
    const finished: FinishedBlock<C>[] = [];
    const cur = this.open.get(stream);
    if (cur) {
      const verdict = cur.kind.accepts(text, cur.state);
      if (verdict !== 'no') {
        cur.lines.push({ text, ctx });
        cur.touchedAt = this.now();
        if (verdict === 'end') {
          this.open.delete(stream);
          finished.push(this.finish(cur, true, false));
        } else if (cur.lines.length >= this.maxLines) {
          this.open.delete(stream);
          finished.push(this.finish(cur, false, true));
        }
        return { taken: true, finished };
      }
      this.open.delete(stream);
      finished.push(this.finish(cur, true, false));
    }
    for (const kind of this.kinds) {
      if (kind.starts(text)) {
        this.open.set(stream, { kind, state: kind.init(text), lines: [{ text, ctx }], touchedAt: this.now() });
        return { taken: true, finished };
      }
    }
    return { taken: false, finished };
  }

  /** The stream moved on to something that is not a report line: finish its open report. */
  close(stream: string): FinishedBlock<C>[] {
    const cur = this.open.get(stream);
    if (!cur) return [];
    this.open.delete(stream);
    return [this.finish(cur, true, false)];
  }

  /**
   * For followers: reports whose last line came more than `idleMs` ago are finished as they
   * stand. A kernel or a crashing program writes a report at once; one left open at the end of
   * what has been written would otherwise wait for a next line that may not come for hours.
   */
  expire(idleMs: number): FinishedBlock<C>[] {
    const cutoff = this.now() - idleMs;
    return this.flushStreams((stream) => this.open.get(stream)!.touchedAt < cutoff);
  }

  /** One input ended: its streams' open reports are finished as they stand. */
  flushStreams(belongs: (stream: string) => boolean): FinishedBlock<C>[] {
    const out: FinishedBlock<C>[] = [];
    for (const [k, o] of this.open) {
      if (!belongs(k)) continue;
      this.open.delete(k);
      out.push(this.finish(o, false, false));
    }
    return out;
  }

  /** End of input: whatever is open is finished as it stands. */
  flush(): FinishedBlock<C>[] {
    const out = [...this.open.values()].map((o) => this.finish(o, false, false));
    this.open.clear();
    return out;
  }

  /** The first line's context of each report still open. */
  *openFirsts(): Iterable<C> {
    for (const o of this.open.values()) yield o.lines[0]!.ctx;
  }

  isOpen(stream: string): boolean {
    return this.open.has(stream);
  }

  get openCount(): number {
    return this.open.size;
  }

  private finish(o: Open<C>, complete: boolean, cut: boolean): FinishedBlock<C> {
    const texts = o.lines.map((l) => l.text);
    const result = o.kind.finish(texts, complete);
    const inner = o.kind.inner?.(result);
    if (inner?.length) return { kind: o.kind.name, result, drafts: [], lines: o.lines, complete, cut, inner };
    return { kind: o.kind.name, result, drafts: o.kind.drafts(result, complete), lines: o.lines, complete, cut };
  }
}
