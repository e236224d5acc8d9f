/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Thin wrappers around the privileged, kernel-facing calls, each returning 0 or -errno.
 * They are the seams unit tests wrap (-Wl,--wrap=sys_setns): wrapping libc names directly
 * silently fails under _FILE_OFFSET_BITS=64 and _FORTIFY_SOURCE (style R11). */
int sys_setns(int fd, int nstype);
int sys_unshare(int flags);
int sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
              const void *data);
int sys_umount2(const char *target, int flags);
/* open(2) with O_CLOEXEC always added; returns the fd or -errno. */
int sys_open(const char *path, int flags, mode_t mode);
int sys_openat(int dirfd, const char *path, int flags, mode_t mode);
/* One record on a SOCK_SEQPACKET socket with an fd beside it (SCM_RIGHTS; fd -1: none).
 * The send never raises SIGPIPE. The receive gives the record's length (0: the peer has
 * gone) with the fd received (O_CLOEXEC) or -1; a record cut short, or with its fd
 * dropped for want of room, is -EBADMSG (the fd, if any, closed). */
int sys_send_with_fd(int sock, const void *buf, size_t len, int fd);
ssize_t sys_recv_with_fd(int sock, void *buf, size_t len, int *ret_fd);
/* The same with up to SYS_MAX_PASSED_FDS fds (-1 entries are not sent); received fds fill
 * ret_fds in order, the rest of it -1; more fds than n_fds is -EBADMSG, all closed. */
#define SYS_MAX_PASSED_FDS 4
int sys_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);
ssize_t sys_recv_with_fds(int sock, void *buf, size_t len, int *ret_fds, size_t n_fds);

/* Every fd but 0-2 and the given ones closed; those become 3, 4, ... in order (each
 * pointer updated; a -1 slot stays -1 and its number is closed too). For a child about
 * to do something of its own: what it inherited must not stay open in it. */
void fds_keep_only(int *fds[], size_t n);
