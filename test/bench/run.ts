import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAuditLog, makeJournal } from './make-data.ts';
import { makeLabHistory } from './make-lab-data.ts';
import { benchDistributed } from './distributed.ts';
import { benchSampler } from './sampler.ts';

/**
 * `npm run bench`: exit137's decoder beside ausearch on the same input in the same run, each
 * pinned to one core. Sizes: BENCH_AUDIT_MB (default 256), BENCH_JOURNAL_MB (default 64).
 */
const dir = mkdtempSync(join(tmpdir(), 'exit137-bench-'));
const auditMb = Number(process.env.BENCH_AUDIT_MB ?? 256);
const journalMb = Number(process.env.BENCH_JOURNAL_MB ?? 64);
// 1,700 copies of the lab run hold 10,200 deaths in about 1.4 million events.
const replicas = Number(process.env.BENCH_REPLICAS ?? 1700);
// the distributed pipeline goes through a real Elasticsearch on this machine: a smaller history
const distReplicas = Number(process.env.BENCH_DIST_REPLICAS ?? 100);
const distWorkers = Number(process.env.BENCH_DIST_WORKERS ?? 2);
// BENCH_ONLY=decode,analyze,distributed,sampler runs some sections only
const only = new Set((process.env.BENCH_ONLY ?? 'decode,analyze,distributed,sampler').split(','));

type Run = { seconds: number; maxRssMb: number; lines?: number; events?: number };

/** Runs a command on core 0 under GNU time, returns wall seconds and peak RSS. */
function timed(cmd: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'taskset', '-c', '0', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const last = r.stderr.trim().split('\n').at(-1)!.split(' ');
  const out: Run = { seconds: Number(last[0]), maxRssMb: Number(last[1]) / 1024 };
  if (r.stdout.startsWith('{')) Object.assign(out, JSON.parse(r.stdout.trim().split('\n').at(-1)!));
  return out;
}

