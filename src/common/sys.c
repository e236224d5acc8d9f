/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

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
