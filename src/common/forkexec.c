/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "forkexec.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SPAWN_MAX_FDS = 64 };

/* glibc's posix_spawn does the fd map, the signal reset and the exec in a vfork-style
 * clone that shares our memory until the exec, and reports a failed execve's errno
 * itself: a third of a millisecond cheaper than fork, which copies the page tables, and
 * safe in a threaded process (the shim), where a forked child may not call malloc. */
int spawn(const SpawnSpec *spec, pid_t *ret_pid, RtError *err) {
        assert_return(spec && spec->path && spec->argv && ret_pid, -EINVAL);
        if (spec->n_fds > SPAWN_MAX_FDS)
                return rt_err_setx(err, -E2BIG, "spawn %s: more than %d fds", spec->path, SPAWN_MAX_FDS);
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        int r = 0;
        /* Every source above the map first: a low one could be overwritten by an earlier
         * dup2 of the shuffle, and dup2(fd, fd) would keep its O_CLOEXEC. */
        int floor = (int) spec->n_fds;
        int moved[SPAWN_MAX_FDS];
        size_t n_moved = 0;
        for (size_t i = 0; i < spec->n_fds && r == 0; i++) {
                if (spec->fd_map[i] < 0) {
                        r = posix_spawn_file_actions_addopen(&fa, (int) i, "/dev/null", O_RDWR, 0);
                        continue;
                }
                if (spec->fd_map[i] < floor) {
                        int m = fcntl(spec->fd_map[i], F_DUPFD_CLOEXEC, floor);
                        if (m < 0) {
                                r = errno;
                                break;
                        }
                        moved[n_moved++] = m;
                        r = posix_spawn_file_actions_adddup2(&fa, m, (int) i);
                } else
                        r = posix_spawn_file_actions_adddup2(&fa, spec->fd_map[i], (int) i);
        }
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(&fa, floor);
        short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
        if (spec->new_process_group) {
                flags |= POSIX_SPAWN_SETPGROUP;
                (void) posix_spawnattr_setpgroup(&at, 0);
        }
        (void) posix_spawnattr_setsigmask(&at, &none);
        (void) posix_spawnattr_setsigdefault(&at, &all);
        (void) posix_spawnattr_setflags(&at, flags);
        if (r == 0)
                r = posix_spawn(ret_pid, spec->path, &fa, &at, spec->argv, spec->envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        for (size_t i = 0; i < n_moved; i++)
                (void) close(moved[i]);
        return r == 0 ? 0 : rt_err_set(err, -r, "execute %s", spec->path);
}

void reap_childp(pid_t *pid) {
        if (*pid <= 0)
                return;
        int saved = errno;
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        errno = saved;
}

/* In a function of its own: a vfork child runs on our stack until its exec, and must
 * share no frame whose registers the compiler keeps across the call. */
static __attribute__((noinline)) pid_t fork_maybe_borrowing(bool borrow_memory, ForkChildFn fn, void *userdata,
                                                           int status_fd) {
        pid_t pid = borrow_memory ? vfork() : fork();
        if (pid == 0) {
                fn(userdata, status_fd);
                _exit(127); /* fn must not return: an exec or an _exit of its own */
        }
        return pid;
}

int fork_status_start(ForkChildFn fn, void *userdata, bool borrow_memory, ForkStatus *ret) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork_maybe_borrowing(borrow_memory, fn, userdata, p[1]);
        int e = errno;
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                return -e;
        }
        *ret = (ForkStatus) { .pid = pid, .status_fd = p[0] };
        return 0;
}

ssize_t fork_status_wait(ForkStatus *fs, void *record, size_t size) {
        ssize_t n;
        do
                n = read(fs->status_fd, record, size);
        while (n < 0 && errno == EINTR);
        close(fs->status_fd);
        fs->status_fd = -1;
        if (n <= 0)
                return 0;
        while (waitpid(fs->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return n;
}
