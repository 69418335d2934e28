import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { workerEnv } from '../../cli/ops/config.ts';
import { REPO } from '../helpers/paths.ts';

/**
 * docker-compose.yml is checked by docker-compose itself (Debian's package; no stack runs here)
 * and its workers' environments by the same zod schema the workers check at start.
 */
const ENV = { ...process.env, ELASTIC_PASSWORD: 'test-password', KIBANA_PASSWORD: 'test-kibana', HOSTNAME: 'node-7' };

function compose(...args: string[]): string {
  return execFileSync('docker-compose', ['-f', `${REPO}/docker-compose.yml`, ...args], { env: ENV, encoding: 'utf8' });
}

type Service = { command?: string[]; environment?: Record<string, string>; volumes?: (string | { source?: string; target: string })[]; deploy?: { replicas?: number }; depends_on?: Record<string, { condition: string }> };

describe('docker-compose.yml', () => {
  it('is valid for docker-compose and has every service the distributed pipeline needs', () => {
    compose('config', '-q');
    assert.deepEqual(compose('config', '--services').trim().split('\n').sort(), ['correlate', 'elasticsearch', 'ingest', 'kibana', 'redis', 'setup']);
  });

  it('gives the workers an environment their own configuration check accepts', () => {
    // the resolved file, as JSON (docker-compose is Python and brings PyYAML with it)
    const json = execFileSync('python3', ['-c', 'import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: compose('config'), encoding: 'utf8' });
    const services = (JSON.parse(json) as { services: Record<string, Service> }).services;
    for (const name of ['ingest', 'correlate', 'setup']) {
      const c = workerEnv(services[name]!.environment);
      assert.equal(c.EXIT137_REDIS_URL, 'redis://redis:6379', name);
      assert.deepEqual(c.EXIT137_ES_URL, ['http://elasticsearch:9200'], name);
    }
    assert.equal(workerEnv(services.ingest!.environment).EXIT137_NODE_NAME, 'node-7');
    assert.equal(services.correlate!.deploy?.replicas, 2);
    assert.equal(services.correlate!.depends_on?.setup?.condition, 'service_completed_successfully');
    const mounts = (services.ingest!.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    for (const m of ['/var/log/audit', '/var/log/journal', '/var/lib/exit137']) assert.ok(mounts.includes(m), `ingest mounts ${m}`);
    assert.deepEqual(services.ingest!.command?.slice(0, 1), ['ingest']);
    assert.ok(services.ingest!.command?.includes('/var/log/audit/audit.log'));
  });

  it('refuses to start without the Elasticsearch password', () => {
    assert.throws(() => execFileSync('docker-compose', ['-f', `${REPO}/docker-compose.yml`, 'config', '-q'], { env: { PATH: process.env.PATH }, stdio: 'pipe' }), /ELASTIC_PASSWORD/);
  });
});
