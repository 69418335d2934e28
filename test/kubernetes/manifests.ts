import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import { WorkerEnv, workerEnv } from '../../cli/ops/config.ts';
import { REPO } from '../helpers/paths.ts';

/** deploy/kubernetes/, and the Go program that decodes its manifests strictly into the API types. */
export const K8S = join(REPO, 'deploy', 'kubernetes');

export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown; resourceFieldRef?: unknown };
};
export type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsUser?: number; readOnlyRootFilesystem?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};
export type PodSpec = {
  hostPID?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string }; emptyDir?: unknown; secret?: { secretName: string } }[];
};
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { selector?: { matchLabels?: Record<string, string> }; template?: { metadata: { labels?: Record<string, string> }; spec: PodSpec } };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/**
 * A Go that can build the validator: from PATH, else the one this kind of machine keeps in
 * /usr/local/go (test/kubernetes/setup-go.sh puts one there where there is none). From 1.21 on,
 * an older Go than go.mod asks for fetches the newer toolchain from the Go module proxy itself.
 */
export function goBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin']) {
    const p = join(dir, 'go');
    if (!dir || !existsSync(p)) continue;
    const m = /go(\d+)\.(\d+)/.exec(spawnSync(p, ['version'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).stdout ?? '');
    if (m && (Number(m[1]) > 1 || Number(m[2]) >= 21)) return p;
  }
  throw new Error('no Go 1.21 or later (PATH, /usr/local/go/bin): `npm run setup` installs one');
}

/** Builds the validator once; its modules come from the Go module proxy, checked against go.sum. */
export function buildValidator(): string {
  const bin = join(mkdtempSync(join(tmpdir(), 'exit137-k8s-')), 'validate');
  execFileSync(goBinary(), ['build', '-buildvcs=false', '-o', bin, '.'], { cwd: join(K8S, 'validate'), env: { ...process.env, GOTOOLCHAIN: 'auto' }, stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  return bin;
}

/** Runs the validator; returns its exit status and what it said. */
export function validate(bin: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What a kustomization renders, each object already decoded strictly by the validator. */
export function build(bin: string, dir: string): K8sObject[] {
  const r = validate(bin, 'build', dir);
  if (r.status !== 0) throw new Error(`kustomize build ${dir} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { items: K8sObject[] }).items;
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

export function podSpec(o: K8sObject): PodSpec {
  const s = o.spec?.template?.spec;
  if (!s) throw new Error(`${o.kind} ${o.metadata.name} has no pod template`);
  return s;
}

export function container(o: K8sObject, name: string): Container {
  const c = podSpec(o).containers.find((x) => x.name === name);
  if (!c) throw new Error(`${o.kind} ${o.metadata.name} has no container ${name}`);
  return c;
}

/** A Secret's keys and values, from `data` (base64) and `stringData` as the API server merges them. */
export function secretValues(s: K8sObject): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) m.set(k, v);
  return m;
}

/**
 * A container's environment as the kubelet would give it: a Secret key that is missing and not
 * optional stops the container (CreateContainerConfigError), an optional one leaves the variable
 * out. Only the sources the manifests use are resolved; any other is an error here.
 */
export function resolveEnv(c: Container, secrets: K8sObject[], pod: { nodeName: string }): Record<string, string> {
  if (c.envFrom?.length) throw new Error(`${c.name}: envFrom is not resolved here; name each variable`);
  const env: Record<string, string> = {};
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef) {
      if (v.valueFrom.fieldRef.fieldPath !== 'spec.nodeName') throw new Error(`${c.name}: ${v.name} from ${v.valueFrom.fieldRef.fieldPath} is not resolved here`);
      env[v.name] = pod.nodeName;
    } else if (v.valueFrom?.secretKeyRef) {
      const ref = v.valueFrom.secretKeyRef;
      const secret = secrets.find((s) => s.kind === 'Secret' && s.metadata.name === ref.name);
      const value = secret ? secretValues(secret).get(ref.key) : undefined;
      if (value !== undefined) env[v.name] = value;
      else if (!ref.optional) throw new Error(`${c.name}: ${v.name}: ${secret ? `Secret ${ref.name} has no key ${ref.key}` : `no Secret ${ref.name}`}`);
    } else throw new Error(`${c.name}: ${v.name} has neither a value nor a source resolved here`);
  }
  return env;
}

/**
 * The workers' own check (cli/ops/config.ts), made strict on the exit137 variables: the workers
 * read the whole process environment and so cannot refuse a name they do not know, but a
 * manifest that sets EXIT137_REDIS_ULR has a typo and its worker would quietly use the default.
 */
export function checkWorkerEnv(env: Record<string, string>): WorkerEnv {
  const mine = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('EXIT137_')));
  const r = z.strictObject(WorkerEnv.shape).safeParse(mine);
  if (!r.success) throw new Error(`bad configuration: ${r.error.issues.map((i) => `${[...i.path, ...('keys' in i ? i.keys : [])].join('.')}: ${i.message}`).join('; ')}`);
  return workerEnv(env);
}
