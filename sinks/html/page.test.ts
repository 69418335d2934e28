import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeFiles, HOSTILE, hostileLabBundle, labFiles } from '../../test/helpers/analyze.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { formatDuration, isoToNs } from './clock.ts';
import { displayText, html } from './html.ts';
import { refUrl, renderIncidentPage } from './page.ts';
import { buildTimeline } from './timeline.ts';

const LAB = join(FIXTURES, 'lab', 'containers');
describe('HTML report: what is taken from logs is text', () => {
  it('the escaper leaves markup as text and shows terminal controls as their pictures', () => {
    assert.equal(html`<b>${'<script>"&\''}</b>`.text, '<b>&lt;script&gt;&quot;&amp;&#39;</b>');
    assert.equal(displayText('a\x1b[31mred\r\nb\x00'), 'a␛[31mred\nb␀');
  });

  it('a container named <script> is text on its page, in the facts and in the raw lines', async () => {
    const files = hostileLabBundle();
    const { verdicts, evidence } = await analyzeFiles(files);
    rmSync(dirname(files[0]!), { recursive: true });
    const v = verdicts.find((x) => x.container.name === HOSTILE);
    assert.ok(v, 'the renamed container has its verdict');
    assert.equal(v.cause, 'stop-timeout');
    const page = renderIncidentPage({ verdicts: [v], events: evidence });
    assert.ok(!page.includes('<script>window'), 'no script element made from a log');
    assert.ok(!page.includes('<img'), 'no element made from a log');
    assert.ok(page.includes('&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=window.pwned=2&gt;'));
    assert.equal(page.match(/<script/g)?.length, 1, 'only the page’s own script');
  });
});

describe('HTML report: the intervals that matter', async () => {
  const { verdicts, evidence } = await analyzeFiles(labFiles(LAB));
  const events = new Map(evidence.map((e) => [e.event.id, e]));
  const truth = readFileSync(join(LAB, 'truth.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { scenario: string; container: string });
  const of = (scenario: string) => verdicts.find((v) => v.container.id === truth.find((t) => t.scenario === scenario)!.container)!;

  it('stop timeout: SIGTERM → SIGKILL is the 2 s grace, then the kill → exit', () => {
    const t = buildTimeline(of('stop-timeout'), events);
    const term = t.gaps.find((g) => g.kind === 'term-kill')!;
    assert.equal(t.rows[term.from]!.event?.exit137.signal?.name, 'SIGTERM');
    assert.equal(t.rows[term.to]!.event?.exit137.signal?.name, 'SIGKILL');
    assert.equal(term.label, 'SIGTERM → SIGKILL: 2.02 s (grace period 2 s)');
    const kill = t.gaps.find((g) => g.kind === 'kill-exit')!;
    assert.equal(kill.from, term.to, 'the kill measured to the exit is the escalation');
    assert.equal(t.rows[kill.to]!.event?.exit137.exit?.code, 137);
    assert.notEqual(kill.column, term.column, 'brackets that meet on a row stand side by side');
  });

  it('a kill stuck in FUSE: 43 s from the SIGKILL to the exit', () => {
    const g = buildTimeline(of('stuck-kill'), events).gaps;
    assert.deepEqual(g.map((x) => x.kind), ['kill-exit']);
    assert.equal(g[0]!.label, 'SIGKILL → exit: 43.0 s');
  });

  it('a memcg OOM: from the kernel’s kill to the exit; a good stop: SIGTERM → exit', () => {
    assert.match(buildTimeline(of('memcg-oom'), events).gaps[0]!.label, /^OOM kill → exit: \d+ ms$/);
    const good = verdicts.find((v) => v.cause === 'normal-exit')!;
    assert.match(buildTimeline(good, events).gaps.map((x) => x.label).join(), /^SIGTERM → exit: 9\d\d ms$/);
  });

  it('a shim killed before its container is not the container’s kill', () => {
    const t = buildTimeline(of('shim-v1-crashed'), events);
    const g = t.gaps.find((x) => x.kind === 'kill-exit')!;
    assert.equal(t.rows[g.from]!.event?.process?.executable, '/usr/sbin/runc');
  });

  it('every piece of evidence is in a lane by its source; the death is marked once', () => {
    for (const v of verdicts) {
      const t = buildTimeline(v, events);
      assert.equal(t.rows.filter((r) => r.death).length, 1);
      for (const r of t.rows.filter((x) => x.item)) {
        const want = { auditd: 'audit', kernel: 'kernel', containerd: 'runtime', dockerd: 'runtime', syslog: 'runtime', 'docker-events': 'events', 'containerd-events': 'events' }[r.item!.source];
        assert.equal(r.lane, want, `${r.item!.source} ${r.item!.action}`);
      }
    }
  });
});

describe('HTML report: time as the input knew it', () => {
  it('a death known only in kernel seconds since boot is never shown as a date', async () => {
    const { verdicts, evidence } = await analyzeFiles([join(FIXTURES, 'field', 'cases', 'oom-kill-elasticsearch-126535')]);
    const v = verdicts[0]!;
    assert.equal(v.died_basis, 'relative');
    const page = renderIncidentPage({ verdicts: [v], events: evidence });
    assert.ok(!page.includes(v.died_at.slice(0, 10)), 'the read time is not a date of death');
    for (const e of v.evidence) assert.ok(!page.includes(e.ts.slice(0, 10)), 'nor of its evidence');
    assert.match(page, /no wall-clock time in the input/);
  });

  it('an assumed zone and year are a reading: ≈ and why; the kubelet and kubectl share a lane', async () => {
    const { verdicts, evidence } = await analyzeFiles([join(FIXTURES, 'field', 'cases', 'eviction-kubernetes-132001')]);
    const v = verdicts.at(-1)!;
    assert.equal(v.died_basis, 'assumed');
    const page = renderIncidentPage({ verdicts: [v], events: evidence });
    assert.ok(page.includes(`≈ ${v.died_at.slice(0, 10)} ${v.died_at.slice(11, 29)} UTC`));
    assert.match(page, /read as UTC in the assumed year/);
    const t = buildTimeline(v, new Map(evidence.map((e) => [e.event.id, e])));
    assert.deepEqual(t.rows.map((r) => r.lane), ['kubelet', 'kubelet']);
  });

  it('durations and instants keep the nanoseconds', () => {
    assert.equal(isoToNs('2026-11-24T06:59:46.918499263Z'), 1795503586918499263n);
    assert.equal(formatDuration(2_021_723_021n), '2.02 s');
    assert.equal(formatDuration(67_175n), '67.2 µs');
    assert.equal(formatDuration(43_010_000_000n), '43.0 s');
    assert.equal(formatDuration(125_000_000_000n), '2 min 5 s');
  });

  it('known bugs link to their threads', () => {
    assert.equal(refUrl('containerd/containerd#2969'), 'https://github.com/containerd/containerd/issues/2969');
    assert.equal(refUrl('https://bugzilla.kernel.org/show_bug.cgi?id=1'), 'https://bugzilla.kernel.org/show_bug.cgi?id=1');
    assert.equal(refUrl('javascript:alert(1)'), undefined);
  });
});
