/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* The project's one fork/exec (style R7's spawn; not named spawn.h, which would shadow
 * libc's <spawn.h> on the include path): an explicit fd map, every other fd closed on
 * exec, default signal state, and a failed execve back as its errno rather than as a
 * guess from exit status 127. */
typedef struct SpawnSpec {
        const char *path;         /* executed as is: no PATH search */
        char *const *argv;
        char *const *envp;
        /* fd_map[i] becomes the child's fd i; -1 gives it /dev/null. Nothing else stays
         * open across the exec. */
        const int *fd_map;
        size_t n_fds;
        /* its own process group, so the whole group (helpers it forks) can be killed */
        bool new_process_group;
} SpawnSpec;

/* Returns 0 with *ret_pid once the exec succeeded, or the execve's -errno (the child is
 * already reaped then). The caller reaps the child. */
int spawn(const SpawnSpec *spec, pid_t *ret_pid, RtError *err);

/* For _cleanup_(reap_childp): waits for a child of ours that is known to end soon. */
void reap_childp(pid_t *pid);
