/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The result cache in libcni's cniCacheV1 layout (section 4): <root>/results/<net>-<id>-<if>. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base64.h"
#include "cleanup.h"
#include "cni-internal.h"
#include "fs.h"
#include "strv.h"

enum { CNI_MAX_CACHE_BYTES = 32 << 20 }; /* a result, plus the config in base64 */

static const char *cache_root(const CniConfig *cfg) {
        return cfg->cache_dir ?: "/var/lib/cni";
}

void cni_cache_entry_done(CniCacheEntry *e) {
        if (!e)
                return;
        free(e->container_id);
        free(e->ifname);
        free(e->network);
        free(e->netns);
        free(e->config);
        strv_free(e->args);
        json_decref(e->cap_args);
        json_decref(e->result);
        *e = (CniCacheEntry) {};
}

void cni_cache_entries_free(CniCacheEntry *e, size_t n) {
        for (size_t i = 0; i < n; i++)
                cni_cache_entry_done(&e[i]);
        free(e);
}

char *cni_cache_path(const CniConfig *cfg, const char *network, const char *container_id, const char *ifname) {
        char *p;
        if (asprintf(&p, "%s/results/%s-%s-%s", cache_root(cfg), network, container_id, ifname) < 0)
                return NULL;
        return p;
}

static int dup_str(json_t *o, const char *key, bool required, char **ret, RtError *err) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                *ret = NULL;
                return required ? rt_err_setx(err, -EINVAL, "cache file: missing '%s'", key) : 0;
        }
        if (!json_is_string(v))
                return rt_err_setx(err, -EINVAL, "cache file: '%s' is not a string", key);
        if (!(*ret = strdup(json_string_value(v))))
                return rt_err_set(err, -ENOMEM, "cache file");
        return 0;
}

int cni_cache_parse(const char *text, size_t len, CniCacheEntry *ret, RtError *err) {
        json_error_t je;
        json_auto_t *j = json_loadb(text, len, 0, &je);
        if (!j)
                return rt_err_setx(err, -EINVAL, "cache file: %d:%d: %s", je.line, je.column, je.text);
        if (!json_is_object(j))
                return rt_err_setx(err, -EINVAL, "cache file: not a JSON object");
        CniCacheEntry e = {};
        const char *kind = json_string_value(json_object_get(j, "kind"));
        if (!kind || !streq(kind, "cniCacheV1")) {
                /* libcni ≤ 0.7 wrote the bare result */
                e.legacy = true;
                e.result = json_incref(j);
                *ret = e;
                return 0;
        }
        int r;
        if ((r = dup_str(j, "containerId", true, &e.container_id, err)) < 0 ||
            (r = dup_str(j, "ifName", true, &e.ifname, err)) < 0 ||
            (r = dup_str(j, "networkName", true, &e.network, err)) < 0 ||
            (r = dup_str(j, "netns", false, &e.netns, err)) < 0)
                goto fail;
        json_t *config = json_object_get(j, "config");
        if (config && !json_is_null(config)) {
                if (!json_is_string(config) ||
                    base64_decode(json_string_value(config), json_string_length(config), &e.config, &e.config_len) < 0) {
                        r = rt_err_setx(err, -EINVAL, "cache file: 'config' is not base64");
                        goto fail;
                }
        }
        json_t *args = json_object_get(j, "cniArgs");
        if (args && !json_is_null(args)) {
                if (!json_is_array(args)) {
                        r = rt_err_setx(err, -EINVAL, "cache file: 'cniArgs' is not an array");
                        goto fail;
                }
                if (!(e.args = calloc(1, sizeof(char *)))) {
                        r = rt_err_set(err, -ENOMEM, "cache file");
                        goto fail;
                }
                size_t i;
                json_t *pair;
                json_array_foreach(args, i, pair) {
                        const char *k = json_string_value(json_array_get(pair, 0));
                        const char *v = json_string_value(json_array_get(pair, 1));
                        _cleanup_free_ char *kv = NULL;
                        if (!json_is_array(pair) || json_array_size(pair) != 2 || !k || !v || i >= CNI_MAX_ARGS) {
                                r = rt_err_setx(err, -EINVAL, "cache file: cniArgs[%zu] is not a [key, value] pair", i);
                                goto fail;
                        }
                        if (asprintf(&kv, "%s=%s", k, v) < 0 || strv_push(&e.args, kv) < 0) {
                                r = rt_err_set(err, -ENOMEM, "cache file");
                                goto fail;
                        }
                }
        }
        json_t *caps = json_object_get(j, "capabilityArgs");
        if (caps && !json_is_null(caps)) {
                if (!json_is_object(caps)) {
                        r = rt_err_setx(err, -EINVAL, "cache file: 'capabilityArgs' is not an object");
                        goto fail;
                }
                e.cap_args = json_incref(caps);
        }
        json_t *result = json_object_get(j, "result");
        if (result && !json_is_null(result)) {
                if (!json_is_object(result)) {
                        r = rt_err_setx(err, -EINVAL, "cache file: 'result' is not an object");
                        goto fail;
                }
                e.result = json_incref(result);
        }
        *ret = e;
        return 0;
fail:
        cni_cache_entry_done(&e);
        return r;
}

