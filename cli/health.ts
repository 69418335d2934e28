import Table from 'cli-table3';
import type { Command } from 'commander';
import { findHealth } from '../correlate/health/findings.ts';
import { NodeFinding } from '../correlate/health/finding.ts';
import { collectInto } from '../ingest/collectors/run.ts';
import type { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import type { NodeCliOptions } from './node.ts';
import { isNodeForm, nodeOptions, readNode } from './node.ts';
import { decoderOptions, ingestOptions } from './options.ts';
import { stdoutSink, writeLine } from './output.ts';

export function healthCommands(program: Command): void {
  const health = program
    .command('health')
    .description('node health: stuck kills, cgroup teardown freezes, memory cgroup leaks, OOM kills of the wrong task')
    .argument('[inputs...]', 'kernel logs, pasted /proc stacks, `exit137 collect` output, …; none: this node’s own evidence')
    .option('--json', 'one finding per line as NDJSON');
  for (const o of ingestOptions()) health.addOption(o);
  for (const o of nodeOptions()) if (o.long !== '--container') health.addOption(o);
  health.action(async (paths: string[], o: NodeCliOptions & { json?: boolean }) => {
    const deadLetter = (d: DeadLetter) => process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
    let events: NormalizedEvent[] = [];
    // a node's plain log lines are many and never a finding: only what can be one is held
    if (isNodeForm(paths, o)) events = (await readNode(o, (e) => e.exit137.kind !== 'log', deadLetter)).events;
    else await decodeInputs(await expandInputs(paths, o), { event: (e) => events.push(e), deadLetter }, decoderOptions(o));
    const findings = findHealth(events);
    if (o.json) writeFindingsJson(findings);
    else if (findings.length === 0) process.stdout.write('no node-health findings\n');
    else printFindings(findings);
  });

  program
    .command('collect')
    .description('sample this node: tasks blocked in state D (stack, cgroup) and memory cgroup counts, as NDJSON events')
    .option('--once', 'one sample of each, then exit')
    .option('--interval <seconds>', 'seconds between samples', '30')
    .option('--threshold <seconds>', 'report a task after this long in state D', '30')
    .option('--proc-root <dir>', 'where /proc is', '/proc')
    .option('--cgroup-root <dir>', 'where the cgroup hierarchies are', '/sys/fs/cgroup')
    .action(async (o: { once?: boolean; interval: string; threshold: string; procRoot: string; cgroupRoot: string }) => {
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      await collectInto(stdoutSink(), { intervalSeconds: Number(o.interval), thresholdSeconds: o.once ? 0 : Number(o.threshold), procRoot: o.procRoot, cgroupRoot: o.cgroupRoot, once: o.once ?? false }, ac.signal);
    });
}

/** One finding per line, as the schema says it. */
export function writeFindingsJson(findings: NodeFinding[]): void {
  for (const f of findings) writeLine(process.stdout, JSON.stringify(NodeFinding.parse(f)));
}

export function printFindings(findings: NodeFinding[]): void {
  const t = new Table({ head: ['host', 'finding', 'severity', 'last seen (UTC)', 'what is happening'], colWidths: [14, 24, 10, 21, 80], wordWrap: true, style: process.stdout.isTTY ? {} : { head: [], border: [] } });
  for (const f of findings) t.push([f.host, f.signature ? `${f.finding}\n(${f.signature})` : f.finding, f.severity, f.time_basis === 'relative' ? 'no clock in input' : f.last_seen.slice(0, 19).replace('T', ' '), `${f.headline}\n→ ${f.remedy}`]);
  process.stdout.write(`${t.toString()}\n`);
}