function ausearch(args: string[], file: string): Run {
  // ausearch writes its result to stdout; send it nowhere so only parsing is timed.
  return timed(['sh', '-c', `ausearch ${args.join(' ')} -if '${file}' > /dev/null 2>&1; true`]);
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const rows: string[][] = [];
function row(what: string, r: Run, lines: number, bytes: number) {
  rows.push([what, fmt(r.seconds, 2), fmt(lines / r.seconds), fmt(bytes / 1e6 / r.seconds, 1), fmt(r.maxRssMb, 0)]);
}

try {
  const tsx = ['node', '--import', 'tsx', join(import.meta.dirname, 'decode-only.ts')];
  if (only.has('decode')) {
  process.stderr.write(`bench: writing ${auditMb} MB of audit log and ${journalMb} MB of journal JSON in ${dir}\n`);
  const audit = join(dir, 'audit.log');
  const a = await makeAuditLog(audit, auditMb * 1e6);
  const journal = join(dir, 'journal.json');
  const j = await makeJournal(journal, journalMb * 1e6);

  const ours = timed([...tsx, audit]);
  row('exit137 decode + reassembly (audit)', ours, a.lines, a.bytes);
  row('ausearch --raw (audit)', ausearch(['--raw'], audit), a.lines, a.bytes);
  row('ausearch -i (audit)', ausearch(['-i'], audit), a.lines, a.bytes);
  const jr = timed([...tsx, journal]);
  row('exit137 decode (journald JSON)', jr, j.lines, j.bytes);

  const header = ['input, one core', 'seconds', 'lines/s', 'MB/s', 'peak RSS MB'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`audit: ${fmt(a.lines)} lines, ${fmt(statSync(audit).size / 1e6, 0)} MB; journal: ${fmt(j.lines)} lines, ${fmt(statSync(journal).size / 1e6, 0)} MB`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const iRate = a.lines / Number(rows[2]![1]!.replace(/,/g, ''));
  const rawRate = a.lines / Number(rows[1]![1]!.replace(/,/g, ''));
  const ourRate = a.lines / ours.seconds;
  console.log(`exit137 / ausearch -i: ${(ourRate / iRate).toFixed(2)}x   exit137 / ausearch --raw: ${(ourRate / rawRate).toFixed(2)}x   exit137 events: ${fmt(ours.events ?? 0)}`);
  void execFileSync;
  }

  if (only.has('analyze')) {
  // ingest + correlate in one process (exit137 analyze) beside decoding alone, on a node history
  // made of the real lab run repeated: the ratio is what correlation costs.
  const hist = join(dir, 'history');
  const h = await makeLabHistory(hist, replicas);
  const decodeOnly = timed([...tsx, hist]);
  const analyze = timed(['node', '--import', 'tsx', join(import.meta.dirname, 'analyze-only.ts'), hist]) as Run & { deaths?: number; byCause?: Record<string, number>; kept?: number };
  const expected = Object.values(h.deaths).reduce((a, b) => a + b, 0);
  const right = Object.entries(h.deaths).every(([c, n]) => analyze.byCause?.[c] === n);
  const crow = (what: string, r: Run) => [what, fmt(r.seconds, 2), fmt((r.events ?? 0) / r.seconds), fmt(h.lines / r.seconds), fmt(r.maxRssMb, 0)];
  const cheader = ['node history, one core', 'seconds', 'events/s', 'lines/s', 'peak RSS MB'];
  const crows = [crow('exit137 decode (ingest only)', decodeOnly), crow('exit137 analyze (ingest + correlate)', analyze)];
  const cw = cheader.map((x, i) => Math.max(x.length, ...crows.map((r) => r[i]!.length)));
  const cline = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(cw[i]!) : c.padStart(cw[i]!))).join('  ');
  console.log('');
  console.log(`history: ${replicas} copies of the lab run, ${fmt(h.lines)} lines, ${fmt(h.bytes / 1e6, 0)} MB, ${fmt(analyze.events ?? 0)} events, ${fmt(expected)} deaths (${fmt(analyze.kept ?? 0)} events kept as evidence)`);
  console.log(cline(cheader));
  for (const r of crows) console.log(cline(r));
  console.log(`verdicts: ${fmt(analyze.deaths ?? 0)} deaths found, causes ${right ? 'all as caused' : `WRONG: ${JSON.stringify(analyze.byCause)} vs ${JSON.stringify(h.deaths)}`}; analyze / decode time: ${(analyze.seconds / decodeOnly.seconds).toFixed(2)}x`);

  }

  if (only.has('distributed')) {
    // the same code distributed: ingest worker → Redis (BullMQ) → correlate workers → Elasticsearch,
    // beside analyze in one process on the same history in the same run
    const dh = join(dir, 'dist-history');
    const truth = await makeLabHistory(dh, distReplicas);
    const deaths = Object.values(truth.deaths).reduce((a, b) => a + b, 0);
    const inProcess = timed(['node', '--import', 'tsx', join(import.meta.dirname, 'analyze-only.ts'), dh]) as Run & { deaths?: number };
    process.stderr.write(`bench: distributed run on ${distReplicas} copies of the lab run with ${distWorkers} correlate workers (starts Redis and Elasticsearch)\n`);
    const d = await benchDistributed(dh, { events: inProcess.events ?? 0, deaths }, distWorkers);
    const inRate = (inProcess.events ?? 0) / inProcess.seconds;
    const outRate = d.events / d.seconds;
    console.log('');
    console.log(`distributed: ${fmt(distReplicas)} copies of the lab run, ${fmt(inProcess.events ?? 0)} events, ${fmt(deaths)} deaths; ${distWorkers} correlate workers, 1 ingest worker, Redis and one ES node on this machine`);
    console.log(`exit137 analyze, one process, one core        ${fmt(inRate).padStart(9)} events/s  (${fmt(inProcess.seconds, 2)} s, ${fmt(inProcess.deaths ?? 0)} verdicts)`);
    console.log(`ingest → Redis → correlate → Elasticsearch    ${fmt(outRate).padStart(9)} events/s  (${fmt(d.seconds, 2)} s, ${fmt(d.events)} events and ${fmt(d.verdicts)} verdicts in ES)`);
    const right = Object.entries(truth.deaths).every(([c, n]) => d.byCause[c] === n) && d.verdicts === deaths;
    console.log(`cost of distribution: analyze / pipeline rate ${(inRate / outRate).toFixed(2)}x (the pipeline's processes, Redis and Elasticsearch share this machine's ${cpus().length} cores); verdicts in ES ${right ? 'all as caused' : `WRONG: ${JSON.stringify(d.byCause)} vs ${JSON.stringify(truth.deaths)}`}`);
    console.log(`verdict latency, last evidence queued → verdict in ES: p50 ${fmt(d.latencyP50Ms)} ms, p99 ${fmt(d.latencyP99Ms)} ms; minus the ${fmt(d.settleMs)} ms settle window: p50 ${fmt(d.latencyP50Ms - d.settleMs)} ms, p99 ${fmt(d.latencyP99Ms - d.settleMs)} ms (${fmt(d.verdictWrites)} verdict writes, re-attributions included)`);
    console.log(`Redis: peak ${fmt(d.redisPeakMb, 1)} MB above idle; evidence held ${fmt(d.evidenceBytesPerIncident / 1024, 1)} KB per incident (${fmt(d.incidentsHeld)} incidents held at the end)`);
    console.log(`workers, peak RSS and CPU time: ${d.workers.map((w) => `${w.role} ${fmt(w.peakRssMb, 0)} MB ${fmt(w.cpuSeconds, 1)} s`).join(', ')}`);
  }

  if (only.has('sampler')) {
  // the live blocked-task sampler on fixture /proc trees: a full round split into budgeted scans
  console.log('');
  console.log('blocked-task sampler, fixture /proc (1% of tasks in D), budget 20,000 entries / 250 ms per scan');
  console.log('tasks      scans  round ms  CPU ms  worst scan ms  reported');
  for (const n of [10_000, 100_000]) {
    const r = benchSampler(n);
    console.log(`${fmt(n).padEnd(9)}  ${String(r.scans).padStart(5)}  ${fmt(r.millis, 0).padStart(8)}  ${fmt(r.cpuMillis, 0).padStart(6)}  ${fmt(r.worstScanMillis, 0).padStart(13)}  ${fmt(r.reported).padStart(8)}`);
  }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
