import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { FIXTURES } from './paths.ts';

/** A lab bundle's files as the lab test reads them: the daemons' own logs, not the syslog copy. */
export const labFiles = (dir: string) => ['audit.log', 'containerd.log', 'dockerd.log', 'ctr-events.txt', 'docker-events.json', 'dmesg.txt'].map((f) => join(dir, f));

/** `analyze` on files: the verdicts with the evidence events they point at. Anything undecodable fails. */
export async function analyzeFiles(paths: string[]): Promise<{ verdicts: Attribution[]; evidence: NormalizedEvent[] }> {
  const dead: string[] = [];
  const r = await analyzeInputs(await expandInputs(paths), {}, { deadLetter: (d) => dead.push(`${d.input}: ${d.reason}: ${d.preview}`) }, { keepEvidence: true });
  if (dead.length) throw new Error(`undecodable lines:\n${dead.join('\n')}`);
  return { verdicts: r.verdicts, evidence: r.evidence };
}

/** A container name that is markup: a page that builds elements from log text runs it. */
export const HOSTILE = '<script>window.pwned=1</script><img src=x onerror=window.pwned=2>';

/** The lab run with the stop-timeout container renamed to HOSTILE, in its docker events and dockerd's log alike. */
export function hostileLabBundle(): string[] {
  const lab = join(FIXTURES, 'lab', 'containers');
  const dir = mkdtempSync(join(tmpdir(), 'exit137-hostile-'));
  return labFiles(lab).map((f) => {
    const out = join(dir, f.slice(lab.length + 1));
    writeFileSync(out, readFileSync(f, 'utf8').replaceAll('stop-timeout', HOSTILE));
    return out;
  });
}
