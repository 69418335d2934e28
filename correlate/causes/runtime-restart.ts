import type { CauseModule } from '../context.ts';
import { S, mentions } from '../context.ts';

/** dockerd or containerd restarted around the death, without live-restore keeping containers up. */
export const runtimeRestart: CauseModule = {
  cause: 'runtime-restart',
  assess(ctx) {
    const start = ctx.evidence.find((e) => ['containerd-start', 'docker-start'].includes(e.exit137.message_id ?? '') && e.ns >= ctx.deathNs - 60n * S && e.ns <= ctx.deathNs + 10n * S);
    if (!start) return undefined;
    // Only a restart matters: the container must have been there before the engine (re)started.
    if (!ctx.evidence.some((e) => e.ns < start.ns && mentions(e, ctx.containerId))) return undefined;
    if (ctx.evidence.some((e) => e.exit137.message_id === 'docker-live-restore')) return undefined;
    return {
      cause: 'runtime-restart',
      confidence: 0.6,
      confidenceReason: `${start.exit137.source} (re)started within a minute of the death and no live-restore line was seen`,
      headline: `${start.exit137.source} restarted; containers were not kept running`,
      explanation: 'The container engine restarted. Without live-restore, dockerd stops or loses its containers when it goes down.',
      remedy: 'Enable live-restore in /etc/docker/daemon.json, and find why the engine restarted (upgrade, crash, OOM).',
      evidence: [{ event: start, role: 'the engine started' }],
      exitOrigin: 'unknown',
    };
  },
};
