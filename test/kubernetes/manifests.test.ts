import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { correlateCommand } from '../../cli/correlate.ts';
import { ingestCommand } from '../../cli/ingest.ts';
import { REPO } from '../helpers/paths.ts';
import type { K8sObject } from './manifests.ts';
import { K8S, build, buildValidator, checkWorkerEnv, container, find, podSpec, resolveEnv, validate } from './manifests.ts';

/**
 * deploy/kubernetes/ decoded strictly into the Kubernetes API types by a Go program on
 * k8s.io/api (deploy/kubernetes/validate: an unknown, misspelt or mis-cased field, a duplicate
 * key or a wrong type fails), its kustomizations built by kustomize's own library, and each
 * worker's environment, resolved against the example Secret as the kubelet would, passed through
 * the workers' own zod schema, as test/distributed/compose.test.ts does for docker-compose.yml.
 */
let bin: string;
const secret = parseYaml(readFileSync(join(K8S, 'examples', 'connection-secret.yaml'), 'utf8')) as K8sObject;
const NODE = 'node-7';
const clone = <T>(x: T): T => structuredClone(x);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'validate' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(d.name) ? [p] : [];
  });
}

/** The base copied into a scratch directory with one file changed; what `validate files` says of it. */
function mutated(file: string, edit: (text: string) => string): { status: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-k8s-mut-'));
  cpSync(join(K8S, 'base'), dir, { recursive: true });
  const before = readFileSync(join(dir, file), 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the mutation of ${file} changed nothing`);
  writeFileSync(join(dir, file), after);
  return validate(bin, 'files', dir);
}

/** Options the worker's command line does not know (a misspelt flag), by the CLI's own definition. */
function unknownOptions(define: (p: Command) => void, args: string[]): string[] {
  const program = new Command();
  define(program);
  const cmd = program.commands.find((c) => c.name() === args[0]);
  assert.ok(cmd, `exit137 has no command ${args[0]}`);
  cmd.exitOverride();
  return cmd.parseOptions(args.slice(1)).unknown;
}

describe('deploy/kubernetes', () => {
  before(() => {
    bin = buildValidator();
  });

  it('decodes every YAML document strictly into its API type: manifests, patches, kustomizations', () => {
    const r = validate(bin, 'files', K8S);
    assert.equal(r.status, 0, r.stderr);
    const files = yamlFiles(K8S);
    assert.ok(files.length >= 10, `found ${files.length} YAML files`);
    const decoded = new Set(r.stderr.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.split(' ')[1]));
    for (const f of files) assert.ok(decoded.has(f), `${relative(K8S, f)} was not decoded`);
  });

  it('refuses a misspelt, mis-cased, duplicated or mistyped field, and an unknown kind', () => {
    const cases: [string, (s: string) => string, RegExp][] = [
      ['ingest-daemonset.yaml', (s) => s.replace('hostPath:', 'hostPth:'), /unknown field "spec\.template\.spec\.volumes\[0\]\.hostPth"/],
      ['ingest-daemonset.yaml', (s) => s.replace('readOnly: true', 'ReadOnly: true'), /unknown field "spec\.template\.spec\.containers\[0\]\.volumeMounts\[0\]\.ReadOnly"/],
      ['ingest-daemonset.yaml', (s) => s.replace('terminationGracePeriodSeconds: 30', 'terminationGracePeriodSeconds: "30"'), /cannot unmarshal string into Go struct field .*terminationGracePeriodSeconds of type int64/],
      ['ingest-daemonset.yaml', (s) => s.replace('kind: DaemonSet', 'kind: DeamonSet'), /no kind "DeamonSet" is registered/],
      ['correlate-deployment.yaml', (s) => s.replace('  replicas: 2\n', '  replicas: 2\n  replicas: 3\n'), /"replicas" already set/],
      ['correlate-deployment.yaml', (s) => s.replace('secretKeyRef:', 'secretKeyRefs:'), /unknown field "spec\.template\.spec\.containers\[0\]\.env\[0\]\.valueFrom\.secretKeyRefs"/],
      ['correlate-pdb.yaml', (s) => s.replace('maxUnavailable: 1', 'maxUnavailabe: 1'), /unknown field "spec\.maxUnavailabe"/],
      ['kustomization.yaml', (s) => s.replace('resources:', 'resource:'), /unknown field "resource"/],
    ];
    for (const [file, edit, says] of cases) {
      const r = mutated(file, edit);
      assert.equal(r.status, 1, `${file}: ${edit.toString()} was accepted`);
      assert.match(r.stderr, says);
    }
  });

  it('builds with kustomize: the base, the default install, and each component', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const installed = build(bin, K8S);
    assert.deepEqual(installed.map((o) => `${o.kind}/${o.metadata.name}`).sort(), ['DaemonSet/exit137-ingest', 'Deployment/exit137-correlate', 'Namespace/exit137', 'PodDisruptionBudget/exit137-correlate']);
    for (const o of installed.filter((x) => x.kind !== 'Namespace')) {
      assert.equal(o.metadata.namespace, 'exit137', `${o.kind} ${o.metadata.name}`);
      // a selector that does not match its own template is refused by the API server
      const sel = o.spec?.selector?.matchLabels ?? {};
      const labels = o.kind === 'PodDisruptionBudget' ? podLabels(installed, 'exit137-correlate') : (o.spec?.template?.metadata.labels ?? {});
      for (const [k, v] of Object.entries(sel)) assert.equal(labels[k], v, `${o.kind} ${o.metadata.name} selects ${k}=${v}`);
      if (o.spec?.template) for (const c of [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers]) assert.equal(c.image, `exit137:${pkg.version}`);
    }
    // the rule pack is loaded only when asked
    const ingest = find(installed, 'DaemonSet', 'exit137-ingest');
    assert.equal(podSpec(ingest).initContainers, undefined);
    assert.notEqual(podSpec(ingest).hostPID, true);

    const withRules = build(bin, join(K8S, 'with-audit-rules'));
    assert.equal(podSpec(find(withRules, 'DaemonSet', 'exit137-ingest')).hostPID, true);
    assert.equal(podSpec(find(withRules, 'DaemonSet', 'exit137-ingest')).initContainers?.[0]?.name, 'audit-rules');
    // the image pointed at a registry in the base reaches the component's init container too
    const copy = mkdtempSync(join(tmpdir(), 'exit137-k8s-registry-'));
    cpSync(K8S, copy, { recursive: true, filter: (src) => !src.includes(`${K8S}/validate`) });
    const base = join(copy, 'base', 'kustomization.yaml');
    writeFileSync(base, readFileSync(base, 'utf8').replace(/newName: exit137$/m, 'newName: registry.example.com/exit137'));
    const ds = find(build(bin, join(copy, 'with-audit-rules')), 'DaemonSet', 'exit137-ingest');
    assert.deepEqual([...podSpec(ds).initContainers!, ...podSpec(ds).containers].map((c) => c.image), [`registry.example.com/exit137:${pkg.version}`, `registry.example.com/exit137:${pkg.version}`]);

    // the CA component, as a user's own overlay would add it
    const overlay = mkdtempSync(join(tmpdir(), 'exit137-k8s-overlay-'));
    writeFileSync(join(overlay, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(overlay, K8S)}\ncomponents:\n  - ${relative(overlay, join(K8S, 'components', 'elasticsearch-ca'))}\n`);
    const withCa = build(bin, overlay);
    const correlate = find(withCa, 'Deployment', 'exit137-correlate');
    const env = resolveEnv(container(correlate, 'correlate'), [secret], { nodeName: NODE });
    const ca = checkWorkerEnv(env).EXIT137_ES_CA;
    assert.equal(ca, '/etc/exit137/elasticsearch-ca/ca.crt');
    const mount = container(correlate, 'correlate').volumeMounts?.find((m) => ca.startsWith(`${m.mountPath}/`));
    assert.equal(podSpec(correlate).volumes?.find((v) => v.name === mount?.name)?.secret?.secretName, 'exit137-elasticsearch-ca');
  });

  it('gives each worker an environment its own configuration check accepts, from the Secret and the downward API', () => {
    const objects = build(bin, K8S);
    const ingest = container(find(objects, 'DaemonSet', 'exit137-ingest'), 'ingest');
    const correlate = container(find(objects, 'Deployment', 'exit137-correlate'), 'correlate');
    const i = checkWorkerEnv(resolveEnv(ingest, [secret], { nodeName: NODE }));
    assert.equal(i.EXIT137_NODE_NAME, NODE);
    assert.equal(i.EXIT137_REDIS_URL, 'redis://redis.exit137.svc:6379');
    assert.equal(i.EXIT137_REDIS_PASSWORD, 'change-me');
    assert.equal(i.EXIT137_ES_URL, undefined, 'the ingest worker talks to Redis only');
    const c = checkWorkerEnv(resolveEnv(correlate, [secret], { nodeName: NODE }));
    assert.equal(c.EXIT137_REDIS_URL, 'redis://redis.exit137.svc:6379');
    assert.deepEqual(c.EXIT137_ES_URL, ['https://elasticsearch-es-http.elastic-system.svc:9200']);
    assert.equal(c.EXIT137_ES_USER, 'exit137:change-me');
    assert.equal(c.EXIT137_KIBANA_URL, 'https://kibana.example.com');
    // the worker serves its probes and metrics where the pod says it does
    for (const [w, conf] of [[ingest, i], [correlate, c]] as const) {
      const port = w.ports?.find((p) => p.name === w.readinessProbe?.httpGet?.port);
      assert.equal(port?.containerPort, conf.EXIT137_METRICS_PORT, w.name);
      assert.equal(w.readinessProbe?.httpGet?.path, '/healthz');
    }
    // the optional keys may be absent: the example has no API key, no Slack webhook
    assert.equal(c.EXIT137_ES_API_KEY, undefined);
    assert.equal(c.EXIT137_SLACK_WEBHOOK_URL, undefined);
  });

  it('fails on a misspelt variable, a missing Secret key, or a Secret the schema refuses', () => {
    const objects = build(bin, K8S);
    const ingest = container(find(objects, 'DaemonSet', 'exit137-ingest'), 'ingest');
    const correlate = container(find(objects, 'Deployment', 'exit137-correlate'), 'correlate');
    const env = (c: typeof ingest, s = secret) => checkWorkerEnv(resolveEnv(c, [s], { nodeName: NODE }));

    const misspelt = clone(ingest);
    misspelt.env!.find((v) => v.name === 'EXIT137_REDIS_URL')!.name = 'EXIT137_REDIS_ULR';
    assert.throws(() => env(misspelt), /EXIT137_REDIS_ULR: Unrecognized key/);
    const badValue = clone(correlate);
    badValue.env!.find((v) => v.name === 'EXIT137_LOG_LEVEL')!.value = 'verbose';
    assert.throws(() => env(badValue), /EXIT137_LOG_LEVEL/);

    const without = (key: string) => {
      const s = clone(secret);
      delete s.stringData![key];
      return s;
    };
    assert.throws(() => env(ingest, without('EXIT137_REDIS_URL')), /ingest: EXIT137_REDIS_URL: Secret exit137-connection has no key EXIT137_REDIS_URL/);
    assert.throws(() => env(correlate, without('EXIT137_ES_URL')), /correlate: EXIT137_ES_URL: Secret exit137-connection has no key EXIT137_ES_URL/);
    assert.throws(() => resolveEnv(ingest, [], { nodeName: NODE }), /no Secret exit137-connection/);
    // an optional key may go: the worker starts without it
    assert.equal(env(correlate, without('EXIT137_ES_USER')).EXIT137_ES_USER, undefined);

    const withValues = (values: Record<string, string>) => ({ ...clone(secret), stringData: { ...secret.stringData, ...values } });
    assert.throws(() => env(ingest, withValues({ EXIT137_REDIS_URL: 'http://redis:6379' })), /EXIT137_REDIS_URL/);
    assert.throws(() => env(correlate, withValues({ EXIT137_ES_USER: 'exit137' })), /EXIT137_ES_USER: expected user:password/);
    assert.throws(() => env(correlate, withValues({ EXIT137_ES_API_KEY: 'a2V5' })), /EXIT137_ES_API_KEY or EXIT137_ES_USER, not both/);
    // base64 data, as `kubectl create secret` writes it, resolves the same as stringData
    const data = { ...clone(secret), stringData: undefined, data: Object.fromEntries(Object.entries(secret.stringData!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
    assert.deepEqual(env(correlate, data), env(correlate));
  });

  it('gives the ingest worker read-only host paths for what it reads, and a writable state directory', () => {
    const ds = find(build(bin, K8S), 'DaemonSet', 'exit137-ingest');
    const spec = podSpec(ds);
    const c = container(ds, 'ingest');
    const conf = checkWorkerEnv(resolveEnv(c, [secret], { nodeName: NODE }));
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    const hostPathOf = (path: string) => {
      const m = (c.volumeMounts ?? []).filter((x) => path === x.mountPath || path.startsWith(`${x.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      assert.ok(m, `nothing is mounted at ${path}`);
      const v = volumes.get(m.name);
      assert.ok(v?.hostPath, `${path} is not a host path`);
      return { host: v.hostPath.path + path.slice(m.mountPath.length), readOnly: m.readOnly === true };
    };
    for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `mount ${m.name} has no volume`);

    const args = c.args ?? [];
    assert.deepEqual(unknownOptions(ingestCommand, args), [], 'the ingest command knows every option');
    assert.deepEqual(unknownOptions(correlateCommand, container(find(build(bin, K8S), 'Deployment', 'exit137-correlate'), 'correlate').args ?? []), []);
    const opt = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    const files = args.slice(1).filter((a) => !a.startsWith('-'));
    assert.deepEqual(
      [...files, '/var/log/journal', '/run/log/journal', '/etc/machine-id', opt('--proc-root')!, opt('--cgroup-root')!].map(hostPathOf),
      [
        { host: '/var/log/audit/audit.log', readOnly: true },
        { host: '/var/log/journal', readOnly: true },
        { host: '/run/log/journal', readOnly: true },
        { host: '/etc/machine-id', readOnly: true },
        { host: '/proc', readOnly: true },
        { host: '/sys/fs/cgroup', readOnly: true },
      ],
    );
    assert.ok(args.includes('--journal') && args.includes('--collect'));
    assert.deepEqual(hostPathOf(conf.EXIT137_STATE_DIR), { host: '/var/lib/exit137', readOnly: false });
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
  });

  it('sizes every container with requests within its limits', () => {
    const mi = (q: string) => {
      const m = /^(\d+)(Mi|Gi)$/.exec(q);
      assert.ok(m, `memory ${q}`);
      return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
    };
    const cores = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    for (const o of build(bin, join(K8S, 'with-audit-rules')).filter((x) => x.spec?.template)) {
      for (const c of [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers]) {
        const { requests, limits } = c.resources ?? {};
        assert.ok(requests?.cpu && requests.memory && limits?.memory, `${o.metadata.name}/${c.name} has cpu and memory requests and a memory limit`);
        assert.ok(mi(requests.memory) <= mi(limits.memory), `${c.name} memory`);
        if (limits.cpu) assert.ok(cores(requests.cpu) <= cores(limits.cpu), `${c.name} cpu`);
      }
    }
  });

  it('loads the rule pack the image ships, with the keys the pack uses', () => {
    const ds = find(build(bin, join(K8S, 'with-audit-rules')), 'DaemonSet', 'exit137-ingest');
    const init = podSpec(ds).initContainers!.find((c) => c.name === 'audit-rules')!;
    assert.deepEqual(init.securityContext?.capabilities?.add, ['AUDIT_CONTROL']);
    const script = (init.args ?? []).join('\n');
    const inImage = /rules=(\S+)/.exec(script)?.[1];
    assert.equal(inImage, '/opt/exit137/rules/exit137-signals.rules');
    // the image: WORKDIR /opt/exit137, the rules copied there, auditctl installed
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^WORKDIR \/opt\/exit137$/m);
    assert.match(dockerfile, /^COPY rules rules$/m);
    assert.match(dockerfile, /apt-get install [^\n]*\bauditd\b/);
    const pack = join(REPO, 'rules', 'exit137-signals.rules');
    // the script's own key extraction, run on the real pack, finds every key the pack loads
    const extract = /for key in \$\((.+)\); do/.exec(script)?.[1];
    assert.ok(extract, 'the script removes the pack’s keys before loading it');
    const found = execFileSync('sh', ['-c', extract.replace('"$rules"', '"$1"'), 'sh', pack], { encoding: 'utf8' }).trim().split('\n');
    const keys = [...new Set([...readFileSync(pack, 'utf8').matchAll(/^-a .* -k (\S+)$/gm)].map((m) => m[1]!))].sort();
    assert.deepEqual(found, keys);
    assert.ok(keys.length >= 5);
    assert.match(script, /auditctl -R "\$rules"/);
  });
});

function podLabels(objects: K8sObject[], deployment: string): Record<string, string> {
  return find(objects, 'Deployment', deployment).spec?.template?.metadata.labels ?? {};
}
