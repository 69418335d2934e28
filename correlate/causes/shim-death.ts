import { shortFrameName } from '../../ingest/blocks/go-crash.ts';
import type { GoCrash } from '../../ingest/event.ts';
import type { CauseModule, Ev, Finding, IncidentContext } from '../context.ts';
import { NO_CONTAINER, S, describeSender, isRuntimeProcess, killsContainer, mentions, senderOf, withRoles } from '../context.ts';
import { matchKnownBugs } from '../known-bugs.ts';
import { isStopEscalation, isStopRequest } from './stop-timeout.ts';
import { isTypedShimKill } from './typed-kill.ts';

/** containerd says the shim is gone before the task exited: v1 wordings always, v2 ones only by order. */
const SHIM_GONE_V1 = new Set(['shim-dead-cleanup', 'shim-dead-cleanup-failed']);
const SHIM_GONE_V2 = new Set(['shim-disconnected', 'shim-disconnected-cleanup', 'dead-shim-cleanup', 'shim-disconnected-cleanup-failed', 'ttrpc-closed']);
const EXIT_IDS = new Set(['task-exit-received', 'container-die', 'container-tasks-exit', 'kubelet-container-finished']);

/** The connection to a shim closed in the middle of a call (start, exec, kill): the shim died under it. */
function ttrpcClosed(e: Ev): boolean {
  const id = e.exit137.message_id;
  if (id === 'ttrpc-closed') return true;
  return id === 'cri-start-failed' && /ttrpc: closed/.test(`${e.exit137.fields?.error ?? ''} ${e.message ?? ''}`);
}

/** Frames only a shim runs: the v1 shim, the runc v2 shim's service, their binaries' mains. */
const SHIM_FRAMES = /runtime\/v1\/shim|runtime\/v2\/runc|containerd-shim|cmd\/containerd-shim|pkg\/shim|shim\.\(\*[sS]ervice\)|runc\/v[12]\.\(\*service\)|task\.\(\*service\)\.(Start|Create|Stats|Exec|Kill|Delete)/;

export function isShimCrash(c: GoCrash | undefined): boolean {
  if (!c) return false;
  return c.frames.some((f) => SHIM_FRAMES.test(f.func) || SHIM_FRAMES.test(f.file ?? ''));
}

/** The task's deletion: it follows an exit that containerd already processed, whatever the exit's own line. */
const DELETE_IDS = new Set(['docker-task-delete-ignored', 'container-tasks-delete', 'container-destroy']);
/**
 * dockerd logs containerd's TaskDelete a little after containerd logs the shim going away (two
 * processes, two clocks): a delete this close after the shim line still came first.
 */
const CROSS_DAEMON_SKEW_NS = 50_000_000n;

function exitOf(e: Ev): boolean {
  return EXIT_IDS.has(e.exit137.message_id ?? e.event.action) && e.exit137.exit !== undefined;
}

/** The container's end as containerd and dockerd saw it: its exit, or the deletion that only follows one. */
export function endOf(mine: Ev[]): Ev | undefined {
  return mine.find((e) => exitOf(e) || DELETE_IDS.has(e.exit137.message_id ?? e.event.action));
}

/** A stop was asked before the shim went away, and nothing escalated it to SIGKILL. */
export function stoppedInOrder(mine: Ev[], gone: Ev): boolean {
  const request = mine.find((e) => isStopRequest(e) && e.ns <= gone.ns && gone.ns - e.ns <= 900n * S);
  return request !== undefined && !mine.some((e) => isStopEscalation(e) && e.ns >= request.ns && e.ns <= gone.ns);
}

/** A line that says the connection to a v2 shim closed (also said after every normal exit). */
export function isShimGoneV2(e: Ev): boolean {
  return SHIM_GONE_V2.has(e.exit137.message_id ?? '');
}

/**
 * The shim died (crashed or was killed) and containerd's cleanup ended the container:
 * `runc delete --force` SIGKILLs the init, or containerd reports 137 with no signal at all.
 */
