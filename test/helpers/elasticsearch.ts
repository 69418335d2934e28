import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './redis.ts';
import { REPO } from './paths.ts';

/**
 * A real Elasticsearch 8 node on 127.0.0.1 for one test file (test/es/start.sh: built from Maven
 * Central the first time, a minute or two). A machine that cannot start it fails the test loudly.
 */
export async function startElasticsearch(opts: { port?: number; home?: string; heap?: string } = {}): Promise<{ url: string; port: number; stop: () => void }> {
  const port = opts.port ?? (await freePort());
  const log = `/tmp/exit137-es-${port}.log`;
  try {
    execFileSync('bash', [join(REPO, 'test', 'es', 'start.sh'), String(port), log, ...(opts.home ? [opts.home] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000, env: { ...process.env, ...(opts.heap ? { EXIT137_ES_HEAP: opts.heap } : {}) } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`Elasticsearch could not start: ${err.stderr?.trim() || err.message}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () => {
      try {
        execFileSync('pkill', ['-f', `es.http.port=${port}`]);
      } catch {
        return; // already gone
      }
      // gone for good before a restart on the same port and data directory (the node lock)
      for (let i = 0; i < 150; i++) {
        try {
          execFileSync('pgrep', ['-f', `es.http.port=${port}`]);
        } catch {
          return;
        }
        execFileSync('sleep', ['0.2']);
      }
    },
  };
}
