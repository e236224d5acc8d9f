/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records a start's processes exchange over SOCK_SEQPACKET sockets (sync.h): the
 * starter, the monitor and PID 1. */
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

/* Child-side send: a failed send has nobody left to tell, so it is ignored. */
void sync_send(int fd, int type, int code, pid_t pid, const char *msg) {
        SyncMsg m = { .type = type, .code = code, .pid = pid, .sender = getpid() };
        if (msg)
                (void) snprintf(m.msg, sizeof m.msg, "%s", msg);
        (void) send(fd, &m, sizeof m, MSG_NOSIGNAL);
}

int sync_send_fd(int fd, int type, int code, int passfd) {
        SyncMsg m = { .type = type, .code = code };
        return sys_send_with_fd(fd, &m, sizeof m, passfd);
}

/* Receives a SYNC_PTY record with its fd, or another record (an error) without one. */
int sync_recv_fd(int fd, SyncMsg *m, int *ret_fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return n == 0 ? -ETIMEDOUT : -errno;
        ssize_t got = sys_recv_with_fd(fd, m, sizeof *m, ret_fd);
        if (got <= 0)
                return (int) got;
        if ((size_t) got != sizeof *m) {
                if (*ret_fd >= 0)
                        *ret_fd = safe_close(*ret_fd);
                return -EBADMSG;
        }
        m->msg[sizeof m->msg - 1] = '\0';
        return 1;
}

/* Waits at most timeout_ms for one record; EOF is 0 (the peer exec'd or died). */
int sync_recv(int fd, SyncMsg *m, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        for (;;) {
                int n = poll(&p, 1, timeout_ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ETIMEDOUT;
                ssize_t got = recv(fd, m, sizeof *m, 0);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return -errno;
                if (got == 0)
                        return 0;
                if ((size_t) got != sizeof *m)
                        return -EBADMSG;
                m->msg[sizeof m->msg - 1] = '\0';
                return 1;
        }
}

/* After our half-close: waits (10 s at most) until the monitor has gone, which its end
 * of the socket closing tells, records it sent meanwhile read and dropped. Then closes. */
void sync_wait_gone(int fd) {
        (void) shutdown(fd, SHUT_WR);
        SyncMsg m;
        for (uint64_t end = now_monotonic_ms() + 10 * 1000, now; (now = now_monotonic_ms()) < end;)
                if (sync_recv(fd, &m, (int) (end - now)) <= 0)
                        break;
        close(fd);
}

