/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
