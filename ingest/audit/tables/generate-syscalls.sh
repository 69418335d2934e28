#!/usr/bin/env bash
# Regenerates syscalls.json from the auditd package's own tables (ausyscall --dump),
# then overlays the unified syscall numbers (>= 403, identical on every arch since Linux 5.1)
# that auditd 3.0.x predates, so pidfd_send_signal (424) is named on every arch.
set -euo pipefail
cd "$(dirname "$0")"
arches=(x86_64 i386 aarch64 arm ppc s390x)
{
  echo '{'
  first=1
  for a in "${arches[@]}"; do
    [ $first = 1 ] || echo ','
    first=0
    printf '  "%s": {' "$a"
    ausyscall "$a" --dump | tail -n +2 | awk 'BEGIN{s=""} {printf "%s\"%s\":\"%s\"", s, $1, $2; s=","}'
    printf '}'
  done
  echo
  echo '}'
} > syscalls.raw.json
node -e '
const t = require("./syscalls.raw.json");
const unified = {424:"pidfd_send_signal",425:"io_uring_setup",426:"io_uring_enter",427:"io_uring_register",
 428:"open_tree",429:"move_mount",430:"fsopen",431:"fsconfig",432:"fsmount",433:"fspick",434:"pidfd_open",
 435:"clone3",436:"close_range",437:"openat2",438:"pidfd_getfd",439:"faccessat2",440:"process_madvise",
 441:"epoll_pwait2",442:"mount_setattr",443:"quotactl_fd",444:"landlock_create_ruleset",445:"landlock_add_rule",
 446:"landlock_restrict_self",447:"memfd_secret",448:"process_mrelease",449:"futex_waitv",450:"set_mempolicy_home_node",
 451:"cachestat",452:"fchmodat2",453:"map_shadow_stack",454:"futex_wake",455:"futex_wait",456:"futex_requeue",
 457:"statmount",458:"listmount",459:"lsm_get_self_attr",460:"lsm_set_self_attr",461:"lsm_list_modules",462:"mseal"};
for (const a of Object.keys(t)) for (const [n, name] of Object.entries(unified)) if (!t[a][n]) t[a][n] = name;
require("fs").writeFileSync("syscalls.json", JSON.stringify(t) + "\n");
'
rm syscalls.raw.json
