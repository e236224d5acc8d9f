/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

size_t strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

char **strv_copy(char *const *v) {
        if (!v)
                return NULL;
        size_t n = strv_length(v);
        char **c = calloc(n + 1, sizeof *c);
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

int strv_push(char ***v, const char *s) {
        size_t n = strv_length(*v);
        char *d = strdup(s);
        if (!d)
                return -ENOMEM;
        char **nv = realloc(*v, (n + 2) * sizeof *nv);
        if (!nv) {
                free(d);
                return -ENOMEM;
        }
        nv[n] = d;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

bool strv_contains(char *const *v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

json_t *strv_to_json(char *const *v) {
        json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

int strv_from_json(json_t *a, size_t max, char ***ret) {
        if (!json_is_array(a))
                return -EINVAL;
        if (json_array_size(a) > max)
                return -E2BIG;
        _cleanup_(strv_freep) char **v = calloc(json_array_size(a) + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        size_t i;
        json_t *s;
        json_array_foreach(a, i, s) {
                if (!json_is_string(s))
                        return -EINVAL;
                if (!(v[i] = strdup(json_string_value(s))))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static size_t key_len(const char *kv) {
        const char *eq = strchr(kv, '=');
        return eq ? (size_t) (eq - kv) : strlen(kv);
}

int strv_env_set(char ***env, const char *kv) {
        size_t kl = key_len(kv);
        for (size_t i = 0; *env && (*env)[i]; i++)
                if (key_len((*env)[i]) == kl && strncmp((*env)[i], kv, kl) == 0) {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = d;
                        return 0;
                }
        return strv_push(env, kv);
}

const char *strv_env_get(char *const *env, const char *key) {
        size_t kl = strlen(key);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
                        return env[i] + kl + 1;
        return NULL;
}