export const shimDeath: CauseModule = {
  cause: 'shim-death',
  opens(e) {
    if (SHIM_GONE_V1.has(e.exit137.message_id ?? '')) return 'shim death';
    // also said after every normal exit: opened here, told apart by order in assess (or normal-exit)
    if (e.exit137.message_id === 'shim-disconnected') return 'the shim went away';
    // a crash dump whose frames are a shim's stands for a dead shim even when no line names its container
    if (e.exit137.kind === 'go-crash' && (e.shimCrash || isShimCrash(e.exit137.crash))) return 'a containerd shim crashed';
    if (ttrpcClosed(e)) return 'the shim’s connection closed mid-call';
    if (e.exit137.message_id === 'shim-usage-exit') return 'a shim refused its arguments and exited';
    if (isTypedShimKill(e)) return 'a containerd-shim SIGKILLed from a shell';
    return undefined;
  },
  assess(ctx: IncidentContext): Finding | undefined {
    const mine = ctx.evidence.filter((e) => mentions(e, ctx.containerId));
    const firstExit = mine.find(exitOf);
    const end = endOf(mine);
    // Cause before consequence: a shim line after the container already exited (or was deleted,
    // which only follows an exit) is the normal teardown.
    const before = (e: Ev) => (!firstExit || e.ns <= firstExit.ns) && (!end || SHIM_GONE_V1.has(e.exit137.message_id ?? '') || e.ns + CROSS_DAEMON_SKEW_NS < end.ns);
    const gone = mine.find((e) => (SHIM_GONE_V1.has(e.exit137.message_id ?? '') || SHIM_GONE_V2.has(e.exit137.message_id ?? '')) && before(e));
    if (gone && firstExit && firstExit.exit137.exit!.code !== 137 && !SHIM_GONE_V1.has(gone.exit137.message_id ?? '')) return undefined;
    const reaped = mine.find((e) => e.exit137.message_id === 'shim-reaped' && before(e));
    const cleanupKill = ctx.evidence.find(
      (e) => killsContainer(e, ctx) && isRuntimeProcess(e.process?.executable, e.process?.name) && (e.process?.args ?? []).includes('delete'),
    );
    // a shim's own crash dump, even with nothing after it in the input (the excerpt ends at the panic)
    const ownCrash = ctx.evidence.find((e) => e.exit137.kind === 'go-crash' && (e.shimCrash || isShimCrash(e.exit137.crash)) && e.ns >= ctx.deathNs - 10n * S && e.ns <= ctx.deathNs + S);
    // a person's `kill -9 <shim pid>` in a pasted terminal session, the pid a listing showed as this container's shim
    const typedKill = mine.find((e) => isTypedShimKill(e) && e.ns >= ctx.deathNs - 10n * S && e.ns <= ctx.deathNs + S);
    if (!gone && !cleanupKill && !ownCrash && typedKill) return killedAtShell(typedKill);
    if (!gone && !cleanupKill && !ownCrash) {
      const midCall = mine.find((e) => ttrpcClosed(e) && e.ns >= ctx.deathNs - 10n * S && e.ns <= ctx.deathNs + S);
      if (midCall) return lostMidCall(midCall);
      const refused = mine.find((e) => e.exit137.message_id === 'shim-usage-exit' && e.ns >= ctx.deathNs - 10n * S && e.ns <= ctx.deathNs + S);
      if (refused) return refusedArguments(refused);
      return undefined;
    }
    const anchor = gone ?? cleanupKill ?? ownCrash!;
    const crash = ctx.evidence.filter((e) => e.exit137.kind === 'go-crash' && e.ns <= anchor.ns + S && e.ns >= anchor.ns - 10n * S).at(-1);
    const shimKill = ctx.evidence.find(
      (e) => (e.exit137.kind === 'audit-signal' || isTypedShimKill(e)) && /^containerd-shi/.test(e.exit137.target?.process.name ?? '') && e.ns <= anchor.ns + S && e.ns >= anchor.ns - 10n * S,
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
    } else if (crash && !gone && !cleanupKill) {
      subCause = 'shim-crashed';
      // the frames say it was a shim; which container, and that containerd cleaned up, the input does not say
      confidence = ctx.containerId === NO_CONTAINER ? 0.6 : 0.7;
      why = 'a Go crash dump whose frames are a containerd shim’s; no cleanup or exit line in the input';
      headline = `a containerd shim crashed (${c!.headline.replace(/^panic: /, '')}${frame ? ` in ${frame}` : ''}): its container died with it`;
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
    } else if (gone && SHIM_GONE_V2.has(gone.exit137.message_id ?? '') && !firstExit && stoppedInOrder(mine, gone)) {
      // asked to stop, and the shim went away inside the grace period with no SIGKILL: an orderly stop
      return undefined;
    } else if (gone && SHIM_GONE_V2.has(gone.exit137.message_id ?? '') && !firstExit) {
      // v2 says `shim disconnected` on every exit; only its place before any exit makes it a death
      subCause = 'shim-died';
      confidence = 0.45;
      why = 'the shim’s connection closed with no exit or deletion of the container before it in the input; a normal exit would come first';
      headline = 'the shim went away while the container still ran (no exit before it in the input): likely a dead shim';
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

function killedAtShell(e: Ev): Finding {
  return {
    cause: 'shim-death',
    subCause: 'shim-killed',
    // the command shows the kill asked, and the listing whose shim it was; not that containerd cleaned up after it
    confidence: 0.6,
    confidenceReason: 'a SIGKILL typed at a shell to the pid a process listing in the same session shows as this container’s shim; no containerd line or exit status in the input',
    headline: `the container’s containerd-shim (pid ${e.exit137.target?.process.pid ?? '?'}) was SIGKILLed from a shell; the container dies with its shim`,
    explanation:
      'Each container has a containerd-shim that holds its state. A person killed that shim from a terminal; containerd then cleans up the container (v1 shims: `delete --force` SIGKILLs its init) or, with runc v2 shims of some versions, leaves it orphaned.',
    remedy: 'Do not kill shims by hand: stop the container through the engine (crictl stop / docker stop). If a shim was hung, collect its goroutine dump first (kill -USR1 <shim pid> with shim debug on).',
    evidence: [{ event: e, role: 'the kill typed at a shell, its pid a shim in the listing before it' }],
    exitOrigin: 'unknown',
  };
}

function lostMidCall(e: Ev): Finding {
  return {
    cause: 'shim-death',
    subCause: 'shim-died',
    confidence: 0.6,
    confidenceReason: 'containerd lost the connection to the shim in the middle of a call (ttrpc: closed): the shim died under it; no crash dump or exit in the input',
    headline: 'the shim died while containerd was talking to it (ttrpc: closed)',
    explanation: 'containerd talks to each container’s shim over ttrpc. “ttrpc: closed” in the middle of a call (start, exec, kill) means the shim process went away under it: it crashed, was killed, or was OOM-killed itself. The container dies with its shim.',
    remedy: 'Find why the shim died: shim debug logging (v1: shim_debug = true) or the shim’s stderr in the containerd log shows a panic; check for an OOM kill or a kill of the shim process; upgrade containerd.',
    evidence: [{ event: e, role: 'the connection to the shim closed mid-call' }],
    exitOrigin: 'unknown',
  };
}

function refusedArguments(e: Ev): Finding {
  return {
    cause: 'shim-death',
    subCause: 'shim-refused-start',
    confidence: 0.55,
    confidenceReason: 'the shim binary printed its usage and exited: it did not accept the arguments containerd started it with',
    headline: 'the shim exited at start: it does not accept the flags containerd passes (a version mismatch)',
    explanation: 'containerd starts a shim with flags of its own version. A shim built for another version stops with “flag provided but not defined” and prints its usage, so the container cannot run.',
    remedy: 'Install the shim that matches this containerd version (or configure the runtime’s options so no unknown flag is passed).',
    evidence: [{ event: e, role: 'the shim printed its usage and exited' }],
    exitOrigin: 'none',
  };
}
