/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

int read_full_stream(FILE *f, size_t max, char **ret, size_t *ret_len) {
        size_t cap = max < 4096 ? max : 4096, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= max) {
                                /* Exactly at the limit: fine if nothing follows. */
                                if (fgetc(f) == EOF)
                                        break;
                                free(buf);
                                return -EFBIG;
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        char *n = realloc(buf, cap + 1);
                        if (!n) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = n;
                }
                size_t n = fread(buf + len, 1, cap - len, f);
                len += n;
                if (n == 0) {
                        if (ferror(f)) {
                                free(buf);
                                return -EIO;
                        }
                        break;
                }
        }
        buf[len] = '\0';
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        /* read(2) itself, not a FILE: no stdio buffer to allocate and fill, no fcntl and
         * fstat of its own (most files read here are state files of a few hundred bytes) */
        size_t cap = max < 4096 ? max : 4096, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        int r = 0;
        for (;;) {
                if (len == cap) {
                        if (cap >= max) {
                                /* Exactly at the limit: fine if nothing follows. */
                                char probe;
                                ssize_t n;
                                do
                                        n = read(fd, &probe, 1);
                                while (n < 0 && errno == EINTR);
                                if (n > 0)
                                        r = -EFBIG;
                                else if (n < 0 && errno != EAGAIN)
                                        r = -errno;
                                break;
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        char *grown = realloc(buf, cap + 1);
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = grown;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                /* EAGAIN: a FIFO opened without blocking, its writer silent: what came is all */
                if (n < 0 && errno != EAGAIN)
                        r = -errno;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[len] = '\0';
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}
