import type { Attribution, Cause } from '../../correlate/verdict.ts';

export type AlertPolicy = {
  /** Causes worth a message (default: every attributed cause, not `unknown`). */
  causes?: Cause[];
  minConfidence: number;
  /** This many deaths of one cause on one node within the window become one digest. */
  nodeStorm: number;
  /** This many of one cause across nodes within the window become one fleet digest. */
  fleetStorm: number;
  windowSeconds: number;
};

export const DEFAULT_POLICY: AlertPolicy = { minConfidence: 0.6, nodeStorm: 5, fleetStorm: 20, windowSeconds: 300 };

/** Remembers which incidents were already alerted, so a re-attribution or a replay never alerts twice. */
export interface AlertLedger {
  /** true the first time an id is seen, false ever after. */
  first(id: string): Promise<boolean>;
}

export class MemoryLedger implements AlertLedger {
  private readonly seen = new Set<string>();
  async first(id: string): Promise<boolean> {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    return true;
  }
}

export type Planned = { kind: 'alert'; verdict: Attribution } | { kind: 'digest'; scope: string; verdicts: Attribution[] };

/** Which verdicts to send, one by one or folded into storm digests. */
export async function planAlerts(verdicts: Attribution[], ledger: AlertLedger, policy: AlertPolicy = DEFAULT_POLICY): Promise<Planned[]> {
  const eligible: Attribution[] = [];
  for (const v of verdicts) {
    if ((v.cause === 'unknown' || v.cause === 'normal-exit') && !policy.causes?.includes(v.cause)) continue;
    if (policy.causes && !policy.causes.includes(v.cause)) continue;
    if (v.confidence < policy.minConfidence) continue;
    if (await ledger.first(v.incident_id)) eligible.push(v);
  }
  const windowMs = policy.windowSeconds * 1000;
  const bucket = (v: Attribution) => Math.floor(Date.parse(v.died_at.slice(0, 23) + 'Z') / windowMs);
  const groups = new Map<string, Attribution[]>();
  for (const v of eligible) {
    const k = `${v.cause}\0${bucket(v)}`;
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  const out: Planned[] = [];
  for (const list of groups.values()) {
    const hosts = new Set(list.map((v) => v.host));
    if (list.length >= policy.fleetStorm && hosts.size > 1) {
      out.push({ kind: 'digest', scope: 'fleet', verdicts: list });
      continue;
    }
    for (const host of hosts) {
      const mine = list.filter((v) => v.host === host);
      if (mine.length >= policy.nodeStorm) out.push({ kind: 'digest', scope: host, verdicts: mine });
      else for (const v of mine) out.push({ kind: 'alert', verdict: v });
    }
  }
  return out;
}
