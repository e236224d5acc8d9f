/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "strv.h"

enum { JSON_PATH_MAX = 256 };

static const char *type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        default: return "null";
        }
}

static int wrong_type(const char *path, const json_t *v, const char *want, RtError *err) {
        return rt_err_setx(err, -EBADMSG, "%s: expected %s, not %s", path, want, type_name(v));
}

int json_dispatch(const char *path, json_t *obj, const JsonField *fields, void *base, JsonDispatchFlags flags,
                  RtError *err) {
        if (!json_is_object(obj))
                return wrong_type(*path ? path : ".", obj, "an object", err);
        const char *key;
        json_t *v;
        char sub[JSON_PATH_MAX];
        json_object_foreach(obj, key, v) {
                const JsonField *f = fields;
                for (; f->key; f++)
                        if ((flags & JD_CASE_INSENSITIVE) ? strcasecmp(f->key, key) == 0 : strcmp(f->key, key) == 0)
                                break;
                (void) snprintf(sub, sizeof sub, "%s.%s", path, key);
                if (!f->key) {
                        if (flags & JD_ALLOW_UNKNOWN)
                                continue;
                        return rt_err_setx(err, -EBADMSG, "%s: unknown key", sub);
                }
                if (json_is_null(v) && (f->flags & JF_NULLABLE))
                        continue;
                int r = f->parse(sub, v, (char *) base + f->offset, f, err);
                if (r < 0)
                        return r;
        }
        for (const JsonField *f = fields; f->key; f++) {
                if (!(f->flags & JF_MANDATORY))
                        continue;
                json_t *have = NULL;
                if (flags & JD_CASE_INSENSITIVE) {
                        json_object_foreach(obj, key, v) if (strcasecmp(f->key, key) == 0) have = v;
                } else
                        have = json_object_get(obj, f->key);
                if (!have || (json_is_null(have) && (f->flags & JF_NULLABLE)))
                        return rt_err_setx(err, -EBADMSG, "%s.%s: missing", path, f->key);
        }
        return 0;
}

int json_dispatch_text(const char *what, const char *text, size_t len, const JsonField *fields, void *base,
                       JsonDispatchFlags flags, RtError *err) {
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return rt_err_setx(err, -EBADMSG, "%s:%d:%d: %s", what, je.line, je.column, je.text);
        int r = json_dispatch("", j, fields, base, flags, err);
        json_decref(j);
        return r;
}

int json_parse_string(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v))
                return wrong_type(path, v, "a string", err);
        int r = f->check ? f->check(json_string_value(v), err) : 0;
        if (r < 0)
                return rt_err_prefix(err, r, "%s", path);
        char *copy = strdup(json_string_value(v));
        if (!copy)
                return rt_err_set(err, -ENOMEM, "%s", path);
        free(*(char **) field);
        *(char **) field = copy;
        return 0;
}

int json_parse_string_buf(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v))
                return wrong_type(path, v, "a string", err);
        size_t l = json_string_length(v);
        if (l >= f->size || strlen(json_string_value(v)) != l)
                return rt_err_setx(err, -EBADMSG, "%s: longer than %zu bytes, or holding a NUL", path,
                                   f->size - 1);
        int r = f->check ? f->check(json_string_value(v), err) : 0;
        if (r < 0)
                return rt_err_prefix(err, r, "%s", path);
        memcpy(field, json_string_value(v), l + 1);
        return 0;
}

int json_parse_bool(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_boolean(v))
                return wrong_type(path, v, "a boolean", err);
        *(bool *) field = json_is_true(v);
        return 0;
}

static int integer_in(const char *path, json_t *v, int64_t min, int64_t max, int64_t *ret, RtError *err) {
        if (!json_is_integer(v))
                return wrong_type(path, v, "an integer", err);
        json_int_t i = json_integer_value(v);
        if (i < min || i > max)
                return rt_err_setx(err, -ERANGE, "%s: %lld is outside %lld-%lld", path, (long long) i,
                                   (long long) min, (long long) max);
        *ret = i;
        return 0;
}

int json_parse_int(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int64_t min = f->min || f->max ? f->min : INT32_MIN, max = f->min || f->max ? f->max : INT32_MAX, i = 0;
        if (min < INT32_MIN)
                min = INT32_MIN;
        if (max > INT32_MAX)
                max = INT32_MAX;
        int r = integer_in(path, v, min, max, &i, err);
        if (r == 0)
                *(int *) field = (int) i;
        return r;
}

int json_parse_int64(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int64_t i = 0;
        int r = integer_in(path, v, f->min || f->max ? f->min : INT64_MIN, f->min || f->max ? f->max : INT64_MAX,
                           &i, err);
        if (r == 0)
                *(int64_t *) field = i;
        return r;
}

int json_parse_uint64(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int64_t i = 0;
        int r = integer_in(path, v, 0, INT64_MAX, &i, err);
        if (r == 0)
                *(uint64_t *) field = (uint64_t) i;
        return r;
}

int json_parse_strv(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_array(v))
                return wrong_type(path, v, "an array of strings", err);
        char **l = NULL;
        int r = strv_from_json(v, f->max > 0 ? (size_t) f->max : SIZE_MAX, &l);
        if (r == -E2BIG)
                return rt_err_setx(err, r, "%s: more than %lld entries", path, (long long) f->max);
        if (r == -EINVAL) {
                /* the entry that is no string, by its index */
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) if (!json_is_string(e)) {
                        char sub[JSON_PATH_MAX];
                        (void) snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                        return wrong_type(sub, e, "a string", err);
                }
        }
        if (r < 0)
                return rt_err_set(err, r, "%s", path);
        strv_free(*(char ***) field);
        *(char ***) field = l;
        return 0;
}
