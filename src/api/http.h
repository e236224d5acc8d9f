/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The shim's HTTP/1.1, written for it (style.md: Podman's exec protocol takes the
 * connection over in a way no packaged server library allows). Requests are parsed from
 * a connection's buffer with hard limits on every size; responses are written whole or,
 * for hijacked streams, header first. The parsers are pure functions, fuzzed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum {
        HTTP_MAX_HEADER_BYTES = 16 * 1024,
        HTTP_MAX_HEADERS = 100,
        API_MAX_JSON_BODY = 1 << 20,
        HTTP_MAX_TARGET = 8 * 1024,
};

typedef struct HttpHeader {
        char *name; /* as sent; compare case-insensitively */
        char *value;
} HttpHeader;

typedef struct HttpRequest {
        char method[16];
        char *path;  /* raw (still percent-encoded), without the query */
        char *query; /* raw, "" when none */
        HttpHeader headers[HTTP_MAX_HEADERS];
        size_t n_headers;
        int minor;             /* HTTP/1.x */
        bool keep_alive;
        bool chunked;
        int64_t content_length; /* -1: none given */
        char upgrade[32];       /* the Upgrade protocol when Connection: Upgrade, else "" */
        char *body;
        size_t body_len;
        char *head;             /* the storage the pointers above point into */
} HttpRequest;

void http_request_done(HttpRequest *r);
const char *http_header(const HttpRequest *r, const char *name);

/* Parses a request head (request line and headers, up to and including the empty line)
 * of len bytes. -EBADMSG for malformed input, -E2BIG past a limit; err says which. */
int http_parse_head(const char *buf, size_t len, HttpRequest *ret, RtError *err);

/* A chunked body read as it arrives (an image archive is too large to hold): one step
 * over in[0..len) at a time. */
typedef struct HttpChunkReader {
        int state;
        uint64_t left;        /* data bytes of the current chunk still to come */
        size_t trailer_bytes; /* read so far: capped at HTTP_MAX_TRAILER_BYTES */
} HttpChunkReader;
#define HTTP_MAX_TRAILER_BYTES 16384
/* *ret_used bytes of in are consumed, of which the body's are in[*ret_data] on for
 * *ret_data_len bytes (often none). 1 once the last chunk and the trailers are read, 0 to
 * go on with the rest, -EAGAIN when in is too short for the next step, -EBADMSG, -E2BIG. */
int http_chunk_next(HttpChunkReader *cr, const char *in, size_t len, size_t *ret_used, size_t *ret_data,
                    size_t *ret_data_len);
/* The data bytes the body has announced so far and not delivered yet. */
static inline uint64_t http_chunk_pending(const HttpChunkReader *cr) {
        return cr->left;
}

/* Decodes a chunked body from in: 0 with the body and the bytes consumed (trailers
 * included), -EAGAIN when in ends before the last chunk, -EBADMSG, -E2BIG past max. */
int http_chunked_decode(const char *in, size_t len, size_t max, char **ret, size_t *ret_len,
                        size_t *ret_consumed);

/* Percent-decoding of one path segment or query value ('+' is a space only in queries);
 * -EBADMSG on a bad escape or an embedded NUL. */
int http_unescape(const char *in, size_t len, bool query, char **ret);

/* The query parameter's decoded value; NULL when absent. Repeated keys: the n-th. */
char *http_query_get(const char *query, const char *key, unsigned nth);
/* Lenient booleans as Podman's clients send them: true/True/1, false/False/0. */
int http_parse_bool(const char *s, bool *ret);

const char *http_status_text(int status);
