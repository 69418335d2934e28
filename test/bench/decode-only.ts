import { decodeInputs } from '../../ingest/run.ts';
import { expandInputs } from '../../ingest/sources/files.ts';

/** One bench run in its own process: decode + reassemble a file, count events, print a JSON line. */
const file = process.argv[2]!;
let events = 0;
let dead = 0;
const t0 = process.hrtime.bigint();
const d = await decodeInputs(await expandInputs([file]), { event: () => void events++, deadLetter: () => void dead++ });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`${JSON.stringify({ seconds, events, dead, lines: d.counters.get('lines'), maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
