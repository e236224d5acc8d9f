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

/* A child that must do work of its own before its exec (join namespaces, drop privileges)
 * or instead of one: fn runs in it with the write end of an O_CLOEXEC status pipe and must
 * exec or _exit, never return. A record it writes there first (why it failed) reaches the
 * parent's fork_status_wait; EOF means the exec went through (or the child ended without
 * a word). borrow_memory: vfork, for a child that makes only syscalls before its exec (no
 * copy of a threaded server's page tables). */
typedef struct ForkStatus {
        pid_t pid;
        int status_fd; /* the parent's read end until fork_status_wait */
} ForkStatus;
typedef void (*ForkChildFn)(void *userdata, int status_fd);
/* 0 with *ret filled, or the fork's -errno (nothing left open). */
int fork_status_start(ForkChildFn fn, void *userdata, bool borrow_memory, ForkStatus *ret);
/* The child's record, if it sent one (its length; the child is reaped then), or 0 at EOF
 * (the caller reaps the child, which runs on); closes the pipe either way. */
ssize_t fork_status_wait(ForkStatus *fs, void *record, size_t size);

/* For _cleanup_(reap_childp): waits for a child of ours that is known to end soon. */
void reap_childp(pid_t *pid);
