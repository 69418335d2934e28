import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeFiles, decodeLines } from '../../test/helpers/decode.ts';
import { FIXTURES } from '../../test/helpers/paths.ts';
import { cgroupCreateError } from './cgroup-errors.ts';
import { countTarget } from './cgroup-count.ts';
import { shimContainerId } from './ps-tree.ts';

const shape = (dir: string, n: number) => join(FIXTURES, 'field', 'shapes', dir, `${n}.txt`);
const fieldCase = (slug: string, file: string) => join(FIXTURES, 'field', 'cases', slug, file);

async function kinds(path: string, ...k: string[]) {
  const { events, dead } = await decodeFiles([path]);
  assert.deepEqual(dead, []);
  return events.filter((e) => k.includes(e.exit137.kind));
}

describe('/proc/cgroups and counts of memory cgroups', () => {
  it('a whole table after its prompt: the memory row is the kernel’s count, every controller kept beside it', async () => {
    const [e, ...rest] = await kinds(shape('proc-cgroups', 1), 'memcg-sample');
    assert.equal(rest.length, 0);
    assert.equal(e!.event.action, 'proc-cgroups');
    assert.equal(e!.exit137.source, 'proc');
    assert.deepEqual(e!.exit137.memcg, {
      hierarchy: 'v1',
      kernel_cgroups: 64734,
      controllers: { cpuset: 18, cpu: 108, cpuacct: 108, memory: 64734, devices: 99, freezer: 18, net_cls: 18, blkio: 99, perf_event: 18, hugetlb: 18, pids: 18, net_prio: 18 },
    });
    // the live side is not in this paste: left out, not guessed
    assert.equal(e!.exit137.memcg?.live_cgroups, undefined);
  });

  it('`| grep memory` then a directory count under docker/: two readings, the count a lower bound', async () => {
    const [k, l] = await kinds(shape('proc-cgroups', 2), 'memcg-sample');
    assert.deepEqual(k!.exit137.memcg, { hierarchy: 'v1', kernel_cgroups: 22563 });
    assert.deepEqual(l!.exit137.memcg, { hierarchy: 'v1', live_cgroups: 61, counted_under: '/sys/fs/cgroup/memory/docker' });
    assert.equal(l!.event.action, 'memcg-dir-count');
  });

  it('`find /sys/fs/cgroup/memory/ -type d | wc -l` counts the whole hierarchy', async () => {
    const [e] = await kinds(shape('cgroup-ls-count', 2), 'memcg-sample');
    assert.deepEqual(e!.exit137.memcg, { hierarchy: 'v1', live_cgroups: 64734 });
  });

  it('`ls /sys/fs/cgroup/memory/ | wc -l` counts control files too: no cgroup count is read from it', async () => {
    const { events } = await decodeFiles([shape('cgroup-leak-errors', 4)]);
    assert.equal(events.filter((e) => e.exit137.memcg?.live_cgroups !== undefined).length, 0);
    assert.ok(events.some((e) => /not a count of cgroups/.test(e.message ?? '')));
  });

  it('markdown bold around a row, and three readings in one paste, each its own', async () => {
    const cri = await kinds(fieldCase('memcg-leak-cri-o-1839', 'proc-cgroups.txt'), 'memcg-sample');
    assert.deepEqual(cri.map((e) => e.exit137.memcg?.kernel_cgroups), [32, 34]);
    assert.equal(cri[1]!.exit137.memcg?.controllers?.devices, 55);
    const moby = await kinds(fieldCase('memcg-leak-moby-30909', 'shell.txt'), 'memcg-sample');
    assert.deepEqual(moby.map((e) => [e.exit137.memcg?.kernel_cgroups, e.exit137.memcg?.controllers?.cpu]), [[52, 51], [53, 52], [53, 51]]);
  });

  it('`ls /sys/kernel/slab | wc -l`: the slab caches counted', async () => {
    const [e] = await kinds(fieldCase('memcg-leak-cloud-atlas-cannot-allocate-memory', 'shell.txt'), 'memcg-sample').then((x) => x.filter((y) => y.event.action === 'slab-cache-count'));
    assert.deepEqual(e!.exit137.memcg, { hierarchy: 'v1', slab_caches: 182210 });
  });

  it('what a count command counts', () => {
    assert.deepEqual(countTarget('[root@kube-node02 memory]# find /sys/fs/cgroup/memory/ -type d | wc -l'), { what: 'memcg-dirs', dir: '/sys/fs/cgroup/memory', recursive: true, root: true });
    assert.deepEqual(countTarget('# ls -l -F /sys/fs/cgroup/memory/docker/ | grep / | wc -l'), { what: 'memcg-dirs', dir: '/sys/fs/cgroup/memory/docker', recursive: false, root: false });
    assert.deepEqual(countTarget('ls /sys/fs/cgroup/memory/ | wc -l'), { what: 'files', dir: '/sys/fs/cgroup/memory' });
    assert.deepEqual(countTarget('# ls /sys/kernel/slab | wc -l'), { what: 'slab-caches', dir: '/sys/kernel/slab' });
    assert.equal(countTarget('docker ps -a | wc -l'), undefined);
  });
});

