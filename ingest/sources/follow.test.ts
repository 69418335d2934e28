import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FollowPosition } from './follow.ts';
import { PositionStore, followFile } from './follow.ts';

/** Reads from the follower until `want` bytes arrived (bounded in time), then stops it. */
async function take(path: string, start: FollowPosition | undefined, want: number) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  const chunks: { text: string; inode: number; offset: number }[] = [];
  let got = 0;
  for await (const c of followFile(path, start, { pollMs: 20, signal: ac.signal })) {
    chunks.push({ text: c.bytes.toString(), inode: c.inode, offset: c.offset });
    got += c.bytes.length;
    if (got >= want) break;
  }
  clearTimeout(timer);
  return chunks;
}

describe('following a log across rotation with a persisted position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-follow-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'audit.log');

  it('reads every line exactly once across a restart, a rotation and a truncation', async () => {
    writeFileSync(log, 'a1\na2\n');
    const first = await take(log, undefined, 6);
    assert.equal(first.map((c) => c.text).join(''), 'a1\na2\n');
    const store = new PositionStore(join(dir, 'pos.json'));
    // acknowledge only the first line, then "crash"
    await store.save({ path: log, inode: first[0]!.inode, offset: 3 });

    appendFileSync(log, 'a3\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'b1\n');
    const resumed = await take(log, await store.load(), 3 + 3 + 3);
    assert.equal(resumed.map((c) => c.text).join(''), 'a2\na3\nb1\n', 'the rest of the old generation, then the new file');
    assert.equal(resumed[0]!.inode, first[0]!.inode);
    assert.equal(resumed.at(-1)!.inode, statSync(log).ino);

    // copytruncate: the file shrinks under the follower, which starts over at 0
    const ac = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const c of followFile(log, { path: log, inode: statSync(log).ino, offset: 3 }, { pollMs: 20, signal: ac.signal })) {
        seen.push(c.bytes.toString());
        if (seen.join('').includes('c1')) break;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(log, ''); // logrotate copytruncate empties the file; the daemon then appends
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(log, 'c1\n');
    const t = setTimeout(() => ac.abort(), 5000);
    await run;
    clearTimeout(t);
    assert.equal(seen.join(''), 'c1\n');
  });
});
