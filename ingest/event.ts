import { z } from 'zod';

/**
 * The normalized event: every line or block a node writes about a dying container ends up as one
 * of these. This schema is the single source of the TypeScript types. Field names follow ECS where
 * ECS has them (process.*, user.*, container.*, host.*, event.*, log.*); what ECS lacks lives
 * under `exit137.*` (CONVENTIONS.md §1).
 */

const isoNanos = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/, 'UTC ISO time with 9 fraction digits');

export const ECS_VERSION = '8.17.0';

export const EventKind = z.enum([
  'audit-signal', // a signal-sending syscall seen by kernel audit
  'audit', // any other audit event
  'runtime-log', // a dockerd / containerd / kubelet / cri-o log line
  'container-event', // docker events / ctr events
  'go-crash', // a Go panic or fatal-signal dump, assembled from its lines
  'kernel-oom', // a kernel OOM-killer report, assembled from its lines
  'kernel-hung-task', // a kernel hung-task report with its stack
  'task-stack', // a blocked task's /proc stack: sampled live, or a pasted `cat /proc/PID/stack`
  'memcg-sample', // memory cgroups counted: /proc/cgroups against the hierarchy
  'container-state', // a container's state as a CLI showed it: docker inspect, kubectl describe / get pod, crictl, ps -a
  'process-tree', // a pasted process tree (ps auxf, ps -ef --forest, systemd-cgls): shims, inits, zombies, D state
  'kernel', // any other kernel message
  'log', // any other line we read but did not recognise
]);
export type EventKind = z.infer<typeof EventKind>;

export const Source = z.enum([
  'auditd',
  'dockerd',
  'containerd',
  'containerd-shim',
  'kubelet',
  'crio',
  'podman',
  'kernel',
  'docker-events',
  'containerd-events',
  'syslog',
  'proc',
  'docker-cli',
  'kubectl',
  'crictl',
  'ctr',
]);
export type Source = z.infer<typeof Source>;

const processRef = z.object({
  pid: z.number().int().optional(),
  name: z.string().optional(),
  executable: z.string().optional(),
  title: z.string().optional(),
  args: z.array(z.string()).optional(),
  args_count: z.number().int().optional(),
  working_directory: z.string().optional(),
  exit_code: z.number().int().optional(),
  parent: z.object({ pid: z.number().int().optional(), name: z.string().optional() }).optional(),
});
export type ProcessRef = z.infer<typeof processRef>;

const userRef = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  audit: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
  effective: z.object({ id: z.string().optional() }).optional(),
  group: z.object({ id: z.string().optional() }).optional(),
});

export const SignalInfo = z.object({
  number: z.number().int(),
  name: z.string(),
  syscall: z.string().optional(),
});
export type SignalInfo = z.infer<typeof SignalInfo>;

const signalTarget = z.object({
  pid: z.number().int().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  auid: z.string().optional(),
  ses: z.string().optional(),
});

const auditDetail = z.object({
  node: z.string().optional(),
  serial: z.number().int(),
  epoch: z.string(),
  records: z.array(z.string()),
  syscall: z.string().optional(),
  arch: z.string().optional(),
  key: z.array(z.string()).optional(),
  success: z.boolean().optional(),
  exit: z.string().optional(),
  a: z.array(z.string()).optional(),
  tty: z.string().optional(),
  ses: z.string().optional(),
  /** The kernel keeps 128 bytes of proctitle: an argv that long was cut. */
  proctitle_truncated: z.boolean().optional(),
  /** Target as the sender named it (a0/a1), in the sender's pid namespace. */
  target_arg: z.object({ pid: z.number().int(), scope: z.enum(['process', 'thread', 'process-group', 'all']) }).optional(),
  /** Interpretations written by auditd's ENRICHED format on the origin host. */
  enriched: z.record(z.string(), z.string()).optional(),
  warnings: z.array(z.string()).optional(),
});

const goFrame = z.object({ func: z.string(), file: z.string().optional(), line: z.number().int().optional() });
export type GoFrame = z.infer<typeof goFrame>;

const goCrash = z.object({
  /** `panic: …`, `fatal error: …` or `SIGSEGV: segmentation violation` */
  headline: z.string(),
  kind: z.enum(['panic', 'fatal-error', 'fatal-signal']),
  signal: z.string().optional(),
  signal_detail: z.string().optional(),
  goroutine: z.object({ id: z.number().int(), state: z.string() }).optional(),
  /** First frame that is not in the Go runtime: where the program itself went wrong. */
  top_frame: goFrame.optional(),
  frames: z.array(goFrame),
  goroutines: z.number().int(),
  complete: z.boolean(),
});
export type GoCrash = z.infer<typeof goCrash>;

