/**
 * The log messages that matter for a container's death, as data. Adding a wording seen in a new
 * version is one entry here. `msg` templates match the whole message; `{name}` captures a part
 * (`{name*}` may be empty). `where` requires logfmt fields to have these values.
 * Sources: FORMATS.md §1–3 (containerd/moby source and posted logs, by version).
 */
export type Wording = {
  id: string;
  component: 'containerd' | 'dockerd' | 'kubelet' | 'cri-o' | 'podman' | 'nomad' | 'watchtower' | 'systemd';
  msg: string[];
  where?: Record<string, string>;
  /** What this line means for a death, in words (shown by `explain`). */
  meaning: string;
  seen: string;
};

export const WORDINGS: Wording[] = [
  // containerd, runtime v1 shim
  { id: 'shim-reaped', component: 'containerd', msg: ['shim reaped'], meaning: 'the v1 shim process exited (on every exit, crash or not)', seen: 'containerd 1.0–1.7 (v1 runtime)' },
  { id: 'shim-dead-cleanup', component: 'containerd', msg: ['cleaning up after killed shim', 'cleaning up after shim dead'], meaning: 'containerd found the v1 shim gone and is cleaning up: it force-deletes the task and reports 137 itself', seen: '"killed shim" 1.0–1.2, "shim dead" 1.3–1.7' },
  { id: 'shim-dead-cleanup-failed', component: 'containerd', msg: ['failed to clean up after killed shim', 'cleaning up after dead shim'], meaning: 'the cleanup after a dead v1 shim failed', seen: 'containerd 1.0–1.7' },
  // containerd, runtime v2 shim
  { id: 'shim-disconnected', component: 'containerd', msg: ['shim disconnected'], meaning: 'the connection to the v2 shim closed (also after every normal exit)', seen: 'containerd 1.3+' },
  { id: 'shim-disconnected-cleanup', component: 'containerd', msg: ['cleaning up after shim disconnected'], meaning: 'containerd cleans up after a lost v2 shim', seen: 'containerd 1.3+ (info from 2.1.1)' },
  { id: 'dead-shim-cleanup', component: 'containerd', msg: ['cleaning up dead shim'], meaning: 'containerd runs `shim delete` for a dead v2 shim; the exit status it reports comes from that delete', seen: 'containerd 1.2+' },
  { id: 'shim-disconnected-cleanup-failed', component: 'containerd', msg: ['failed to clean up after shim disconnected'], meaning: 'the cleanup after a lost v2 shim failed', seen: 'containerd 1.4+' },
  { id: 'shim-cleanup-warnings', component: 'containerd', msg: ['cleanup warnings {text*}'], meaning: 'stderr of `shim delete`', seen: 'containerd 1.2+' },
  { id: 'ttrpc-closed', component: 'containerd', msg: ['{text*}ttrpc: closed{rest*}'], meaning: 'the shim connection closed mid-call: crash evidence', seen: 'containerd 1.2+' },
  // a shim's own lines, relayed into containerd's log (v1 with shim_debug, v2 on its stderr): a crash
  // dump right after them in the same stream is the shim's
  { id: 'shim-own-log', component: 'containerd', msg: ['serving api on unix socket', 'registering ttrpc server', 'starting signal loop', 'shim containerd-shim started', 'shim started'], meaning: 'a shim logging about itself (its start); what follows in the same stream may be the shim’s', seen: 'containerd 1.x shims' },
  { id: 'shim-usage-exit', component: 'containerd', msg: ['Usage of {path}shim{rest*}:'], meaning: 'a shim binary printed its usage and exited: it refused the arguments containerd gave it', seen: 'any shim (gvisor-containerd-shim, kata)' },
  { id: 'cri-start-failed', component: 'containerd', msg: ['StartContainer for {id} failed'], meaning: 'the CRI could not start the container (with ttrpc: closed, its shim died mid-call)', seen: 'containerd CRI' },
  // containerd task events
  { id: 'task-exit-published', component: 'containerd', msg: ['event published'], where: { topic: '/tasks/exit' }, meaning: 'containerd published a task exit', seen: 'containerd 1.x debug' },
  { id: 'task-oom-published', component: 'containerd', msg: ['event published'], where: { topic: '/tasks/oom' }, meaning: 'containerd published a task OOM', seen: 'containerd 1.x debug' },
  { id: 'task-exit-received', component: 'containerd', msg: ['TaskExit event {payload}', 'Received exit event {payload}', 'received exit event {payload}', 'received container exit event {payload}', 'received sandbox container exit event {payload}', 'TaskExit event in podsandbox handler {payload}'], meaning: 'the CRI plugin received a task exit with its status', seen: 'containerd CRI 1.2–2.2' },
  { id: 'task-oom-received', component: 'containerd', msg: ['TaskOOM event {payload}'], meaning: 'the CRI plugin received a memcg OOM for the container', seen: 'containerd CRI 1.2+' },
  { id: 'cri-stop', component: 'containerd', msg: ['StopContainer for {id} with timeout {grace} (s)'], meaning: 'the kubelet asked to stop the container with this grace period', seen: 'containerd CRI' },
  { id: 'cri-stop-signal', component: 'containerd', msg: ['Stop container {id} with signal {signal}'], meaning: 'the CRI plugin sent the stop signal', seen: 'containerd 1.5+' },
  { id: 'cri-stop-failed', component: 'containerd', msg: ['StopContainer for {id} failed'], meaning: 'the CRI stop did not complete: with DeadlineExceeded, the kill did not end the container in time', seen: 'containerd CRI 1.5+' },
  { id: 'cri-kill', component: 'containerd', msg: ['Kill container {id}'], meaning: 'the CRI plugin sent SIGKILL after the grace period', seen: 'containerd 1.5+' },
  { id: 'containerd-start', component: 'containerd', msg: ['starting containerd'], meaning: 'containerd (re)started', seen: 'all' },
  // dockerd
  { id: 'docker-kill-signal', component: 'dockerd', msg: ['Sending kill signal {signal} to container {id}'], meaning: 'dockerd sent this signal to the container', seen: 'moby debug, all versions' },
  { id: 'docker-stop-timeout', component: 'dockerd', msg: ['Container {id} failed to exit within {grace} seconds of signal {signal} - using the force', 'Container failed to exit within {grace} of signal {signal} - using the force', 'Container {id} failed to exit within {grace} seconds of SIGTERM - using the force'], meaning: 'the stop grace period ran out: dockerd sends SIGKILL', seen: '≤1.10 SIGTERM; 1.11–20.10.9 id in text; 20.10.10+ container= field' },
  { id: 'docker-stop-signal-failed', component: 'dockerd', msg: ['Error sending stop (signal {signal}) to container'], meaning: 'dockerd could not deliver the stop signal (its error says why: a refused signal, a container already gone); it goes on to SIGKILL', seen: '20.10+ (container= and error= fields)' },
  { id: 'docker-kill-fallback', component: 'dockerd', msg: ['Container {id} failed to exit within {grace} seconds of kill - trying direct SIGKILL', 'Container failed to exit within {grace} of kill - trying direct SIGKILL'], meaning: 'a kill did not end the container: dockerd signals the process directly', seen: 'all' },
  { id: 'docker-kill-no-exit-event', component: 'dockerd', msg: ['{text*}tried to kill container, but did not receive an exit event{rest*}'], meaning: 'dockerd sent SIGKILL and no exit followed: the kill is stuck', seen: '20.10+ (docker stop / kill / rm -f error)' },
  { id: 'docker-kill-not-running', component: 'dockerd', msg: ['Cannot kill container{text*}is not running{rest*}'], meaning: 'a kill asked for a container that had already exited: whoever asked did not kill it', seen: 'docker CLI error, all versions' },
  { id: 'docker-kill-no-such-process', component: 'dockerd', msg: ['container kill failed because of {rest*}no such process{tail*}'], meaning: 'dockerd tried to kill the container and its process was already gone: something outside the engine ended it', seen: '17.x+' },
  { id: 'docker-api-kill', component: 'dockerd', msg: ['Calling POST /{ver}/containers/{id}/kill{query*}', 'Calling POST /containers/{id}/kill{query*}'], meaning: 'a client asked dockerd to kill the container (docker kill)', seen: 'moby debug' },
  { id: 'docker-api-stop', component: 'dockerd', msg: ['Calling POST /{ver}/containers/{id}/stop{query*}', 'Calling POST /containers/{id}/stop{query*}'], meaning: 'a client asked dockerd to stop the container (docker stop)', seen: 'moby debug' },
  { id: 'docker-api-exec', component: 'dockerd', msg: ['Calling POST /{ver}/containers/{id}/exec', 'starting exec command {exec} in container {id}'], meaning: 'an exec started in the container', seen: 'moby debug' },
  { id: 'docker-task-delete-ignored', component: 'dockerd', msg: ['ignoring event'], where: { topic: '/tasks/delete' }, meaning: 'dockerd saw the task deleted', seen: 'all' },
  { id: 'docker-event-exit', component: 'dockerd', msg: ['event'], where: { topic: '/tasks/exit' }, meaning: 'dockerd received the task exit', seen: 'moby debug' },
  { id: 'docker-event-oom', component: 'dockerd', msg: ['event'], where: { topic: '/tasks/oom' }, meaning: 'dockerd received the task OOM', seen: 'moby debug' },
  { id: 'docker-start', component: 'dockerd', msg: ['Starting up', 'Daemon has completed initialization'], meaning: 'dockerd (re)started', seen: 'all' },
  { id: 'docker-shutdown', component: 'dockerd', msg: ["Processing signal '{signal}'", 'Daemon shutdown complete'], meaning: 'dockerd is stopping', seen: 'all' },
  { id: 'docker-restore-shutdown', component: 'dockerd', msg: ['shutting down container considered alive by containerd'], meaning: 'dockerd came back up without live-restore and stops a container containerd kept running', seen: 'moby 19.03+ debug (daemon restore)' },
  { id: 'docker-live-restore', component: 'dockerd', msg: ['Live restore is enabled{rest*}', 'restoring container{rest*}'], meaning: 'dockerd restores running containers', seen: 'all' },
  // kubelet
  { id: 'kubelet-kill-grace', component: 'kubelet', msg: ['Killing container with a grace period', 'Killing container with a grace period override', 'Killing container {id} with {grace} second grace period', 'Stopping container {name}', 'Killing container with id {id}:Need to kill Pod'], meaning: 'the kubelet stops the container with this grace period', seen: 'k8s ≤1.20 text, 1.21+ structured' },
  { id: 'kubelet-grace-expired', component: 'kubelet', msg: ['Container termination failed with gracePeriod', 'termination failed after {grace}: operation timeout'], meaning: 'the grace period ran out', seen: 'k8s' },
  { id: 'kubelet-liveness-failed', component: 'kubelet', msg: ['Liveness probe failed{rest*}', 'Container {name} failed liveness probe, will be restarted', 'Liveness probe errored{rest*}', 'pod {pod} container {id} is unhealthy{why*}, it will be killed and re-created.', '{rest*} is unhealthy{why*}, it will be killed and re-created.', 'Killing container with id {id}:Container failed liveness probe{rest*}', 'Container {name} failed startup probe, will be restarted'], meaning: 'the liveness probe failed: the kubelet restarts the container', seen: 'k8s (the last three: event messages, ≤1.10 and 1.16+)' },
  { id: 'kubelet-eviction', component: 'kubelet', msg: ['Eviction manager: pods ranked for eviction', 'eviction manager: pods ranked for eviction{rest*}', 'Eviction manager: pod is evicted successfully', 'Eviction manager: attempting to reclaim{rest*}', 'The node was low on resource: {resource}. Container {name} was using {rest*}', 'The node was low on resource: {rest*}', 'The node had condition: {rest*}'], meaning: 'the kubelet evicts pods to reclaim a node resource', seen: 'k8s (The node…: the Evicted event and pod status message)' },
  { id: 'kubelet-preemption', component: 'kubelet', msg: ['Preempting pod to free up resources{rest*}', 'preemption: pod {rest*}', 'Preempted by {rest*}'], meaning: 'the pod was preempted for a higher-priority pod', seen: 'k8s (Preempted by: the event and pod status message)' },
  { id: 'kubelet-node-shutdown', component: 'kubelet', msg: ['Shutdown manager killing pod with gracePeriod', 'Shutdown manager detected new shutdown event{rest*}', 'Pod was terminated in response to imminent node shutdown.'], meaning: 'the node is shutting down', seen: 'k8s 1.20+ (Pod was terminated…: the pod status message)' },
  { id: 'runtime-signal-denied', component: 'containerd', msg: ['{text*}unable to signal init: permission denied{rest*}', '{text*}send signal to pidfd: Permission denied{rest*}'], meaning: 'the runtime could not deliver its stop or kill signal: the kernel refused it (an AppArmor or SELinux rule), so the container never received it', seen: 'runc 1.1 under AppArmor 4 (Ubuntu 23.10+, moby#47749, containerd#10123), relayed by containerd, dockerd, nerdctl and the kubelet; crun/podman pidfd' },
  { id: 'kubelet-kill-deadline', component: 'kubelet', msg: ['{text*}KillContainer{mid*}DeadlineExceeded{rest*}', '{text*}KillPodSandbox{mid*}DeadlineExceeded{rest*}', '{text*}StopContainer{mid*}DeadlineExceeded{rest*}', '{text*}KillContainer{mid*}context deadline exceeded{rest*}', 'KillContainer from runtime service failed', 'StopContainer from runtime service failed'], meaning: 'the runtime did not finish killing the container before the kubelet’s deadline', seen: 'k8s, CRI errors' },
  { id: 'kubelet-oom-event', component: 'kubelet', msg: ['System OOM encountered, victim process: {name}, pid: {pid}', 'Cgroup OOM encountered, victim process: {name}, pid: {pid}', 'System OOM encountered{rest*}'], meaning: 'the kubelet saw the kernel OOM killer kill this process (its SystemOOM / CgroupOOM event)', seen: 'k8s SystemOOM since 1.x; CgroupOOM proposed in k8s PR 100487' },
  // istio's pilot-agent when its envoy ended by SIGKILL: its own guess, worded as one
  { id: 'istio-envoy-oom-guess', component: 'kubelet', msg: ['Envoy may have been out of memory killed. Check memory usage and limits.'], meaning: 'the sidecar’s envoy was SIGKILLed; the agent guesses the OOM killer (it cannot know)', seen: 'istio 1.4+' },
  // other orchestrators' own stop escalation, in their own words
  { id: 'nomad-kill-grace', component: 'nomad', msg: ['Sent interrupt. Waiting {grace} before force killing'], meaning: 'Nomad sent the task its kill signal and will SIGKILL it after this grace', seen: 'Nomad task events' },
  { id: 'nomad-task-exit', component: 'nomad', msg: ['Exit Code: {exitCode}, Exit Message: {rest*}'], meaning: 'Nomad’s record of the task’s exit status', seen: 'Nomad task events' },
  { id: 'watchtower-stop-timeout', component: 'watchtower', msg: ['Container did not stop within timeout{rest*}'], meaning: 'watchtower stopping a container to replace it: the stop grace ran out, SIGKILL follows', seen: 'watchtower' },
  // systemd-oomd acting on a cgroup under memory pressure: it kills the whole cgroup, containers included
  { id: 'systemd-oomd-kill', component: 'systemd', msg: ['Killed {path} due to memory pressure{rest*}', 'Marked {path} for killing{rest*}', 'Memory pressure for {path} is greater than {rest*}'], meaning: 'systemd-oomd found a cgroup over its memory pressure limit and kills it (SIGKILL to every process in it)', seen: 'systemd 247+' },
  // docker compose's (and podman compose's) attached output when a service's container ends
  { id: 'compose-exited', component: 'dockerd', msg: ['{name} exited with code {exitCode}', 'Container {name} exited with code {exitCode}.', '{name} exited with code {exitCode}.'], meaning: 'compose saw the service’s container exit with this status', seen: 'docker-compose 1.x, compose v2' },
  // other userspace OOM killers: they SIGKILL a whole cgroup (Talos) or a process (earlyoom) before the kernel would
  { id: 'talos-oom-kill', component: 'systemd', msg: ['{pre*}[talos] Sending SIGKILL to cgroup{rest*}'], meaning: 'Talos’s userspace OOM controller SIGKILLs a cgroup (a pod’s) under memory pressure', seen: 'Talos 1.9+' },
  { id: 'earlyoom-kill', component: 'systemd', msg: ['sending SIGKILL to process {pid} uid {uid} "{comm}": {rest*}', 'sending SIGTERM to process {pid} uid {uid} "{comm}": {rest*}'], meaning: 'earlyoom kills the process with the highest oom badness when free memory runs low', seen: 'earlyoom 1.x' },
  { id: 'podman-container-died', component: 'podman', msg: ['container died {id} (name={name}){rest*}', 'container died {id} (name={name}, {rest*}', '{when*} container died {id} (name={name}){rest*}', '{when*} container died {id} (name={name}, {rest*}', '{when*} container died {id} ({rest*}'], meaning: 'podman saw the container’s process end', seen: 'podman events in the journal' },
  // swarm stops a task whose HEALTHCHECK says unhealthy: the orchestrator's probe, as the kubelet's liveness
  { id: 'swarm-task-failed', component: 'dockerd', msg: ['fatal task error'], meaning: 'a swarm task ended; with `dockerexec: unhealthy container`, swarm stopped it for its failing healthcheck', seen: 'swarm mode, 1.12+' },
  { id: 'kubelet-container-finished', component: 'kubelet', msg: ['Generic (PLEG): container finished', 'SyncLoop (PLEG): {pod}, event: &pleg.PodLifecycleEvent{ID:{uid}, Type:"ContainerDied", Data:"{id}"}'], meaning: 'the kubelet saw the container exit', seen: 'k8s 1.2x+; the PLEG ContainerDied event in ≤1.20 text' },
  // CRI-O
  // podman: its own stop escalation (libpod), in its logrus TTY form under the unit's ident
  { id: 'podman-stop-timeout', component: 'podman', msg: ['StopSignal {signal} failed to stop container {id} in {grace} seconds, resorting to SIGKILL'], meaning: 'the stop grace period ran out: podman sends SIGKILL', seen: 'podman 3+' },
  { id: 'crio-stopped', component: 'cri-o', msg: ['Stopped container {id}: {name}'], meaning: 'CRI-O stopped the container', seen: 'CRI-O' },
];

