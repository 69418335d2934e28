import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { FIXTURES, REPO, sharedPath } from '../test/helpers/paths.ts';
import { NormalizedEvent } from './event.ts';
import { NormalizedEvent as Generated, isNormalizedEvent } from './event-check.ts';
import { compileFunctions } from './event-check-compile.ts';
import { GENERATED, generatedSource } from './event-check-gen.ts';
import { FAILED, parse } from './event-check.generated.ts';
import { decodeInputs } from './run.ts';
import { expandInputs } from './sources/files.ts';

/** Every event the decoder makes of the lab fixtures and the shared audit corpus, as it made them (not parsed). */
async function decodedEvents(): Promise<unknown[]> {
  const corpus = sharedPath('corpus', 'audit');
  const paths = [join(FIXTURES, 'lab'), ...readdirSync(corpus).filter((f) => f.endsWith('.log')).map((f) => join(corpus, f))];
  const events: unknown[] = [];
  // one decoder per file: a file's own format and clock, as `decode` gives each command line
  for (const p of paths) await decodeInputs(await expandInputs([p]), { event: (e) => events.push(e), deadLetter: () => {} });
  return events;
}

const zodSays = (v: unknown) => NormalizedEvent.safeParse(v).success;

/** Paths to every value inside `v` (objects and arrays included), the root first. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/**
 * Calls `look` with `v` changed at `path` (to `value`, or the key removed with `drop`), then puts
 * it back: a copy per mutation made the test slow for nothing.
 */
function withReplaced(v: unknown, path: (string | number)[], value: unknown, drop: boolean, look: (m: unknown) => void): void {
  if (path.length === 0) return look(value);
  let parent = v as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const had = Object.hasOwn(parent, last);
  const old = parent[last];
  if (drop) delete parent[last];
  else parent[last] = value;
  try {
    look(v);
  } finally {
    if (had) parent[last] = old;
    else delete parent[last];
  }
}

/** Wrong (or borderline) values of every JSON shape, and the ones JSON cannot carry but code can make. */
const JUNK: unknown[] = ['x', '', '1', 1, 1.5, -1, 0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, true, null, undefined, [], ['x'], [1], {}, { a: 'x' }, 'unknown-kind', '2026-01-01T00:00:00.000Z'];

