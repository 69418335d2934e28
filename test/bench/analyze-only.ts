import { analyzeInputs } from '../../correlate/analyze.ts';
import { expandInputs } from '../../ingest/sources/files.ts';

/** One bench run in its own process: `exit137 analyze` on a directory, verdict counts by cause. */
const dir = process.argv[2]!;
const t0 = process.hrtime.bigint();
const r = await analyzeInputs(await expandInputs([dir]), {}, { deadLetter: () => {} });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const byCause: Record<string, number> = {};
for (const v of r.verdicts) byCause[v.cause] = (byCause[v.cause] ?? 0) + 1;
const events = Object.entries(r.decoder.counters.values).filter(([k]) => k.startsWith('events_')).reduce((n, [, v]) => n + v, 0);
process.stdout.write(`${JSON.stringify({ seconds, events, kept: r.evidenceEvents, lines: r.decoder.counters.get("lines"), deaths: r.verdicts.length, byCause, dead: r.deadLetters, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
