import Table from 'cli-table3';
import { CONFIDENT, scoreAll, tally } from './score.ts';

/**
 * `npm run field`: every case of the field corpus analyzed alone, scored per cause and finding:
 * right / total, and the confident-wrong answers (a wrong cause at ≥ CONFIDENT), then the cases
 * that fail with what exit137 said about them.
 */
const results = await scoreAll();
const rows = tally(results);
const t = new Table({ head: ['cause / finding', 'right', 'total', '%', `wrong ≥ ${CONFIDENT}`], style: { head: [], border: [] } });
for (const r of rows) t.push([r.label, r.right, r.total, ((100 * r.right) / r.total).toFixed(0), r.confidentWrong]);
const right = results.filter((r) => r.right).length;
const wrong = results.filter((r) => r.confidentWrong).length;
t.push(['all', right, results.length, results.length ? ((100 * right) / results.length).toFixed(1) : '-', wrong]);
process.stdout.write(`${t.toString()}\n`);
const failing = results.filter((r) => !r.right || r.confidentWrong);
if (failing.length) {
  process.stdout.write('\nfailing cases:\n');
  for (const r of failing) process.stdout.write(`  ${r.confidentWrong ? 'CONFIDENT-WRONG ' : ''}${r.slug} [${r.label}]: ${r.said}\n    ${r.source}\n`);
}
process.stdout.write(`\nfield: ${right}/${results.length} right (${results.length ? ((100 * right) / results.length).toFixed(1) : 0}%), ${wrong} confident-wrong\n`);
