import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import type { Attribution } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { analyzeFiles, HOSTILE, hostileLabBundle, labFiles } from '../../test/helpers/analyze.ts';
import { launchChromium } from '../../test/helpers/chromium.ts';
import { FIXTURES, REPO } from '../../test/helpers/paths.ts';
import { displayText } from './html.ts';
import { refUrl, renderIncidentPage } from './page.ts';
import { buildTimeline } from './timeline.ts';

/**
 * The pages as a person opens them: Debian's Chromium loads each file, and what it shows is read
 * back from its DOM. Screenshots stay in a temp dir (printed) as the run's artifact.
 */

const SHOTS = mkdtempSync(join(tmpdir(), 'exit137-html-'));
process.stdout.write(`exit137: HTML report pages and screenshots in ${SHOTS}\n`);

type Read = {
  cause: string;
  subCause: string | null;
  confidence: string;
  headline: string;
  remedy: string;
  died: string;
  scripts: number;
  pwned: unknown;
  items: { id: string; lane: string; title: string; sum: string; raw: string | null; role: string | null; rawShown: boolean; dotX: number; dotY: number; laneLeft: number; laneRight: number }[];
  gaps: { kind: string; text: string }[];
  bugLinks: string[];
  missing: string[];
  text: string;
};

/**
 * What the browser shows, read in the page. A string, because tsx would wrap a function's inner
 * names in a helper that exists only in Node.
 */
const READ_DOM = `(() => {
  const q = (s) => document.querySelector(s)?.textContent ?? '';
  return {
    cause: q('[data-cause]'),
    subCause: document.querySelector('[data-sub-cause]')?.textContent ?? null,
    confidence: q('[data-confidence]'),
    headline: q('[data-headline]'),
    remedy: q('[data-remedy]'),
    died: q('[data-died]'),
    scripts: document.scripts.length,
    pwned: window.pwned,
    items: [...document.querySelectorAll('details.ev')].map((d) => {
      const dot = d.parentElement.previousElementSibling.getBoundingClientRect();
      const head = document.querySelector('[data-lane-head="' + d.dataset.lane + '"]').getBoundingClientRect();
      const rawEl = d.querySelector('[data-raw]');
      return {
        id: d.dataset.evidenceId,
        lane: d.dataset.lane,
        title: d.querySelector('summary').title,
        sum: d.querySelector('summary .sum').textContent,
        raw: rawEl ? rawEl.textContent : null,
        role: d.querySelector('[data-role]')?.textContent ?? null,
        rawShown: rawEl ? rawEl.checkVisibility() : false,
        dotX: dot.left + dot.width / 2,
        dotY: dot.top + window.scrollY,
        laneLeft: head.left,
        laneRight: head.right,
      };
    }),
    gaps: [...document.querySelectorAll('[data-gap]')].map((g) => ({ kind: g.dataset.gap, text: g.textContent })),
    bugLinks: [...document.querySelectorAll('[data-bug] a')].map((a) => a.href),
    missing: [...document.querySelectorAll('[data-missing] li')].map((li) => li.textContent),
    text: document.body.innerText,
  };
})()`;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Loads a page file; fails on any request but the file itself, any script error, any CSP refusal. */
async function open(file: string, shot: string) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
  const read = (await page.evaluate(READ_DOM)) as Read;
  assert.deepEqual(requests, [url], 'the page loads nothing but itself');
  assert.deepEqual(errors, [], 'no script error, no refused resource');
  return { page, read };
}

/** Everything the verdict says and every piece of its evidence, as the browser shows them. */
function checkRead(read: Read, v: Attribution, events: Map<string, NormalizedEvent>) {
  assert.equal(read.cause, v.cause);
  assert.equal(read.subCause, v.sub_cause ?? null);
  assert.equal(read.confidence, v.confidence.toFixed(2));
  assert.equal(read.headline, displayText(v.headline));
  assert.equal(read.remedy, displayText(v.remedy));
  assert.equal(read.scripts, 1, 'only the page’s own script');
  assert.deepEqual(read.missing, v.missing.map(displayText));
  assert.deepEqual(read.bugLinks, v.known_bugs.flatMap((b) => b.refs.flatMap((r) => refUrl(r) ?? [])));
  const t = buildTimeline(v, events);
  assert.deepEqual(read.gaps, t.gaps.map((g) => ({ kind: g.kind, text: g.label })));
  assert.equal(read.items.length, v.evidence.length, 'every piece of evidence is on the page');
  v.evidence.forEach((item, k) => {
    const got = read.items[k]!;
    const original = events.get(item.id)!.event.original;
    assert.equal(got.id, item.id);
    assert.equal(got.raw, displayText(original), `${item.action}: the line as the node wrote it`);
    assert.equal(got.title, displayText(original), `${item.action}: the line on hover`);
    assert.ok(displayText(item.summary).startsWith(got.sum.replace(/…$/, '')), `${item.action}: its summary`);
    assert.equal(got.role, item.role === undefined ? null : displayText(item.role));
    assert.equal(got.rawShown, false, 'closed until asked');
    assert.equal(got.lane, t.rows.find((r) => r.item?.id === item.id)!.lane);
    assert.ok(got.dotX > got.laneLeft && got.dotX < got.laneRight, `${item.action}: its mark is in the ${got.lane} lane`);
    if (k) assert.ok(got.dotY > read.items[k - 1]!.dotY, `${item.action}: below the line before it`);
  });
}

