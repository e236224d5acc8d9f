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
        FILE *f = fdopen(fd, "r");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = read_full_stream(f, max, ret, ret_len);
        fclose(f);
        return r;
}