describe('the errors a memory cgroup leak causes', () => {
  it('runc through the engine: mkdir of the container’s memory cgroup, no space left on device', async () => {
    const [e] = await kinds(shape('cgroup-leak-errors', 1), 'memcg-sample');
    assert.equal(e!.event.action, 'memcg-mkdir-enospc');
    assert.equal(e!.container?.id, '406cfca0c0a597091854c256a3bb2f09261ecbf86e98805414752150b11eb13a');
    assert.deepEqual(e!.exit137.memcg?.failure, { kind: 'mkdir-enospc', cgroup: '/sys/fs/cgroup/memory/docker/406cfca0c0a597091854c256a3bb2f09261ecbf86e98805414752150b11eb13a', by: 'runc' });
    assert.equal(e!.exit137.source, 'dockerd');
  });

  it('a describe row in markdown bold: the kubelet could not make the pod’s memory cgroup (ENOMEM), the pod uid kept', async () => {
    const [e] = await kinds(shape('cgroup-leak-errors', 2), 'memcg-sample');
    assert.equal(e!.event.action, 'memcg-mkdir-enomem');
    assert.deepEqual(e!.exit137.memcg?.failure, { kind: 'mkdir-enomem', cgroup: '/sys/fs/cgroup/memory/kubepods/besteffort/podbfeaeabc-c36c-4a99-87b2-881b379de2c9', by: 'kubelet' });
    assert.deepEqual(e!.orchestrator, { resource: { type: 'pod', id: 'bfeaeabc-c36c-4a99-87b2-881b379de2c9' } });
    assert.equal(e!.exit137.source, 'kubelet');
  });

  it('coreutils’ mkdir in a shell, and an errno the paste cut (`no space left on devic`)', async () => {
    const [shell] = await kinds(fieldCase('memcg-leak-csdn-111557729', 'shell.txt'), 'memcg-sample');
    assert.deepEqual(shell!.exit137.memcg?.failure, { kind: 'mkdir-enomem', cgroup: '/sys/fs/cgroup/memory/test', by: 'mkdir' });
    const [cut] = await kinds(fieldCase('memcg-leak-likakuli-cgroup-leak2', 'error.txt'), 'memcg-sample');
    assert.equal(cut!.exit137.memcg?.failure?.kind, 'mkdir-enospc');
    assert.equal(cut!.container?.id, 'b98d4aea818bf9d1d1aa84079e1688cd9b4218e008c58a8ef6d6c3c106403e7b');
  });

  it('only a memory cgroup: the same errno from another controller says nothing of memory cgroups', () => {
    assert.equal(cgroupCreateError('mkdir /sys/fs/cgroup/pids/docker/abc: no space left on device'), undefined);
    assert.equal(cgroupCreateError('mkdir /sys/fs/cgroup/cpu,cpuacct/kubepods/x: cannot allocate memory'), undefined);
    assert.equal(cgroupCreateError('mkdir /var/lib/docker/tmp: no space left on device'), undefined);
    assert.equal(cgroupCreateError('mkdir /sys/fs/cgroup/kubepods.slice/x.scope: no space left on device')?.errno, 'ENOSPC');
  });

  it('SLUB failures in a cgroup’s own kmem cache: the container from the cache’s name, one event per cache', async () => {
    const e = await kinds(fieldCase('memcg-leak-for-linux-774', 'dmesg.txt'), 'memcg-sample');
    assert.deepEqual(e.map((x) => x.exit137.memcg?.failure?.cache), ['mnt_cache', 'blkdev_ioc', 'kmalloc-128']);
    for (const x of e) {
      assert.equal(x.container?.id, 'ea4c61d01895b46bf04a9b8c54602a4a6fff12ca7341b3b21f879414c120da79');
      assert.equal(x.exit137.source, 'kernel');
      assert.equal(x.exit137.memcg?.failure?.kind, 'kmem-cache');
    }
  });

  it('SLUB in syslog kernel lines, in dmesg with its cache lines wrapped, and a cache line whose header a rate limit dropped', async () => {
    const [syslog] = await kinds(fieldCase('memcg-leak-moby-27576-a', 'messages.log'), 'memcg-sample');
    assert.equal(syslog!.container?.id, '7c93edd4f3bda2243fa4c5d8a9159956077079a34ced3e7a0bb021bb3ddd283c');
    assert.equal(syslog!.host.name, 'sa-docker0-ct1');
    const wrapped = await kinds(fieldCase('memcg-leak-moby-27576-b', 'dmesg.txt'), 'memcg-sample');
    assert.equal(wrapped.length, 2);
    const ratelimited = await kinds(fieldCase('memcg-leak-moby-35545', 'dmesg.txt'), 'memcg-sample');
    assert.deepEqual(ratelimited.map((x) => x.exit137.memcg?.failure?.cache), ['kmalloc-1024', 'kmalloc-1024', 'kmalloc-1024', 'kmalloc-1024', 'kmalloc-64', 'kmalloc-64', 'kmalloc-64']);
  });

  it('a SLUB failure in a global cache is a kernel line, not a memory cgroup’s', () => {
    const { events } = decodeLines(['[1.0] SLUB: Unable to allocate memory on node -1 (gfp=0x20)', '[1.0]   cache: kmalloc-256, object size: 256, buffer size: 256, default order: 1, min order: 0', '[1.0]   node 0: slabs: 9, objs: 288, free: 0'], { host: 'n' }, { id: 't', format: 'kmsg' });
    assert.equal(events.filter((e) => e.exit137.kind === 'memcg-sample').length, 0);
    assert.ok(events.some((e) => e.exit137.kind === 'kernel' && /kmalloc-256/.test(e.message ?? '')));
  });
});

