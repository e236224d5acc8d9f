/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading conflists (section 1): discovery, lookup by name, parsing, legacy conversion. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cni-internal.h"
#include "fileio.h"
#include "fs.h"
#include "log.h"
#include "strv.h"

static void plugin_done(CniPlugin *p) {
        free(p->type);
        free(p->raw);
        strv_free(p->caps);
        *p = (CniPlugin) {};
}

void cni_list_done(CniList *l) {
        if (!l)
                return;
        free(l->name);
        free(l->version);
        free(l->file);
        for (size_t i = 0; i < l->n_plugins; i++)
                plugin_done(&l->plugins[i]);
        free(l->plugins);
        free(l->raw);
        *l = (CniList) {};
}

void cni_lists_free(CniList *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                cni_list_done(&l[i]);
        free(l);
}

void cni_diags_free(CniDiag *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].file);
                free(d[i].msg);
        }
        free(d);
}

static void cni_list_donep(CniList *l) {
        cni_list_done(l);
}

/* a boolean, or "true"/"false" in any case. */
static int parse_flag(json_t *o, const char *key, bool *ret, const char *file, CniError *ce) {
        json_t *v = json_object_get(o, key);
        *ret = false;
        if (!v)
                return 0;
        if (json_is_boolean(v)) {
                *ret = json_is_true(v);
                return 0;
        }
        if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0) {
                *ret = true;
                return 0;
        }
        if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
                return 0;
        return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: invalid value for %s: expected true or false",
                        file, key);
}

/* the selected version, known and not above ours. */
static int select_version(json_t *o, const char *file, char **ret, CniError *ce) {
        json_t *v = json_object_get(o, "cniVersion");
        if (v && !json_is_string(v))
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: cniVersion: expected a string", file);
        const char *chosen = v ? json_string_value(v) : "";
        unsigned parts[3];
        if (*chosen && cni_version_parse(chosen, parts) < 0)
                return cni_fail(ce, CNI_ERR_VERSION, 1, -EINVAL, "%s: invalid cniVersion \"%.32s\"", file, chosen);
        if (*chosen && cni_version_cmp(chosen, CNI_VERSION_MAX) > 0)
                chosen = NULL; /* may still be rescued by cniVersions */

        json_t *vs = json_object_get(o, "cniVersions");
        const char *best = chosen;
        if (vs) {
                if (!json_is_array(vs))
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: cniVersions: expected an array", file);
                size_t i;
                json_t *e;
                json_array_foreach(vs, i, e) {
                        const char *s = json_string_value(e);
                        if (!s || !*s || cni_version_parse(s, parts) < 0)
                                return cni_fail(ce, CNI_ERR_VERSION, 1, -EINVAL,
                                                "%s: cniVersions[%zu]: invalid version", file, i);
                        if (cni_version_cmp(s, CNI_VERSION_MAX) > 0)
                                continue;
                        if (!best || cni_version_cmp(s, best) > 0)
                                best = s;
                }
        }
        if (!best)
                best = json_string_value(v);
        if (!cni_version_known(best))
                return cni_fail(ce, CNI_ERR_VERSION, 1, -EPROTONOSUPPORT,
                                "%s: cniVersion \"%.32s\" is not one nsprov knows (up to %s)", file, best,
                                CNI_VERSION_MAX);
        if (!(*ret = strdup(best)))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        return 0;
}

/* one element of plugins, its bytes kept as they are. */
static int parse_plugin(json_t *o, const char *raw, size_t raw_len, const char *where,
                        CniPlugin *ret, CniError *ce) {
        if (!json_is_object(o))
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: not an object", where);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type || !*type)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: missing 'type'", where);
        if (strchr(type, '/') || strlen(type) > 255)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: invalid plugin name '%.64s'", where, type);
        json_t *caps = json_object_get(o, "capabilities");
        if (caps && !json_is_object(caps))
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: capabilities: expected an object", where);

        CniPlugin p = {};
        const char *k;
        json_t *v;
        if (!(p.caps = calloc(1, sizeof(char *))))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        json_object_foreach(caps, k, v)
                if (json_is_true(v) && strv_push(&p.caps, k) < 0)
                        goto oom;
        if (!(p.type = strdup(type)) || !(p.raw = malloc(raw_len + 1)))
                goto oom;
        memcpy(p.raw, raw, raw_len);
        p.raw[raw_len] = 0;
        p.raw_len = raw_len;
        *ret = p;
        return 0;
oom:
        plugin_done(&p);
        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A whole file read as one plugin: its bytes without the whitespace around the object,
 * so they can be spliced into a list or a request. */
