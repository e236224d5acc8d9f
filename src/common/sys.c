/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "sys.h"

int sys_setns(int fd, int nstype) {
        return RET_NERRNO(setns(fd, nstype));
}

int sys_unshare(int flags) {
        return RET_NERRNO(unshare(flags));
}

int sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
              const void *data) {
        return RET_NERRNO(mount(source, target, fstype, flags, data));
}

int sys_umount2(const char *target, int flags) {
        return RET_NERRNO(umount2(target, flags));
}

int sys_open(const char *path, int flags, mode_t mode) {
        return RET_NERRNO(open(path, flags | O_CLOEXEC, mode));
}

int sys_openat(int dirfd, const char *path, int flags, mode_t mode) {
        return RET_NERRNO(openat(dirfd, path, flags | O_CLOEXEC, mode));
}

int sys_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds) {
        struct iovec iov = { (void *) buf, len };
        union {
                char buf[CMSG_SPACE(sizeof(int) * SYS_MAX_PASSED_FDS)];
                struct cmsghdr align;
        } u = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        size_t n = 0;
        int pass[SYS_MAX_PASSED_FDS];
        for (size_t i = 0; i < n_fds && n < SYS_MAX_PASSED_FDS; i++)
                if (fds[i] >= 0)
                        pass[n++] = fds[i];
        if (n_fds > SYS_MAX_PASSED_FDS)
                return -E2BIG;
        if (n > 0) {
                mh.msg_control = u.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), pass, sizeof(int) * n);
        }
        ssize_t got;
        do
                got = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (got < 0 && errno == EINTR);
        return got < 0 ? -errno : 0;
}

int sys_send_with_fd(int sock, const void *buf, size_t len, int fd) {
        return sys_send_with_fds(sock, buf, len, &fd, 1);
}

ssize_t sys_recv_with_fds(int sock, void *buf, size_t len, int *ret_fds, size_t n_fds) {
        struct iovec iov = { buf, len };
        union {
                char buf[CMSG_SPACE(sizeof(int) * SYS_MAX_PASSED_FDS)];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof u.buf };
        for (size_t i = 0; i < n_fds; i++)
                ret_fds[i] = -1;
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        bool extra = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < got; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                        size_t slot = 0;
                        while (slot < n_fds && ret_fds[slot] >= 0)
                                slot++;
                        if (slot < n_fds)
                                ret_fds[slot] = fd;
                        else {
                                /* more than the caller takes: not kept open by mistake */
                                close(fd);
                                extra = true;
                        }
                }
        }
        if (extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                for (size_t i = 0; i < n_fds; i++)
                        if (ret_fds[i] >= 0) {
                                close(ret_fds[i]);
                                ret_fds[i] = -1;
                        }
                return -EBADMSG;
        }
        return n;
}

ssize_t sys_recv_with_fd(int sock, void *buf, size_t len, int *ret_fd) {
        return sys_recv_with_fds(sock, buf, len, ret_fd, 1);
}

void fds_keep_only(int *fds[], size_t n) {
        /* above every target first, so that no move lands on a kept fd not moved yet */
        for (size_t i = 0; i < n; i++)
                if (*fds[i] >= 0)
                        *fds[i] = fcntl(*fds[i], F_DUPFD_CLOEXEC, 3 + (int) n);
        for (size_t i = 0; i < n; i++) {
                int target = 3 + (int) i;
                if (*fds[i] >= 0) {
                        (void) dup3(*fds[i], target, O_CLOEXEC);
                        *fds[i] = target;
                } else
                        /* a slot nobody keeps may hold an inherited fd too: a server's
                         * lock fd left there deadlocked a monitor against itself */
                        (void) close(target);
        }
        (void) close_range(3 + (unsigned) n, ~0U, 0);
}
