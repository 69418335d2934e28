import { setTimeout as sleep } from 'node:timers/promises';
import { deadLetter } from '../dead-letter.ts';
import type { FollowSink } from '../follow-run.ts';
import { BlockedTaskSampler } from './blocked-tasks.ts';
import { sampleMemcg } from './memcg.ts';

export type CollectOptions = { intervalSeconds: number; thresholdSeconds: number; procRoot: string; cgroupRoot: string; host?: string; once?: boolean };

/**
 * The node's live collectors on a timer: tasks blocked in state D and memory cgroup counts, as
 * events into the sink (the ingest worker's queue, or stdout for `exit137 collect`).
 */
export async function collectInto(sink: FollowSink, o: CollectOptions, signal: AbortSignal): Promise<void> {
  const sampler = new BlockedTaskSampler({ procRoot: o.procRoot, thresholdSeconds: o.thresholdSeconds, ...(o.host ? { host: o.host } : {}) });
  while (!signal.aborted) {
    for (const e of sampler.scan().events) sink.event(e);
    try {
      sink.event(sampleMemcg({ procRoot: o.procRoot, cgroupRoot: o.cgroupRoot, ...(o.host ? { host: o.host } : {}) }));
    } catch (e) {
      // a node without a memory controller still has blocked tasks worth reporting
      sink.deadLetter(deadLetter('memcg-unreadable', (e as Error).message, '', { input: o.cgroupRoot }));
    }
    await sink.durable();
    if (o.once) break;
    await sleep(o.intervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
  }
}