async function checkPage(name: string, v: Attribution, evidence: NormalizedEvent[]) {
  const events = new Map(evidence.map((e) => [e.event.id, e]));
  const file = join(SHOTS, `${name}.html`);
  writeFileSync(file, renderIncidentPage({ verdicts: [v], events: evidence }));
  const { page, read } = await open(file, name);
  try {
    checkRead(read, v, events);
    // the click a reader makes: a line opens on its raw text, and the button opens them all
    await page.click('details.ev > summary');
    assert.equal(await page.evaluate(`(() => { const d = document.querySelector('details.ev'); return d.open && d.querySelector('[data-raw]').checkVisibility(); })()`), true);
    await page.click('[data-expand="all"]');
    assert.equal(await page.evaluate(`[...document.querySelectorAll('details.ev')].every((d) => d.open)`), true);
    await page.screenshot({ path: join(SHOTS, `${name}-open.png`), fullPage: true });
  } finally {
    await page.close();
  }
  return read;
}

describe('HTML report in headless Chromium: seed 004', async () => {
  const { verdicts, evidence } = await analyzeFiles([join(FIXTURES, 'seed-004')]);

  it('three deaths, three pages', () => assert.equal(verdicts.length, 3));
  for (const v of verdicts) {
    it(`${v.container.id.slice(0, 12)} (${v.cause}): the verdict and every evidence line`, async () => {
      await checkPage(`seed-004-${v.container.id.slice(0, 12)}`, v, evidence);
    });
  }

  it('exit137 explain --html writes the page: the shim panic with containerd#2969 linked', async () => {
    const file = join(SHOTS, 'cli-explain-de42.html');
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'exit137.js'), 'explain', 'de42', join(FIXTURES, 'seed-004'), '--html', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cause: shim-death/, 'the text explanation still goes to stdout');
    const v = verdicts.find((x) => x.container.id.startsWith('de42'))!;
    const { page, read } = await open(file, 'cli-explain-de42');
    await page.close();
    checkRead(read, v, new Map(evidence.map((e) => [e.event.id, e])));
    assert.ok(read.bugLinks.includes('https://github.com/containerd/containerd/issues/2969'));
    assert.match(read.text, /Made by exit137 explain --html on \d{4}-/);
  });
});

describe('HTML report in headless Chromium: every verdict of the lab run', async () => {
  const dir = join(FIXTURES, 'lab', 'containers');
  const { verdicts, evidence } = await analyzeFiles(labFiles(dir));
  const truth = readFileSync(join(dir, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { scenario: string; container: string; cause: string });
  const scenario = (v: Attribution) => truth.find((t) => t.container === v.container.id)?.scenario ?? v.container.id.slice(0, 12);

  it('a page for each death the lab caused', () => {
    for (const t of truth.filter((x) => x.cause !== 'none')) assert.ok(verdicts.some((v) => v.container.id === t.container), t.scenario);
  });
  for (const v of verdicts) {
    it(`${scenario(v)} (${v.cause}): the verdict and every evidence line`, async () => {
      const read = await checkPage(`lab-${scenario(v)}`, v, evidence);
      if (v.cause === 'stop-timeout') assert.ok(read.gaps.some((g) => g.kind === 'term-kill' && /SIGTERM → SIGKILL: 2\.0\d s \(grace period 2 s\)/.test(g.text)));
      if (v.cause === 'stuck-kill') assert.ok(read.gaps.some((g) => g.text === 'SIGKILL → exit: 43.0 s'));
    });
  }
});

describe('HTML report in headless Chromium: what the input could not say', () => {
  it('a container named <script> is shown, never run', async () => {
    const files = hostileLabBundle();
    const { verdicts, evidence } = await analyzeFiles(files);
    rmSync(dirname(files[0]!), { recursive: true });
    const v = verdicts.find((x) => x.container.name === HOSTILE)!;
    const read = await checkPage('hostile-name', v, evidence);
    assert.equal(read.pwned, undefined, 'nothing from the logs ran');
    assert.ok(read.text.includes(HOSTILE), 'the name is on the page as text');
    assert.ok(read.items.some((i) => i.raw?.includes(HOSTILE)), 'and in the raw lines');
  });

  it('a death known in kernel seconds since boot only: the page says so and shows no date', async () => {
    const { verdicts, evidence } = await analyzeFiles([join(FIXTURES, 'field', 'cases', 'oom-kill-elasticsearch-126535')]);
    const v = verdicts[0]!;
    const read = await checkPage('relative-oom', v, evidence);
    assert.ok(!read.text.includes(v.died_at.slice(0, 10)), 'the read time is no date of death');
    assert.match(read.died, /no wall-clock time in the input/);
  });

  it('a kubelet eviction read with an assumed zone: ≈ on the page, the kubelet lane', async () => {
    const { verdicts, evidence } = await analyzeFiles([join(FIXTURES, 'field', 'cases', 'eviction-kubernetes-132001')]);
    const v = verdicts.at(-1)!;
    const read = await checkPage('assumed-eviction', v, evidence);
    assert.match(read.died, /^≈ \d{4}-\d\d-\d\d /);
    assert.deepEqual(read.items.map((i) => i.lane), ['kubelet', 'kubelet']);
  });
});
