import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { PositionSaver } from '../../ingest/follow-run.ts';
import type { SlackMessage } from '../../sinks/slack/message.ts';
import type { CorrelatorState } from './engine.ts';

export const STATE_FILE = 'watch-state.json';

/** A verdict's line not yet printed, a Slack message not yet delivered: written down before either is done. */
export type Pending = { prints: { incident: string; line: string }[]; slack: { id: string; message: SlackMessage }[] };

type StateData = {
  version: 1;
  /** Each source's position: a file's (inode, offset, time there), a journal cursor, a docker event time. */
  positions: Record<string, unknown>;
  correlator: CorrelatorState;
  /** Incidents alerted to Slack, with when: the ledger (sinks/slack/plan.ts AlertLedger). */
  alerted: Record<string, number>;
  pending: Pending;
};

const ALERTED_MS = 7 * 86_400_000;

/**
 * Everything `watch` must not lose or repeat, in one file under EXIT137_STATE_DIR: positions, the
 * evidence of open incidents, the deaths decided, the incidents alerted, and what is still to be
 * printed or sent. It is replaced whole (write-file-atomic: a temporary file, fsync, rename), from
 * one synchronous snapshot, so a kill -9 leaves either the state before or the state after. A
 * position in the file never runs ahead of the evidence in it: positions are taken only after the
 * decoder handed over every event before them, and both are serialized in the same instant.
 */
export class WatchState {
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, private readonly data: StateData) {}

  static async load(dir: string): Promise<WatchState> {
    const path = join(dir, STATE_FILE);
    let data: StateData;
    try {
      data = JSON.parse(await readFile(path, 'utf8')) as StateData;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`state file ${path} is unreadable: ${(e as Error).message}`);
      data = { version: 1, positions: {}, correlator: { evidence: [], buckets: [], decided: [] }, alerted: {}, pending: { prints: [], slack: [] } };
    }
    return new WatchState(path, data);
  }

  get fresh(): boolean {
    return Object.keys(this.data.positions).length === 0;
  }

  get correlator(): CorrelatorState {
    return this.data.correlator;
  }

  get pending(): Pending {
    return this.data.pending;
  }

  /** A source's position, kept here and written with the rest. */
  positions<P>(key: string): PositionSaver<P> {
    return {
      load: async () => this.data.positions[key] as P | undefined,
      save: async (p: P) => {
        if (JSON.stringify(this.data.positions[key]) === JSON.stringify(p)) return;
        this.data.positions[key] = p;
        this.dirty = true;
      },
    };
  }

  /** true the first time an incident is alerted (the Slack planner's ledger, kept in this file). */
  firstAlert(id: string, nowMs = Date.now()): boolean {
    if (this.data.alerted[id] !== undefined) return false;
    this.data.alerted[id] = nowMs;
    this.dirty = true;
    for (const [k, at] of Object.entries(this.data.alerted)) if (nowMs - at > ALERTED_MS) delete this.data.alerted[k];
    return true;
  }

  touch(): void {
    this.dirty = true;
  }

  /** Writes the state if it changed; `snapshot` gives the live parts (the correlator) at this instant. */
  flush(snapshot: () => CorrelatorState, force = false): Promise<void> {
    if (!this.dirty && !force) return this.writing;
    this.dirty = false;
    this.data.correlator = snapshot();
    const text = JSON.stringify(this.data);
    // one write at a time, in order: a later snapshot never lands before an earlier one
    this.writing = this.writing.then(() => writeFileAtomic(this.path, text));
    return this.writing;
  }
}
