import { createWriteStream, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { analyzeInputs } from '../correlate/analyze.ts';
import { findHealth } from '../correlate/health/findings.ts';
import { printFindings, writeFindingsJson } from './health.ts';
import { Attribution } from '../correlate/verdict.ts';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import type { IngestCliOptions } from './options.ts';
import { decoderOptions, ingestOptions } from './options.ts';
import { writeLine } from './output.ts';
import type { EsCliOptions } from './options.ts';
import { esOptions } from './options.ts';
import type { NodeCliOptions } from './node.ts';
import { analyzeNode, isNodeForm, nodeOptions } from './node.ts';

type AnalyzeOptions = IngestCliOptions & EsCliOptions & NodeCliOptions & { json?: boolean; all?: boolean; html?: string; threads?: number };

export function analyzeCommand(program: Command): void {
  const cmd = program
    .command('analyze', { isDefault: true })
    .description('read node records and say, for each container death, what killed it, why, how sure, and what to do')
    .argument('[inputs...]', 'files (.gz too), directories, or - for stdin; formats are detected per input; none: this node’s own evidence')
    .option('--json', 'print one verdict per line as NDJSON instead of a table')
    .option('--all', 'also list deaths whose cause is unknown, and normal exits, in the table (always in --json)')
    .option('--threads <n>', 'threads, the verdicts the same: when every input carries its own times (audit logs, the daemons\' logfmt logs, docker and ctr event streams, dmesg --time-format iso) and the history is long enough (a slice reads about 45 minutes around it again), each thread reads and correlates a slice of its time; otherwise threads decode ranges (of audit logs only, unless every input has its own times) while this thread correlates. Default 1: one thread already keeps about 1.3 cores busy (garbage collection, compilation), so on 2 cores two threads gain less than 2×', threadCount);
  for (const o of ingestOptions()) cmd.addOption(o);
  for (const o of esOptions()) cmd.addOption(o);
  for (const o of nodeOptions()) cmd.addOption(o);
  cmd.action(async (paths: string[], o: AnalyzeOptions) => {
    // --json prints each verdict as its death is decided: a node's weeks of logs and thousands of
    // deaths are not held in memory (Elasticsearch needs them all, to write them with their evidence)
    let streamed = 0;
    const print = (v: Attribution) => {
      streamed++;
      writeLine(process.stdout, JSON.stringify(Attribution.parse(v)));
    };
    const node = isNodeForm(paths, o);
    const r = node ? await analyzeNode(o) : await run(paths, o, { keepEvidence: Boolean(o.es), ...(o.json && !o.es ? { onVerdict: print } : {}) });
    // one question, one command: what the same evidence says of the node's health comes with the deaths
    const findings = findHealth(r.health);
    if (o.json) {
      for (const v of r.verdicts) print(v);
      writeFindingsJson(findings);
    } else {
      printTable(r.verdicts.filter((v) => o.all || (v.cause !== 'unknown' && v.cause !== 'normal-exit')), r.verdicts.length);
      if (findings.length) {
        process.stdout.write('\nnode health:\n');
        printFindings(findings);
      }
    }
    process.stderr.write(`exit137: ${o.json ? streamed : r.verdicts.length} deaths, ${findings.length} node-health findings, ${r.evidenceEvents} evidence events from ${r.decoder.counters.get('lines')} lines; ${r.deadLetters} undecodable\n`);
    if (o.es) {
      // publish the evidence and the verdicts: ids make a re-run a no-op for events and an update for verdicts
      // the client and the page are loaded only when asked for: start-up is part of every run
      const { esClient } = await import('./elasticsearch.ts');
      const { installTemplates, writeBatch } = await import('../sinks/elasticsearch/writer.ts');
      const client = esClient(o);
      await installTemplates(client);
      const w = await writeBatch(client, r.evidence, r.verdicts);
      process.stderr.write(`exit137: Elasticsearch: ${w.created} created, ${w.updated} updated, ${w.duplicates} already there, ${w.rejected.length} rejected\n`);
      for (const x of w.rejected) process.stderr.write(`exit137: rejected ${x.id}: ${x.status} ${x.reason}\n`);
      if (w.rejected.length) process.exitCode = 1;
    }
  });

  const explain = program
    .command('explain')
    .description('print one container’s timeline: every piece of evidence and why it counts')
    .argument('<container-id-prefix>', 'at least 4 characters of the container id')
    .argument('[inputs...]', 'files, directories, or -; none: this node’s own evidence')
    .addOption(ingestOptions()[0]!)
    .option('--host <name>', 'host name for inputs that do not name one')
    .option('--html <file>', 'also write the death as one self-contained HTML page (verdict, timeline by source, raw lines) to attach to a ticket');
  for (const x of nodeOptions()) if (x.long !== '--container') explain.addOption(x);
  explain.action(async (prefix: string, paths: string[], o: AnalyzeOptions) => {
    if (prefix.length < 4) throw new Error('give at least 4 characters of the container id');
    const node = isNodeForm(paths, o);
    const r = node ? await analyzeNode({ ...o, container: prefix }) : await run(paths, o, { keepEvidence: true });
    // the node form chose the container already, by id prefix or name
    const mine = node ? r.verdicts : r.verdicts.filter((v) => v.container.id.startsWith(prefix) || prefix.startsWith(v.container.id));
    if (mine.length === 0) {
      process.stderr.write(`exit137: no death of a container ${prefix}… in the input\n`);
      process.exitCode = 1;
      return;
    }
    for (const v of mine) printExplanation(v);
    if (o.html) {
      const { renderIncidentPage } = await import('../sinks/html/page.ts');
      writeFileSync(o.html, renderIncidentPage({ verdicts: mine, events: r.evidence, generatedAt: new Date(), inputs: paths.length ? paths : ['this node'] }));
      process.stderr.write(`exit137: wrote ${o.html}\n`);
    }
  });
}

async function run(paths: string[], o: AnalyzeOptions, options: { keepEvidence: boolean; onVerdict?: (v: Attribution) => void }) {
  const inputs = await expandInputs(paths, o);
  const dl = o.deadLetter ? createWriteStream(o.deadLetter) : undefined;
  const total = inputs.reduce((n, i) => n + (i.size ?? 0), 0);
  const bar = process.stderr.isTTY && total > 50e6 ? new cliProgress.SingleBar({ format: 'reading {bar} {percentage}% {value}/{total} MB', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(Math.round(total / 1e6), 0);
  const sinks: Parameters<typeof analyzeInputs>[2] = {
    deadLetter: (d: DeadLetter) => {
      if (dl) dl.write(`${JSON.stringify(d)}\n`);
      else process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
    },
  };
  if (bar) sinks.progress = (b) => bar.update(Math.round(b / 1e6));
  const r = await analyzeInputs(inputs, decoderOptions(o), sinks, { ...options, threads: o.threads ?? 1 });
  bar?.stop();
  dl?.end();
  return r;
}

function threadCount(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('threads must be a whole number, at least 1');
  return Number(v);
}

function printTable(verdicts: Attribution[], all: number): void {
  if (verdicts.length === 0) {
    process.stdout.write(all ? `no attributed deaths (${all} with unknown cause: --all lists them)\n` : 'no container deaths found in the input\n');
    return;
  }
  const t = new Table({ head: ['died (UTC)', 'host', 'container', 'exit', 'cause', 'conf.', 'what happened'], colWidths: [21, 14, 15, 6, 16, 6, 70], wordWrap: true, style: process.stdout.isTTY ? {} : { head: [], border: [] } });
  for (const v of verdicts) {
    t.push([diedAt(v), v.host, v.container.name ?? v.container.id.slice(0, 12), v.exit_code ?? '—', v.sub_cause ? `${v.cause}\n(${v.sub_cause})` : v.cause, v.confidence.toFixed(2), v.headline]);
  }
  process.stdout.write(`${t.toString()}\n`);
}

function printExplanation(v: Attribution): void {
  const out: string[] = [];
  out.push(`container ${v.container.id}${v.container.id_is_prefix ? '… (only a prefix is known)' : ''}${v.container.name ? ` (${v.container.name})` : ''} on ${v.host}`);
  out.push(`died ${diedAt(v)}, exit ${v.exit_code ?? 'unknown'} (${v.exit_origin})`);
  out.push(`cause: ${v.cause}${v.sub_cause ? ` / ${v.sub_cause}` : ''}, confidence ${v.confidence.toFixed(2)} — ${v.confidence_reason}`);
  out.push('', v.headline, '', v.explanation, '', `remedy: ${v.remedy}`);
  for (const b of v.known_bugs) out.push(`known bug: ${b.title} (${b.affected}); fixed in ${b.fixed_in}; ${b.refs.join(', ')}`);
  out.push('', 'evidence, in time order:');
  for (const e of v.evidence) out.push(`  ${e.ts}  ${e.source.padEnd(10)} ${e.summary.split('\n')[0]!.slice(0, 160)}${e.role ? `\n  ${''.padEnd(30)} ↳ ${e.role}` : ''}`);
  if (v.alternatives.length) out.push('', 'also considered:', ...v.alternatives.map((a) => `  ${a.cause} (${a.confidence.toFixed(2)}): ${a.reason}`));
  if (v.missing.length) out.push('', 'missing:', ...v.missing.map((m) => `  - ${m}`));
  process.stdout.write(`${out.join('\n')}\n\n`);
}

/**
 * When a container died, as far as the input says: an instant, or kernel seconds since boot that
 * nothing in the input tied to the wall clock (never a date that only looks like one).
 */
function diedAt(v: Attribution): string {
  const at = v.died_at.slice(0, 23).replace('T', ' ');
  if (v.died_basis === 'relative') return v.died_since_boot_ns !== undefined ? `boot+${(Number(BigInt(v.died_since_boot_ns) / 1_000_000n) / 1000).toFixed(3)} s (no clock in input)` : 'no clock in input';
  if (v.died_basis === 'anchored' || v.died_basis === 'assumed') return `~${at}`;
  return at;
}
