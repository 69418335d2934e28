import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { analyzeInputs } from '../../correlate/analyze.ts';
import { findHealth } from '../../correlate/health/findings.ts';
import type { NodeFinding } from '../../correlate/health/finding.ts';
import { NO_CONTAINER } from '../../correlate/context.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { expandInputs } from '../../ingest/sources/files.ts';
import { FIXTURES } from '../helpers/paths.ts';

/**
 * The field corpus's scorer (issue #14): each case's evidence analyzed alone, as a user would,
 * and judged against the label the thread established. Confidence is a promise: a verdict at or
 * above CONFIDENT that names the wrong cause is counted apart, as the worst answer there is.
 */
export const CONFIDENT = 0.8;
export const FIELD_DIR = join(FIXTURES, 'field', 'cases');

/** Causes that say no cause killed the container: a decoy answered with these is answered right. */
const NOT_A_KILL = new Set(['unknown', 'normal-exit', 'not-a-death']);

const Expectation = z.union([
  z.object({ kind: z.literal('death'), cause: z.string(), container: z.string().nullable().optional() }),
  z.object({ kind: z.literal('finding'), finding: z.string(), container: z.string().nullable().optional() }),
  z.object({ kind: z.literal('decoy'), container: z.string().nullable().optional() }),
]);
type Expectation = z.infer<typeof Expectation>;

export const FieldCase = z.object({
  source: z.string().url(),
  title: z.string().optional(),
  expect: Expectation,
  also: z.array(Expectation).optional(),
  naive_mistake: z.string(),
  established_by: z.string(),
  shapes: z.array(z.string()).optional(),
});
export type FieldCase = z.infer<typeof FieldCase>;

export type CaseResult = {
  slug: string;
  label: string;
  right: boolean;
  confidentWrong: boolean;
  said: string;
  source: string;
};

/** The bucket a case is scored in: its cause, its finding, or `decoy`. */
export function labelOf(e: Expectation): string {
  return e.kind === 'death' ? e.cause : e.kind === 'finding' ? e.finding : 'decoy';
}

/** Does a verdict concern the container the excerpt names (an id or its prefix, a name, a pod)? */
function names(v: Attribution, container: string | null | undefined): boolean {
  // a death whose container the evidence does not name names no wrong one either
  if (!container || v.container.id === NO_CONTAINER) return true;
  const c = container.replace(/^[a-z-]+:\/\//, '').replace(/^\//, '');
  const id = v.container.id;
  if (/^[0-9a-f]{6,}$/.test(c) && /^[0-9a-f]+$/.test(id)) return id.startsWith(c) || c.startsWith(id);
  if ([id, v.container.name, v.container.pod].some((x) => x !== undefined && x.replace(/^\//, '') === c)) return true;
  // a container named after its workload runs in pods named `<workload>-<hash>[-<suffix>]`
  const pod = v.container.pod ?? (/^[0-9a-f]+$/.test(id) ? undefined : id);
  return pod !== undefined && pod.startsWith(`${c}-`);
}

function accepts(e: Expectation, v: Attribution | undefined, f: NodeFinding[]): boolean {
  if (e.kind === 'death') return v !== undefined && names(v, e.container) && v.cause === e.cause;
  if (e.kind === 'finding') return f.some((x) => x.finding === e.finding);
  return false;
}

/** Judges what exit137 said about one case. Exported for the tests of the scorer itself. */
export function judge(c: FieldCase, verdicts: Attribution[], findings: NodeFinding[]): Pick<CaseResult, 'right' | 'confidentWrong' | 'said'> {
  const expectations = [c.expect, ...(c.also ?? [])];
  const said = [
    ...verdicts.map((v) => `${v.container.name ?? v.container.id.slice(0, 12)}: ${v.cause} ${v.confidence.toFixed(2)}`),
    ...findings.map((f) => `finding ${f.finding} ${f.confidence.toFixed(2)}`),
  ].join('; ') || 'nothing';
  if (c.expect.kind === 'decoy') {
    const killers = verdicts.filter((v) => !NOT_A_KILL.has(v.cause));
    return { right: killers.length === 0, confidentWrong: killers.some((v) => v.confidence >= CONFIDENT), said };
  }
  const container = c.expect.container;
  // the strongest verdict on the named container is the answer a user reads for it
  const mine = verdicts.filter((v) => names(v, container)).sort((a, b) => b.confidence - a.confidence);
  const right = mine.length > 0 ? expectations.some((e) => accepts(e, mine[0], findings)) : expectations.some((e) => e.kind === 'finding' && accepts(e, undefined, findings));
  const acceptedCauses = new Set(expectations.filter((e) => e.kind === 'death').map((e) => (e as { cause: string }).cause));
  const wrongOnMine = mine.some((v) => v.confidence >= CONFIDENT && !NOT_A_KILL.has(v.cause) && !acceptedCauses.has(v.cause));
  // the same cause, confidently, on another container than the one that died (an OOM's cpuset trap)
  const wrongContainer =
    container !== null && container !== undefined && mine.length === 0 && verdicts.some((v) => v.confidence >= CONFIDENT && acceptedCauses.has(v.cause));
  return { right, confidentWrong: wrongOnMine || wrongContainer, said };
}

export function listCases(dir = FIELD_DIR): string[] {
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
}

export function readCase(slug: string, dir = FIELD_DIR): { c: FieldCase; files: string[] } {
  const c = FieldCase.parse(JSON.parse(readFileSync(join(dir, slug, 'case.json'), 'utf8')));
  const files = readdirSync(join(dir, slug))
    .filter((f) => f !== 'case.json' && !f.startsWith('.'))
    .sort()
    .map((f) => join(dir, slug, f));
  return { c, files };
}

/** Analyzes one case's evidence alone, as `exit137 analyze <its files>` would. */
export async function scoreCase(slug: string, dir = FIELD_DIR): Promise<CaseResult> {
  const { c, files } = readCase(slug, dir);
  const inputs = await expandInputs(files);
  const r = await analyzeInputs(inputs, { clock: {} }, { deadLetter: () => {} });
  const findings = findHealth(r.health);
  return { slug, label: labelOf(c.expect), source: c.source, ...judge(c, r.verdicts, findings) };
}

export async function scoreAll(dir = FIELD_DIR): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const slug of listCases(dir)) out.push(await scoreCase(slug, dir));
  return out;
}

export type Tally = { label: string; right: number; total: number; confidentWrong: number };

export function tally(results: CaseResult[]): Tally[] {
  const by = new Map<string, Tally>();
  for (const r of results) {
    const t = by.get(r.label) ?? { label: r.label, right: 0, total: 0, confidentWrong: 0 };
    t.total++;
    if (r.right) t.right++;
    if (r.confidentWrong) t.confidentWrong++;
    by.set(r.label, t);
  }
  return [...by.values()].sort((a, b) => a.label.localeCompare(b.label));
}