export type CompiledWording = Wording & { patterns: RegExp[] };

function compile(template: string): RegExp {
  let re = '';
  let i = 0;
  for (const m of template.matchAll(/\{(\w+)(\*?)\}/g)) {
    re += escape(template.slice(i, m.index));
    re += m[2] ? `(?<${m[1]}>.*?)` : `(?<${m[1]}>.+?)`;
    i = m.index! + m[0].length;
  }
  re += escape(template.slice(i));
  return new RegExp(`^${re}$`, 's');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const COMPILED: CompiledWording[] = WORDINGS.map((w) => ({ ...w, patterns: w.msg.map(compile) }));

export type WordingMatch = { wording: CompiledWording; captures: Record<string, string> };

type Candidate = { wording: CompiledWording; pattern: RegExp; order: number };

/** The literal first word of a template, or '' when it starts with a placeholder. */
function firstWord(template: string): string {
  const m = /^([^\s{]+)(?:\s|$)/.exec(template);
  return m ? m[1]! : '';
}

// Most lines of a daemon's log match no wording: an index by first word keeps that cheap.
const BY_FIRST_WORD = new Map<string, Candidate[]>();
const ANY_FIRST_WORD: Candidate[] = [];
let order = 0;
for (const w of COMPILED) {
  w.msg.forEach((t, i) => {
    const c = { wording: w, pattern: w.patterns[i]!, order: order++ };
    const word = firstWord(t);
    if (word === '') ANY_FIRST_WORD.push(c);
    else {
      const list = BY_FIRST_WORD.get(word) ?? [];
      list.push(c);
      BY_FIRST_WORD.set(word, list);
    }
  });
}

/** The first wording (in table order) whose template matches the message and whose field conditions hold. */
export function matchWording(msg: string, fields: Record<string, string>): WordingMatch | undefined {
  const sp = msg.indexOf(' ');
  const word = sp < 0 ? msg : msg.slice(0, sp);
  const candidates = BY_FIRST_WORD.get(word);
  let best: { c: Candidate; m: RegExpExecArray } | undefined;
  for (const list of [candidates, ANY_FIRST_WORD]) {
    if (!list) continue;
    for (const c of list) {
      if (best && c.order > best.c.order) break;
      if (c.wording.where && !Object.entries(c.wording.where).every(([k, v]) => fields[k] === v)) continue;
      const m = c.pattern.exec(msg);
      if (m) {
        best = { c, m };
        break;
      }
    }
  }
  return best ? { wording: best.c.wording, captures: { ...(best.m.groups ?? {}) } } : undefined;
}
