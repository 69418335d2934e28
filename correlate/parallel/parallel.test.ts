import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DeadLetter } from '../../ingest/dead-letter.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { makeAuditCapture } from '../../test/bench/make-audit-capture.ts';
import { makeLabHistory } from '../../test/bench/make-lab-data.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import type { AnalyzeOptions } from '../analyze.ts';
import { analyzeInputs } from '../analyze.ts';
import type { Done, Task } from './plan.ts';
import { lineBoundary, planThreads, sameAnchors, tailAnchors } from './plan.ts';
import { readRange } from './range.ts';
import { kmsgBoundary, lineTimeMs, planSlices } from './slices.ts';
import { READS_AFTER_S, READS_BEFORE_S } from '../window.ts';

const dir = mkdtempSync(join(tmpdir(), 'exit137-parallel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LAB = join(FIXTURES, 'lab');
const labFiles = (bundle: string) => ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(LAB, bundle, f));

/** Threads on however little input, and audit logs cut into ranges of about `rangeBytes`. */
const THREADED = (rangeBytes: number): AnalyzeOptions => ({ threads: 2, parallelFrom: 0, rangeBytes });

/** What analyze says, all of it: with threads it must be exactly what one thread says. */
async function analyzed(paths: string[], options: AnalyzeOptions) {
  const dead: DeadLetter[] = [];
  const r = await analyzeInputs(await expandInputs(paths), { clock: { referenceNs: 1_800_000_000_000_000_000n } }, { deadLetter: (d) => dead.push(d) }, options);
  // one thread reads the inputs side by side in time, threads feed them one after the other: the
  // order evidence comes in, and so how much the window lets go early, is not what must match
  const byId = (evs: typeof r.evidence) => [...evs].sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
  // evidence crosses threads as JSON: compared as it is written (an audit kill of pid 0 reads its
  // target as -0, which JSON writes as 0, here and in every sink)
  const written = (evs: typeof r.evidence) => byId(evs).map((e) => JSON.parse(JSON.stringify(e)) as typeof e);
  return { verdicts: r.verdicts, counters: r.decoder.counters.values, health: byId(r.health), evidence: written(r.evidence), evidenceEvents: r.evidenceEvents, deadLetters: r.deadLetters, dead, released: r.released, parallel: r.parallel };
}

const same = (two: Awaited<ReturnType<typeof analyzed>>, one: Awaited<ReturnType<typeof analyzed>>) => assert.deepEqual({ ...two, released: 0, parallel: undefined }, { ...one, released: 0, parallel: undefined });

async function ranges(paths: string[], rangeBytes: number) {
  return (await planThreads(await expandInputs(paths), {}, { threads: 2, parallelFrom: 0, rangeBytes }))?.tasks ?? [];
}

for (const bundle of ['containers', 'containers-busy']) {
  test(`lab ${bundle}: verdicts, counters, health and evidence with threads are those of one thread, the audit log read in ranges`, async () => {
    const files = labFiles(bundle);
    const rangeBytes = 20_000;
    const tasks = await ranges(files, rangeBytes);
    assert.ok(tasks.filter((t) => t.input === 0).length >= 2, 'the audit log is read in two ranges or more');
    // every input goes to the threads, the daemons' logs and event streams split too (not dmesg: its reports run over many lines)
    assert.deepEqual([...new Set(tasks.map((t) => t.input))], [0, 1, 2, 3, 4, 5]);
    for (const i of [1, 2]) assert.ok(tasks.filter((t) => t.input === i).length >= 2, `${files[i]} is read in ranges`);
    const one = await analyzed(files, { keepEvidence: true });
    const two = await analyzed(files, { ...THREADED(rangeBytes), keepEvidence: true });
    assert.ok(one.verdicts.length > 0 && one.evidence.length > 0);
    same(two, one);
  });
}

test('a node history whose audit log is read last, in ranges, with the window letting evidence go early: the same verdicts', async () => {
  // the audit log last: while it is read, its time is the watermark (correlate/window.ts)
  const node = join(dir, 'history');
  const truth = await makeLabHistory(node, 30);
  const files = ['containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt', 'audit.log'].map((f) => join(node, f));
  const rangeBytes = 150_000;
  assert.ok((await ranges(files, rangeBytes)).length >= 4);
  const one = await analyzed(files, { releaseAt: 40 });
  const two = await analyzed(files, { ...THREADED(rangeBytes), releaseAt: 40 });
  assert.ok(one.released > 0.2 * one.evidenceEvents, `the window let go of ${one.released} of ${one.evidenceEvents} early`);
  assert.ok(two.released > 0.2 * two.evidenceEvents, `with threads, the window let go of ${two.released} of ${two.evidenceEvents} early`);
  same(two, one);
  assert.equal(one.verdicts.filter((v) => v.cause !== 'normal-exit' && v.cause !== 'unknown').length, Object.values(truth.deaths).reduce((a, b) => a + b, 0));
});

test('a long node history in slices of time, one per thread: each death decided once, by the slice of its time, as one thread decides it', async () => {
  // 16 copies five minutes apart, cut into slices although their lead and tail are most of the
  // other's (`sliceOverlap`): the copies near the bound lie within the lead and tail both slices
  // read, so their deaths are found by both and must be decided once
  const node = join(dir, 'long-history');
  const truth = await makeLabHistory(node, 16, { spacingS: 300 });
  const inputs = await expandInputs([node]);
  const whole = await planThreads(inputs, {}, { threads: 2, parallelFrom: 0, rangeBytes: Infinity });
  assert.equal(await planSlices(whole!, inputs, 2), undefined, 'eighty minutes are too short for slices to pay for their lead and tail');
  const overlap = 4;
  const slices = await planSlices(whole!, inputs, 2, overlap);
  assert.ok(slices);
  const bound = slices[0]!.to!;
  assert.equal(slices[1]!.from, bound);
  for (const [i, input] of inputs.entries()) {
    const path = input.ref.path!;
    const text = readFileSync(path);
    const format = whole!.tasks.find((t) => t.input === i)!.format;
    const timeAt = (offset: number) => lineTimeMs(text.toString('latin1', offset, text.indexOf(0x0a, offset)), format)!;
    const ofInput = (k: number): Task[] => slices[k]!.tasks.filter((t) => t.input === i);
    const core0 = ofInput(0).find((t) => !t.role)!;
    const tail0 = ofInput(0).find((t) => t.role === 'tail');
    const lead1 = ofInput(1).find((t) => t.role === 'lead');
    const core1 = ofInput(1).find((t) => !t.role)!;
    // every byte is counted by one slice: the ranges meet at the bound's cut
    assert.equal(core0.start, 0);
    assert.equal(core0.end, core1.start);
    assert.equal(core1.end, undefined);
    if (tail0) assert.equal(tail0.start, core0.end);
    if (lead1) assert.equal(lead1.end, core1.start);
    // what slice 1 does not read starts before every death near the bound reads; what slice 0
    // does not read, after
    const boundMs = Number(bound / 1_000_000n);
    const first = (lead1 ?? core1).start;
    const before = text.lastIndexOf(0x0a, first - 2) + 1;
    if (first > 0) assert.ok(timeAt(before) < boundMs - Number(READS_BEFORE_S) * 1000, `${path}: slice 1 reads from ${READS_BEFORE_S} s before the bound or more`);
    const past = tail0 ? tail0.end : core0.end;
    if (past !== undefined) assert.ok(timeAt(past) >= boundMs + Number(READS_AFTER_S) * 1000, `${path}: slice 0 reads on ${READS_AFTER_S} s past the bound or more`);
  }
  const one = await analyzed([node], { keepEvidence: true });
  const two = await analyzed([node], { threads: 2, parallelFrom: 0, sliceOverlap: overlap, keepEvidence: true });
  assert.equal(two.parallel, 'slices');
  const near = one.verdicts.filter((v) => Math.abs(Date.parse(v.died_at) - Number(bound / 1_000_000n)) < Number(READS_AFTER_S) * 1000);
  assert.ok(near.length > 0, 'deaths lie within reach of the bound on both sides');
  same(two, one);
  assert.equal(one.verdicts.filter((v) => v.cause !== 'normal-exit' && v.cause !== 'unknown').length, Object.values(truth.deaths).reduce((a, b) => a + b, 0));
});

test('slices of time over inputs that end before the bound or begin after it: the same verdicts, counters and evidence as one thread', async () => {
  const node = join(dir, 'ragged-history');
  await makeLabHistory(node, 16, { spacingS: 300 });
  // the daemon's log stops after a quarter of the history, the event stream starts at its half
  const cut = (f: string, keep: (i: number, n: number) => boolean) => {
    const lines = readFileSync(join(node, f), 'utf8').replace(/\n$/, '').split('\n');
    writeFileSync(join(node, f), `${lines.filter((_, i) => keep(i, lines.length)).join('\n')}\n`);
  };
  cut('dockerd.log', (i, n) => i < n / 4);
  cut('ctr-events.txt', (i, n) => i >= n / 2);
  const options: AnalyzeOptions = { threads: 2, parallelFrom: 0, sliceOverlap: 4, keepEvidence: true };
  const one = await analyzed([node], { keepEvidence: true });
  const two = await analyzed([node], options);
  assert.equal(two.parallel, 'slices');
  assert.ok(one.verdicts.length > 0);
  same(two, one);
});

test("dmesg is cut only where the decoder holds no kernel report open, not merely after a pause", async () => {
  const f = join(LAB, 'containers-busy', 'dmesg.txt');
  const [input] = await expandInputs([f]);
  const task: Task = { id: 0, input: 0, kind: 'lines', format: 'kmsg', path: f, ref: input!.ref, start: 0, end: undefined, lastRange: false, rank: 0, opts: {} };
  const leanedAt = async (end: number) => {
    let done: Done | undefined;
    await readRange({ ...task, end }, (m) => {
      if (m.t === 'done') done = m;
    });
    return done!.leaned;
  };
  const text = readFileSync(f);
  const size = text.length;
  const lines = text.toString('latin1').split('\n');
  const offsets = lines.map((_, i) => lines.slice(0, i).reduce((n, l) => n + l.length + 1, 0));
  // a line a second after the one before it can still close a report the decoder holds (an OOM
  // report waits for the reaper's line): such a cut leans
  const paused = offsets.filter((o, i) => i > 0 && o < size && lineTimeMs(lines[i]!, 'kmsg')! - lineTimeMs(lines[i - 1]!, 'kmsg')! >= 1000);
  const leaning = [];
  for (const o of paused) if ((await leanedAt(o)) !== undefined) leaning.push(o);
  assert.ok(leaning.length > 0, 'some pauses come while a report is open');
  const fh = await open(f);
  try {
    let cuts = 0;
    // the pauses where a report is open, and points spread over the file
    for (const target of [...leaning.slice(0, 5), ...[0.1, 0.3, 0.5, 0.7, 0.9].map((share) => Math.floor(size * share))]) {
      const cut = await kmsgBoundary(fh, target, task);
      if (cut === undefined) continue;
      cuts++;
      assert.ok(offsets.includes(cut), 'a cut is a line start');
      assert.equal(await leanedAt(cut), undefined, `a range ending at ${cut} holds no report open`);
    }
    assert.ok(cuts >= 4);
  } finally {
    await fh.close();
  }
});

test('several inputs, audit logs among the others and one split, with bad lines in a range: the same verdicts, and the dead letters where they were read', async () => {
  const big = join(dir, 'audit-copies.log');
  await makeAuditCapture(big, 6);
  // undecodable lines in the middle of a range: their line numbers are the file's, not the range's
  const lines = readFileSync(big, 'utf8').split('\n');
  lines.splice(Math.floor(lines.length * 0.7), 0, 'type=SYSCALL msg=audit(garbage', 'not an audit line at all', 'type=KILL msg=audit(12.243:5): a paste cut its date');
  writeFileSync(big, lines.join('\n'));
  const lab = labFiles('containers');
  // a daemon log before the audit logs, one after them: what is read on the main thread around them
  const files = [lab[1]!, big, lab[0]!, lab[2]!, lab[5]!, lab[3]!, lab[4]!];
  const rangeBytes = 500_000;
  assert.ok((await ranges(files, rangeBytes)).filter((t) => t.path === big).length >= 4);
  const one = await analyzed(files, {});
  const two = await analyzed(files, THREADED(rangeBytes));
  assert.ok(one.dead.length >= 3 && one.dead.every((d) => d.line !== undefined && lines[d.line - 1] !== undefined && d.preview !== undefined));
  assert.ok(one.dead.some((d) => lines[d.line! - 1] === 'not an audit line at all'), 'line numbers count from the start of the file');
  same(two, one);
});

test("an audit log's last instants read from its end are what reading all of it leaves, and a node that stopped early is noticed", async () => {
  for (const f of [join(LAB, 'containers', 'audit.log'), join(LAB, 'containers-busy', 'audit.log'), join(LAB, 'audit-raw.log')]) {
    const [input] = await expandInputs([f]);
    const read = await readWhole(f, input!.ref);
    assert.ok(read.size > 0);
    assert.ok(sameAnchors(await tailAnchors(f, input!.ref, {}), read), f);
  }
  // node a's records all come more than a tail's reach before the end: only node b is seen there
  const two = join(dir, 'two-nodes.log');
  const capture = readFileSync(join(LAB, 'containers-busy', 'audit.log'), 'utf8').replace(/\n$/, '').split('\n');
  writeFileSync(two, '');
  for (const node of ['a', 'b', 'b']) appendFileSync(two, `${capture.map((l) => `node=${node} ${l}`).join('\n')}\n`);
  const [input] = await expandInputs([two]);
  const read = await readWhole(two, input!.ref);
  assert.deepEqual([...read.keys()].sort(), ['a', 'b']);
  assert.equal(sameAnchors(await tailAnchors(two, input!.ref, {}), read), false);
  // and analyze, having guessed wrong for the syslog read after it on the main thread (its lines
  // have no year: they take it from the node's clock), reads all again on one thread
  const files = [two, join(LAB, 'containers', 'messages')];
  assert.equal((await planThreads(await expandInputs(files), {}, { threads: 2, parallelFrom: 0, rangeBytes: 400_000 }))?.everything, false);
  assert.deepEqual(await analyzed(files, THREADED(400_000)), await analyzed(files, {}));
});

test("a daemon's log is cut only where no crash dump is open, and a range cut inside one says it leaned on what came after", async () => {
  const f = join(LAB, 'containers-busy', 'containerd.log');
  const text = readFileSync(f, 'utf8');
  const lines = text.split('\n');
  const offsetOf = (n: number) => Buffer.byteLength(lines.slice(0, n).join('\n')) + (n > 0 ? 1 : 0);
  const dump = lines.indexOf('SIGSEGV: segmentation violation');
  assert.ok(dump > 0);
  const fh = await open(f);
  let cut: number | undefined;
  try {
    cut = await lineBoundary(fh, offsetOf(dump + 3), 'raw');
  } finally {
    await fh.close();
  }
  assert.ok(cut !== undefined);
  const at = lines.findIndex((_, i) => offsetOf(i) === cut);
  assert.ok(at > dump, 'the cut is a line start after the dump began');
  for (let i = at - 16; i <= at; i++) assert.match(lines[i]!, /^time="/, `line ${i + 1} before the cut is a timed logfmt line`);
  const [input] = await expandInputs([f]);
  const read = async (end: number) => {
    let done: Done | undefined;
    await readRange({ id: 0, input: 0, kind: 'lines', format: 'raw', path: f, ref: input!.ref, start: 0, end, lastRange: false, rank: 0, opts: {} }, (m) => {
      if (m.t === 'done') done = m;
    });
    return done!;
  };
  assert.match((await read(offsetOf(dump + 5))).leaned ?? '', /still open/);
  assert.equal((await read(cut!)).leaned, undefined);
});

test("a daemon log's line whose year came from the node's clock is read again on one thread: the same verdicts and evidence", async () => {
  const lab = labFiles('containers');
  const daemon = readFileSync(lab[2]!, 'utf8').split('\n');
  // a kubelet klog line has no year: one thread takes it from the audit log's times (2026-11),
  // which puts 20 January in 2027; a thread reading this log alone would put it in 2026
  const klog = 'I0120 10:00:00.000000    1579 kuberuntime_container.go:561] Killing container "docker://763de1ad420fc26c5fd4997bac7cc44f5c540a123778fc18b636eb24fbc83d5a" with 30 second grace period';
  daemon.splice(200, 0, klog);
  const leaning = join(dir, 'dockerd-with-klog.log');
  writeFileSync(leaning, daemon.join('\n'));
  const [input] = await expandInputs([leaning]);
  let done: Done | undefined;
  await readRange({ id: 0, input: 0, kind: 'lines', format: 'raw', path: leaning, ref: input!.ref, start: 0, end: undefined, lastRange: true, rank: 0, opts: { clock: { referenceNs: 1_800_000_000_000_000_000n } } }, (m) => {
    if (m.t === 'done') done = m;
  });
  assert.match(done!.leaned ?? '', /year/);
  const files = [lab[0]!, leaning, lab[1]!, lab[3]!, lab[4]!, lab[5]!];
  assert.equal((await planThreads(await expandInputs(files), {}, { threads: 2, parallelFrom: 0, rangeBytes: 20_000 }))?.everything, true);
  const one = await analyzed(files, { keepEvidence: true });
  assert.ok(one.evidence.some((e) => e.event.original === klog && e['@timestamp'].startsWith('2027-01-20')));
  same(await analyzed(files, { ...THREADED(20_000), keepEvidence: true }), one);
});

async function readWhole(path: string, ref: Parameters<typeof readRange>[0]['ref']): Promise<Map<string, bigint>> {
  let done: Done | undefined;
  await readRange({ id: 0, input: 0, kind: 'audit', format: 'audit', path, ref, start: 0, end: undefined, lastRange: true, rank: 0, opts: {} }, (m) => {
    if (m.t === 'done') done = m;
  });
  return new Map(done!.anchors);
}
