import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Format } from '../detect.ts';
import type { InputRef } from '../decoder.ts';
import { READ_CHUNK_BYTES } from './lines.ts';

export type Input = {
  ref: InputRef;
  open: () => Readable;
  size?: number;
  /** A plain file: what a one-shot reader may read without a stream (ingest/run.ts). */
  file?: string;
};

/**
 * Expands the command line's inputs: files (plain or .gz), directories (every file below, rotated
 * logs oldest first: `messages.2.gz`, `messages.1`, `messages`), and `-` for standard input.
 */
export async function expandInputs(paths: string[], opts: { format?: Format; host?: string } = {}): Promise<Input[]> {
  const out: Input[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ ref: ref('stdin', undefined, opts), open: () => process.stdin });
      continue;
    }
    const st = await stat(p);
    if (st.isDirectory()) {
      const files = await walk(p);
      for (const f of sortRotated(files)) out.push(await fileInput(f, opts));
    } else {
      out.push(await fileInput(p, opts));
    }
  }
  return out;
}

async function fileInput(path: string, opts: { format?: Format; host?: string }): Promise<Input> {
  const st = await stat(path);
  const gz = path.endsWith('.gz');
  const input: Input = {
    ref: ref(path, path, opts),
    size: st.size,
    open: () => (gz ? createReadStream(path).pipe(createGunzip()) : createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })),
  };
  if (!gz && st.isFile()) input.file = path;
  return input;
}

function ref(id: string, path: string | undefined, opts: { format?: Format; host?: string }): InputRef {
  const r: InputRef = { id };
  if (path) r.path = path;
  if (opts.format) r.format = opts.format;
  if (opts.host) r.host = opts.host;
  return r;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && !e.name.startsWith('.') && !/\.(md|txt\.truth|json\.truth)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Rotated generations by number, highest (oldest) first, the live file last. */
export function sortRotated(files: string[]): string[] {
  const key = (f: string) => {
    const m = /^(.*?)(?:[.-](\d+))?(?:\.gz)?$/.exec(f)!;
    return { base: m[1]!, gen: m[2] === undefined ? -1 : Number(m[2]) };
  };
  return [...files].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka.base !== kb.base) return ka.base < kb.base ? -1 : 1;
    return kb.gen - ka.gen;
  });
}
