import type { AlertLedger } from './plan.ts';

/** The alert ledger without Redis: the incidents alerted live in watch's state file (correlate/watch/state.ts). */
export class FileLedger implements AlertLedger {
  constructor(private readonly state: { firstAlert(id: string): boolean }) {}
  async first(id: string): Promise<boolean> {
    return this.state.firstAlert(id);
  }
}
