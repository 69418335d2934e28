import type { GoCrash } from '../ingest/event.ts';
import type { KnownBug } from './verdict.ts';

/**
 * Upstream bugs that crash a shim or produce a spurious SIGKILL/137, matched by the first
 * non-runtime frame of the crash (or a line). Data, from FORMATS.md §6: one entry per bug.
 */
type BugSignature = KnownBug & { frame?: RegExp; headline?: RegExp };

export const KNOWN_BUGS: BugSignature[] = [
  {
    id: 'containerd-2969',
    title: 'v1 shim exec race: nil pointer in (*execProcess).pidv',
    affected: 'containerd 1.2.1–1.2.2 (Docker 18.09.1/.2)',
    fixed_in: 'containerd v1.2.3 (#2970 master, #2972 release/1.2); 1.2.4 was the runc CVE-2019-5736 bump',
    refs: ['containerd/containerd#2969', 'docker/for-linux#586', 'moby/moby#38768'],
    frame: /proc\.\(\*execProcess\)\.pidv$/,
  },
  {
    id: 'containerd-3958',
    title: 'v1 shim SIGSEGV at start: killall checked for non-init processes',
    affected: 'containerd 1.2.x',
    fixed_in: 'containerd v1.2.12 (#3960, backport of #3559)',
    refs: ['containerd/containerd#3958'],
    headline: /^panic: runtime error: invalid memory address or nil pointer dereference/,
    frame: /runtime\/v1\/shim\.\(\*Service\)\.(Start|killAll)$/,
  },
  {
    id: 'containerd-7468',
    title: 'runc.v1 Stats on a half-built container',
    affected: 'containerd 1.5/1.6 runc.v1 shim',
    fixed_in: 'not established upstream',
    refs: ['containerd/containerd#7468'],
    frame: /runtime\/v2\/runc\.\(\*Container\)\.Cgroup$/,
  },
  {
    id: 'containerd-11001',
    title: 'cgroup v2 nil manager in Start',
    affected: 'containerd runc.v2 1.5–2.0',
    fixed_in: 'containerd 2.0.x (#11069), 1.7.25 (#11099), 1.6 cherry-pick',
    refs: ['containerd/containerd#11001', 'containerd/containerd#9558', 'k0sproject/k0s#1633'],
    frame: /cgroup(s\/v)?2\.\(\*Manager\)\.RootControllers$/,
  },
];

/** Matched on the crash's own first frame: deeper frames are callers that many crashes share. */
export function matchKnownBugs(crash: GoCrash | undefined): KnownBug[] {
  const top = crash?.top_frame?.func;
  if (!crash || !top) return [];
  return KNOWN_BUGS.filter((b) => (!b.headline || b.headline.test(crash.headline)) && (!b.frame || b.frame.test(top))).map(
    ({ frame: _f, headline: _h, ...bug }) => bug,
  );
}
