import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** A child that writes lines through BatchedLines to its stdout, then flushes. */
const WRITER = `
import { BatchedLines } from ${JSON.stringify(new URL('./output.ts', import.meta.url).href)};
const lines = new BatchedLines(process.stdout, 1000);
for (let i = 0; i < 20000; i++) lines.push(i % 7 === 0 ? 'é ☃ \\u{1F600} ' + i : 'line ' + i + ' ' + 'x'.repeat(i % 300));
lines.flush();
`;
const expected = Array.from({ length: 20000 }, (_, i) => `${i % 7 === 0 ? `é ☃ \u{1F600} ${i}` : `line ${i} ${'x'.repeat(i % 300)}`}\n`).join('');

function run(stdout: number | 'pipe'): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], { stdio: ['ignore', stdout, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout ?? '';
}

describe('BatchedLines (cli/output.ts)', () => {
  it('writes every line, in order, as UTF-8, to a file (written directly) and to a pipe (through the stream)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit137-output-'));
    try {
      const path = join(dir, 'out.ndjson');
      const fd = openSync(path, 'w');
      try {
        run(fd);
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(path, 'utf8'), expected);
      assert.equal(run('pipe'), expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
