/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "parse.h"

int safe_atou64(const char *s, uint64_t *ret) {
        if (!s || !*s || isspace((unsigned char) *s) || *s == '-' || *s == '+')
                return -EINVAL;
        /* Leading zeros would make strtoull read octal with base 0; we parse decimal only. */
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int safe_atou32_range(const char *s, uint32_t min, uint32_t max, uint32_t *ret) {
        uint32_t v;
        int r = safe_atou32(s, &v);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int safe_atoi32(const char *s, int32_t *ret) {
        if (!s)
                return -EINVAL;
        bool neg = *s == '-';
        uint64_t v;
        int r = safe_atou64(neg ? s + 1 : s, &v);
        if (r < 0)
                return r;
        if (neg ? v > (uint64_t) INT32_MAX + 1 : v > INT32_MAX)
                return -ERANGE;
        *ret = neg ? (int32_t) (-(int64_t) v) : (int32_t) v;
        return 0;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "true", "yes", "on", "y", "t" };
        static const char *const no[] = { "0", "false", "no", "off", "n", "f" };
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}
