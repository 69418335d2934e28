/**
 * Container ids as they appear inside other text: whole (64 hex), in bundle/log/workdir paths,
 * in memcg paths (`/docker/<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`), or cut short
 * at the end of a proctitle that the kernel truncated at 128 bytes.
 */
const FULL_ID = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g;

export function containerIdsIn(text: string): string[] {
  if (text.length < 64) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(FULL_ID)) out.add(m[0]);
  return [...out];
}

/** A hex run of at least 12 characters at the very end of a cut argv: a prefix of a container id. */
export function trailingIdPrefix(lastArg: string): string | undefined {
  const m = /(?:^|[^0-9a-f])([0-9a-f]{12,63})$/.exec(lastArg);
  return m ? m[1] : undefined;
}

export function isContainerId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}

/** containerd's rule for ids (`ctr run … lab-1`, CRI's 64-hex): any such name can be a container id. */
export function isContainerRef(s: string): boolean {
  return /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/.test(s) && s.length <= 128;
}

export function isHexId(s: string): boolean {
  return /^[0-9a-f]{12,64}$/.test(s);
}

/**
 * The container a cgroup path belongs to: its innermost segment that is a container id
 * (`/docker/<outer>/docker/<inner>` is the inner one's, docker-in-docker), whole or cut short by a
 * paste, in any engine's spelling (`docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>`).
 */
export function cgroupContainer(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const segs = path.split('/');
  for (let i = segs.length - 1; i >= 0; i--) {
    const m = /^(?:[a-z-]*-)?([0-9a-f]{12,64})(?:\.scope)?$/.exec(segs[i]!);
    if (m) return m[1];
  }
  return undefined;
}
