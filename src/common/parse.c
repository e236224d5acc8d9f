/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
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

/* Go's duration syntax as Podman's flags take it ("1m30s", "500ms", "1.5s"), and a bare
 * number as seconds, as Podman's --stop-timeout and curl's options are read. */
int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t ms;
        } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
        if (!s || !*s || strlen(s) > 64)
                return -EINVAL;
        uint64_t v;
        if (safe_atou64(s, &v) == 0) {
                if (v > max_ms / 1000)
                        return -ERANGE;
                *ret = v * 1000;
                return 0;
        }
        uint64_t total = 0;
        for (const char *p = s; *p;) {
                /* a whole part and an optional fraction, then a unit */
                uint64_t whole = 0, frac = 0, scale = 1;
                const char *start = p;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (whole > UINT32_MAX)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t) (*p - '0');
                }
                if (*p == '.')
                        for (p++; *p >= '0' && *p <= '9'; p++)
                                if (scale < 1000000) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        scale *= 10;
                                }
                if (p == start || (p - start == 1 && *start == '.'))
                        return -EINVAL;
                size_t best = SIZE_MAX;
                for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
                        if (strncmp(p, units[i].unit, strlen(units[i].unit)) == 0 &&
                            (best == SIZE_MAX || strlen(units[i].unit) > strlen(units[best].unit)))
                                best = i;
                if (best == SIZE_MAX)
                        return -EINVAL;
                p += strlen(units[best].unit);
                uint64_t part = whole * units[best].ms + frac * units[best].ms / scale;
                if (part > max_ms || total > max_ms - part)
                        return -ERANGE;
                total += part;
        }
        *ret = total;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        if (!s || !*s || s[0] == '-' || s[0] == '+' || isspace((unsigned char) s[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno || end == s)
                return -EINVAL;
        unsigned shift = 0;
        switch (*end ? tolower((unsigned char) *end) : 0) {
        case 0: case 'b': break;
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 't': shift = 40; break;
        default: return -EINVAL;
        }
        if (*end && end[1] && !(tolower((unsigned char) end[1]) == 'b' && !end[2] && tolower((unsigned char) *end) != 'b'))
                return -EINVAL;
        if (shift && n > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) n << shift;
        return 0;
}
