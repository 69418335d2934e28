import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { withUnreadSources } from '../../cli/node.ts';
import { FIXTURES, REPO } from '../../test/helpers/paths.ts';
import { expandInputs } from '../sources/files.ts';
import { generationsOverlapping } from './generations.ts';
import { nodeWindow, parseWhen } from './window.ts';

const S = 1_000_000_000n;
const LAB = join(FIXTURES, 'lab', 'containers-busy');

describe('the node form’s window', () => {
  it('reads durations back from now, ISO times and @epoch; evidence from a lead-in before', () => {
    const now = 1_796_178_500n * S;
    assert.equal(parseWhen('2h', now), now - 7200n * S);
    assert.equal(parseWhen('90s', now), now - 90n * S);
    assert.equal(parseWhen('@1796178402.5', now), 1_796_178_402_500_000_000n);
    assert.equal(parseWhen('2026-12-02T02:26:43Z', now), 1_796_178_403n * S);
    assert.throws(() => parseWhen('yesterday', now), /not a time/);
    const w = nodeWindow({ since: '1h', leadIn: '15m' }, now);
    assert.equal(w.untilNs, now);
    assert.equal(w.fromNs, now - 4500n * S);
    assert.throws(() => nodeWindow({ since: '@1796178600', until: '@1796178500' }, now), /after --until/);
  });
});

describe('rotated generations overlapping a window, by their last write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-gens-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the generations written into the window and the one it started in, oldest first', async () => {
    const at = (name: string, s: number) => {
      writeFileSync(join(dir, name), 'x\n');
      utimesSync(join(dir, name), s, s);
    };
    at('audit.log.3', 1000); // ended long before
    at('audit.log.2', 2000); // ended before the window: the window starts in .1
    at('audit.log.1', 3500); // ended inside it
    at('audit.log', 9000); // the live file, ended after it
    at('audit.log.bak', 3000); // not a generation
    at('messages-20260101.gz', 3000); // another log
    const gens = await generationsOverlapping(join(dir, 'audit.log'), 3000n * S, 4000n * S);
    assert.deepEqual(gens.map((g) => g.path.slice(dir.length + 1)), ['audit.log.1', 'audit.log']);
    const late = await generationsOverlapping(join(dir, 'audit.log'), 9500n * S, 9600n * S);
    assert.deepEqual(late, [], 'nothing was written after the live file’s last write');
    const early = await generationsOverlapping(join(dir, 'audit.log'), 500n * S, 1500n * S);
    assert.deepEqual(early.map((g) => g.path.slice(dir.length + 1)), ['audit.log.3', 'audit.log.2']);
  });
});

