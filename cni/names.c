/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Identifiers (section 5), CNI_ARGS, versions, and the raw JSON scanner. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cni-internal.h"
#include "strv.h"

static bool id_char(char c, bool first) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return true;
        return !first && (c == '_' || c == '.' || c == '-');
}

/* the spec's pattern for container ids and network names: ^[A-Za-z0-9][A-Za-z0-9_.-]*$ */
static bool id_valid(const char *s) {
        if (!*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!id_char(*p, p == s))
                        return false;
        return true;
}

int cni_check_container_id(const char *id, CniError *ce) {
        if (!id || !*id)
                return cni_fail(ce, CNI_ERR_INVALID, 3, -EINVAL, "missing containerID");
        if (strlen(id) > 1024 || !id_valid(id))
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL,
                                "invalid characters in containerID '%.64s'", id);
        return 0;
}

int cni_check_network_name(const char *name, CniError *ce) {
        if (!name || !*name)
                return cni_fail(ce, CNI_ERR_INVALID, 7, -EINVAL, "missing network name");
        if (strlen(name) > 255 || !id_valid(name))
                return cni_fail(ce, CNI_ERR_INVALID, 7, -EINVAL,
                                "invalid characters found in network name '%.64s'", name);
        return 0;
}

/* The UTF-8 forms of Unicode's White_Space characters above ASCII: Go's
 * unicode.IsSpace, which libcni applies. */
static size_t unicode_space_len(const unsigned char *p) {
        if (p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0))
                return 2;
        if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
                return 3;
        if (p[0] == 0xE2 && p[1] == 0x80 &&
            ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
                return 3;
        if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
                return 3;
        if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
                return 3;
        return 0;
}

int cni_check_ifname(const char *ifname, CniError *ce) {
        if (!ifname || !*ifname)
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "interface name is empty");
        if (strlen(ifname) > 15)
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "interface name is too long: '%.32s'",
                                ifname);
        if (streq(ifname, ".") || streq(ifname, ".."))
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "interface name is . or ..");
        for (const unsigned char *p = (const unsigned char *) ifname; *p; p++) {
                if (*p == '/' || *p == ':' || *p == ' ' || (*p >= 0x09 && *p <= 0x0D) ||
                    unicode_space_len(p))
                        return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL,
                                        "interface name '%s' contains / or : or whitespace characters",
                                        ifname);
        }
        return 0;
}

int cni_args_check(char *const *args, CniError *ce) {
        size_t n = 0;
        for (char *const *a = args; a && *a; a++, n++) {
                const char *eq = strchr(*a, '=');
                if (n >= CNI_MAX_ARGS)
                        return cni_fail(ce, CNI_ERR_INVALID, 4, -E2BIG, "more than %d CNI_ARGS pairs",
                                        CNI_MAX_ARGS);
                if (!eq || eq == *a)
                        return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL,
                                        "CNI_ARGS pair '%.64s' has an empty key", *a);
                if (strpbrk(eq + 1, "=;") || memchr(*a, ';', (size_t) (eq - *a)))
                        return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL,
                                        "CNI_ARGS pair '%.64s': keys and values cannot hold '=' or ';'", *a);
        }
        return 0;
}

