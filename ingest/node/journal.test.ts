import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyzeInputs } from '../../correlate/analyze.ts';
import type { Attribution } from '../../correlate/verdict.ts';
import { FIXTURES, REPO } from '../../test/helpers/paths.ts';
import { expandInputs } from '../sources/files.ts';
import { parseIsoNanos } from '../time/instant.ts';

const LAB = join(FIXTURES, 'lab', 'containers-busy');
const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const BOOT = '0123456789abcdef0123456789abcdef';

type Entry = { us: bigint; fields: Record<string, string> };

/** A daemon's stderr as journald keeps it: one entry per line, at the line's own time (or the last one's). */
function unitEntries(file: string, unit: string, ident: string): Entry[] {
  let last = 0n;
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const t = /^time="([^"]+)"/.exec(line);
    const p = t ? parseIsoNanos(t[1]!) : undefined;
    if (p?.ok) last = p.ns / 1000n;
    return { us: last, fields: { _SYSTEMD_UNIT: unit, SYSLOG_IDENTIFIER: ident, _TRANSPORT: 'stdout', MESSAGE: line } };
  });
}

/** `dmesg --time-format iso` lines as the journal's kernel transport keeps them. */
function kernelEntries(file: string): Entry[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const m = /^(\S+) (.*)$/.exec(line)!;
    const t = parseIsoNanos(m[1]!.replace(',', '.'));
    assert.ok(t.ok);
    return { us: t.ns / 1000n, fields: { _TRANSPORT: 'kernel', SYSLOG_IDENTIFIER: 'kernel', MESSAGE: m[2]! } };
  });
}

/** Journal export format: fields one a line, entries apart by an empty line (none of ours holds a newline). */
function exportFormat(entries: Entry[]): string {
  return entries
    .sort((a, b) => (a.us < b.us ? -1 : a.us > b.us ? 1 : 0))
    .map((e, i) => [`__REALTIME_TIMESTAMP=${e.us}`, `__MONOTONIC_TIMESTAMP=${i + 1}`, `_BOOT_ID=${BOOT}`, '_HOSTNAME=lab-node', ...Object.entries(e.fields).map(([k, v]) => `${k}=${v}`), ''].join('\n'))
    .join('\n')
    .concat('\n');
}

/**
 * A real journal file, written by systemd-journal-remote from the lab's daemon logs and kernel
 * lines (journald does not run on these machines), read by the node form through journalctl
 * -D: the engines' units and the kernel's transport, in the window, nothing else.
 */
describe('the node form reads the journal: the engines’ units and the kernel, in the window', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit137-journal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the verdicts of the same lines read as files, and reads no other unit and nothing before the window', async () => {
    assert.ok(existsSync(JOURNAL_REMOTE), `${JOURNAL_REMOTE} is missing: npm run setup installs systemd-journal-remote`);
    const entries = [...unitEntries(join(LAB, 'dockerd.log'), 'docker.service', 'dockerd'), ...unitEntries(join(LAB, 'containerd.log'), 'containerd.service', 'containerd'), ...kernelEntries(join(LAB, 'dmesg.txt'))];
    const first = entries.reduce((m, e) => (e.us < m ? e.us : m), entries[0]!.us);
    const last = entries.reduce((m, e) => (e.us > m ? e.us : m), 0n);
    // decoys: a stop escalation of another unit in the window, and one of dockerd's own an hour before it
    const fake = 'f'.repeat(64);
    const escalation = `time="2026-12-02T02:27:00.000000000Z" level=info msg="Container failed to exit within 2s of signal 15 - using the force" container=${fake}`;
    entries.push({ us: first + 10_000_000n, fields: { _SYSTEMD_UNIT: 'cron.service', SYSLOG_IDENTIFIER: 'cron', _TRANSPORT: 'stdout', MESSAGE: escalation } });
    entries.push({ us: first - 3600_000_000n, fields: { _SYSTEMD_UNIT: 'docker.service', SYSLOG_IDENTIFIER: 'dockerd', _TRANSPORT: 'stdout', MESSAGE: escalation.replace('02:27:00', '01:27:00') } });
    mkdirSync(join(dir, 'journal'));
    const w = spawnSync(JOURNAL_REMOTE, [`--output=${join(dir, 'journal', 'lab.journal')}`, '-'], { input: exportFormat(entries), encoding: 'utf8' });
    assert.equal(w.status, 0, w.stderr);
    copyFileSync(join(LAB, 'audit.log'), join(dir, 'audit.log'));

    const secs = (us: bigint) => `@${us / 1_000_000n}`;
    const r = spawnSync(
      'node',
      [join(REPO, 'bin', 'exit137.js'), 'analyze', '--json', '--all', '--since', secs(first - 5_000_000n), '--until', secs(last + 5_000_000n), '--lead-in', '0', '--journal-dir', join(dir, 'journal'), '--audit-log', join(dir, 'audit.log'), '--no-dmesg', '--no-docker', '--containerd-address', join(dir, 'none.sock'), '--cri-endpoint', `unix://${join(dir, 'cri.sock')}`, '--proc-root', join(dir, 'no-proc')],
      { encoding: 'utf8', env: { ...process.env, EXIT137_NODE_NAME: 'lab-node' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const inWindow = (e: Entry) => e.us >= ((first - 5_000_000n) / 1_000_000n) * 1_000_000n && e.us <= ((last + 5_000_000n) / 1_000_000n) * 1_000_000n;
    const units = entries.filter((e) => inWindow(e) && (e.fields._SYSTEMD_UNIT === 'docker.service' || e.fields._SYSTEMD_UNIT === 'containerd.service')).length;
    const kernel = entries.filter((e) => inWindow(e) && e.fields._TRANSPORT === 'kernel').length;
    assert.match(r.stderr, new RegExp(`^exit137: source journal: read: ${units} entries of docker.service, containerd.service, crio.service, kubelet.service$`, 'm'));
    assert.match(r.stderr, new RegExp(`^exit137: source journal \\(kernel\\): read: ${kernel} kernel entries$`, 'm'));
    assert.match(r.stderr, /^exit137: source syslog: not read: the journal holds the same lines$/m);
    const verdicts = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Attribution).filter((v) => v.incident_id);
    assert.ok(!verdicts.some((v) => v.container.id === fake), 'the other unit’s line and the line before the window were not read');
    const files = await analyzeInputs(await expandInputs(['audit.log', 'dockerd.log', 'containerd.log', 'dmesg.txt'].map((f) => join(LAB, f))), {}, { deadLetter: () => {} });
    const key = (v: Attribution) => `${v.container.id} ${v.cause}/${v.sub_cause ?? '-'} ${v.exit_code ?? '?'}`;
    assert.deepEqual(verdicts.map(key).sort(), files.verdicts.map(key).sort());
  });
});
