/**
 * The page's own style and script, inline: the file is attached to tickets and opened anywhere,
 * offline, so it loads no font, script or image (its Content-Security-Policy forbids any).
 */

export const CSS = `
:root { --ink:#1d2330; --mute:#667085; --line:#d8dde6; --bg:#fff; --soft:#f5f7fa;
  --audit:#7c3aed; --runtime:#0e7490; --kernel:#b45309; --kubelet:#2563eb; --events:#15803d; --other:#6b7280; --death:#c81e1e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1500px; margin: 0 auto; padding: 16px 24px 40px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
h1 { font-size: 15px; font-weight: 600; color: var(--mute); margin: 0 0 10px; }
h3 { font-size: 15px; margin: 26px 0 8px; }
nav.verdicts { margin: 0 0 12px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
section.verdict { border-top: 3px solid var(--ink); padding-top: 12px; margin-bottom: 48px; }
.top { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px 28px; align-items: start; }
.cause { font-size: 22px; font-weight: 700; }
.cause .sub { font-size: 15px; font-weight: 500; color: var(--mute); margin-left: 6px; }
.cause-words { color: var(--mute); margin-top: 2px; }
.headline { font-size: 18px; font-weight: 600; margin: 10px 0 6px; }
.conf { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
.conf meter { width: 140px; height: 14px; }
.conf b { font-size: 18px; }
.conf-reason { color: var(--mute); margin: 2px 0 0; }
.remedy { background: #fff8e6; border: 1px solid #f1d38a; border-radius: 6px; padding: 10px 14px; }
.remedy h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; margin: 0 0 4px; color: #8a5a00; }
.remedy p { margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 14px; margin: 12px 0 0; }
dl.facts dt { color: var(--mute); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts dd code { white-space: normal; overflow-wrap: anywhere; }
.note { color: var(--mute); font-size: 12.5px; }
.explanation { max-width: 110ch; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--mute); font-size: 12.5px; margin-bottom: 8px; }
.legend .dot { position: static; display: inline-block; vertical-align: -1px; margin-right: 4px; }
.tools { margin: 0 0 8px; }
.tools button { font: inherit; font-size: 12.5px; padding: 2px 10px; border: 1px solid var(--line); background: var(--soft); border-radius: 4px; cursor: pointer; }
.timeline { display: grid; column-gap: 0; row-gap: 0; align-items: start; position: relative; }
.timeline .lh { font-size: 12px; font-weight: 600; text-align: center; padding: 0 2px 6px; border-bottom: 1px solid var(--line); }
.timeline .lh.empty { color: #aab1bd; font-weight: 400; text-decoration: line-through; }
.timeline .ch { font-size: 12px; font-weight: 600; color: var(--mute); padding: 0 6px 6px; border-bottom: 1px solid var(--line); }
.lane-bg { justify-self: center; width: 2px; height: 100%; background: var(--line); }
.t { padding: 3px 8px 3px 0; white-space: nowrap; color: var(--ink); }
.d { padding: 3px 10px 3px 0; white-space: nowrap; color: var(--mute); text-align: right; }
.row-death .d { color: var(--death); font-weight: 700; }
.spacer { color: #98a2b3; font-size: 11px; display: flex; align-items: center; justify-content: flex-start; padding-left: 10px; border-left: 1px dashed transparent; }
.dotcell { justify-self: center; padding-top: 5px; z-index: 1; }
.dot { width: 12px; height: 12px; border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 0 1px currentColor; background: currentColor; }
.death-mark { color: var(--death); font-weight: 800; font-size: 15px; line-height: 1; }
.what { min-width: 0; padding: 0 8px 0 10px; border-left: 3px solid var(--other); }
.row-death.what { box-shadow: inset 0 2px 0 var(--death); }
.c-audit { color: var(--audit); border-color: var(--audit); } .c-runtime { color: var(--runtime); border-color: var(--runtime); }
.c-kernel { color: var(--kernel); border-color: var(--kernel); } .c-kubelet { color: var(--kubelet); border-color: var(--kubelet); }
.c-events { color: var(--events); border-color: var(--events); } .c-other { color: var(--other); border-color: var(--other); }
.what.c-audit, .what.c-runtime, .what.c-kernel, .what.c-kubelet, .what.c-events, .what.c-other { color: var(--ink); }
details.ev > summary { cursor: pointer; list-style: none; padding: 2px 0; }
details.ev > summary::-webkit-details-marker { display: none; }
details.ev > summary::before { content: "▸"; color: var(--mute); display: inline-block; width: 1em; }
details.ev[open] > summary::before { content: "▾"; }
details.ev > summary:hover { background: var(--soft); }
.src { font-size: 11.5px; color: var(--mute); }
.act { font-size: 11.5px; background: var(--soft); border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; margin-right: 4px; }
.sum { overflow-wrap: anywhere; }
.role { display: block; margin-left: 1em; color: var(--mute); font-style: italic; font-size: 12.5px; }
.body { margin: 2px 0 8px 1em; }
pre.raw { margin: 4px 0; padding: 8px 10px; background: #0f172a; color: #e2e8f0; border-radius: 5px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 420px; overflow: auto; }
.full { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
.meta { color: var(--mute); font-size: 12px; margin: 2px 0; }
.gap { margin: 7px 4px 0 8px; border: 2px solid; border-left: none; border-radius: 0 6px 6px 0; display: flex; align-items: center; padding: 0 6px 0 10px; font-size: 12.5px; font-weight: 600; min-height: 24px; height: calc(100% - 14px); }
.gap-term-kill { border-color: #d97706; color: #92400e; }
.gap-kill-exit { border-color: var(--death); color: #991b1b; }
.gap-term-exit { border-color: #15803d; color: #166534; }
ul.plain { margin: 4px 0; padding-left: 20px; }
.bug { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 6px 0; background: var(--soft); }
.bug .title { font-weight: 600; }
footer { color: var(--mute); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print { .tools { display: none; } pre.raw { max-height: none; } }
`;

/** Expand and collapse all, open what a link points at, and print everything. */
export const SCRIPT = `
(function () {
  function all(open) { document.querySelectorAll('details.ev').forEach(function (d) { d.open = open; }); }
  document.querySelectorAll('[data-expand]').forEach(function (b) { b.addEventListener('click', function () { all(b.getAttribute('data-expand') === 'all'); }); });
  function reveal() { var t = location.hash && document.getElementById(location.hash.slice(1)); if (t && t.tagName === 'DETAILS') t.open = true; }
  window.addEventListener('hashchange', reveal); reveal();
  window.addEventListener('beforeprint', function () { all(true); });
})();
`;
