import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { NodeFinding } from './finding.ts';
import { findHealth } from './findings.ts';

const CASES = join(FIXTURES, 'field', 'cases');

/** One field case's evidence alone, as `exit137 health <its files>` reads it. */
async function findingsOf(slug: string) {
  const dir = join(CASES, slug);
  const files = readdirSync(dir).filter((f) => f !== 'case.json').map((f) => join(dir, f));
  const { events } = await decodeFiles(files);
  return findHealth(events).map((f) => NodeFinding.parse(f));
}

const brief = (f: NodeFinding) => [f.finding, f.signature ?? f.oom?.mechanism, f.confidence];

describe('memory cgroup leaks from partial evidence', () => {
  it('/proc/cgroups against a directory count: the kernel holds 22,563, docker/ has 61; and mkdir ENOSPC beside it', async () => {
    const [f, ...rest] = await findingsOf('memcg-leak-moby-29638');
    assert.equal(rest.length, 0);
    assert.equal(f!.finding, 'memcg-leak');
    assert.deepEqual(f!.memcg, { kernel_cgroups: 22563, live_cgroups: 61, dying_cgroups: 22502, live_is_lower_bound: true, samples: 1 });
    // the kernel's own count and an independent symptom agree
    assert.equal(f!.confidence, 0.8);
    assert.equal(f!.severity, 'critical');
    assert.equal(f!.missing, undefined);
    assert.match(f!.remedy, /drop_caches.*nokmem/s);
  });

  it('mkdir refused alone is a likely leak, at a confidence that says so, with the count that would confirm it', async () => {
    const [f] = await findingsOf('memcg-leak-likakuli-cgroup-leak2');
    assert.deepEqual(brief(f!), ['memcg-leak', undefined, 0.65]);
    assert.ok(f!.missing!.some((m) => /\/proc\/cgroups against the directories/.test(m)));
    assert.deepEqual(f!.container, { id: 'b98d4aea818bf9d1d1aa84079e1688cd9b4218e008c58a8ef6d6c3c106403e7b', by: 'its memory cgroup could not be created' });
    const [enomem] = await findingsOf('memcg-leak-csdn-111557729');
    assert.equal(enomem!.confidence, 0.5);
    assert.ok(enomem!.missing!.some((m) => /kmem accounting/.test(m)));
  });

  it('SLUB failures in a container’s own caches name the container; kmem accounting is explained', async () => {
    for (const [slug, id] of [
      ['memcg-leak-for-linux-774', 'ea4c61d01895b46bf04a9b8c54602a4a6fff12ca7341b3b21f879414c120da79'],
      ['memcg-leak-moby-27576-a', '7c93edd4f3bda2243fa4c5d8a9159956077079a34ced3e7a0bb021bb3ddd283c'],
      ['memcg-leak-moby-35545', 'c8edefa90517e21bc691deef20c17220af0f0ac69962cc51007d372e7dd40256'],
      ['memcg-leak-runc-1725', '18479a49f76b66461d8fedd17a6eba407f08cc8960bd0246d39df8eb21f20b4f'],
    ]) {
      const [f, ...rest] = await findingsOf(slug!);
      assert.equal(rest.length, 0, slug);
      assert.equal(f!.finding, 'memcg-leak');
      assert.ok(f!.confidence < 0.8, `${slug}: a symptom alone stays below 0.8`);
      assert.equal(f!.container?.id, id);
      assert.match(f!.explanation, /kernel-memory accounting/);
    }
  });

  it('successive /proc/cgroups: only the memory row rises across a removal, a weak but named sign', async () => {
    const [cri] = await findingsOf('memcg-leak-cri-o-1839');
    assert.deepEqual(brief(cri!), ['memcg-leak', undefined, 0.5]);
    assert.match(cri!.headline, /32 → 34/);
    const [moby] = await findingsOf('memcg-leak-moby-30909');
    assert.match(moby!.headline, /52 → 53/);
  });

  it('a slab cache count in the hundreds of thousands beside mkdir ENOMEM: two signs, still below 0.8', async () => {
    const [f] = await findingsOf('memcg-leak-cloud-atlas-cannot-allocate-memory');
    assert.equal(f!.confidence, 0.65);
    assert.match(f!.headline, /182,210 slab caches/);
  });
});

describe('cgroup teardown freezes, named by their stacks', () => {
  const cases: [string, string, number][] = [
    ['cgroup-teardown-freeze-dotmesh-540', 'cgroup-destroy-worker-mutex', 0.9],
    ['cgroup-teardown-freeze-kernel-bugzilla-30432', 'memcg-offline-rcu', 0.9],
    ['cgroup-teardown-freeze-linux-79f919a89c9d', 'cgroup-drain-offline', 0.7],
    ['cgroup-teardown-freeze-lkml-task-hung-cgroup-drain-dying', 'cgroup-drain-dying', 0.9],
    ['cgroup-teardown-freeze-lkml-wait-dying-rmdir-a', 'cgroup-drain-dying', 0.9],
    ['cgroup-teardown-freeze-oss-security-2016-11-04', 'cgroup-offline-blocked', 0.9],
    ['cgroup-teardown-freeze-syzbot-4e415f7013e8d1af362b', 'cgroup-drain-offline', 0.9],
  ];
  for (const [slug, sig, confidence] of cases) {
    it(`${slug}: ${sig}`, async () => {
      const f = await findingsOf(slug);
      assert.deepEqual(f.map(brief), [['cgroup-teardown-freeze', sig, confidence]]);
      assert.equal(f[0]!.severity, 'critical');
    });
  }

  it('tasks blocked behind the freeze are its victims, not stuck kills of their own', async () => {
    const [f, ...rest] = await findingsOf('cgroup-teardown-freeze-kernel-bugzilla-30432');
    assert.equal(rest.length, 0);
    assert.deepEqual(f!.tasks!.map((t) => t.name), ['lua', 'zsh', 'ulatencyd']);
  });

  it('a bare trace with no sign of a hang says what is missing', async () => {
    const [f] = await findingsOf('cgroup-teardown-freeze-linux-79f919a89c9d');
    assert.ok(f!.missing!.some((m) => /stays in this wait/.test(m)));
  });
});