int cni_cache_read(const char *path, CniCacheEntry *ret, RtError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(path, CNI_MAX_CACHE_BYTES, &text, &len, err);
        if (r < 0)
                return r;
        if ((r = cni_cache_parse(text, len, ret, err)) < 0)
                return rt_err_prefix(err, r, "%s", path);
        return 0;
}

json_t *cni_cache_entry_json(const CniCacheEntry *e) {
        json_t *j = json_object();
        if (!j)
                return NULL;
        _cleanup_free_ char *config = NULL;
        if (e->config && base64_encode(e->config, e->config_len, &config) < 0) {
                json_decref(j);
                return NULL;
        }
        /* libcni's key order */
        (void) json_object_set_new(j, "kind", json_string("cniCacheV1"));
        (void) json_object_set_new(j, "containerId", json_string(e->container_id));
        (void) json_object_set_new(j, "config", json_string(config ?: ""));
        (void) json_object_set_new(j, "ifName", json_string(e->ifname));
        (void) json_object_set_new(j, "networkName", json_string(e->network));
        if (e->netns && *e->netns)
                (void) json_object_set_new(j, "netns", json_string(e->netns));
        if (e->args && *e->args) {
                json_t *a = json_array();
                for (char **kv = e->args; *kv; kv++) {
                        const char *eq = strchr(*kv, '=');
                        json_t *pair = json_array();
                        (void) json_array_append_new(pair, json_stringn(*kv, eq ? (size_t) (eq - *kv) : strlen(*kv)));
                        (void) json_array_append_new(pair, json_string(eq ? eq + 1 : ""));
                        (void) json_array_append_new(a, pair);
                }
                (void) json_object_set_new(j, "cniArgs", a);
        }
        if (e->cap_args && json_object_size(e->cap_args))
                (void) json_object_set(j, "capabilityArgs", e->cap_args);
        if (e->result)
                (void) json_object_set(j, "result", e->result);
        return j;
}

int cni_cache_write(const CniConfig *cfg, const CniCacheEntry *e, RtError *err) {
        _cleanup_free_ char *dir = NULL, *path = cni_cache_path(cfg, e->network, e->container_id, e->ifname);
        if (!path || asprintf(&dir, "%s/results", cache_root(cfg)) < 0)
                return rt_err_set(err, -ENOMEM, "cache");
        int r = mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        json_auto_t *j = cni_cache_entry_json(e);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (!text)
                return rt_err_set(err, -ENOMEM, "cache");
        /* atomic (libcni's readers read whole files, so the rename is invisible to
         * them), but not fsync'ed: the plugin state this entry describes (host-local's
         * lease files, written beside it) never is, nor is libcni's own cache, so after a
         * power loss the two could disagree whatever we did here, and DEL copes with a
         * missing entry. The fsync would be 0.7 ms of every ADD on these machines. */
        return write_file_atomic(path, text, strlen(text), 0600, 0, err);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int cni_cache_list(const CniConfig *cfg, const char *network, CniCacheEntry **ret, size_t *ret_n, RtError *err) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/results", cache_root(cfg)) < 0)
                return rt_err_set(err, -ENOMEM, "cache");
        *ret = NULL;
        *ret_n = 0;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : rt_err_set(err, -errno, "read %s", dir);
        _cleanup_(strv_freep) char **names = calloc(1, sizeof(char *));
        struct dirent *de;
        while (names && (de = readdir(d)))
                if (de->d_name[0] != '.' && strv_push(&names, de->d_name) < 0)
                        return rt_err_set(err, -ENOMEM, "cache");
        if (!names)
                return rt_err_set(err, -ENOMEM, "cache");
        qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
        CniCacheEntry *list = NULL;
        size_t n = 0;
        for (char **f = names; *f; f++) {
                /* only a pre-filter on the name; the JSON decides */
                if (network && !startswith(*f, network))
                        continue;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", dir, *f) < 0)
                        break;
                CniCacheEntry e;
                if (cni_cache_read(path, &e, NULL) < 0)
                        continue;
                if (e.legacy || !e.ifname || !e.network || (network && !streq(e.network, network))) {
                        cni_cache_entry_done(&e);
                        continue;
                }
                CniCacheEntry *nl = realloc(list, (n + 1) * sizeof *nl);
                if (!nl) {
                        cni_cache_entry_done(&e);
                        cni_cache_entries_free(list, n);
                        return rt_err_set(err, -ENOMEM, "cache");
                }
                list = nl;
                list[n++] = e;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
