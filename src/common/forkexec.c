/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "forkexec.h"

#include <fcntl.h>
#include <spawn.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

enum { SPAWN_MAX_FDS = 64 };

/* Between fork and exec: async-signal-safe calls only, no malloc, no logging. */
_noreturn_ static void child_exec(const SpawnSpec *spec, int status_w) {
        int moved[SPAWN_MAX_FDS];
        int e;

        /* Above the map first: dup2(fd, fd) would be a no-op that keeps O_CLOEXEC, and a
         * low source could be overwritten by an earlier dup2 of the shuffle. */
        int floor = (int) spec->n_fds;
        if (status_w < floor) {
                int s = fcntl(status_w, F_DUPFD_CLOEXEC, floor);
                if (s < 0)
                        goto fail;
                status_w = s;
        }
        for (size_t i = 0; i < spec->n_fds; i++) {
                int src = spec->fd_map[i];
                if (src < 0)
                        src = open("/dev/null", O_RDWR | O_CLOEXEC);
                else
                        src = fcntl(src, F_DUPFD_CLOEXEC, floor);
                if (src < 0)
                        goto fail;
                moved[i] = src;
        }
        for (size_t i = 0; i < spec->n_fds; i++)
                if (dup2(moved[i], (int) i) < 0)
                        goto fail;

        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);

        if (spec->new_process_group && setpgid(0, 0) < 0)
                goto fail;
        if (spec->death_signal && prctl(PR_SET_PDEATHSIG, spec->death_signal) < 0)
                goto fail;

        /* status_w stays open until execve closes it: EOF tells the parent it worked */
        if (syscall(SYS_close_range, spec->n_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                /* older kernels: mark them one by one */
                for (int fd = floor; fd < 4096; fd++)
                        if (fd != status_w)
                                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        execve(spec->path, spec->argv, spec->envp);
fail:
        e = errno;
        (void) !write(status_w, &e, sizeof e);
        _exit(127);
}

/* glibc's posix_spawn does the same steps in a vfork-style clone that shares our memory
 * until the exec, and reports a failed execve's errno itself: a third of a millisecond
 * cheaper than fork, which copies the page tables. It has no parent-death signal, so
 * that case takes fork. */
static int spawn_posix(const SpawnSpec *spec, pid_t *ret_pid, RtError *err) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        int r = 0;
        /* above the map first, as in child_exec: a low source must not be overwritten by
         * an earlier dup2 of the shuffle */
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

int spawn(const SpawnSpec *spec, pid_t *ret_pid, RtError *err) {
        assert_return(spec && spec->path && spec->argv && ret_pid, -EINVAL);
        if (spec->n_fds > SPAWN_MAX_FDS)
                return rt_err_setx(err, -E2BIG, "spawn %s: more than %d fds", spec->path, SPAWN_MAX_FDS);
        if (!spec->death_signal)
                return spawn_posix(spec, ret_pid, err);

        int status[2];
        if (pipe2(status, O_CLOEXEC) < 0)
                return rt_err_set(err, -errno, "spawn %s: pipe", spec->path);
        _cleanup_close_ int status_r = status[0];

        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                (void) close(status[1]);
                return rt_err_set(err, r, "spawn %s: fork", spec->path);
        }
        if (pid == 0) {
                (void) close(status[0]);
                child_exec(spec, status[1]);
        }
        (void) close(status[1]);

        int child_errno = 0;
        ssize_t n;
        do
                n = read(status_r, &child_errno, sizeof child_errno);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t) sizeof child_errno) {
                (void) waitpid(pid, NULL, 0);
                return rt_err_set(err, -child_errno, "execute %s", spec->path);
        }
        *ret_pid = pid;
        return 0;
}
