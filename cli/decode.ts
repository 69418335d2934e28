import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import { Decoder } from '../ingest/decoder.ts';
import { isNormalizedEvent, NormalizedEvent } from '../ingest/event-check.ts';
import { eventJson } from '../ingest/event-json.ts';
import type { FollowSink } from '../ingest/follow-run.ts';
import { decodeInputs } from '../ingest/run.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import type { IngestCliOptions } from './options.ts';
import { decoderOptions, ingestOptions } from './options.ts';
import { BatchedLines, drained, writeLine } from './output.ts';

export function decodeCommand(program: Command): void {
  const cmd = program
    .command('decode')
    .description('print every normalized event as NDJSON, one per line; undecodable lines go to stderr (or --dead-letter) with their reason')
    .argument('[inputs...]', 'files (.gz too), directories, or - for stdin');
  for (const o of ingestOptions()) cmd.addOption(o);
  cmd.option('--no-validate', 'skip checking each event against the schema');
  cmd.option('--follow', 'keep reading the files as they grow, across rotation (Ctrl-C to stop)');
  cmd.option('--position-file <file>', 'with --follow on one file: resume from and save the position here');
  cmd.option('--journal', 'also follow the journal (journalctl -f -o json)');
  cmd.option('--docker-events [host]', 'also follow docker events (optionally of the daemon at this host/socket)');
  cmd.option('--ctr-events [address]', 'also follow containerd events (optionally of the containerd at this socket)');
  cmd.action(async (paths: string[], o: IngestCliOptions & { validate: boolean; follow?: boolean; positionFile?: string; journal?: boolean; dockerEvents?: string | true; ctrEvents?: string | true }) => {
    const dl = o.deadLetter ? createWriteStream(o.deadLetter) : undefined;
    let invalid = 0;
    // following, a line is written as its event comes: it may be a while before the next one
    const following = Boolean(o.follow || o.journal || o.dockerEvents || o.ctrEvents);
    const lines = new BatchedLines(process.stdout);
    const sinks = {
        event: (e: NormalizedEvent) => {
          // the compiled check answers whether; zod, asked only then, says why
          if (o.validate && !isNormalizedEvent(e)) {
            invalid++;
            const r = NormalizedEvent.safeParse(e);
            process.stderr.write(`exit137: event ${e.event.id} fails the schema: ${r.success ? 'the compiled check and zod disagree (ingest/event-check-compile.ts)' : r.error.message}\n`);
          }
          if (following) writeLine(process.stdout, eventJson(e));
          else lines.push(eventJson(e));
        },
        deadLetter: (d: DeadLetter) => {
          if (dl) dl.write(`${JSON.stringify(d)}\n`);
          else process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
        },
      };
    let decoder: Decoder;
    if (following) {
      if (o.positionFile && paths.length !== 1) throw new Error('--position-file follows exactly one file');
      // (loaded only to follow: reading files once, decode pays for none of it at start-up)
      const [{ commandInto, followInto }, { PositionStore }, { containerdEvents, dockerEvents, journalFollower }] = await Promise.all([
        import('../ingest/follow-run.ts'),
        import('../ingest/sources/follow.ts'),
        import('../ingest/sources/commands.ts'),
      ]);
      decoder = new Decoder(sinks.event, sinks.deadLetter, decoderOptions(o));
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.once('SIGTERM', () => ac.abort());
      const sink: FollowSink = { ...sinks, backlogged: false, durable: () => drained(process.stdout) };
      const run = (p: string) => followInto(decoder, p, { id: p, path: p, ...(o.format ? { format: o.format } : {}) }, sink, { signal: ac.signal, ...(o.positionFile ? { positions: new PositionStore(o.positionFile) } : {}) });
      const runs: Promise<void>[] = paths.filter((p) => p !== '-').map(run);
      if (o.journal) runs.push(commandInto(decoder, journalFollower(), sink, { signal: ac.signal }));
      if (o.dockerEvents) runs.push(commandInto(decoder, dockerEvents(o.dockerEvents === true ? undefined : o.dockerEvents), sink, { signal: ac.signal }));
      if (o.ctrEvents) runs.push(commandInto(decoder, containerdEvents(o.ctrEvents === true ? undefined : o.ctrEvents), sink, { signal: ac.signal }));
      const results = await Promise.allSettled(runs);
      decoder.end();
      for (const r of results) if (r.status === 'rejected' && !ac.signal.aborted) throw r.reason;
    } else {
      // each event is written as it comes and let go (a few wait for their time: time/placement.ts)
      decoder = await decodeInputs(await expandInputs(paths, o), { ...sinks, backpressure: () => lines.backpressure() }, { ...decoderOptions(o), transient: true });
      lines.flush();
    }
    dl?.end();
    process.stderr.write(`exit137: ${JSON.stringify({ ...decoder.counters.values, ...prefixed('audit_', decoder.reassemblerStats) })}\n`);
    if (invalid > 0) process.exitCode = 1;
  });
}

function prefixed(p: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}${k}`, v as number]));
}
