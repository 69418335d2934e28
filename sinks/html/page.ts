import { createHash } from 'node:crypto';
import { describeSender } from '../../correlate/context.ts';
import type { Attribution, KnownBug } from '../../correlate/verdict.ts';
import { CAUSE_WORDS } from '../../correlate/verdict.ts';
import type { NormalizedEvent } from '../../ingest/event.ts';
import { CSS, SCRIPT } from './assets.ts';
import { between, clockText, dayOf, diedText, formatDuration, formatOffset, basisWords } from './clock.ts';
import type { Part } from './html.ts';
import { Html, html, raw } from './html.ts';
import type { Row, Timeline } from './timeline.ts';
import { buildTimeline, LANES } from './timeline.ts';

/**
 * `exit137 explain --html`: one container death (or a few) as a page to attach to a ticket. It
 * needs the evidence events beside the verdicts, because a verdict keeps a summary of each piece
 * of evidence and the page shows the line the node wrote (`event.original`).
 */
export type PageInput = {
  verdicts: Attribution[];
  /** The events the verdicts' evidence ids point at (analyzeInputs' `evidence`); others are ignored. */
  events: Iterable<NormalizedEvent>;
  /** When the page was made; left out of the page when absent so that a page can be compared byte for byte. */
  generatedAt?: Date;
  inputs?: string[];
};


const ORIGIN_WORDS: Record<Attribution['exit_origin'], string> = {
  signal: 'a kill record backs it',
  'runtime-synthesised': 'the runtime reported it itself; no signal was recorded',
  oom: 'the kernel’s OOM killer',
  unknown: 'how it came about is not known',
  none: 'no exit status in the input',
};

