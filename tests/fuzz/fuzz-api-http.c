/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a client sends the shim: request heads, chunked bodies, percent-encoded paths and
 * queries. A head that parses holds what the server relies on; the decoders never read
 * past their input or promise more than they produced. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 64 * 1024)
                return 0;
        const char *in = (const char *) data + 1;
        size_t len = size - 1;
        switch (data[0] % 4) {
        case 0: {
                HttpRequest r = {};
                RtError e = {};
                if (http_parse_head(in, len, &r, &e) == 0) {
                        if (r.path[0] != '/' || r.n_headers > HTTP_MAX_HEADERS || (r.chunked && r.content_length >= 0))
                                __builtin_trap();
                        for (size_t i = 0; i < r.n_headers; i++)
                                if (!r.headers[i].name[0])
                                        __builtin_trap();
                        free(http_query_get(r.query, "filters", 0));
                        http_request_done(&r);
                }
                if (strnlen(e.msg, sizeof e.msg) >= sizeof e.msg)
                        __builtin_trap();
                break;
        }
        case 1: {
                char *body = NULL;
                size_t blen = 0, used = 0;
                int whole = http_chunked_decode(in, len, 4096, &body, &blen, &used);
                if (whole == 0 && (used > len || blen > 4096 || blen > used))
                        __builtin_trap();
                /* read as it arrives, a few bytes at a time (an image upload): the same body,
                 * ending at the same byte */
                HttpChunkReader cr = {};
                size_t pos = 0, avail = 0, got = 0;
                int k = 0;
                while (k != 1) {
                        size_t u, d, n;
                        k = http_chunk_next(&cr, in + pos, avail - pos, &u, &d, &n);
                        if (k == -EAGAIN && avail < len) {
                                avail = avail + 7 < len ? avail + 7 : len;
                                continue;
                        }
                        if (k < 0)
                                break;
                        if (whole == 0 && n && (got + n > blen || memcmp(body + got, in + pos + d, n)))
                                __builtin_trap();
                        got += n;
                        pos += u;
                }
                if (whole == 0 && (k != 1 || got != blen || pos != used))
                        __builtin_trap();
                if (whole == 0)
                        free(body);
                break;
        }
        case 2: {
                char *out = NULL;
                if (http_unescape(in, len, data[0] & 4, &out) == 0) {
                        if (strlen(out) > len)
                                __builtin_trap();
                        free(out);
                }
                break;
        }
        default: {
                /* a copy with its terminator: the fuzzer's buffer has none */
                char *q = malloc(len + 1);
                if (!q)
                        break;
                memcpy(q, in, len);
                q[len] = 0;
                for (unsigned n = 0; n < 3; n++)
                        free(http_query_get(q, "condition", n));
                bool b;
                (void) http_parse_bool(q, &b);
                free(q);
        }
        }
        return 0;
}
