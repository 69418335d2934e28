import type { EventKind, NormalizedEvent, Source, TimeBasis } from '../event.ts';
import type { Nanos } from '../time/instant.ts';

type X = NormalizedEvent['exit137'];

/**
 * What a reader makes of a line or a block: the facts of one normalized event, without the parts
 * every event shares (id, host, envelope, position), which the decoder fills in. A reader is a
 * total function from text to drafts; it never builds a whole event, so a new input shape is one
 * reader module and its examples, and the decoder only dispatches.
 */
export type Draft = {
  kind: EventKind;
  /** The program that wrote it; undefined = from the envelope (syslog ident, journald unit). */
  source?: Source;
  action: string;
  /** `end` for what ends a process or a container (an exit, a kill, an OOM), else `info`. */
  type?: 'end' | 'info';
  message: string;
  /**
   * The instant the shape itself states for this fact (`Finished:` of a describe, `finishedAt`,
   * an event's own time), when it is not the line's: the decoder keeps it over the envelope's.
   */
  at?: { ns: Nanos; basis: TimeBasis; offsetMinutes?: number };
  container?: NonNullable<NormalizedEvent['container']>;
  orchestrator?: NonNullable<NormalizedEvent['orchestrator']>;
  process?: NonNullable<NormalizedEvent['process']>;
  level?: string;
  tags?: string[];
  message_id?: X['message_id'];
  fields?: X['fields'];
  signal?: X['signal'];
  target?: X['target'];
  exit?: X['exit'];
  grace_seconds?: X['grace_seconds'];
  crash?: X['crash'];
  oom?: X['oom'];
  hung_task?: X['hung_task'];
  memcg?: X['memcg'];
  state?: X['state'];
  processes?: X['processes'];
  related_ids?: X['related_ids'];
  /**
   * For a block's draft: the block's lines (indices) it stands for. The event takes the first
   * one's position and id and their text as its original, as a line of its own would: a table's
   * row is not the whole table, once per row.
   */
  lines?: { from: number; to: number };
};

/** A line reader's answer: drafts (often one), or why a line that looked like its shape is not. */
export type ReadResult = { ok: true; drafts: Draft[] } | { ok: false; reason: string; message: string };

/**
 * One single-line shape (a `docker ps -a` row, a CLI error, a `docker events` text line). `detect`
 * is cheap and runs on every line no other decoder took, so it should reject on the first
 * characters; `read` runs only on lines it accepted.
 */
export type LineReader = {
  name: string;
  detect(text: string): boolean;
  read(text: string): ReadResult;
};