static int trim_raw(CniPlugin *p, CniError *ce) {
        const char *b = p->raw, *e = p->raw + p->raw_len;
        while (b < e && json_space(*b))
                b++;
        while (e > b && json_space(e[-1]))
                e--;
        char *t = strndup(b, (size_t) (e - b));
        if (!t)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        free(p->raw);
        p->raw = t;
        p->raw_len = (size_t) (e - b);
        return 0;
}

static int push_plugin(CniList *l, const CniPlugin *p, CniError *ce) {
        if (l->n_plugins >= CNI_MAX_PLUGINS)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -E2BIG, "%s: more than %d plugins", l->file, CNI_MAX_PLUGINS);
        CniPlugin *n = realloc(l->plugins, (l->n_plugins + 1) * sizeof *n);
        if (!n)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        l->plugins = n;
        l->plugins[l->n_plugins++] = *p;
        return 0;
}

/* strict parse: duplicate keys refused, numbers of any size accepted (the plugin gets
 * their original spelling from the raw bytes, never a double's) */
static const size_t load_flags = JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;

static int load_sibling_dir(CniList *l, const char *dir, CniError *ce) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0
                                                           : cni_fail(ce, CNI_ERR_CONFIG, 7, -errno, "%s: %m", dir);
        _cleanup_(strv_freep) char **names = calloc(1, sizeof(char *));
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *dot = strrchr(de->d_name, '.');
                if (dot && streq(dot, ".conf") && strv_push(&names, de->d_name) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        }
        qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
        for (char **n = names; n && *n; n++) {
                _cleanup_free_ char *path = NULL, *bytes = NULL;
                size_t len;
                if (asprintf(&path, "%s/%s", dir, *n) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                struct stat st;
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                RtError e = {};
                int r = read_file(path, CNI_MAX_CONF_BYTES, &bytes, &len, &e);
                if (r < 0)
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, r, "%s", e.msg);
                json_t *o = NULL;
                if ((r = cni_json_load(path, bytes, len, load_flags, &o, ce)) < 0)
                        return r;
                CniPlugin p;
                r = parse_plugin(o, bytes, len, path, &p, ce);
                json_decref(o);
                if (r < 0)
                        return r;
                if ((r = trim_raw(&p, ce)) < 0 || (r = push_plugin(l, &p, ce)) < 0) {
                        plugin_done(&p);
                        return r;
                }
        }
        return 0;
}

