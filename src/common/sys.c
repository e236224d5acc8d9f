/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

int sys_send_with_fd(int sock, const void *buf, size_t len, int fd) {
        struct iovec iov = { (void *) buf, len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof u.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

ssize_t sys_recv_with_fd(int sock, void *buf, size_t len, int *ret_fd) {
        struct iovec iov = { buf, len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof u.buf };
        *ret_fd = -1;
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                    c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                if (*ret_fd >= 0)
                        close(*ret_fd);
                *ret_fd = -1;
                return -EBADMSG;
        }
        return n;
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
