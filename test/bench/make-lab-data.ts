import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.ts';

/**
 * A large node history made from the real lab run: the bundle repeated `replicas` times, each
 * copy `SPACING_S` later, with fresh container ids and names, so every copy holds the same six
 * deaths (and two decoys) for different containers. Returns the truth: deaths per cause.
 */
const SPACING_S = 120;
const FILES = ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'];
const NAMES = /(\/containers\/|"name":"|name=)(stop-timeout|oom|user-kill|docker-kill|good-stop)\b/g;

function shiftIso(iso: string, s: number, sep = 'T'): string {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(.*)$/.exec(iso)!;
  const t = new Date(`${m[1]}T${m[2]}Z`).getTime() + s * 1000;
  const d = new Date(t).toISOString();
  return `${d.slice(0, 10)}${sep}${d.slice(11, 19)}${m[3]}`;
}

export function rewriteLine(line: string, k: number, cache: Map<string, string>, spacingS = SPACING_S): string {
  const s = k * spacingS;
  return line
    .replace(/\b[0-9a-f]{64}\b/g, (id) => {
      let v = cache.get(id);
      if (!v) cache.set(id, (v = createHash('sha256').update(`${id}/${k}`).digest('hex')));
      return v;
    })
    .replace(/lab-shim-(v[12])/g, `lab-shim-$1-r${k}`)
    .replace(NAMES, `$1$2-r${k}`)
    .replace(/audit\((\d+)\.(\d+):(\d+)\)/g, (_m, e: string, ms: string, ser: string) => `audit(${Number(e) + s}.${ms}:${Number(ser) + k * 10_000})`)
    .replace(/time="([^"]+)"/g, (_m, t: string) => `time="${shiftIso(t, s)}"`)
    .replace(/"time":(\d+),"timeNano":(\d+)/g, (_m, t: string, n: string) => `"time":${Number(t) + s},"timeNano":${(BigInt(n) + BigInt(s) * 1_000_000_000n).toString()}`)
    .replace(/^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/, (t) => shiftIso(t, s, ' '))
    .replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(,\d+\+00:00 )/, (_m, t: string, rest: string) => `${shiftIso(t, s)}${rest}`);
}

/** `opts.source`: another lab capture (containers-busy spans longer than SPACING_S: give `spacingS`). */
export async function makeLabHistory(dir: string, replicas: number, opts: { source?: string; spacingS?: number } = {}): Promise<{ bytes: number; lines: number; deaths: Record<string, number> }> {
  mkdirSync(dir, { recursive: true });
  const src = join(FIXTURES, 'lab', opts.source ?? 'containers');
  let bytes = 0;
  let lines = 0;
  for (const f of FILES) {
    const text = readFileSync(join(src, f), 'utf8').replace(/\n$/, '').split('\n');
    const out = createWriteStream(join(dir, f));
    for (let k = 0; k < replicas; k++) {
      const cache = new Map<string, string>();
      let chunk = '';
      for (const l of text) chunk += `${rewriteLine(l, k, cache, opts.spacingS)}\n`;
      bytes += Buffer.byteLength(chunk);
      lines += text.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }
  const truth = readFileSync(join(src, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cause: string });
  const deaths: Record<string, number> = {};
  for (const t of truth) if (t.cause !== 'none') deaths[t.cause] = (deaths[t.cause] ?? 0) + replicas;
  return { bytes, lines, deaths };
}