describe('stuck kills from stacks, wchan and process listings', () => {
  it('wchan of four inits in zap_pid_ns_processes: the wait named, its duration unknown', async () => {
    const [f] = await findingsOf('stuck-kill-moby-31007');
    assert.deepEqual(brief(f!), ['stuck-kill', 'pid-ns-teardown', 0.7]);
    assert.deepEqual(f!.tasks!.map((t) => t.pid), [123558, 126411, 61025, 10853]);
    assert.match(f!.headline, /^task 123558, task 126411/);
  });

  it('the init’s /proc stack with its ps state Ds: blocked, and the one shim the input shows named as such', async () => {
    const [f] = await findingsOf('stuck-kill-moby-31614');
    assert.deepEqual(brief(f!), ['stuck-kill', 'pid-ns-teardown', 0.9]);
    assert.equal(f!.tasks![0]!.state, 'Ds');
    assert.deepEqual(f!.container, { id: '2b585a819f31b11a642bb66efd921f5b39fe5b7550b4e06702c0f10e86d4ca1a', by: 'the only container the input names (no parent chain ties them)' });
  });

  it('tasks in D under the shim of a container whose init is exiting: the container named by the tree', async () => {
    const [f] = await findingsOf('stuck-kill-moby-35910');
    assert.deepEqual(brief(f!), ['stuck-kill', 'blocked-in-container', 0.6]);
    assert.deepEqual(f!.container, { id: 'efe5f894f16a346a986510d02296627b25b05593f8fb43909c862b292836c7f0', by: 'the process tree it is listed in' });
    assert.deepEqual(f!.tasks!.map((t) => [t.pid, t.state]), [[16112, 'Dsl'], [66654, 'D']]);
  });

  it('`docker top` and `ps -O s` together: a task in D beside zombies of the same parent', async () => {
    const [f] = await findingsOf('stuck-kill-moby-42883');
    assert.deepEqual(brief(f!), ['stuck-kill', 'blocked-in-container', 0.6]);
    assert.match(f!.headline, /zygote64:59446 \(D\).*2 zombies.*\[docker-init\] exiting/);
  });

  it('a hung-task report with no stack, or one in I/O only: a blocked task, at 0.5', async () => {
    for (const slug of ['stuck-kill-for-mac-4093', 'stuck-kill-moby-41676']) {
      const [f] = await findingsOf(slug);
      assert.deepEqual(brief(f!), ['stuck-kill', 'blocked-task', 0.5]);
    }
    const [io] = await findingsOf('stuck-kill-moby-41676');
    // the scheduler's frames say it sleeps, not on what: no frame is named rather than those
    assert.match(io!.headline, /^mysqld:44333 blocked in state D for more than 120 s: /);
  });
});

describe('wrong OOM victims from reports without a task table', () => {
  it('the kernel chose one task and killed its child (with a table: by their badness)', async () => {
    const [f] = await findingsOf('oom-wrong-victim-cri-o-1975');
    assert.deepEqual(brief(f!), ['oom-wrong-victim', 'sacrificed-child', 0.8]);
    assert.equal(f!.oom?.chosen, 'runc[387941]');
    assert.match(f!.explanation, /-998/);
    const [pai] = await findingsOf('oom-wrong-victim-pai-1687');
    assert.deepEqual(brief(pai!), ['oom-wrong-victim', 'sacrificed-child', 0.7]);
  });

  it('a score near zero, and a victim that held nothing', async () => {
    const [low] = await findingsOf('oom-wrong-victim-kubernetes-86420');
    assert.deepEqual(brief(low!), ['oom-wrong-victim', 'low-score', 0.7]);
    const [pause] = await findingsOf('oom-wrong-victim-kubernetesquestions-57855013');
    assert.deepEqual(brief(pause!), ['oom-wrong-victim', 'small-victim', 0.65]);
    const [journal] = await findingsOf('oom-wrong-victim-for-linux-1001-a');
    assert.match(journal!.headline, /systemd-journal\[401\].*node agent/);
  });

  it('a big child killed in its parent’s place held the memory: not called wrong', async () => {
    for (const slug of ['oom-kill-doris-3525', 'oom-kill-moby-15654', 'oom-kill-qiankunli-blog-docker-java']) {
      const f = await findingsOf(slug);
      assert.deepEqual(f.filter((x) => x.finding === 'oom-wrong-victim').map(brief), [], slug);
    }
  });
});

describe('no finding where nothing is wrong', () => {
  it('the decoys of the field corpus', async () => {
    for (const slug of readdirSync(CASES).filter((d) => d.startsWith('decoy-'))) assert.deepEqual((await findingsOf(slug)).map(brief), [], slug);
  });
});
