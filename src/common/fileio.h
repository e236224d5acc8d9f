/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

/* Reads f to its end, at most max bytes (more is -EFBIG: every outside file has a size
 * limit, style R10). *ret is malloc'd and NUL-terminated; *ret_len excludes the NUL. */
int read_full_stream(FILE *f, size_t max, char **ret, size_t *ret_len);
/* The same from an fd, which it takes (closed whatever happens): for a file opened with
 * care first (O_NONBLOCK against a FIFO, inside a container's root). */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