describe('ps output', () => {
  it('`ps <pid>` twice: the exiting init in state Ds, and a v1.0 shim with the container id as its first argument', async () => {
    const [init, shim] = await kinds(shape('ps-tree', 1), 'process-tree');
    assert.deepEqual(init!.exit137.processes, [{ pid: 20542, command: '[dumb-init]', state: 'Ds', depth: 0 }]);
    assert.equal(init!.container, undefined);
    assert.equal(shim!.container?.id, '2b585a819f31b11a642bb66efd921f5b39fe5b7550b4e06702c0f10e86d4ca1a');
    assert.equal(shim!.exit137.processes![0]!.pid, 20525);
  });

  it('a headerless `ps axf` forest: one tree per runc.v2 shim, children by indentation', async () => {
    const [empty, pod] = await kinds(shape('ps-tree', 2), 'process-tree');
    assert.equal(empty!.container?.id, 'b2265e501ec6bd3e030e51078d801a8e372c6de9ea955b0c788994f435274034');
    assert.equal(empty!.exit137.processes!.length, 1, 'a shim with no children: the leftover');
    assert.equal(pod!.container?.id, '2d47386c5acab2dd45ef4325f4ae0941cb41b46b8f0d9d5fb39bf9407bbfbfca');
    assert.deepEqual(pod!.exit137.processes!.map((p) => [p.pid, p.ppid, p.depth]), [[4907, undefined, 0], [4984, 4907, 1], [5097, 4907, 1]]);
  });

  it('`ps -fe | grep`: a `<defunct>` init is a zombie; its child is still there', async () => {
    const [e] = await kinds(shape('ps-tree', 3), 'process-tree');
    assert.deepEqual(e!.exit137.processes!.map((p) => [p.pid, p.ppid, p.state]), [[6601, 6548, 'Z'], [35736, 6601, undefined]]);
  });

  it('squeezed `ps -ef | grep` columns after a prompt: the v1 shim’s -workdir names the container, the grep itself is not in its tree', async () => {
    const [shim, rest] = await kinds(shape('ps-tree', 4), 'process-tree');
    assert.equal(shim!.container?.id, '7d1dbb28dac3216b2b5cbafa5c6b9dbb4a6565e56d9bd8c6f060ba7487b55501');
    assert.deepEqual(shim!.exit137.processes!.map((p) => [p.pid, p.ppid]), [[29106, 1640]]);
    assert.equal(rest!.container, undefined);
  });

  it('`ps ajxf` with the poster’s `...`: a shim whose -workdir id was cut at the terminal width keeps the prefix', async () => {
    const trees = await kinds(shape('ps-tree', 5), 'process-tree');
    const shim = trees.find((t) => t.container)!;
    assert.equal(shim.container?.id, 'd1807f03');
    assert.deepEqual(shim.exit137.processes!.map((p) => [p.pid, p.ppid, p.state]), [[101368, 100981, 'Sl']]);
    assert.ok(trees.some((t) => t.exit137.processes!.some((p) => p.command.startsWith('docker exec business_ZPziUbr5'))));
  });

  it('`ps auxf` of docker-containerd-shim trees cut at the terminal width: each shim with its pause or app', async () => {
    const trees = await kinds(shape('ps-tree', 6), 'process-tree');
    assert.deepEqual(trees.map((t) => t.container?.id?.slice(0, 12)), ['f9658074c32e', 'e6d8b63aee31', 'bd49e2991152', 'e8b41b848b23', 'fef18d8c4b73']);
    assert.deepEqual(trees[1]!.exit137.processes!.map((p) => [p.pid, p.ppid, p.state, p.depth]), [[5217, undefined, 'Sl', 2], [5235, 5217, 'Ssl', 3]]);
  });

  it('the container’s tasks in D under a v1 shim, the init bracketed (exiting)', async () => {
    const [t] = await kinds(fieldCase('stuck-kill-moby-35910', 'ps.txt'), 'process-tree');
    assert.equal(t!.container?.id, 'efe5f894f16a346a986510d02296627b25b05593f8fb43909c862b292836c7f0');
    assert.deepEqual(t!.exit137.processes!.map((p) => [p.pid, p.state, p.ppid]), [[15848, 'Sl', undefined], [15865, 'Ss', 15848], [16112, 'Dsl', 15865], [66654, 'D', 15865]]);
  });

  it('`docker top` (no state) and `ps -O s` (no parent) of the same tasks', async () => {
    const [top] = await kinds(fieldCase('stuck-kill-moby-42883', 'docker-top.txt'), 'process-tree');
    assert.deepEqual(top!.exit137.processes!.map((p) => [p.pid, p.ppid, p.state]), [[3175, 62382, 'Z'], [59446, 62382, undefined], [59453, 62382, 'Z']]);
    const [ps] = await kinds(fieldCase('stuck-kill-moby-42883', 'ps.txt'), 'process-tree');
    assert.deepEqual(ps!.exit137.processes!.map((p) => [p.pid, p.state]), [[3175, 'Z'], [59446, 'D'], [59453, 'Z'], [62382, 'S']]);
  });

  it('`ps -eo pid,ppid,stat,wchan:32,cmd`: a task in D gives its wchan as a one-frame stack', () => {
    const { events } = decodeLines(['$ ps -eo pid,ppid,stat,wchan:32,cmd', '  PID  PPID STAT WCHAN                            CMD', ' 4242  4200 Ds   zap_pid_ns_processes             [tini]', ' 4300  4242 D    request_wait_answer              /app/server --port 80', ' 4301  4242 S    -                                sleep 10']);
    const stacks = events.filter((e) => e.exit137.kind === 'task-stack');
    assert.deepEqual(stacks.map((e) => [e.exit137.hung_task?.pid, e.exit137.hung_task?.stack, e.exit137.hung_task?.state, e.exit137.hung_task?.ppid]), [[4242, ['zap_pid_ns_processes'], 'Ds', 4200], [4300, ['request_wait_answer'], 'D', 4242]]);
  });

  it('the container a shim serves, from its argv in every generation', () => {
    assert.equal(shimContainerId('/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id abc123def456 -address /run/containerd/containerd.sock'), 'abc123def456');
    assert.equal(shimContainerId('containerd-shim -namespace moby -workdir /var/lib/containerd/io.containerd.runtime.v1.linux/moby/0123456789ab/ -address x'), '0123456789ab');
    assert.equal(shimContainerId('docker-containerd-shim 2b585a819f31b11a /var/run/docker/libcontainerd/2b585a819f31b11a docker-runc'), '2b585a819f31b11a');
    assert.equal(shimContainerId('/usr/bin/conmon -c 7f0e5c2a9a1b --cid 7f0e5c2a9a1b -u 7f0e'), '7f0e5c2a9a1b');
    assert.equal(shimContainerId('/usr/bin/containerd --config x'), undefined);
  });
});