export function renderIncidentPage(input: PageInput): string {
  const events = new Map<string, NormalizedEvent>();
  for (const e of input.events) events.set(e.event.id, e);
  const vs = input.verdicts;
  const title = vs.length === 1 ? `exit ${vs[0]!.exit_code ?? '?'} · ${who(vs[0]!)} · ${vs[0]!.cause} — exit137` : `${vs.length} container deaths — exit137`;
  const sections = vs.map((v, i) => verdictSection(v, i, buildTimeline(v, events)));
  const nav = vs.length > 1 ? html`<nav class="verdicts">${vs.map((v, i) => html`<a href="#v${i}">${who(v)}: ${v.cause}</a>`)}</nav>` : '';
  const footer = html`<footer>Made by <code>exit137 explain --html</code>${input.generatedAt ? html` on ${input.generatedAt.toISOString()}` : ''}${input.inputs?.length ? html` from ${input.inputs.join(', ')}` : ''}. Times are UTC. This page is self-contained: it loads nothing from anywhere.</footer>`;
  // only our own script may run: a log line that escaped the escaper would still be inert
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'; base-uri 'none'; form-action 'none'`;
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer">
<title>${title}</title><style>${raw(CSS)}</style></head>
<body><main>
<h1>exit137 — why the container died</h1>
${nav}${sections}${footer}
</main><script>${raw(SCRIPT)}</script></body></html>
`;
  return page.text;
}

function who(v: Attribution): string {
  if (v.container.pod) return `${v.container.namespace ? `${v.container.namespace}/` : ''}${v.container.pod}${v.container.name ? ` (${v.container.name})` : ''}`;
  return v.container.name ?? v.container.id.slice(0, 12);
}

function verdictSection(v: Attribution, index: number, t: Timeline): Html {
  const died = diedText(t.death);
  return html`<section class="verdict" id="v${index}" data-incident="${v.incident_id}" data-container="${v.container.id}">
<div class="top"><div>
<div class="cause"><span data-cause>${v.cause}</span>${v.sub_cause ? html`<span class="sub" data-sub-cause>${v.sub_cause}</span>` : ''}</div>
<div class="cause-words">${CAUSE_WORDS[v.cause]}</div>
<div class="conf"><meter min="0" max="1" low="0.5" high="0.8" optimum="1" value="${v.confidence}"></meter> <b data-confidence>${v.confidence.toFixed(2)}</b> <span>confidence</span></div>
<p class="conf-reason">${v.confidence_reason}</p>
<p class="headline" data-headline>${v.headline}</p>
</div>
<div class="remedy"><h2>Remedy</h2><p data-remedy>${v.remedy}</p></div>
</div>
<dl class="facts">
<dt>container</dt><dd><code>${v.container.id}</code>${v.container.id_is_prefix ? ' (only this prefix is known)' : ''}${v.container.name ? html` <b>${v.container.name}</b>` : ''}${v.container.image ? html` · image <code>${v.container.image}</code>` : ''}${v.container.pod ? html` · pod ${v.container.namespace ? `${v.container.namespace}/` : ''}${v.container.pod}` : ''}</dd>
<dt>node</dt><dd>${v.host}</dd>
<dt>died</dt><dd data-died>${died.text} <span class="note">— ${died.note}</span></dd>
<dt>exit</dt><dd>${v.exit_code ?? 'unknown'} <span class="note">(${ORIGIN_WORDS[v.exit_origin]})</span></dd>
${v.killer ? html`<dt>killed by</dt><dd><code>${describeSender(v.killer)}</code>${v.killer.login_user ? html` <b>— a logged-in user (login uid ${v.killer.auid ?? '?'})</b>` : ''}</dd>` : ''}
${v.signal ? html`<dt>signal</dt><dd>${v.signal}</dd>` : ''}
${v.grace_seconds !== undefined ? html`<dt>grace period</dt><dd>${v.grace_seconds} s</dd>` : ''}
${oomFacts(v)}${crashFacts(v)}
<dt>incident</dt><dd><code>${v.incident_id}</code> (version ${v.version})</dd>
</dl>
<h3>What happened</h3><p class="explanation">${v.explanation}</p>
<h3>Timeline</h3>
${timeline(v, index, t)}
${knownBugs(v.known_bugs)}
${v.alternatives.length ? html`<h3>Also considered</h3><ul class="plain alternatives">${v.alternatives.map((a) => html`<li><b>${a.cause}</b> (${a.confidence.toFixed(2)}): ${a.reason}</li>`)}</ul>` : ''}
<h3>What is missing</h3>
${v.missing.length ? html`<ul class="plain missing" data-missing>${v.missing.map((m) => html`<li>${m}</li>`)}</ul>` : html`<p class="note" data-missing>Nothing: every source this cause is told by was in the input.</p>`}
</section>`;
}

function oomFacts(v: Attribution): Part {
  const o = v.oom;
  if (!o) return '';
  const rows: [string, Part][] = [];
  if (o.memcg) rows.push(['memory cgroup', html`<code>${o.memcg}</code>`]);
  if (o.limit_kb !== undefined) rows.push(['limit', `${o.limit_kb} kB${o.usage_kb !== undefined ? `, usage ${o.usage_kb} kB` : ''}`]);
  if (o.victim) rows.push(['OOM victim', `${o.victim}${o.victim_rss_pages !== undefined ? ` (${o.victim_rss_pages} pages resident)` : ''}`]);
  if (o.largest_task) rows.push(['largest task', `${o.largest_task}${o.largest_rss_pages !== undefined ? ` (${o.largest_rss_pages} pages)` : ''}`]);
  if (o.wrong_victim) rows.push(['wrong victim', html`<b>yes</b>${o.mechanism ? ` — ${o.mechanism}` : ''}`]);
  if (o.kernel) rows.push(['kernel', o.kernel]);
  return rows.map(([k, val]) => html`<dt>${k}</dt><dd>${val}</dd>`);
}

function crashFacts(v: Attribution): Part {
  const c = v.crash;
  if (!c) return '';
  return html`<dt>crash</dt><dd><code>${c.headline}</code>${c.top_frame ? html` at <code>${c.top_frame}</code>` : ''}${c.file ? html` (<code>${c.file}</code>)` : ''}</dd>`;
}

/** owner/repo#N is a GitHub issue or pull request (GitHub redirects one to the other); a URL is itself. */
export function refUrl(ref: string): string | undefined {
  if (/^https?:\/\/[^\s"<>]+$/.test(ref)) return ref;
  const m = /^([\w.-]+\/[\w.-]+)#(\d+)$/.exec(ref);
  return m ? `https://github.com/${m[1]}/issues/${m[2]}` : undefined;
}

function knownBugs(bugs: KnownBug[]): Part {
  if (!bugs.length) return '';
  return html`<h3>Known bug</h3>${bugs.map(
    (b) => html`<div class="bug" data-bug="${b.id}"><div class="title">${b.title}</div><div>affects ${b.affected}; fixed in <b>${b.fixed_in}</b></div>
<div>${b.refs.map((r, i) => {
      const u = refUrl(r);
      return html`${i ? ' · ' : ''}${u ? html`<a href="${u}" rel="noreferrer noopener" target="_blank">${r}</a>` : r}`;
    })}</div></div>`,
  )}`;
}

/** Rows of the grid: a spacer before each line whose height grows with the log of the time between them. */
function spacerHeight(ns: bigint | undefined): number {
  if (ns === undefined) return 16;
  const ms = Number(ns < 0n ? -ns : ns) / 1e6;
  return Math.round(Math.min(56, 2 + 9 * Math.log10(1 + ms)));
}