int cni_list_parse(const char *file, const char *bytes, size_t len, bool legacy,
                   const char *sibling_dir, CniList *ret, CniError *ce) {
        _cleanup_(cni_list_donep) CniList l = {};
        json_t *o = NULL;
        int r;

        if (len > CNI_MAX_CONF_BYTES)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EFBIG, "%s: larger than %d bytes", file, CNI_MAX_CONF_BYTES);
        if ((r = cni_json_load(file, bytes, len, load_flags, &o, ce)) < 0)
                return r;
        json_t *root __attribute__((cleanup(json_decrefp))) = o;
        if (!json_is_object(o))
                return cni_fail(ce, CNI_ERR_CONFIG, 6, -EINVAL, "%s: not a JSON object", file);
        if (!(l.file = strdup(file)))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");

        json_t *name = json_object_get(o, "name");
        if (!name)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: no name", file);
        if (!json_is_string(name))
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: invalid name type", file);
        if ((r = cni_check_network_name(json_string_value(name), ce)) < 0)
                return cni_fail_prefix(ce, r, "%s", file);
        if (!(l.name = strdup(json_string_value(name))))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        if ((r = select_version(o, file, &l.version, ce)) < 0)
                return r;

        if (legacy) {
                /* one plugin, the whole object; the list's bytes synthesized */
                CniPlugin p;
                if ((r = parse_plugin(o, bytes, len, file, &p, ce)) < 0)
                        return r;
                if ((r = trim_raw(&p, ce)) < 0 || (r = push_plugin(&l, &p, ce)) < 0) {
                        plugin_done(&p);
                        return r;
                }
                json_auto_t *ver = json_string(l.version);
                _cleanup_free_ char *head = ver ? json_dumps(ver, JSON_ENCODE_ANY) : NULL;
                _cleanup_free_ char *nm = json_dumps(name, JSON_ENCODE_ANY);
                if (!head || !nm || asprintf(&l.raw, "{\"cniVersion\":%s,\"name\":%s,\"plugins\":[%.*s]}", head, nm,
                                             (int) p.raw_len, p.raw) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                l.raw_len = strlen(l.raw);
                *ret = l;
                l = (CniList) {};
                return 0;
        }

        if ((r = parse_flag(o, "disableCheck", &l.disable_check, file, ce)) < 0 ||
            (r = parse_flag(o, "disableGC", &l.disable_gc, file, ce)) < 0 ||
            (r = parse_flag(o, "loadOnlyInlinedPlugins", &l.load_only_inlined, file, ce)) < 0)
                return r;

        json_t *plugins = json_object_get(o, "plugins");
        if (plugins) {
                if (!json_is_array(plugins))
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: plugins: expected an array", file);
                if (json_array_size(plugins) == 0)
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: no plugins in list", file);
                if (json_array_size(plugins) > CNI_MAX_PLUGINS)
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -E2BIG, "%s: more than %d plugins", file, CNI_MAX_PLUGINS);

                /* the raw bytes of each element: find "plugins" among the members */
                JsonMember members[256];
                size_t n_members = 0;
                JsonSpan elems[CNI_MAX_PLUGINS];
                size_t n_elems = 0;
                const JsonMember *pm = NULL;
                if (json_raw_members(bytes, len, members, ELEMENTSOF(members), &n_members) < 0)
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -E2BIG, "%s: too many keys", file);
                for (size_t i = 0; i < n_members; i++) {
                        _cleanup_free_ char *k = json_raw_key(&members[i]);
                        if (k && streq(k, "plugins"))
                                pm = &members[i];
                }
                if (!pm || json_raw_elements(pm->value.p, pm->value.len, elems, ELEMENTSOF(elems), &n_elems) < 0 ||
                    n_elems != json_array_size(plugins))
                        return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: plugins: cannot be read", file);

                for (size_t i = 0; i < n_elems; i++) {
                        char where[PATH_MAX + 64];
                        (void) snprintf(where, sizeof where, "%s: failed to parse plugin config %zu", file, i);
                        CniPlugin p;
                        if ((r = parse_plugin(json_array_get(plugins, i), elems[i].p, elems[i].len, where, &p, ce)) < 0)
                                return r;
                        if ((r = push_plugin(&l, &p, ce)) < 0) {
                                plugin_done(&p);
                                return r;
                        }
                }
        } else if (l.load_only_inlined)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL,
                                "%s: no 'plugins' key and loadOnlyInlinedPlugins is true", file);

        if (!l.load_only_inlined && sibling_dir) {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/%s", sibling_dir, l.name) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                if ((r = load_sibling_dir(&l, dir, ce)) < 0)
                        return r;
        }
        if (l.n_plugins == 0)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "%s: no plugin configs found", file);

        if (!(l.raw = malloc(len + 1)))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        memcpy(l.raw, bytes, len);
        l.raw[len] = 0;
        l.raw_len = len;
        *ret = l;
        l = (CniList) {};
        return 0;
}

static bool is_legacy_name(const char *name) {
        const char *dot = strrchr(name, '.');
        return dot && (streq(dot, ".conf") || streq(dot, ".json"));
}

static bool is_conflist_name(const char *name) {
        const char *dot = strrchr(name, '.');
        return dot && streq(dot, ".conflist");
}

int cni_list_load_file(const char *path, CniList *ret, CniError *ce) {
        _cleanup_free_ char *bytes = NULL, *dir = NULL;
        size_t len;
        RtError e = {};
        int r = read_file(path, CNI_MAX_CONF_BYTES, &bytes, &len, &e);
        if (r < 0)
                return cni_fail(ce, r == -ENOENT ? CNI_ERR_NOT_FOUND : CNI_ERR_CONFIG, 7, r, "%s", e.msg);
        const char *slash = strrchr(path, '/');
        if (!(dir = slash ? strndup(path, (size_t) (slash - path)) : strdup(".")))
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        return cni_list_parse(path, bytes, len, is_legacy_name(path), dir, ret, ce);
}

/* The dir's config files, one flat dir read once (a missing one: no networks), sorted
 * bytewise as libcni sorts them; conflists first when asked. */