/**
 * How the absolute time of a line was obtained; kept on every event so a reader can judge it.
 * absolute: the line carried a full instant (epoch, or ISO with zone); learned: wall clock resolved
 * with the node's offset/year learned from its own zoned lines; configured: with the offset/year
 * the user configured; assumed: as UTC in the reference year, nothing better was known; anchored:
 * kernel seconds since boot placed on the wall clock by something in the input that ties the two
 * (`time.tie`); relative: no instant known (kernel seconds since boot with nothing to tie them,
 * or no clock at all), placed at the time the input was read, never at 1970 (ingest/time/placement.ts).
 */
export const TimeBasisSchema = z.enum(['absolute', 'learned', 'configured', 'assumed', 'anchored', 'relative']);
export type TimeBasis = z.infer<typeof TimeBasisSchema>;

const oomTask = z.object({
  pid: z.number().int(),
  uid: z.number().int().optional(),
  tgid: z.number().int().optional(),
  total_vm: z.number().int().optional(),
  /** Resident pages (rss, or rss_anon + rss_file + rss_shmem on ≥ 6.8). */
  rss_pages: z.number().int(),
  /** Swapped-out pages and page-table pages: with rss, what the kernel's badness counts. */
  swap_pages: z.number().int().optional(),
  pgtable_pages: z.number().int().optional(),
  oom_score_adj: z.number().int().optional(),
  name: z.string(),
});
export type OomTask = z.infer<typeof oomTask>;

const oomReport = z.object({
  /** The task that was allocating: NOT the victim. */
  invoker: z.object({ name: z.string(), pid: z.number().int().optional() }).optional(),
  constraint: z.string().optional(),
  /** Kernel release from the report's `CPU: … Comm: …` line: the victim-selection rules changed across releases. */
  kernel: z.string().optional(),
  /** The allocating task's cpuset; on docker nodes of the 3.x era it is the container id. */
  cpuset: z.string().optional(),
  memcg: z.string().optional(),
  task_memcg: z.string().optional(),
  usage_kb: z.number().optional(),
  limit_kb: z.number().optional(),
  failcnt: z.number().optional(),
  chosen: z.object({ pid: z.number().int(), name: z.string(), score: z.number().optional() }).optional(),
  victim: z.object({
    pid: z.number().int().optional(),
    name: z.string(),
    uid: z.number().int().optional(),
    total_vm_kb: z.number().optional(),
    anon_rss_kb: z.number().optional(),
    file_rss_kb: z.number().optional(),
    shmem_rss_kb: z.number().optional(),
  }).optional(),
  tasks: z.array(oomTask),
  global: z.boolean(),
  complete: z.boolean(),
});
export type OomReport = z.infer<typeof oomReport>;

const hungTask = z.object({
  name: z.string(),
  /** 0 when unknown (a pasted stack without its pid). */
  pid: z.number().int(),
  /** The container or systemd unit whose cgroup the task is in, when read. */
  cgroup: z.string().optional(),
  blocked_seconds: z.number().int().optional(),
  state: z.string().optional(),
  /** The parent's pid when the report prints it (2 = a kernel thread, not a container's task). */
  ppid: z.number().int().optional(),
  /** A kernel worker's `Workqueue: <queue> <function>`: the work it runs, even when the stack is cut. */
  workqueue: z.object({ queue: z.string(), function: z.string() }).optional(),
  stack: z.array(z.string()),
  complete: z.boolean(),
});
export type HungTask = z.infer<typeof hungTask>;

const memcgSample = z.object({
  hierarchy: z.enum(['v1', 'v2']),
  /**
   * What the kernel counts (v1: the memory line of /proc/cgroups; v2: live + dying descendants).
   * A pasted reading often holds only one side: the counts it does not state are left out, never guessed.
   */
  kernel_cgroups: z.number().int().optional(),
  /** What exists as directories (v1) or live descendants (v2). */
  live_cgroups: z.number().int().optional(),
  /** Removed but not freed: the difference, or v2's nr_dying_descendants. */
  dying_cgroups: z.number().int().optional(),
  /** The directory walk stopped at its budget: live_cgroups is a lower bound. */
  partial: z.boolean().optional(),
  /** The directory whose sub-directories a pasted count counted, when not the whole hierarchy recursively: live_cgroups is then a lower bound. */
  counted_under: z.string().optional(),
  /** num_cgroups of every controller in the same /proc/cgroups reading: memory alone rising is memory cgroups outliving their directories. */
  controllers: z.record(z.string(), z.number().int()).optional(),
  /** Entries of /sys/kernel/slab counted: with kmem accounting (v1, before 5.9) each memory cgroup has its own copy of every cache it used. */
  slab_caches: z.number().int().optional(),
  /**
   * A memory cgroup that could not be made or could not allocate: mkdir refused (ENOSPC: the
   * 65,535 memory cgroup ids are used up; ENOMEM), or a per-cgroup kmem cache out of memory
   * (`SLUB: Unable to allocate memory` naming `cache(<id>:<cgroup>)`).
   */
  failure: z
    .object({
      kind: z.enum(['mkdir-enospc', 'mkdir-enomem', 'kmem-cache']),
      /** The cgroup that could not be made (mkdir's path), or the cgroup the cache belongs to. */
      cgroup: z.string().optional(),
      cache: z.string().optional(),
      /** What refused: runc or the engine, the kubelet, a shell's mkdir, the kernel. */
      by: z.string().optional(),
    })
    .optional(),
});
export type MemcgSample = z.infer<typeof memcgSample>;