function timeline(v: Attribution, index: number, t: Timeline): Html {
  const L = t.lanes.length;
  const what = 3 + L;
  const gap0 = what + 1;
  const lastRow = 3 + 2 * (t.rows.length - 1);
  const cols = ['max-content', 'max-content', ...t.lanes.map(() => '4.4rem'), 'minmax(22rem, 1fr)', ...Array.from({ length: t.gapColumns }, () => 'minmax(8rem, 11rem)')].join(' ');
  const spoke = new Set(t.rows.flatMap((r) => (r.lane ? [r.lane] : [])));
  const day = dayOf(t.death) ?? t.rows.map((r) => dayOf(r.at)).find((d) => d !== undefined);
  const laneInfo = (id: string) => LANES.find((l) => l.id === id)!;
  const header = html`<div class="ch" style="grid-row:1;grid-column:1">${day ? `UTC, ${day}` : 'time'}</div><div class="ch" style="grid-row:1;grid-column:2;text-align:right">from death</div>
${t.lanes.map((id, i) => html`<div class="lh c-${id}${spoke.has(id) ? '' : ' empty'}" data-lane-head="${id}" title="${laneInfo(id).what}${spoke.has(id) ? '' : ': nothing from this source in the evidence'}" style="grid-row:1;grid-column:${3 + i}">${laneInfo(id).title}</div>`)}
<div class="ch" style="grid-row:1;grid-column:${what}">evidence — hover a line for what the node wrote, click it to open</div>
${t.gapColumns ? html`<div class="ch" style="grid-row:1;grid-column:${gap0} / span ${t.gapColumns}">the intervals that matter</div>` : ''}
${t.lanes.map((_, i) => html`<div class="lane-bg" style="grid-row:2 / ${lastRow + 1};grid-column:${3 + i}"></div>`)}`;
  const rows = t.rows.map((r, k) => {
    const row = 3 + 2 * k;
    const prev = k ? t.rows[k - 1] : undefined;
    const dt = prev ? between(prev.at, r.at) : 0n;
    const spacer = html`<div class="spacer" style="grid-row:${row - 1};grid-column:1 / ${what + 1};height:${k ? spacerHeight(dt) : 4}px">${k && (dt === undefined || dt >= 50_000_000n) ? (dt === undefined ? '⋮ clocks not comparable' : `⋮ ${formatDuration(dt)}`) : ''}</div>`;
    const clock = clockText(r.at, day);
    const off = between(t.death, r.at);
    const death = r.death ? ' row-death' : '';
    const cells = html`<div class="t mono${death}" style="grid-row:${row};grid-column:1" title="${clock.title}" data-basis="${r.at.basis}">${clock.text}</div>
<div class="d mono${death}" style="grid-row:${row};grid-column:2" title="${off === undefined ? 'this line’s clock cannot be compared with the death’s' : 'time from the death'}">${r.death ? '✝ death' : off === undefined ? '—' : formatOffset(off)}</div>`;
    if (!r.item) {
      return html`${spacer}${cells}<div class="what row-death" style="grid-row:${row};grid-column:${what}" data-death-marker><span class="death-mark">✝</span> the container died here, as the verdict places it (${diedText(t.death).text}); no piece of evidence sits at this instant</div>`;
    }
    const lane = t.lanes.indexOf(r.lane!);
    return html`${spacer}${cells}<div class="dotcell c-${r.lane!}" style="grid-row:${row};grid-column:${3 + lane}">${r.death ? html`<span class="death-mark">✝</span>` : html`<div class="dot"></div>`}</div>
<div class="what c-${r.lane!}${death}" style="grid-row:${row};grid-column:${what}">${evidence(r, index, k)}</div>`;
  });
  const gaps = t.gaps.map((g) => html`<div class="gap gap-${g.kind}" data-gap="${g.kind}" style="grid-row:${3 + 2 * g.from} / ${3 + 2 * g.to + 1};grid-column:${gap0 + g.column}">${g.label}</div>`);
  const legend = html`<div class="legend">${t.lanes.map((id) => html`<span><span class="dot c-${id}"></span>${laneInfo(id).title}: ${laneInfo(id).what}</span>`)}<span><span class="death-mark">✝</span> the death</span></div>`;
  return html`${legend}<div class="tools"><button type="button" data-expand="all">open every line</button> <button type="button" data-expand="none">close them</button></div>
<div class="timeline" data-timeline style="grid-template-columns:${cols}">${header}${rows}${gaps}</div>
${t.gaps.length ? '' : html`<p class="note" data-no-gap>No SIGTERM, SIGKILL or exit to measure between in this evidence.</p>`}`;
}

function evidence(r: Row, vIndex: number, k: number): Html {
  const item = r.item!;
  const original = r.event?.event.original;
  const first = item.summary.split('\n')[0]!;
  const shown = first.length > 220 ? `${first.slice(0, 220)}…` : first;
  return html`<details class="ev" id="ev-${vIndex}-${k}" data-evidence-id="${item.id}" data-lane="${r.lane!}">
<summary title="${original ?? item.summary}"><span class="act">${item.action}</span><span class="src">${item.source}</span> <span class="sum">${shown}</span>${item.role ? html`<span class="role" data-role>${item.role}</span>` : ''}</summary>
<div class="body">${shown !== item.summary ? html`<div class="full" data-summary>${item.summary}</div>` : ''}
${original !== undefined ? html`<pre class="raw" data-raw>\n${original}</pre>` : html`<p class="meta">The line itself was not handed to the page; its summary is above.</p>`}
<p class="meta">${clockText(r.at, undefined).text} — ${basisWords(r.at)} · event <code>${item.id}</code></p></div>
</details>`;
}
