import { open, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SavedStamp } from '../decoder.ts';
import { handleFingerprint } from '../source-identity.ts';
import { READ_CHUNK_BYTES } from './lines.ts';

/**
 * Where a follower stands in a file: which file (by inode, since rotation reuses the name) and
 * the byte offset of the first line not yet acknowledged by the consumer, with the time a line
 * without its own takes there.
 */
export type FollowPosition = { path: string; inode: number; offset: number; stamp?: SavedStamp };

/**
 * Bytes of one file generation from `offset`; `key` is the generation's identity when the chunk
 * is its first and does not start at 0 (see source-identity.ts). `idle` chunks carry no bytes: the
 * follower has caught up and waits, which is when held events may be let go and positions saved.
 */
export type FollowedChunk = { bytes: Buffer; inode: number; offset: number; key?: string; idle?: boolean };

/**
 * Follows a growing log file across rotation (rename + new file) and truncation, from a persisted
 * position. Yields raw chunks with the inode and offset they start at, so the consumer can record
 * exactly what it has acknowledged. (@logdna/tail-file reports only the position it has read, not
 * one per inode that the consumer can commit after acknowledgement, so this is done here.)
 */
export async function* followFile(path: string, start: FollowPosition | undefined, opts: { pollMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<FollowedChunk> {
  const pollMs = opts.pollMs ?? 250;
  let fh: FileHandle | undefined;
  let inode = -1;
  let offset = 0;
  let key: string | undefined;
  const buf = Buffer.alloc(READ_CHUNK_BYTES);

  const openCurrent = async (): Promise<boolean> => {
    try {
      const h = await open(path, 'r');
      const st = await h.stat();
      fh = h;
      if (start && start.inode === st.ino && start.offset <= st.size) offset = start.offset;
      else offset = 0;
      inode = st.ino;
      start = undefined;
      key = offset > 0 ? await handleFingerprint(h) : undefined;
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  };

  // Rotated while we were down: finish the old generation (found by inode) before the new file.
  if (start) {
    const cur = await stat(path).catch(() => undefined);
    if (!cur || cur.ino !== start.inode) {
      const old = await findByInode(dirname(path), start.inode);
      if (old) {
        const h = await open(old, 'r');
        try {
          let pos = start.offset;
          let key = pos > 0 ? await handleFingerprint(h) : undefined;
          for (;;) {
            const { bytesRead } = await h.read(buf, 0, buf.length, pos);
            if (bytesRead === 0) break;
            yield { bytes: Buffer.from(buf.subarray(0, bytesRead)), inode: start.inode, offset: pos, ...(key ? { key } : {}) };
            key = undefined;
            pos += bytesRead;
          }
        } finally {
          await h.close();
        }
      }
      start = undefined;
    }
  }

  try {
    while (!opts.signal?.aborted) {
      if (!fh && !(await openCurrent())) {
        await sleep(pollMs, undefined, { signal: opts.signal }).catch(() => undefined);
        continue;
      }
      const { bytesRead } = await fh!.read(buf, 0, buf.length, offset);
      if (bytesRead > 0) {
        yield { bytes: Buffer.from(buf.subarray(0, bytesRead)), inode, offset, ...(key ? { key } : {}) };
        key = undefined;
        offset += bytesRead;
        continue;
      }
      // At the end of what we have: has the file been rotated away or truncated?
      const cur = await stat(path).catch(() => undefined);
      const mine = await fh!.stat();
      if (cur && cur.ino !== inode) {
        // Rotated: the old file was read to its end just now; continue with the new one from 0.
        await fh!.close();
        fh = undefined;
        continue;
      }
      if (mine.size < offset) {
        offset = 0; // truncated in place (copytruncate): a new generation in the same inode
        continue;
      }
      // a follower that resumed at the end of a file learns the generation's identity here
      yield { bytes: Buffer.alloc(0), inode, offset, idle: true, ...(key ? { key } : {}) };
      key = undefined;
      await sleep(pollMs, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  } finally {
    await fh?.close();
  }
}

async function findByInode(dir: string, ino: number): Promise<string | undefined> {
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile() && st.ino === ino) return p;
  }
  return undefined;
}

/** A position file, written atomically (write + rename) so a crash never leaves half a position. */
export class PositionStore {
  constructor(private readonly file: string) {}

  async load(): Promise<FollowPosition | undefined> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as FollowPosition;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`position file ${this.file} is unreadable: ${(e as Error).message}`);
    }
  }

  async save(p: FollowPosition): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(p));
    await rename(tmp, this.file);
  }
}