/**
 * A container's state as a CLI reported it (docker inspect, kubectl describe / get pod, crictl
 * inspect, docker ps -a): what the runtime concluded, which is evidence of what it saw, not of why.
 */
const containerState = z.object({
  status: z.string().optional(),
  /** The runtime's or the kubelet's reason: OOMKilled, Error, Completed, ContainerCannotRun… */
  reason: z.string().optional(),
  oom_killed: z.boolean().optional(),
  error: z.string().optional(),
  started: isoNanos.optional(),
  finished: isoNanos.optional(),
  restart_count: z.number().int().optional(),
  /** last = the previous run (kubectl's Last State), current = the state shown now. */
  which: z.enum(['current', 'last']).optional(),
});
export type ContainerState = z.infer<typeof containerState>;

const processNode = z.object({
  pid: z.number().int(),
  ppid: z.number().int().optional(),
  state: z.string().optional(),
  command: z.string(),
  depth: z.number().int().optional(),
});
export type ProcessNode = z.infer<typeof processNode>;

export const NormalizedEvent = z.object({
  '@timestamp': isoNanos,
  ecs: z.object({ version: z.literal(ECS_VERSION) }),
  message: z.string().optional(),
  event: z.object({
    id: z.string(),
    kind: z.enum(['event', 'pipeline_error']),
    category: z.array(z.enum(['process', 'host', 'configuration', 'authentication', 'file', 'network', 'session'])),
    type: z.array(z.enum(['end', 'start', 'info', 'change', 'access', 'error'])),
    action: z.string(),
    outcome: z.enum(['success', 'failure', 'unknown']).optional(),
    module: z.literal('exit137'),
    dataset: z.string(),
    sequence: z.number().int().optional(),
    original: z.string(),
  }),
  host: z.object({ name: z.string() }),
  process: processRef.optional(),
  user: userRef.optional(),
  container: z.object({
    id: z.string().optional(),
    name: z.string().optional(),
    runtime: z.string().optional(),
    image: z.object({ name: z.string().optional() }).optional(),
  }).optional(),
  orchestrator: z.object({
    namespace: z.string().optional(),
    resource: z.object({ type: z.string().optional(), name: z.string().optional(), id: z.string().optional() }).optional(),
  }).optional(),
  log: z.object({
    file: z.object({ path: z.string() }).optional(),
    offset: z.number().int().optional(),
    line: z.number().int().optional(),
    level: z.string().optional(),
    syslog: z.object({ appname: z.string().optional(), procid: z.string().optional() }).optional(),
  }),
  tags: z.array(z.string()),
  auditd: auditDetail.optional(),
  exit137: z.object({
    kind: EventKind,
    source: Source,
    /** Epoch nanoseconds as a string: the order key, exact below the millisecond. */
    ts_ns: z.string().regex(/^-?\d+$/),
    time: z.object({
      basis: TimeBasisSchema,
      year_inferred: z.boolean().optional(),
      offset_minutes: z.number().int().optional(),
      /** The kernel's own stamp (ns since boot) of a line placed by `anchored` or `relative`: what the line really says. */
      since_boot_ns: z.string().regex(/^\d+$/).optional(),
      /** What tied the kernel's clock to the wall clock (`anchored`). */
      tie: z.enum(['kernel-line', 'dmesg-T', 'runtime-oom', 'runtime-exit']).optional(),
    }),
    /** The recognised wording (see ingest/runtime/wordings.ts), e.g. `shim-reaped`. */
    message_id: z.string().optional(),
    fields: z.record(z.string(), z.string()).optional(),
    signal: SignalInfo.optional(),
    target: z.object({ process: signalTarget, others: z.array(signalTarget).optional() }).optional(),
    exit: z.object({ code: z.number().int(), pid: z.number().int().optional(), exec_id: z.string().optional() }).optional(),
    /** Seconds of grace before SIGKILL, when the line states it. */
    grace_seconds: z.number().optional(),
    crash: goCrash.optional(),
    oom: oomReport.optional(),
    hung_task: hungTask.optional(),
    memcg: memcgSample.optional(),
    state: containerState.optional(),
    /** A pasted process tree: each process with its parent and state (a shim, the init under it, zombies, D). */
    processes: z.array(processNode).optional(),
    /** Other container ids the line names (exec ids, sandbox ids, ids inside paths). */
    related_ids: z.array(z.string()).optional(),
  }),
});
export type NormalizedEvent = z.infer<typeof NormalizedEvent>;
