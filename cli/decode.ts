import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import type { DeadLetter } from '../ingest/dead-letter.ts';
import { NormalizedEvent } from '../ingest/event.ts';
import { decodeInputs } from '../ingest/run.ts';
import { expandInputs } from '../ingest/sources/files.ts';
import type { IngestCliOptions } from './options.ts';
import { decoderOptions, ingestOptions } from './options.ts';
import { writeLine } from './output.ts';

export function decodeCommand(program: Command): void {
  const cmd = program
    .command('decode')
    .description('print every normalized event as NDJSON, one per line; undecodable lines go to stderr (or --dead-letter) with their reason')
    .argument('<inputs...>', 'files (.gz too), directories, or - for stdin');
  for (const o of ingestOptions()) cmd.addOption(o);
  cmd.option('--no-validate', 'skip checking each event against the schema');
  cmd.action(async (paths: string[], o: IngestCliOptions & { validate: boolean }) => {
    const inputs = await expandInputs(paths, o);
    const dl = o.deadLetter ? createWriteStream(o.deadLetter) : undefined;
    let invalid = 0;
    const decoder = await decodeInputs(
      inputs,
      {
        event: (e) => {
          if (o.validate) {
            const r = NormalizedEvent.safeParse(e);
            if (!r.success) {
              invalid++;
              process.stderr.write(`exit137: event ${e.event.id} fails the schema: ${r.error.message}\n`);
            }
          }
          writeLine(process.stdout, JSON.stringify(e));
        },
        deadLetter: (d: DeadLetter) => {
          if (dl) dl.write(`${JSON.stringify(d)}\n`);
          else process.stderr.write(`exit137: ${d.input}:${d.line ?? '?'}: ${d.reason}: ${d.message}\n`);
        },
      },
      decoderOptions(o),
    );
    dl?.end();
    process.stderr.write(`exit137: ${JSON.stringify({ ...decoder.counters.values, ...prefixed('audit_', decoder.reassemblerStats) })}\n`);
    if (invalid > 0) process.exitCode = 1;
  });
}

function prefixed(p: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}${k}`, v as number]));
}
