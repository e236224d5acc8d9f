/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "fs.h"

int mkdir_p(const char *path, mode_t mode, RtError *err) {
        char buf[PATH_MAX];
        size_t l = strlen(path);
        if (l == 0 || l >= sizeof buf)
                return rt_err_setx(err, -EINVAL, "bad directory path '%s'", path);
        /* Most calls find the parents there already: one mkdir instead of one per level. */
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return rt_err_set(err, -errno, "create directory %s", path);
        memcpy(buf, path, l + 1);
        for (char *p = buf + 1; ; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return rt_err_set(err, -errno, "create directory %s", buf);
                *p = c;
                if (c == '\0')
                        break;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      WriteFlags flags, RtError *err) {
        char tmp[PATH_MAX];
        uint32_t rnd;
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
                rnd = (uint32_t) getpid();
        if (snprintf(tmp, sizeof tmp, "%s.tmp-%08x", path, rnd) >= (int) sizeof tmp)
                return rt_err_setx(err, -ENAMETOOLONG, "path too long: %s", path);

        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return rt_err_set(err, -errno, "create %s", tmp);
        const char *p = data;
        size_t left = len;
        while (left > 0) {
                ssize_t n = write(fd, p, left);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void) unlink(tmp);
                        return rt_err_set(err, r, "write %s", tmp);
                }
                p += n;
                left -= (size_t) n;
        }
        if ((flags & WRITE_DURABLE) && fsync(fd) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return rt_err_set(err, r, "fsync %s", tmp);
        }
        if (flags & WRITE_EXCLUSIVE) {
                int r = link(tmp, path) < 0 ? -errno : 0;
                (void) unlink(tmp);
                if (r == -EEXIST)
                        return rt_err_setx(err, r, "%s exists already", path);
                if (r < 0)
                        return rt_err_set(err, r, "link %s to %s", tmp, path);
        } else if (rename(tmp, path) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return rt_err_set(err, r, "rename %s to %s", tmp, path);
        }
        if (flags & WRITE_DURABLE) {
                char dir[PATH_MAX];
                (void) snprintf(dir, sizeof dir, "%s", path);
                char *slash = strrchr(dir, '/');
                if (slash) {
                        *(slash == dir ? slash + 1 : slash) = '\0';
                        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (dfd >= 0)
                                (void) fsync(dfd);
                }
        }
        return 0;
}

int write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive,
               RtError *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC),
                                      mode);
        if (fd < 0)
                return rt_err_set(err, -errno, "create %s", path);
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return rt_err_set(err, n < 0 ? -errno : -EIO, "write %s", path);
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int open_for_reading(const char *path, RtError *err) {
        /* non-blocking: a FIFO where a file should be (a container's own, say) reads as
         * nothing instead of waiting for a writer */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        return fd < 0 ? rt_err_set(err, -errno, "open %s", path) : fd;
}

int read_file_fd(int fd, const char *path, size_t max, char **ret, size_t *ret_len, RtError *err) {
        int r = read_full_fd(fd, max, ret, ret_len);
        if (r == -EFBIG)
                return rt_err_setx(err, r, "%s is larger than %zu bytes", path, max);
        if (r < 0)
                return rt_err_set(err, r, "read %s", path);
        return 0;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len, RtError *err) {
        int fd = open_for_reading(path, err);
        return fd < 0 ? fd : read_file_fd(fd, path, max, ret, ret_len, err);
}

static int rm_rf_at(int dirfd, dev_t dev, int depth, RtError *err) {
        if (depth > 256)
                return rt_err_setx(err, -ELOOP, "directory tree too deep to remove");
        _cleanup_closedir_ DIR *d = fdopendir(dirfd);
        if (!d) {
                int r = -errno;
                close(dirfd);
                return rt_err_set(err, r, "read directory");
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return rt_err_set(err, -errno, "stat %s", de->d_name);
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev)
                                return rt_err_setx(err, -EBUSY,
                                                   "'%s' is a mount point; not removing across it",
                                                   de->d_name);
                        int sub = openat(dirfd, de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return rt_err_set(err, -errno, "open %s", de->d_name);
                        int r = rm_rf_at(sub, dev, depth + 1, err);
                        if (r < 0)
                                return rt_err_prefix(err, r, "%s", de->d_name);
                        if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                return rt_err_set(err, -errno, "remove %s", de->d_name);
                } else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
                        return rt_err_set(err, -errno, "remove %s", de->d_name);
        }
        return 0;
}

int rm_rf(const char *path, RtError *err) {
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                return rt_err_set(err, -errno, "stat %s", path);
        }
        if (!S_ISDIR(st.st_mode)) {
                if (unlink(path) < 0 && errno != ENOENT)
                        return rt_err_set(err, -errno, "remove %s", path);
                return 0;
        }
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rt_err_set(err, -errno, "open %s", path);
        int r = rm_rf_at(fd, st.st_dev, 0, err);
        if (r < 0)
                return rt_err_prefix(err, r, "remove %s", path);
        if (rmdir(path) < 0 && errno != ENOENT)
                return rt_err_set(err, -errno, "remove %s", path);
        return 0;
}

int lock_file(const char *path, bool wait, RtError *err) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return rt_err_set(err, -errno, "open lock %s", path);
        for (;;) {
                if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0)
                        return fd;
                if (errno == EINTR)
                        continue;
                int r = -errno;
                close(fd);
                if (r == -EWOULDBLOCK)
                        return rt_err_setx(err, -EBUSY, "%s is locked by another process", path);
                return rt_err_set(err, r, "lock %s", path);
        }
}

int copy_fd(int in, int out, RtError *err) {
        char buf[1 << 16];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rt_err_set(err, -errno, "read");
                if (n == 0)
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, buf + done, (size_t) (n - done));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return rt_err_set(err, -errno, "write");
                        done += w;
                }
        }
}
