import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES, sharedPath } from '../../test/helpers/paths.ts';
import type { Tokenized } from './fields.ts';
import { sharedJson, tokenizeBody } from './fields.ts';
import { field, fieldLists, parseAuditRecord } from './record.ts';

/** Record bodies of the lab's audit captures and the shared corpus. */
function bodies(): string[] {
  const corpus = sharedPath('corpus', 'audit');
  const files = [join(FIXTURES, 'lab', 'audit-enriched.log'), join(FIXTURES, 'lab', 'audit-raw.log'), join(FIXTURES, 'lab', 'containers-busy', 'audit.log'), ...readdirSync(corpus).filter((f) => f.endsWith('.log')).map((f) => join(corpus, f))];
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const p = parseAuditRecord(line);
      if (p.ok) out.push(p.record.body);
    }
  }
  return out;
}

/**
 * A body read with the memo, held to the body read whole: the same pairs, enrichment and warnings;
 * and where it names the memo's texts it is made of, its JSON escape made from them is the body's.
 */
function same(b: string, what: string): void {
  const { shared, ...read } = tokenizeBody(b) as Tokenized;
  assert.deepEqual(read, tokenizeBody(b, false), what);
  if (shared) assert.equal(sharedJson(b.slice(0, shared.at), shared), JSON.stringify(b).slice(1, -1), `JSON of ${what}`);
}

const SENDER = 'ppid=1 pid=812 auid=4294967295 uid=0 comm="containerd-shim" exe="/usr/bin/containerd-shim-runc-v2" key="kill"\x1dARCH=x86_64 SYSCALL=kill AUID="unset" UID="root"';

describe('tokenizeBody: texts read once give what reading them whole gives', () => {
  it('on every record of the lab captures and the corpus, seen once and again', () => {
    const all = bodies();
    assert.ok(all.length > 3000, `${all.length} records`);
    let shared = 0;
    for (const round of [1, 2]) {
      for (const b of all) {
        same(b, `round ${round}: ${b.slice(0, 200)}`);
        if (tokenizeBody(b).shared) shared++;
      }
    }
    assert.ok(shared > all.length, `${shared} bodies made of shared texts`);
  });

  it('where what comes before ppid= could carry a value across it, or the body is not the shape it seems', () => {
    const odd = [
      `arch=c000003e syscall=62 a0=1 a1=9 items=0 ${SENDER}`,
      `arch=c000003e syscall=62 comm="x ${SENDER}`,
      `arch=c000003e syscall=62 msg='op=x ${SENDER}'`,
      `arch=c000003e syscall=62 saddr={ fam=local ${SENDER} }`,
      `arch=c000003e\tsyscall=62 a0=1 ${SENDER}`,
      `arch=c000003e syscall=62 subj=a b ${SENDER}`,
      `arch=c000003e syscall=62 stray pid=1 ${SENDER}`,
      `arch=c000003e syscall=62 a0=1  ${SENDER}`,
      ` opid=12 ocomm="sh"\x1dOUID="root"`,
      ` opid=12 ocomm="sh"OUID="root"`,
      `proctitle=${'41'.repeat(700)}`,
      `cwd="/a b" x`,
      `ppid=1 pid=2 comm="x"ARCH=x86_64 SYSCALL=kill`,
      `a0=1 ppid=1 pid=2 comm="x"ARCH=x86_64\x1dSYSCALL=kill`,
      `a0=1 ppid=1 pid=2 comm="x"\ufffdARCH=x86_64 SYSCALL=kill`,
      `a0=1 ppid=1 pid=2 comm="unterminated`,
    ];
    for (const round of [1, 2]) for (const b of odd) same(b, `round ${round}: ${JSON.stringify(b)}`);
  });

  it('finds a key where the whole list of a record’s pairs has it first, without joining its own pairs to the shared ones', () => {
    const lines = [
      ...bodies().map((b) => `type=SYSCALL msg=audit(1700000000.000:1): ${b}`),
      // a key in the record's own pairs and again in the shared ones: the first is the one
      `type=SYSCALL msg=audit(1700000000.000:2): a0=1 pid=9 ppid=1 pid=2 comm="x"\x1dUID="root"`,
    ];
    let split = 0;
    for (const round of [1, 2]) {
      for (const line of lines) {
        const p = parseAuditRecord(line);
        assert.ok(p.ok);
        const r = p.record;
        const lists = fieldLists(r);
        if (lists.length > 1) split++;
        assert.deepEqual(lists.flat(), r.fields, `round ${round}: ${line.slice(0, 200)}`);
        for (const k of [...new Set(r.fields.map((f) => f.key)), 'nokey']) assert.equal(field(r, k), r.fields.find((f) => f.key === k), `${k} of ${line.slice(0, 200)}`);
      }
    }
    assert.ok(split > 1000, `${split} records read as two lists`);
    const odd = parseAuditRecord(lines.at(-1)!);
    assert.ok(odd.ok && field(odd.record, 'pid')?.value === '9');
  });

  it('hands the same pair objects to records of one sender', () => {
    const a = tokenizeBody(`arch=c000003e syscall=62 a0=1 a1=9 items=0 ${SENDER}`);
    const b = tokenizeBody(`arch=c000003e syscall=200 a0=5 a1=17 items=0 ${SENDER}`);
    const ppid = (t: typeof a) => t.fields.find((f) => f.key === 'ppid');
    assert.ok(ppid(a) !== undefined && ppid(a) === ppid(b));
    assert.equal(a.enriched, b.enriched);
    assert.ok(Object.isFrozen(a.enriched));
  });
});
