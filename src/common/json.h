/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* JSON objects decoded through declarative field tables (jansson underneath): each key of
 * a record names its parser, where its value goes and whether it must be there; a key the
 * table does not know is refused in nsprov's own formats (accepted where a foreign format,
 * Docker's API, asks for it), integers are range-checked before they are narrowed, and
 * every error names the JSON path: ".lab1.subnets[0].gateway: not an IPv4 address". */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct JsonField JsonField;
/* Parses v (never NULL) into field; path names it for errors. */
typedef int (*JsonParseFn)(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);

typedef enum JsonFieldFlags {
        JF_MANDATORY = 1 << 0,
        JF_NULLABLE = 1 << 1, /* null is as good as absent */
} JsonFieldFlags;

struct JsonField {
        const char *key;
        JsonParseFn parse;
        size_t offset;
        JsonFieldFlags flags;
        /* for the stock parsers: a fixed buffer's size (json_parse_string_buf), or an
         * integer's bounds (json_parse_int, json_parse_int64) */
        size_t size;
        int64_t min, max;
        /* for the string parsers: a validator of the value (its error gets the path) */
        int (*check)(const char *value, RtError *err);
};

typedef enum JsonDispatchFlags {
        JD_ALLOW_UNKNOWN = 1 << 0,   /* keys the table does not name pass */
        JD_CASE_INSENSITIVE = 1 << 1, /* keys match whatever their case (Docker's API) */
} JsonDispatchFlags;

/* Every key of obj through its field (base: the record the offsets are into). */
int json_dispatch(const char *path, json_t *obj, const JsonField *fields, void *base, JsonDispatchFlags flags,
                  RtError *err);
/* A whole text: syntax errors as "<what>:<line>:<col>: <text>", duplicate keys refused,
 * then json_dispatch at the top. */
int json_dispatch_text(const char *what, const char *text, size_t len, const JsonField *fields, void *base,
                       JsonDispatchFlags flags, RtError *err);

/* Stock parsers. */
int json_parse_string(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);     /* char *, malloc'ed */
int json_parse_string_buf(const char *path, json_t *v, void *field, const JsonField *f, RtError *err); /* char[f->size] */
int json_parse_bool(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);       /* bool */
int json_parse_int(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);        /* int, [min, max] */
int json_parse_int64(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);      /* int64_t, [min, max] */
int json_parse_uint64(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);     /* uint64_t, >= 0 */
int json_parse_strv(const char *path, json_t *v, void *field, const JsonField *f, RtError *err);       /* char **, at most max entries */