describe('the compiled event check (ingest/event-check.ts)', async () => {
  // copies: the decoder shares frozen parts between events, and the mutations below change them in place
  const events = (await decodedEvents()).map((e) => structuredClone(e));

  it('agrees with zod on every decoded event: all of them fit', () => {
    // the fixtures hold every kind the lab makes: a narrow corpus would prove little
    assert.ok(events.length > 1000, `${events.length} events decoded`);
    const kinds = new Set(events.map((e) => (e as NormalizedEvent).exit137.kind));
    for (const k of ['audit', 'audit-signal', 'runtime-log', 'container-event', 'kernel-oom']) assert.ok(kinds.has(k as never), `no ${k} event among ${[...kinds].join(', ')}`);
    for (const e of events) {
      assert.equal(zodSays(e), true, `zod refuses ${JSON.stringify(e).slice(0, 300)}`);
      assert.equal(isNormalizedEvent(e), true, `the check refuses ${JSON.stringify(e).slice(0, 300)}`);
    }
  });

  it('agrees with zod on every value of every shape replaced by a wrong one, or removed', () => {
    let refused = 0;
    let tried = 0;
    // each place in the event (array positions as one), in the first few events that have it:
    // every shape the decoder makes, without mutating thousands of alike events
    const times = new Map<string, number>();
    for (const e of events) {
      for (const p of paths(e)) {
        const where = p.map((k) => (typeof k === 'number' ? '#' : k)).join('.');
        const n = times.get(where) ?? 0;
        if (n >= 2) continue;
        times.set(where, n + 1);
        const see = (m: unknown) => {
          const want = zodSays(m);
          tried++;
          if (!want) refused++;
          assert.equal(isNormalizedEvent(m), want, `zod says ${want} at ${p.join('.')}: ${JSON.stringify(m)?.slice(0, 400)}`);
        };
        for (const j of JUNK) withReplaced(e, p, j, false, see);
        if (p.length > 0) withReplaced(e, p, undefined, true, see);
      }
    }
    // most replacements are wrong: a check that accepted everything would fail above, many times
    assert.ok(refused > tried / 2, `${refused} of ${tried} mutations refused`);
  });

  it('agrees with zod where the decoder leaves fields out: an absent optional given a value', () => {
    const schemaShape = NormalizedEvent.shape;
    const e = events.find((x) => (x as NormalizedEvent).exit137.kind === 'audit-signal')!;
    let tried = 0;
    for (const [k, sub] of Object.entries(schemaShape)) {
      if ((e as Record<string, unknown>)[k] !== undefined) continue;
      assert.ok(sub instanceof z.ZodOptional, k);
      for (const j of JUNK) {
        withReplaced(e, [k], j, false, (m) => assert.equal(isNormalizedEvent(m), zodSays(m), `${k} = ${JSON.stringify(j)}`));
        tried++;
      }
    }
    assert.ok(tried > 0);
  });

  it('checks a part frozen all the way down once, and one that can still change each time it is seen', () => {
    const e = structuredClone(events.find((x) => (x as NormalizedEvent).exit137.kind === 'audit-signal')) as NormalizedEvent;
    const agree = (what: string) => assert.equal(isNormalizedEvent(e), zodSays(e), what);
    e.user = Object.freeze({ id: '0', audit: Object.freeze({ id: '1000' }) });
    agree('a frozen user');
    agree('the same frozen user again');
    // frozen on top, its inside free to change: the change is seen
    const effective: { id: unknown } = { id: '0' };
    e.user = Object.freeze({ id: '0', effective: effective as { id: string } });
    agree('a user frozen only on top');
    effective.id = 5;
    assert.equal(isNormalizedEvent(e), false, 'the number its inside was changed to');
    agree('its inside changed');
    // a frozen part that does not fit is refused every time (never remembered as checked)
    e.user = Object.freeze({ id: 5 as unknown as string });
    assert.equal(isNormalizedEvent(e), false);
    assert.equal(isNormalizedEvent(e), false);
    // a getter may answer differently each time: not taken for a value that cannot change
    let id: unknown = '0';
    e.user = Object.freeze(Object.defineProperty({}, 'id', { enumerable: true, get: () => id })) as { id: string };
    agree('a getter');
    id = 7;
    assert.equal(isNormalizedEvent(e), false, 'what the getter answers now');
    agree('the getter answering otherwise');
  });

  it('refuses to compile a schema it does not know, rather than let everything through', () => {
    assert.throws(() => compileFunctions(z.object({ a: z.string().email() })), /not compiled/);
    assert.throws(() => compileFunctions(z.object({ a: z.union([z.string(), z.number()]) })), /not compiled/);
    assert.throws(() => compileFunctions(z.object({ a: z.number().min(3) })), /not compiled/);
    assert.throws(() => compileFunctions(z.object({ a: z.array(z.string().optional()) })), /not compiled/);
  });

  it('is the check and parse generated from the schema as it is now (npm run build makes it)', () => {
    assert.equal(readFileSync(GENERATED, 'utf8'), generatedSource(), 'ingest/event-check.generated.ts is stale: npx tsx ingest/event-check-gen.ts');
  });

  /** The generated parse agrees with zod's: both refuse, or both give the same copy (keys, their order, undefined values kept). */
  const sameParse = (m: unknown, what: string) => {
    const want = NormalizedEvent.safeParse(m);
    // (the generated parse itself: safeParse asks zod when it refuses, which would hide a refusal zod does not make)
    const data = parse(m);
    assert.equal(data !== FAILED, want.success, `zod says ${want.success} ${what}: ${JSON.stringify(m)?.slice(0, 400)}`);
    const got = Generated.safeParse(m);
    if (want.success && got.success) {
      assert.ok(isDeepStrictEqual(got.data, want.data), `another copy than zod's ${what}`);
      assert.equal(JSON.stringify(got.data), JSON.stringify(want.data), `keys in another order than zod's ${what}`);
      assert.notEqual(got.data, m, 'a copy, not the value given');
    } else {
      assert.equal(got.success, false);
      assert.deepEqual(!got.success && got.error.issues, want.error?.issues, `zod's own reasons ${what}`);
    }
  };

  it('parses as zod does every decoded event, and each with a key the schema lacks added at every level', () => {
    let added = 0;
    const times = new Map<string, number>();
    for (const e of events) {
      sameParse(e, 'as decoded');
      // what decode re-reads: the event through JSON
      sameParse(JSON.parse(JSON.stringify(e)), 'through JSON');
      for (const p of paths(e)) {
        const where = p.map((k) => (typeof k === 'number' ? '#' : k)).join('.');
        const n = times.get(where) ?? 0;
        if (n >= 2) continue;
        times.set(where, n + 1);
        let parent: unknown = e;
        for (const k of p) parent = (parent as Record<string | number, unknown>)[k];
        if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) continue;
        // an unknown key dropped (zod's parse strips), at the start and at the end of the object
        // (defined, not assigned: JSON.parse makes __proto__ a key of its own, as assigning it would not)
        for (const key of ['zz_unknown', '__proto__']) {
          Object.defineProperty(parent, key, { value: { x: 1 }, enumerable: true, configurable: true, writable: true });
          try {
            sameParse(e, `with ${key} at ${p.join('.')}`);
          } finally {
            delete (parent as Record<string, unknown>)[key];
          }
          added++;
        }
        const rebuilt = { aa_unknown: 'x', ...(parent as object) };
        withReplaced(e, p, rebuilt, false, (m) => sameParse(m, `with a key first at ${p.join('.')}`));
      }
    }
    assert.ok(added > 100, `${added} keys added`);
  });

  it('parses as zod does every value of every shape replaced by a wrong one, or removed, or undefined', () => {
    let refused = 0;
    let tried = 0;
    const times = new Map<string, number>();
    for (const e of events) {
      for (const p of paths(e)) {
        const where = p.map((k) => (typeof k === 'number' ? '#' : k)).join('.');
        const n = times.get(where) ?? 0;
        if (n >= 2) continue;
        times.set(where, n + 1);
        const see = (m: unknown) => {
          tried++;
          if (!NormalizedEvent.safeParse(m).success) refused++;
          sameParse(m, `at ${p.join('.')}`);
        };
        for (const j of JUNK) withReplaced(e, p, j, false, see);
        if (p.length > 0) withReplaced(e, p, undefined, true, see);
      }
    }
    assert.ok(refused > tried / 2, `${refused} of ${tried} mutations refused`);
    // an absent optional given each value, at the top
    const e = events.find((x) => (x as NormalizedEvent).exit137.kind === 'audit-signal')!;
    for (const k of Object.keys(NormalizedEvent.shape)) if ((e as Record<string, unknown>)[k] === undefined) for (const j of JUNK) withReplaced(e, [k], j, false, (m) => sameParse(m, `${k} = ${String(j)}`));
  });

  it('lets decode run without loading zod, and gives the reasons zod gives for an event of its own it refuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit137-check-'));
    const good = events.find((x) => (x as NormalizedEvent).exit137.kind === 'audit-signal')!;
    const bad = { ...(good as object), tags: 'not-a-list' };
    const input = join(dir, 'own.ndjson');
    writeFileSync(input, `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    // (the decode command line as a user types it; a hook of this test's own says at exit whether zod was loaded)
    const run = (file: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,process.on('exit', () => process.stderr.write('zod loaded: ' + ('__zod_globalConfig' in globalThis) + '\\n'))`, join(REPO, 'cli/main.ts'), 'decode', file], { cwd: REPO, encoding: 'utf8' }).stderr;
    const quiet = run(join(FIXTURES, 'lab', 'audit-enriched.log'));
    assert.match(quiet, /zod loaded: false/);
    const refused = run(input);
    assert.match(refused, /zod loaded: true/);
    const want = NormalizedEvent.safeParse(bad);
    assert.ok(!want.success);
    assert.ok(refused.includes(`not a valid exit137 event: ${want.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`), refused);
  });
});

