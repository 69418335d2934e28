import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { NormalizedEvent } from '../event.ts';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';

/**
 * The decoder against auparse, the reference implementation, on real lab captures: every record
 * ausearch reads must be one we read, in the same event, with the same interpreted values.
 */
type IRecord = { type: string; serial: number; ms: string; fields: Record<string, string> };

function ausearchInterpreted(file: string): IRecord[] {
  // ausearch needs a locale-independent, UTC rendering to compare instants.
  const out = execFileSync('ausearch', ['-i', '-if', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, maxBuffer: 64 << 20 });
  const records: IRecord[] = [];
  for (const line of out.split('\n')) {
    const m = /^type=(\S+) msg=audit\((\d\d)\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d)\.(\d{3}):(\d+)\) : (.*)$/.exec(line);
    if (!m) continue;
    const fields: Record<string, string> = {};
    const body = m[8]!;
    if (m[1] === 'PROCTITLE') fields.proctitle = body.replace(/^proctitle=/, '').trimEnd();
    else for (const kv of body.trim().split(' ')) {
      const eq = kv.indexOf('=');
      if (eq > 0 && !(kv.slice(0, eq) in fields)) fields[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    records.push({ type: m[1]!, serial: Number(m[7]), ms: `20${m[4]}-${m[2]}-${m[3]}T${m[5]}.${m[6]}`, fields });
  }
  return records;
}

const unset = (v: string | undefined) => (v === 'unset' ? undefined : v);

for (const file of ['audit-raw.log', 'audit-enriched.log']) {
  describe(`decoder = ausearch -i on the lab capture ${file}`, async () => {
    const path = join(FIXTURES, 'lab', file);
    const { events, dead } = await decodeFiles([path]);
    const ref = ausearchInterpreted(path);
    const bySerial = new Map<number, NormalizedEvent>(events.map((e) => [e.auditd!.serial, e]));

    it('reads every record ausearch reads, in the same events, at the same instants', () => {
      assert.deepEqual(dead, []);
      assert.ok(ref.length > 100, `ausearch read ${ref.length} records`);
      for (const r of ref) {
        if (r.type === 'EOE') continue;
        const e = bySerial.get(r.serial);
        assert.ok(e, `event ${r.serial} decoded`);
        assert.ok(e.auditd!.records.includes(r.type), `${r.serial} has ${r.type}`);
        assert.equal(e['@timestamp'].slice(0, 23), r.ms, `time of ${r.serial}`);
      }
      const ours = events.reduce((n, e) => n + e.auditd!.records.length, 0);
      assert.equal(ours, ref.filter((r) => r.type !== 'EOE').length);
    });

    it('interprets each field as auparse does', () => {
      let compared = 0;
      for (const r of ref) {
        const e = bySerial.get(r.serial)!;
        const f = r.fields;
        const eq = (ours: unknown, theirs: unknown, what: string) => {
          assert.equal(ours, theirs, `${r.serial} ${r.type} ${what}`);
          compared++;
        };
        if (r.type === 'SYSCALL') {
          eq(e.auditd?.arch, f.arch, 'arch');
          eq(e.auditd?.syscall, f.syscall, 'syscall');
          eq(e.process?.pid, Number(f.pid), 'pid');
          eq(e.process?.parent?.pid, Number(f.ppid), 'ppid');
          eq(e.process?.name, f.comm, 'comm');
          eq(e.process?.executable, f.exe, 'exe');
          eq(e.user?.audit?.id, unset(f.auid), 'auid');
          eq(e.auditd?.success, f.success === 'yes', 'success');
          if (f.key && f.key !== '(null)') eq(e.auditd?.key?.join(','), f.key, 'key');
          // auparse names the signal of kill, tkill and tgkill only; for pidfd_send_signal and
          // rt_sigqueueinfo it leaves the hex number, which we must still read as the same signal.
          const named = { kill: 'a1', tkill: 'a1', tgkill: 'a2' }[f.syscall ?? ''];
          const numbered = { pidfd_send_signal: 'a1', rt_sigqueueinfo: 'a1', rt_tgsigqueueinfo: 'a2' }[f.syscall ?? ''];
          if (named) eq(e.exit137.signal?.name, f[named], `signal in ${named}`);
          if (numbered) eq(e.exit137.signal?.number, Number(f[numbered]), `signal number in ${numbered}`);
        } else if (r.type === 'OBJ_PID') {
          const t = [e.exit137.target?.process, ...(e.exit137.target?.others ?? [])].find((x) => x?.pid === Number(f.opid));
          assert.ok(t, `${r.serial} target ${f.opid}`);
          eq(t.name, f.ocomm, 'ocomm');
          eq(t.auid, unset(f.oauid), 'oauid');
        } else if (r.type === 'PROCTITLE') {
          eq(e.process?.title, f.proctitle, 'proctitle');
        }
      }
      assert.ok(compared > 200, `${compared} values compared`);
    });

    it('reads all six signal paths with the right signal and target', () => {
      const sigs = events.filter((e) => e.exit137.kind === 'audit-signal').map((e) => `${e.exit137.signal?.syscall}:${e.exit137.signal?.name}:${e.exit137.target?.process.pid !== undefined}`);
      assert.deepEqual(sigs.sort(), ['kill:SIGKILL:true', 'kill:SIGTERM:true', 'pidfd_send_signal:SIGKILL:true', 'rt_sigqueueinfo:SIGKILL:true', 'tgkill:SIGKILL:true', 'tkill:SIGTERM:true']);
      const py = events.filter((e) => e.exit137.kind === 'audit-signal' && e.process?.name === 'python3');
      assert.equal(py.length, 5);
      for (const e of py) assert.equal(e.auditd?.proctitle_truncated, true, 'python3 --padding=xxx… is cut at 128 bytes');
    });
  });
}