describe('systemd-cgls and /proc/<pid>/wchan', () => {
  it('docker-<id>.scope under system.slice (a first line that lost its ├): each scope’s processes', async () => {
    const trees = await kinds(shape('systemd-cgls', 1), 'process-tree');
    assert.deepEqual(trees.map((t) => [t.container?.id?.slice(0, 12), t.exit137.processes!.length, t.exit137.processes![0]!.pid]), [['4cc1dbcc1f5e', 8, 12775], ['66cafeafad0c', 8, 15492]]);
  });

  it('kubepods slices: a sub-cgroup inside the scope, the pod’s pause container', async () => {
    const trees = await kinds(shape('systemd-cgls', 2), 'process-tree');
    assert.deepEqual(trees.map((t) => [t.container?.id?.slice(0, 12), t.exit137.processes!.map((p) => p.pid)]), [['abddff03dfd7', [1676]], ['f58c1c55e72c', [1567]]]);
  });

  it('with `...` elisions and a trailing space', async () => {
    const trees = await kinds(shape('systemd-cgls', 3), 'process-tree');
    assert.deepEqual(trees.map((t) => [t.container?.id?.slice(0, 12), t.exit137.processes!.map((p) => p.command)]), [['d6b15f04feb9', ['sh']], ['e160a6955208', ['bash']]]);
  });

  it('`cat /proc/PID/wchan ; echo`: each pid and the function it sleeps in', async () => {
    const stacks = await kinds(fieldCase('stuck-kill-moby-31007', 'wchan.txt'), 'task-stack');
    assert.deepEqual(stacks.map((e) => [e.exit137.hung_task?.pid, e.exit137.hung_task?.stack]), [[123558, ['zap_pid_ns_processes']], [126411, ['zap_pid_ns_processes']], [61025, ['zap_pid_ns_processes']], [10853, ['zap_pid_ns_processes']]]);
  });
});
