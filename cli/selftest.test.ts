import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { auditFromBoot } from './selftest.ts';

describe('selftest: audit from boot', () => {
  it('warns on this machine’s own command line when it lacks audit=1, and names the fix', () => {
    const cmdline = readFileSync('/proc/cmdline', 'utf8');
    const c = auditFromBoot(cmdline);
    assert.equal(c.ok, /(^|\s)audit=1(\s|$)/.test(cmdline));
    if (!c.ok) assert.match(c.detail, /pid 1 .* never audited.*audit=1 audit_backlog_limit=8192/);
  });

  it('the last audit= wins, as the kernel parses it, and the backlog is asked for when missing', () => {
    // GRUB appends GRUB_CMDLINE_LINUX after the defaults: a later audit=0 turns it off again
    assert.equal(auditFromBoot('BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0f3c ro audit=1 quiet audit=0').ok, false);
    const on = auditFromBoot('BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0f3c ro quiet audit=1');
    assert.equal(on.ok, true);
    assert.match(on.detail, /add audit_backlog_limit=8192/);
    assert.doesNotMatch(auditFromBoot('ro audit=1 audit_backlog_limit=8192').detail, /add /);
  });
});
