import type { Draft } from '../readers/draft.ts';

/**
 * A kind of multi-line report (Go crash dump, kernel OOM report, hung-task report): how it starts,
 * which lines belong to it, and what it means once complete. Each kind is one file; the assembler
 * that feeds them lines is shared.
 */
export type BlockKind<R, S = unknown> = {
  name: string;
  /** Does this line open a report? */
  starts(text: string): boolean;
  /** Fresh per-report state (what has been seen so far), given the report's first line. */
  init(first: string): S;
  /**
   * Does this line continue the open report? 'end' = it belongs to the report and closes it;
   * 'no' = the report is over and this line is not part of it.
   */
  accepts(text: string, state: S): 'yes' | 'end' | 'no';
  /** Reads the lines of a finished report. `complete` is false when it was cut (limit or end of input). */
  finish(lines: string[], complete: boolean): R;
  /** The events a finished report stands for (most reports are one event; a `kubectl describe` is several). */
  drafts(result: R, complete: boolean): Draft[];
  /**
   * Lines the report holds that are lines of the input in their own right (a CLI's JSON output of
   * a log store's records: `{"events":[…]}`, a query's rows): the decoder reads each as a line of
   * the same input, at the report's line `line` (an index into its lines), instead of the drafts.
   */
  inner?(result: R): InnerLine[] | undefined;
};

export type InnerLine = { text: string; line: number };

export const MAX_BLOCK_LINES = 4000;
