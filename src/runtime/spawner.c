/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serve's spawner: the single-threaded process serve's monitors are forked from. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "sync.h"
#include "forkexec.h"
#include "fs.h"
#include "parse.h"
#include "log.h"
#include "netns.h"
#include "strv.h"
#include "sys.h"

/* ---- the spawner: serve's monitors, forked without an exec ---- */

/* A fork of a threaded process inherits whatever lock another thread held at that instant
 * (the allocator's, a library's), so the server cannot fork its monitors itself; an exec
 * of the binary for each costs ~1 ms of dynamic loading on start's path. The spawner is
 * forked while the server has one thread, stays single-threaded, and forks a monitor per
 * request: one SpawnRequest carrying the monitor's sync socket. The monitors are its
 * children (reaped as they end), so never the server's; when the server ends, the
 * spawner does, and they go to the host's init. */
typedef struct SpawnRequest {
        char id[CTR_ID_LEN + 1];
        bool netns_from_cli;
} SpawnRequest;

static bool spawn_request_valid(const SpawnRequest *q) {
        return q->id[CTR_ID_LEN] == '\0' && strlen(q->id) == CTR_ID_LEN &&
               strspn(q->id, "0123456789abcdef") == CTR_ID_LEN;
}

/* The request and its fds (the sync socket, the container's lock); 0 at the end of the
 * stream (the server has gone). */
static int spawn_request_recv(int fd, SpawnRequest *q, int ret_fds[static 2]) {
        ssize_t n = sys_recv_with_fds(fd, q, sizeof *q, ret_fds, 2);
        if (n <= 0)
                return (int) n;
        if (ret_fds[0] < 0 || ret_fds[1] < 0 || (size_t) n != sizeof *q || !spawn_request_valid(q)) {
                for (int i = 0; i < 2; i++)
                        ret_fds[i] = safe_close(ret_fds[i]);
                return -EBADMSG;
        }
        return 1;
}

static _noreturn_ void spawner_main(const CtrStore *s, int channel, pid_t server) {
        (void) prctl(PR_SET_NAME, "nsprov-spawner");
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != server) /* it died before the line above */
                _exit(0);
        int *keep[] = { &channel };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* its children, the monitors, reaped as they end */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &chld, NULL);
        int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        for (;;) {
                struct pollfd p[2] = { { .fd = channel, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
                if (poll(p, sigfd >= 0 ? 2 : 1, sigfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
                        _exit(1);
                struct signalfd_siginfo si;
                while (sigfd >= 0 && read(sigfd, &si, sizeof si) > 0) {
                }
                while (waitpid(-1, NULL, WNOHANG) > 0) {
                }
                if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                SpawnRequest q;
                int fds[2];
                int r = spawn_request_recv(channel, &q, fds);
                if (r == 0)
                        _exit(0);
                if (r < 0)
                        continue;
                pid_t pid = fork();
                if (pid == 0) {
                        (void) sigprocmask(SIG_UNBLOCK, &chld, NULL);
                        (void) prctl(PR_SET_PDEATHSIG, 0);
                        close(channel);
                        if (sigfd >= 0)
                                close(sigfd);
                        _exit(ctr_monitor_run(s, q.id, fds[0], fds[1], q.netns_from_cli, false));
                }
                if (pid < 0)
                        sync_send(fds[0], SYNC_ERROR, -errno, 0, "fork the monitor");
                close(fds[0]);
                close(fds[1]);
        }
}

int ctr_spawner_start(CtrStore *s, RtError *err) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return rt_err_set(err, -errno, "socketpair for the spawner");
        pid_t server = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return rt_err_set(err, r, "fork the spawner");
        }
        if (pid == 0) {
                close(sp[0]);
                spawner_main(s, sp[1], server);
        }
        close(sp[1]);
        s->spawner_fd = sp[0];
        s->spawner_pid = pid;
        return 0;
}

void ctr_spawner_stop(CtrStore *s) {
        if (s->spawner_fd < 0)
                return;
        s->spawner_fd = safe_close(s->spawner_fd); /* its end of the stream: it exits */
        while (waitpid(s->spawner_pid, NULL, 0) < 0 && errno == EINTR) {
        }
        s->spawner_pid = 0;
}

/* Hands the monitor's making to the spawner; -errno when it cannot take it (it has gone:
 * the caller execs one instead). */
int ctr_spawner_request(const CtrStore *s, const char *id, bool netns_from_cli, int sync_fd,
                           int lock_fd) {
        SpawnRequest q = { .netns_from_cli = netns_from_cli };
        (void) snprintf(q.id, sizeof q.id, "%s", id);
        int fds[] = { sync_fd, lock_fd };
        return sys_send_with_fds(s->spawner_fd, &q, sizeof q, fds, 2);
}

