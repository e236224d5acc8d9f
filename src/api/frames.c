/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "api.h"
#include "runtime.h"
#include "frames.h"

int api_frame_write(int fd, uint8_t stream, const char *data, size_t len) {
        uint8_t h[8] = { stream, 0, 0, 0, (uint8_t) (len >> 24), (uint8_t) (len >> 16), (uint8_t) (len >> 8),
                         (uint8_t) len };
        int r = api_write_all(fd, h, sizeof h);
        return r < 0 ? r : api_write_all(fd, data, len);
}

int api_log_frame_line(int fd, const CtrLogLine *l, bool want_out, bool want_err, bool stamps) {
        if (!(l->is_stderr ? want_err : want_out))
                return 0;
        char buf[API_FRAME_LOG_MAX];
        size_t n = 0, tl = l->text_len;
        if (stamps && l->time_len < 64) {
                memcpy(buf, l->time, l->time_len);
                buf[l->time_len] = ' ';
                n = l->time_len + 1;
        }
        if (tl > sizeof buf - n - 1)
                tl = sizeof buf - n - 1;
        memcpy(buf + n, l->text, tl);
        n += tl;
        if (l->full)
                buf[n++] = '\n';
        return api_frame_write(fd, l->is_stderr ? 2 : 1, buf, n);
}

int api_log_frames(int fd, const char *text, size_t len, bool want_out, bool want_err, bool stamps,
                   long skip_lines) {
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        break; /* a line still being written: the next read has it */
                CtrLogLine l;
                if (ctr_log_line_parse(p, (size_t) (nl - p), &l) == 0 && skip_lines-- <= 0) {
                        int r = api_log_frame_line(fd, &l, want_out, want_err, stamps);
                        if (r < 0)
                                return r;
                }
                p = nl + 1;
        }
        return (int) (p - text);
}
