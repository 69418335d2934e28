import type { DeadLetter } from './dead-letter.ts';
import type { Decoder, InputRef } from './decoder.ts';
import type { NormalizedEvent } from './event.ts';
import type { CommandSource, Resumable } from './sources/commands.ts';
import { commandLines } from './sources/commands.ts';
import type { FollowPosition } from './sources/follow.ts';
import { followFile } from './sources/follow.ts';
import type { SourceLine } from './sources/lines.ts';
import { LineSplitter } from './sources/lines.ts';

/**
 * Where a follower's events go. `durable()` resolves once everything handed over so far is safe
 * downstream (written out, or acknowledged by Redis); only then may a position be saved, so a
 * crash can repeat lines but never skip them. `backlogged` asks the reader to wait for that
 * before reading on: backpressure, never dropping.
 */
export interface FollowSink {
  event(e: NormalizedEvent): void;
  deadLetter(d: DeadLetter): void;
  readonly backlogged: boolean;
  durable(): Promise<void>;
}

/** A persisted position of some kind (file offset, journal cursor, event time). */
export interface PositionSaver<P> {
  load(): Promise<P | undefined>;
  save(p: P): Promise<void>;
}

type Generation = { ref: InputRef; inode: number; splitter: LineSplitter };

/**
 * Follows one file through the decoder into the sink. The position saved is the start of the
 * earliest line that must be read again: the line in progress, or the first line the decoder
 * still holds, possibly in the generation before a rotation; with it, the time in effect there.
 */
export async function followInto(decoder: Decoder, path: string, base: InputRef, sink: FollowSink, opts: { positions?: PositionSaver<FollowPosition>; signal: AbortSignal; pollMs?: number }): Promise<void> {
  const start = await opts.positions?.load();
  let cur: Generation | undefined;
  let prev: Generation | undefined;
  let generation = 0;
  const out: SourceLine[] = [];
  const drain = (g: Generation) => {
    for (const l of out) decoder.pushSource(g.ref, l);
    out.length = 0;
  };

  const position = (): FollowPosition | undefined => {
    if (prev) {
      const r = decoder.resumePoint(prev.ref.id);
      if (r.offset !== undefined) return withStamp({ path, inode: prev.inode, offset: r.offset }, r.stamp);
      prev = undefined;
    }
    if (!cur) return undefined;
    const r = decoder.resumePoint(cur.ref.id);
    return withStamp({ path, inode: cur.inode, offset: r.offset === undefined ? cur.splitter.lineStart : Math.min(r.offset, cur.splitter.lineStart) }, r.stamp);
  };

  const followOpts: { signal: AbortSignal; pollMs?: number } = { signal: opts.signal };
  if (opts.pollMs !== undefined) followOpts.pollMs = opts.pollMs;
  for await (const c of followFile(path, start, followOpts)) {
    // A new generation: another inode (rotation), or the same one read from an earlier offset (copytruncate).
    if (!cur || c.inode !== cur.inode || (c.bytes.length > 0 && c.offset !== cur.splitter.offset)) {
      if (cur) {
        cur.splitter.end(out);
        drain(cur);
        decoder.endInput(cur.ref);
        prev = cur;
      }
      const ref: InputRef = { ...base, id: `${base.id}#${c.inode}.${generation++}` };
      if (c.key) ref.key = c.key;
      // resuming mid-file: lines without a time of their own take the one saved with the position
      if (start?.stamp && start.inode === c.inode && start.offset === c.offset) decoder.primeInput(ref, start.stamp);
      cur = { ref, inode: c.inode, splitter: new LineSplitter(decoder.maxLineBytes, c.offset) };
    }
    if (c.bytes.length > 0) {
      cur.splitter.push(c.bytes, out);
      drain(cur);
    }
    // Caught up: whatever the decoder holds has waited in real time, not just in log time.
    if (c.idle) decoder.tick();
    if (c.idle || sink.backlogged) {
      const p = position();
      await sink.durable();
      if (p) await opts.positions?.save(p);
    }
  }
  await sink.durable();
}

/**
 * A journald / docker / ctr event stream through the decoder into the sink. With a resume token,
 * the token saved is that of the last line before the earliest one the decoder still holds.
 */
export async function commandInto(decoder: Decoder, src: CommandSource | Resumable, sink: FollowSink, opts: { positions?: PositionSaver<string>; signal: AbortSignal; idleMs?: number }): Promise<void> {
  const resumable = 'from' in src ? src : undefined;
  const saved = resumable ? await opts.positions?.load() : undefined;
  const command = resumable ? resumable.from(saved) : (src as CommandSource);
  // a command that can only start over (dmesg --follow) has its lines up to the saved one skipped
  let passed = saved === undefined || !resumable?.isAfter;
  const ref: InputRef = { id: command.id, format: command.format };
  // tokens of lines since the last save, by line number: a held line keeps its predecessor's token
  let tokens: { n: number; token: string }[] = [];
  let n = 0;
  const save = async () => {
    const held = decoder.resumePoint(ref.id).offset;
    let keep: { n: number; token: string } | undefined;
    for (const t of tokens) if (held === undefined || t.n < held) keep = t;
    await sink.durable();
    if (keep && resumable) {
      await opts.positions?.save(keep.token);
      tokens = tokens.filter((t) => t.n > keep.n);
    }
  };
  for await (const item of withIdle(commandLines(command, opts.signal), opts.idleMs ?? 250)) {
    if (item === IDLE) {
      decoder.tick();
      await save();
      continue;
    }
    const token = resumable?.of(item);
    if (!passed) {
      if (token === undefined || !resumable!.isAfter!(token, saved!)) continue;
      passed = true;
    }
    // the line number is the offset: the decoder's held offsets are line numbers here
    decoder.pushLine(ref, item, n, n + 1);
    if (token !== undefined) tokens.push({ n, token });
    n++;
    if (sink.backlogged) await save();
  }
  await save();
}

const IDLE = Symbol('idle');

/** The iterator's items, and IDLE whenever none came for `ms`. */
async function* withIdle<T>(it: AsyncIterable<T>, ms: number): AsyncGenerator<T | typeof IDLE> {
  const iter = it[Symbol.asyncIterator]();
  let next = iter.next();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<typeof IDLE>((r) => {
      timer = setTimeout(() => r(IDLE), ms);
    });
    const r = await Promise.race([next, idle]);
    clearTimeout(timer);
    if (r === IDLE) {
      yield IDLE;
      continue;
    }
    if (r.done) return;
    next = iter.next();
    yield r.value;
  }
}

function withStamp(p: FollowPosition, stamp: FollowPosition['stamp']): FollowPosition {
  return stamp ? { ...p, stamp } : p;
}
