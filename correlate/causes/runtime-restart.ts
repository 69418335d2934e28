import type { CauseModule, Finding } from '../context.ts';
import { S, mentions } from '../context.ts';

const STARTS = ['containerd-start', 'docker-start'];

/** dockerd or containerd restarted around the death, without live-restore keeping containers up. */
export const runtimeRestart: CauseModule = {
  cause: 'runtime-restart',
  // dockerd says why it stops the container: the stop is the restart's doing, whatever follows it
  opens: (e) => (e.exit137.message_id === 'docker-restore-shutdown' ? 'the engine came back and shut the container down' : undefined),
  assess(ctx) {
    const restore = ctx.evidence.find((e) => e.exit137.message_id === 'docker-restore-shutdown' && mentions(e, ctx.containerId) && e.ns <= ctx.deathNs + 60n * S && e.ns >= ctx.deathNs - 60n * S);
    const start = ctx.evidence.find((e) => STARTS.includes(e.exit137.message_id ?? '') && e.ns >= ctx.deathNs - 60n * S && e.ns <= ctx.deathNs + 10n * S);
    if (restore) {
      const evidence: Finding['evidence'] = [];
      if (start) evidence.push({ event: start, role: 'the engine started again' });
      evidence.push({ event: restore, role: 'it shut down the container it found still running (no live-restore)' });
      return {
        cause: 'runtime-restart',
        subCause: 'docker-restart',
        // above the stop timeout it causes: the stop's own reason is the restart
        confidence: 0.92,
        confidenceReason: 'dockerd, back up without live-restore, says it shut this container down',
        headline: 'dockerd restarted without live-restore and shut the container down (SIGTERM, then SIGKILL after the grace period)',
        explanation: 'dockerd went down (a crash, an upgrade, a restart) while containerd kept the container running. Coming back up without live-restore, dockerd stops every container it finds still alive; an application that does not exit on SIGTERM within its stop timeout is SIGKILLed.',
        remedy: 'Enable live-restore in /etc/docker/daemon.json so containers survive an engine restart, and find why dockerd restarted.',
        evidence,
        exitOrigin: 'signal',
      };
    }
    if (!start) return undefined;
    // Only a restart matters: the container must have been there before the engine (re)started.
    if (!ctx.evidence.some((e) => e.ns < start.ns && mentions(e, ctx.containerId))) return undefined;
    if (ctx.evidence.some((e) => e.exit137.message_id === 'docker-live-restore')) return undefined;
    return {
      cause: 'runtime-restart',
      subCause: start.exit137.message_id === 'docker-start' ? 'docker-restart' : 'containerd-restart',
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
