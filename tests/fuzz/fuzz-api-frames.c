/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stream framer behind logs and attach: a container's log file (its output, with
 * our line format around it) turned into stdout/stderr frames. Whatever the log holds,
 * the frames are well formed, carry each complete line's text (cut at the frame limit)
 * on the stream the line names, and the bytes reported used end at a line's end. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"
#include "frames.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 256 * 1024)
                return 0;
        bool want_out = data[0] & 1, want_err = data[0] & 2, stamps = data[0] & 4;
        long skip = (data[0] >> 3) & 3;
        const char *text = (const char *) data + 1;
        size_t len = size - 1;

        int fd = memfd_create("frames", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        int used = api_log_frames(fd, text, len, want_out, want_err, stamps, skip);
        if (used < 0 || (size_t) used > len || (used > 0 && text[used - 1] != '\n') ||
            memchr(text + used, '\n', len - (size_t) used))
                __builtin_trap();
        off_t out_len = lseek(fd, 0, SEEK_CUR);
        char *out = out_len > 0 ? malloc((size_t) out_len) : NULL;
        if (out_len > 0 && (!out || pread(fd, out, (size_t) out_len, 0) != out_len))
                __builtin_trap();
        close(fd);

        /* walk the lines as the framer should have, and the frames beside them */
        const char *p = text, *end = text + used;
        size_t at = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                CtrLogLine l;
                bool framed = ctr_log_line_parse(p, (size_t) (nl - p), &l) == 0 && skip-- <= 0 &&
                              (l.is_stderr ? want_err : want_out);
                p = nl + 1;
                if (!framed)
                        continue;
                if (at + 8 > (size_t) out_len)
                        __builtin_trap();
                const uint8_t *h = (const uint8_t *) out + at;
                size_t flen = (size_t) h[4] << 24 | (size_t) h[5] << 16 | (size_t) h[6] << 8 | h[7];
                if (h[0] != (l.is_stderr ? 2 : 1) || h[1] || h[2] || h[3] || flen > API_FRAME_LOG_MAX ||
                    at + 8 + flen > (size_t) out_len)
                        __builtin_trap();
                const char *payload = out + at + 8;
                size_t text_at = stamps && l.time_len < 64 ? l.time_len + 1 : 0;
                size_t want_text = flen - text_at - (l.full ? 1 : 0);
                if (flen < text_at + (l.full ? 1 : 0) || want_text > l.text_len ||
                    (want_text < l.text_len && flen != API_FRAME_LOG_MAX - (l.full ? 0 : 1)) ||
                    memcmp(payload + text_at, l.text, want_text) != 0 ||
                    (l.full && payload[flen - 1] != '\n') ||
                    (text_at && memcmp(payload, l.time, l.time_len) != 0))
                        __builtin_trap();
                at += 8 + flen;
        }
        if (at != (size_t) (out_len > 0 ? out_len : 0))
                __builtin_trap();
        free(out);
        return 0;
}
