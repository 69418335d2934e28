import { shortFrameName } from '../../ingest/blocks/go-crash.ts';
import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { S, describeSender, isRuntimeProcess, killsContainer, mentions, senderOf, withRoles } from '../context.ts';
import { matchKnownBugs } from '../known-bugs.ts';

/** containerd says the shim is gone before the task exited: v1 wordings always, v2 ones only by order. */
const SHIM_GONE_V1 = new Set(['shim-dead-cleanup', 'shim-dead-cleanup-failed']);
const SHIM_GONE_V2 = new Set(['shim-disconnected', 'shim-disconnected-cleanup', 'dead-shim-cleanup', 'shim-disconnected-cleanup-failed', 'ttrpc-closed']);
const EXIT_IDS = new Set(['task-exit-received', 'container-die', 'container-tasks-exit', 'kubelet-container-finished']);

function exitOf(e: Ev): boolean {
  return EXIT_IDS.has(e.exit137.message_id ?? e.event.action) && e.exit137.exit !== undefined;
}

/**
 * The shim died (crashed or was killed) and containerd's cleanup ended the container:
 * `runc delete --force` SIGKILLs the init, or containerd reports 137 with no signal at all.
 */
export const shimDeath: CauseModule = {
  cause: 'shim-death',
  assess(ctx: IncidentContext): Finding | undefined {
    const mine = ctx.evidence.filter((e) => mentions(e, ctx.containerId));
    const firstExit = mine.find(exitOf);
    // Cause before consequence: a shim line after the container already exited is the normal teardown.
    const before = (e: Ev) => !firstExit || e.ns <= firstExit.ns;
    const gone = mine.find((e) => (SHIM_GONE_V1.has(e.exit137.message_id ?? '') || SHIM_GONE_V2.has(e.exit137.message_id ?? '')) && before(e));
    if (gone && firstExit && firstExit.exit137.exit!.code !== 137 && !SHIM_GONE_V1.has(gone.exit137.message_id ?? '')) return undefined;
    const reaped = mine.find((e) => e.exit137.message_id === 'shim-reaped' && before(e));
    const cleanupKill = ctx.evidence.find(
      (e) => killsContainer(e, ctx) && isRuntimeProcess(e.process?.executable, e.process?.name) && (e.process?.args ?? []).includes('delete'),
    );
    if (!gone && !cleanupKill) return undefined;
    const anchor = gone ?? cleanupKill!;
    const crash = ctx.evidence.filter((e) => e.exit137.kind === 'go-crash' && e.ns <= anchor.ns + S && e.ns >= anchor.ns - 10n * S).at(-1);
    const shimKill = ctx.evidence.find(
      (e) => e.exit137.kind === 'audit-signal' && /^containerd-shi/.test(e.exit137.target?.process.name ?? '') && e.ns <= anchor.ns + S && e.ns >= anchor.ns - 10n * S,
    );

    const evidence = withRoles([
      [crash, 'the shim’s crash dump'],
      [shimKill, 'the shim itself was killed'],
      [reaped, 'containerd saw the v1 shim exit'],
      [gone, 'containerd cleans up after the dead shim, before the container exited'],
      [cleanupKill, 'the runtime’s force-delete SIGKILLed the container’s init'],
      [firstExit, 'the exit status containerd reported'],
    ]);

    let subCause: string;
    let confidence: number;
    let why: string;
    let headline: string;
    const bugs = matchKnownBugs(crash?.exit137.crash);
    const c = crash?.exit137.crash;
    const frame = c?.top_frame ? `${shortFrameName(c.top_frame.func)}${c.top_frame.file ? ` (${c.top_frame.file.split('/').pop()}:${c.top_frame.line})` : ''}` : undefined;
    if (crash && gone) {
      subCause = 'shim-crashed';
      confidence = 0.95;
      why = 'a Go crash dump from the shim, then containerd’s dead-shim cleanup for this container';
      headline = `containerd-shim crashed (${c!.headline.replace(/^panic: /, '')}${frame ? ` in ${frame}` : ''}); containerd’s cleanup killed the container`;
    } else if (shimKill && gone) {
      subCause = 'shim-killed';
      confidence = 0.95;
      why = 'an audited SIGKILL of the shim, then containerd’s dead-shim cleanup';
      headline = `the containerd-shim was killed by ${describeSender(senderOf(shimKill))}; containerd’s cleanup killed the container`;
    } else if (gone && cleanupKill) {
      subCause = 'shim-died';
      confidence = 0.85;
      why = 'containerd’s dead-shim cleanup line and the runtime’s force-delete SIGKILL in the audit log';
      headline = `the shim died; ${cleanupKill.process?.executable?.split('/').pop() ?? cleanupKill.process?.name ?? 'the runtime'} delete --force SIGKILLed the container during containerd’s cleanup`;
    } else if (gone) {
      subCause = 'shim-died';
      confidence = 0.7;
      why = 'containerd’s dead-shim cleanup came before the exit; no crash dump (shim debug off?) and no kill record';
      headline = 'the shim died before the container exited; containerd’s cleanup ended it';
    } else {
      subCause = 'runtime-force-delete';
      confidence = 0.6;
      why = 'only the audit record: a runtime `delete --force` SIGKILL, which containerd issues when it cleans up after a dead shim';
      headline = `${cleanupKill!.process?.executable ?? 'the runtime'} delete --force SIGKILLed the container (cleanup after the shim died)`;
    }
    const finding: Finding = {
      cause: 'shim-death',
      subCause,
      confidence,
      confidenceReason: why,
      headline,
      explanation:
        'Each container has a containerd-shim that holds its state. When the shim dies, containerd cleans up: it runs the OCI runtime’s `delete --force`, which SIGKILLs the container’s init, and publishes the exit itself' +
        (cleanupKill ? '.' : ' — a 137 reported this way may have no signal behind it (runtime-synthesised).') +
        ' The application did nothing wrong.',
      remedy: bugs.length
        ? `Upgrade containerd: ${bugs.map((b) => `${b.title} — fixed in ${b.fixed_in}`).join('; ')}. Until then, reduce the trigger (e.g. frequent docker exec / exec probes).`
        : 'Find why the shim died: run containerd with shim debug logging (v1: shim_debug = true) so a shim panic reaches containerd’s log, and enable core dumps (GOTRACEBACK=crash); check for an OOM or a kill of the shim process; upgrade containerd.',
      evidence,
      exitOrigin: cleanupKill ? 'signal' : firstExit?.exit137.exit?.code === 137 ? 'runtime-synthesised' : 'unknown',
    };
    if (cleanupKill) {
      finding.killer = senderOf(cleanupKill);
      finding.signal = 'SIGKILL';
    }
    if (c) {
      finding.crash = { headline: c.headline };
      if (c.top_frame) finding.crash.top_frame = c.top_frame.func;
      if (c.top_frame?.file) finding.crash.file = `${c.top_frame.file}:${c.top_frame.line}`;
    }
    if (bugs.length) finding.knownBugs = bugs;
    return finding;
  },
};