static int config_files(const char *dir, bool conflists, char ***ret, CniError *ce) {
        _cleanup_(strv_freep) char **names = calloc(1, sizeof(char *));
        if (!names)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = TAKE_PTR(names);
                        return 0;
                }
                return cni_fail(ce, CNI_ERR_CONFIG, 0, -errno, "read config dir %s: %m", dir);
        }
        struct dirent *de;
        size_t n = 0;
        while ((de = readdir(d))) {
                if (!(conflists ? is_conflist_name(de->d_name) : is_legacy_name(de->d_name)))
                        continue;
                if (de->d_type == DT_DIR)
                        continue;
                if (++n > CNI_MAX_FILES)
                        return cni_fail(ce, CNI_ERR_CONFIG, 0, -E2BIG, "%s: more than %d config files", dir,
                                        CNI_MAX_FILES);
                if (strv_push(&names, de->d_name) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        }
        qsort(names, n, sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(names);
        return 0;
}

static int push_diag(CniDiag **diags, size_t *n, const char *file, const char *msg) {
        if (!diags)
                return 0;
        CniDiag *d = realloc(*diags, (*n + 1) * sizeof *d);
        if (!d)
                return -ENOMEM;
        *diags = d;
        d[*n] = (CniDiag) { strdup(file), strdup(msg) };
        (*n)++;
        return 0;
}

static const char *cni_conf_dir(const CniConfig *cfg) {
        return cfg->conf_dir ?: "/etc/cni/net.d";
}

typedef int (*ListVisitor)(CniList *l, void *userdata); /* > 0: stop */

/* Every loadable file in libcni's two passes (conflists, then .conf/.json), each parsed. */
static int visit_lists(const CniConfig *cfg, ListVisitor visit, void *userdata, CniDiag **diags,
                       size_t *n_diags, CniError *ce) {
        const char *dir = cni_conf_dir(cfg);
        for (int pass = 0; pass < 2; pass++) {
                _cleanup_(strv_freep) char **names = NULL;
                int r = config_files(dir, pass == 0, &names, ce);
                if (r < 0)
                        return r;
                for (char **n = names; *n; n++) {
                        _cleanup_free_ char *path = NULL;
                        if (asprintf(&path, "%s/%s", dir, *n) < 0)
                                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                        struct stat st;
                        if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
                                continue;
                        CniError fe = {};
                        _cleanup_(cni_list_donep) CniList l = {};
                        r = cni_list_load_file(path, &l, &fe);
                        if (r < 0) {
                                if (cfg->strict) {
                                        if (ce)
                                                *ce = fe;
                                        return r;
                                }
                                if (push_diag(diags, n_diags, path, fe.e.msg) < 0)
                                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                                continue;
                        }
                        if ((r = visit(&l, userdata)) != 0)
                                return r;
                }
        }
        return 0;
}

typedef struct FindState {
        const char *name;
        CniList found;
        const char *dir;
} FindState;

static int find_visit(CniList *l, void *userdata) {
        FindState *f = userdata;
        if (!streq(l->name, f->name))
                return 0;
        f->found = *l;
        *l = (CniList) {};
        return 1;
}

int cni_find(const CniConfig *cfg, const char *name, CniList *ret, CniDiag **diags, size_t *n_diags,
             CniError *ce) {
        int r = cni_check_network_name(name, ce);
        if (r < 0)
                return r;
        FindState f = { .name = name };
        r = visit_lists(cfg, find_visit, &f, diags, n_diags, ce);
        if (r < 0)
                return r;
        if (r == 0) {
                /* a broken file that would have been this network is the error to show */
                for (size_t i = 0; diags && i < *n_diags; i++)
                        log_debug("skipped %s: %s", (*diags)[i].file, (*diags)[i].msg);
                return cni_fail(ce, CNI_ERR_NOT_FOUND, 0, -ENOENT, "no net configuration with name \"%s\" in %s",
                                name, cni_conf_dir(cfg));
        }
        *ret = f.found;
        return 0;
}

typedef struct AllState {
        CniList *lists;
        size_t n;
        CniDiag **diags;
        size_t *n_diags;
} AllState;

static int all_visit(CniList *l, void *userdata) {
        AllState *a = userdata;
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->lists[i].name, l->name)) {
                        char msg[PATH_MAX + 128];
                        (void) snprintf(msg, sizeof msg, "duplicate network name '%s': %s wins", l->name,
                                        a->lists[i].file);
                        return push_diag(a->diags, a->n_diags, l->file, msg) < 0 ? -ENOMEM : 0;
                }
        CniList *n = realloc(a->lists, (a->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        a->lists = n;
        a->lists[a->n++] = *l;
        *l = (CniList) {};
        return 0;
}

int cni_list_all(const CniConfig *cfg, CniList **ret, size_t *ret_n, CniDiag **diags, size_t *n_diags,
                 CniError *ce) {
        AllState a = { .diags = diags, .n_diags = n_diags };
        int r = visit_lists(cfg, all_visit, &a, diags, n_diags, ce);
        if (r < 0) {
                cni_lists_free(a.lists, a.n);
                return r == -ENOMEM ? cni_fail(ce, CNI_ERR_SYSTEM, 0, r, "out of memory") : r;
        }
        *ret = a.lists;
        *ret_n = a.n;
        return 0;
}
