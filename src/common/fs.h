/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, RtError *err);

typedef enum WriteFlags {
        /* fsync the file and its directory: for --root (persistent) state. Runtime state
         * under --runroot is void after a reboot anyway, and an fsync costs milliseconds
         * on a disk-backed /run, so it only gets the atomic rename. */
        WRITE_DURABLE = 1 << 0,
        /* only when path is not there yet (-EEXIST): a record two commands may make at
         * once, of which one must win whole (link(2), not rename) */
        WRITE_EXCLUSIVE = 1 << 1,
} WriteFlags;

/* Writes data to path atomically: a temporary file in the same directory, then rename,
 * so readers see the old or the new content, never a torn one. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      WriteFlags flags, RtError *err);
/* A plain write (O_CREAT|O_TRUNC, or O_EXCL with exclusive): for files nobody can be
 * reading yet (a fresh dir, a fresh tmpfs) or that are written once; one rename cheaper
 * than write_file_atomic. */
int write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive,
               RtError *err);
/* Reads a whole file of at most max bytes, NUL-terminated (a FIFO reads as what it holds,
 * without waiting). */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len, RtError *err);
/* Everything in to out, till the end of in. */
int copy_fd(int in, int out, RtError *err);
/* read_file in two steps, for a caller that looks at the file before it reads it (a
 * FileCache): the open, and the read of that fd (taken: closed whatever happens). */
int open_for_reading(const char *path, RtError *err);
int read_file_fd(int fd, const char *path, size_t max, char **ret, size_t *ret_len, RtError *err);

/* rm -rf that never crosses into another filesystem (a mount left inside a container dir
 * must not have the host's files deleted through it) and never follows symlinks. A missing
 * path is success. */
int rm_rf(const char *path, RtError *err);

/* An exclusive flock on path (created if missing), O_CLOEXEC; blocking or not. Returns
 * the fd; closing it releases the lock. */
int lock_file(const char *path, bool wait, RtError *err);