int cni_args_parse(const char *text, char ***ret, CniError *ce) {
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        if (!v)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        _cleanup_free_ char *copy = strdup(text ?: "");
        if (!copy)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        char *save = NULL;
        for (char *pair = *copy ? copy : NULL; pair; pair = save) {
                save = strchr(pair, ';');
                if (save)
                        *save++ = 0;
                if (!strchr(pair, '='))
                        return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL,
                                        "CNI_ARGS pair '%.64s' is not KEY=VALUE", pair);
                if (strv_push(&v, pair) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        }
        int r = cni_args_check(v, ce);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

char *cni_args_join(char *const *args) {
        size_t len = 1;
        for (char *const *a = args; a && *a; a++)
                len += strlen(*a) + 1;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        *p = 0;
        for (char *const *a = args; a && *a; a++)
                p += sprintf(p, "%s%s", a == args ? "" : ";", *a);
        return s;
}

int cni_version_parse(const char *s, unsigned ret[3]) {
        unsigned v[3] = { 0, 1, 0 };
        if (!s)
                return -EINVAL;
        if (*s) {
                v[1] = 0;
                const char *p = s;
                for (int part = 0;; part++) {
                        if (part >= 3 || *p < '0' || *p > '9')
                                return -EINVAL;
                        unsigned long x = 0;
                        while (*p >= '0' && *p <= '9') {
                                x = x * 10 + (unsigned long) (*p++ - '0');
                                if (x > UINT16_MAX)
                                        return -ERANGE;
                        }
                        v[part] = (unsigned) x;
                        if (!*p)
                                break;
                        if (*p++ != '.')
                                return -EINVAL;
                }
        }
        memcpy(ret, v, sizeof v);
        return 0;
}

int cni_version_cmp(const char *a, const char *b) {
        unsigned x[3] = { 0 }, y[3] = { 0 };
        (void) cni_version_parse(a, x);
        (void) cni_version_parse(b, y);
        for (int i = 0; i < 3; i++)
                if (x[i] != y[i])
                        return x[i] < y[i] ? -1 : 1;
        return 0;
}

bool cni_version_known(const char *s) {
        static const char *const known[] = { "", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(s, known[i]))
                        return true;
        return false;
}

/* ---- raw spans ---- */

static const char *skip_ws(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

static const char *skip_string(const char *p, const char *end) {
        for (p++; p < end; p++) {
                if (*p == '\\')
                        p++;
                else if (*p == '"')
                        return p + 1;
        }
        return end;
}

static const char *skip_value(const char *p, const char *end) {
        if (p >= end)
                return end;
        if (*p == '"')
                return skip_string(p, end);
        if (*p == '{' || *p == '[') {
                int depth = 0;
                while (p < end) {
                        if (*p == '"') {
                                p = skip_string(p, end);
                                continue;
                        }
                        if (*p == '{' || *p == '[')
                                depth++;
                        else if (*p == '}' || *p == ']') {
                                if (--depth == 0)
                                        return p + 1;
                        }
                        p++;
                }
                return end;
        }
        while (p < end && !strchr(",}] \t\r\n", *p))
                p++;
        return p;
}

static int raw_walk(const char *text, size_t len, char open, char close, JsonMember *members,
                    JsonSpan *elements, size_t max, size_t *ret_n) {
        const char *end = text + len, *p = skip_ws(text, end);
        size_t n = 0;
        if (p >= end || *p != open)
                return -EINVAL;
        p = skip_ws(p + 1, end);
        if (p < end && *p == close) {
                *ret_n = 0;
                return 0;
        }
        while (p < end) {
                if (n >= max)
                        return -E2BIG;
                if (members) {
                        const char *k = p;
                        p = skip_string(p, end);
                        members[n].key = (JsonSpan) { k, (size_t) (p - k) };
                        p = skip_ws(p, end);
                        if (p >= end || *p != ':')
                                return -EINVAL;
                        p = skip_ws(p + 1, end);
                }
                const char *v = p;
                p = skip_value(p, end);
                JsonSpan s = { v, (size_t) (p - v) };
                if (members)
                        members[n].value = s;
                else
                        elements[n] = s;
                n++;
                p = skip_ws(p, end);
                if (p < end && *p == ',') {
                        p = skip_ws(p + 1, end);
                        continue;
                }
                if (p < end && *p == close) {
                        *ret_n = n;
                        return 0;
                }
                return -EINVAL;
        }
        return -EINVAL;
}

int json_raw_members(const char *text, size_t len, JsonMember *ret, size_t max, size_t *ret_n) {
        return raw_walk(text, len, '{', '}', ret, NULL, max, ret_n);
}

int json_raw_elements(const char *text, size_t len, JsonSpan *ret, size_t max, size_t *ret_n) {
        return raw_walk(text, len, '[', ']', NULL, ret, max, ret_n);
}

char *json_raw_key(const JsonMember *m) {
        json_t *s = json_loadb(m->key.p, m->key.len, JSON_DECODE_ANY, NULL);
        char *k = json_is_string(s) ? strdup(json_string_value(s)) : NULL;
        json_decref(s);
        return k;
}