describe('analyze with no inputs: a node whose logs are the lab’s, its audit log rotated', () => {
  const node = mkdtempSync(join(tmpdir(), 'exit137-node-'));
  after(() => rmSync(node, { recursive: true, force: true }));

  it('reads the generations in the window only, says which sources it read and why not the others, and gives the files’ verdicts', async () => {
    // the audit log split at an event's edge into a rotated generation and the live file, and an
    // old generation from before the window that must not be read (its lines would not decode)
    mkdirSync(join(node, 'audit'));
    const lines = readFileSync(join(LAB, 'audit.log'), 'utf8').split('\n').filter(Boolean);
    const serial = (l: string) => /audit\((\d+\.\d+):(\d+)\)/.exec(l)!;
    let cut = Math.floor(lines.length / 2);
    while (serial(lines[cut]!)[2] === serial(lines[cut - 1]!)[2]) cut++;
    const gen = (name: string, part: string[], s: number) => {
      writeFileSync(join(node, 'audit', name), `${part.join('\n')}\n`);
      utimesSync(join(node, 'audit', name), s, s);
    };
    const secs = (l: string) => Math.ceil(Number(serial(l)[1]));
    gen('audit.log.2', ['not an audit record'], secs(lines[0]!) - 3600);
    gen('audit.log.1', lines.slice(0, cut), secs(lines[cut - 1]!));
    gen('audit.log', lines.slice(cut), secs(lines.at(-1)!) + 60);
    for (const f of ['dockerd.log', 'containerd.log']) copyFileSync(join(LAB, f), join(node, f));
    const since = `@${secs(lines[0]!) - 5}`;
    const until = `@${secs(lines.at(-1)!) + 60}`;
    const r = spawnSync(
      'node',
      [join(REPO, 'bin', 'exit137.js'), 'analyze', '--json', '--all', '--since', since, '--until', until, '--lead-in', '0', '--audit-log', join(node, 'audit', 'audit.log'), '--syslog', `${join(node, 'dockerd.log')},${join(node, 'containerd.log')},${join(node, 'no-such-log')}`, '--no-journal', '--no-dmesg', '--no-docker', '--containerd-address', join(node, 'containerd.sock'), '--cri-endpoint', `unix://${join(node, 'cri.sock')}`, '--proc-root', join(node, 'no-proc'), '--cgroup-root', join(node, 'no-cgroup')],
      { encoding: 'utf8', env: { ...process.env, EXIT137_NODE_NAME: 'lab-node' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const err = r.stderr;
    assert.match(err, new RegExp(`^exit137: source audit: read: ${join(node, 'audit', 'audit.log.1')}, ${join(node, 'audit', 'audit.log')}$`, 'm'));
    assert.match(err, new RegExp(`^exit137: source syslog: read: ${join(node, 'dockerd.log')}, ${join(node, 'containerd.log')}$`, 'm'));
    assert.match(err, /^exit137: source journal: not read: turned off/m);
    assert.match(err, /^exit137: source node state: not read: tasks unreadable: .*no-proc/m);
    assert.match(err, /^exit137: source crictl: not read: /m);
    assert.match(err, / 0 undecodable$/m, 'the old generation was not read');
    const verdicts = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Attribution).filter((v) => v.incident_id);
    assert.ok(verdicts.every((v) => v.host === 'lab-node'));
    const files = await analyzeInputs(await expandInputs(['audit.log', 'dockerd.log', 'containerd.log'].map((f) => join(LAB, f))), {}, { deadLetter: () => {} });
    const key = (v: Attribution) => `${v.container.id} ${v.cause}/${v.sub_cause ?? '-'} ${v.exit_code ?? '?'}`;
    assert.deepEqual(verdicts.map(key).sort(), files.verdicts.map(key).sort());
    assert.ok(verdicts.length >= 30);
    // the node form's explain finds a container by name among them
    const name = verdicts.find((v) => v.container.name)!.container.name!;
    const ex = execFileSync('node', [join(REPO, 'bin', 'exit137.js'), 'explain', name, '--since', since, '--until', until, '--lead-in', '0', '--audit-log', join(node, 'audit', 'audit.log'), '--syslog', `${join(node, 'dockerd.log')},${join(node, 'containerd.log')}`, '--no-journal', '--no-dmesg', '--no-docker', '--proc-root', join(node, 'no-proc')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(ex, new RegExp(`\\(${name}\\) on `));
  });

  it('a source that was there but unreadable is named in missing, in place of the generic line', () => {
    const v = { missing: ['no audit records at all on this node: is the exit137 audit rule pack loaded (auditctl -l)?', 'no kernel log: OOM kills and hung tasks are only there (dmesg / journalctl -k)'] } as Attribution;
    const out = withUnreadSources(v, [
      { source: 'audit', kind: 'audit', read: false, detail: '/var/log/audit/audit.log: permission denied (not root)', adds: 'who sent a SIGKILL' },
      { source: 'dmesg', kind: 'kernel', read: false, detail: 'no such thing', absent: true, adds: 'OOM kills' },
    ]);
    assert.deepEqual(out.missing, ['no kernel log: OOM kills and hung tasks are only there (dmesg / journalctl -k)', 'audit was not read (/var/log/audit/audit.log: permission denied (not root)): it would have added who sent a SIGKILL']);
  });
});
