/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Operations (section 3): ADD, DEL, CHECK, GC, STATUS, VERSION, and validation. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni-internal.h"
#include "fileio.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "strv.h"

static void cni_list_donep(CniList *l) {
        cni_list_done(l);
}
static void cni_cache_entry_donep(CniCacheEntry *e) {
        cni_cache_entry_done(e);
}
static void cni_output_donep(CniOutput *o) {
        cni_output_done(o);
}

static unsigned timeout_of(const CniConfig *cfg) {
        return cfg->timeout_ms ?: CNI_TIMEOUT_MS_DEFAULT;
}

int cni_find_plugin(const CniConfig *cfg, const char *type, char **ret, CniError *ce) {
        if (!type || !*type)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "no plugin name provided");
        if (strchr(type, '/'))
                return cni_fail(ce, CNI_ERR_CONFIG, 7, -EINVAL, "invalid plugin name '%.64s'", type);
        if (!cfg->path || !*cfg->path)
                return cni_fail(ce, CNI_ERR_CONFIG, 0, -EINVAL, "no paths provided");
        /* the first regular file; the exec bit is execve's business (EACCES) */
        for (char **d = cfg->path; *d; d++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", *d, type) < 0)
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
                struct stat st;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        _cleanup_free_ char *dirs = NULL;
        {
                char buf[1024] = "";
                size_t used = 0;
                for (char **d = cfg->path; *d && used < sizeof buf; d++)
                        used += (size_t) snprintf(buf + used, sizeof buf - used, "%s%s", d == cfg->path ? "" : " ", *d);
                dirs = strdup(buf);
        }
        int r = cni_fail(ce, CNI_ERR_NOT_FOUND, 0, -ENOENT, "failed to find plugin \"%s\" in path [%s]", type,
                         dirs ?: "");
        if (ce)
                (void) snprintf(ce->plugin, sizeof ce->plugin, "%s", type);
        return r;
}

/* ---- locks: files in our state dir, flock'ed ---- */

static int lock_at(const CniConfig *cfg, const char *kind, const char *name, int how, CniError *ce) {
        if (!cfg->state_dir)
                return -1;
        _cleanup_free_ char *dir = NULL, *path = NULL;
        if (asprintf(&dir, "%s/cni-locks", cfg->state_dir) < 0 ||
            asprintf(&path, "%s/%s-%s.lock", dir, kind, name) < 0)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        RtError e = {};
        int r = mkdir_p(dir, 0700, &e);
        if (r < 0)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, r, "%s", e.msg);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -errno, "open lock %s: %m", path);
        while (flock(fd, how) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        (void) close(fd);
                        return cni_fail(ce, CNI_ERR_SYSTEM, 0, r, "lock %s: %s", path, strerror(-r));
                }
        return fd;
}

typedef struct OpLocks {
        int network, container;
} OpLocks;

static void op_unlock(OpLocks *l) {
        l->container = safe_close(l->container);
        l->network = safe_close(l->network);
}

/* ADD/DEL/CHECK: the network shared, the container exclusive; GC: the network exclusive. */
static int op_lock(const CniConfig *cfg, const char *network, const char *container_id, OpLocks *ret,
                   CniError *ce) {
        *ret = (OpLocks) { -1, -1 };
        int r = lock_at(cfg, "net", network, container_id ? LOCK_SH : LOCK_EX, ce);
        if (r < -1)
                return r;
        ret->network = r;
        if (container_id) {
                /* 64 lock files shared out by a hash of the id, not one per container: ids
                 * come and go for ever, and a lock file cannot safely be deleted (a waiter
                 * on the old inode and a newcomer on a new one would both hold it). Two
                 * containers in one bucket only wait for each other now and then. */
                char bucket[8];
                (void) snprintf(bucket, sizeof bucket, "%02x",
                                (unsigned) (fnv1a(FNV1A_OFFSET, container_id, strlen(container_id)) % 64));
                r = lock_at(cfg, "ctr", bucket, LOCK_EX, ce);
                if (r < -1) {
                        op_unlock(ret);
                        return r;
                }
                ret->container = r;
        }
        return 0;
}

/* ---- VERSION, cached per binary ---- */

static int parse_version_reply(const CniOutput *o, const char *type, char ***ret, CniError *ce) {
        if (!WIFEXITED(o->wait_status) || WEXITSTATUS(o->wait_status) != 0) {
                CniError pe = {};
                (void) cni_outcome(o, type, -1, "VERSION", false, "", NULL, &pe);
                if (streq(pe.msg, "unknown CNI_COMMAND: VERSION")) {
                        /* a plugin from before VERSION existed */
                        char *only[] = { (char *) "0.1.0", NULL };
                        *ret = strv_copy(only);
                        return *ret ? 0 : -ENOMEM;
                }
                if (ce)
                        *ce = pe;
                return -EIO;
        }
        json_auto_t *j = json_loadb(o->out ?: "", o->out_len, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "cniVersion"));
        json_t *sv = json_object_get(j, "supportedVersions");
        if (!json_is_object(j) || !v || !*v)
                return cni_fail(ce, CNI_ERR_OUTPUT, 0, -EINVAL, "plugin type=\"%s\": invalid VERSION reply", type);
        if (!sv) {
                if (!streq(v, "0.2.0"))
                        return cni_fail(ce, CNI_ERR_OUTPUT, 0, -EINVAL,
                                        "plugin type=\"%s\": VERSION reply without supportedVersions", type);
                char *old[] = { (char *) "0.1.0", (char *) "0.2.0", NULL };
                *ret = strv_copy(old);
                return *ret ? 0 : -ENOMEM;
        }
        int r = strv_from_json(sv, 64, ret);
        if (r < 0)
                return cni_fail(ce, CNI_ERR_OUTPUT, 0, r, "plugin type=\"%s\": invalid supportedVersions", type);
        return 0;
}

static char *probe_cache_path(const CniConfig *cfg) {
        char *p;
        return cfg->state_dir && asprintf(&p, "%s/cni-versions.json", cfg->state_dir) >= 0 ? p : NULL;
}

/* The binary's identity: a rebuilt or replaced plugin is probed again. */
static char *binary_stamp(const char *path) {
        struct stat st;
        char *s;
        if (stat(path, &st) < 0 ||
            asprintf(&s, "%llu.%09lu:%lld:%llu", (unsigned long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     (long long) st.st_size, (unsigned long long) st.st_ino) < 0)
                return NULL;
        return s;
}

static int probe_cached(const CniConfig *cfg, const char *path, const char *stamp, char ***ret) {
        _cleanup_free_ char *file = probe_cache_path(cfg), *text = NULL;
        size_t len;
        if (!file || !stamp || read_file(file, 1 << 20, &text, &len, NULL) < 0)
                return -ENOENT;
        json_auto_t *j = json_loadb(text, len, 0, NULL);
        json_t *e = json_object_get(j, path);
        const char *s = json_string_value(json_object_get(e, "stamp"));
        if (!s || !streq(s, stamp))
                return -ENOENT;
        return strv_from_json(json_object_get(e, "versions"), 64, ret);
}

static void probe_remember(const CniConfig *cfg, const char *path, const char *stamp, char *const *versions) {
        _cleanup_free_ char *file = probe_cache_path(cfg), *text = NULL;
        size_t len;
        if (!file || !stamp)
                return;
        json_auto_t *j = NULL;
        if (read_file(file, 1 << 20, &text, &len, NULL) == 0)
                j = json_loadb(text, len, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        json_t *e = json_pack("{s:s, s:o}", "stamp", stamp, "versions", strv_to_json(versions));
        if (!e || json_object_set_new(j, path, e) < 0)
                return;
        _cleanup_free_ char *out = json_dumps(j, JSON_COMPACT);
        if (!out || mkdir_p(cfg->state_dir, 0700, NULL) < 0)
                return;
        /* a cache: losing a race to another writer only costs a probe */
        (void) write_file_atomic(file, out, strlen(out), 0600, 0, NULL);
}

static int version_of_binary(const CniConfig *cfg, const char *type, const char *path, char ***ret,
                             CniError *ce) {
        _cleanup_free_ char *stamp = binary_stamp(path);
        if (probe_cached(cfg, path, stamp, ret) == 0)
                return 0;
        static const char input[] = "{\"cniVersion\":\"" CNI_VERSION_MAX "\"}";
        CniExec x = { .path = path, .command = "VERSION", .netns = "dummy", .ifname = "dummy",
                      .cni_path = "dummy", .input = input, .input_len = sizeof input - 1,
                      .timeout_ms = CNI_VERSION_TIMEOUT_MS };
        _cleanup_(cni_output_donep) CniOutput o = {};
        int r = cni_exec(&x, &o, ce);
        if (r < 0)
                return r;
        if ((r = parse_version_reply(&o, type, ret, ce)) < 0)
                return r;
        probe_remember(cfg, path, stamp, *ret);
        return 0;
}

int cni_version_probe(const CniConfig *cfg, const char *type, char ***ret_versions, CniError *ce) {
        _cleanup_free_ char *path = NULL;
        int r = cni_find_plugin(cfg, type, &path, ce);
        if (r < 0)
                return r;
        return version_of_binary(cfg, type, path, ret_versions, ce);
}

int cni_validate(const CniConfig *cfg, const CniList *list, char ***ret_caps, CniError *ce) {
        _cleanup_(strv_freep) char **caps = calloc(1, sizeof(char *));
        if (!caps)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        const char *want = *list->version ? list->version : "0.1.0";
        for (size_t i = 0; i < list->n_plugins; i++) {
                const CniPlugin *p = &list->plugins[i];
                _cleanup_(strv_freep) char **versions = NULL;
                int r = cni_version_probe(cfg, p->type, &versions, ce);
                if (r < 0)
                        return cni_fail_prefix(ce, r, "network '%s'", list->name);
                if (!strv_contains(versions, want)) {
                        r = cni_fail(ce, CNI_ERR_VERSION, 1, -EPROTONOSUPPORT,
                                     "network '%s': plugin type=\"%s\" does not support config version \"%s\"",
                                     list->name, p->type, want);
                        if (ce) {
                                (void) snprintf(ce->plugin, sizeof ce->plugin, "%s", p->type);
                                ce->index = (int) i;
                        }
                        return r;
                }
                for (char **c = p->caps; c && *c; c++)
                        if (!strv_contains(caps, *c) && strv_push(&caps, *c) < 0)
                                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        }
        if (ret_caps)
                *ret_caps = TAKE_PTR(caps);
        return 0;
}

/* ---- one plugin run ---- */

typedef struct Invoke {
        const CniConfig *cfg;
        const CniList *list;
        const CniRuntime *rt;
        const char *command;
        const char *cni_path;
        const char *args;
} Invoke;

static int invoke(const Invoke *v, size_t index, const char *path, const char *prev, bool with_runtime_config,
                  json_t *extra, json_t **ret, CniError *ce) {
        const CniPlugin *p = &v->list->plugins[index];
        json_auto_t *rc = with_runtime_config ? cni_runtime_config(p, v->rt ? v->rt->cap_args : NULL) : NULL;
        _cleanup_free_ char *req = NULL;
        size_t req_len;
        int r = cni_build_request(v->list, p, prev, rc, extra, &req, &req_len);
        if (r < 0)
                return cni_fail(ce, CNI_ERR_CONFIG, 7, r, "build the request of plugin %zu (%s): %s", index, p->type,
                                strerror(-r));
        bool attachment = !streq(v->command, "GC") && !streq(v->command, "STATUS");
        CniExec x = { .path = path,
                      .command = v->command,
                      .container_id = attachment ? v->rt->container_id : "",
                      .netns = attachment ? v->rt->netns : "",
                      .ifname = attachment ? v->rt->ifname : "",
                      .args = attachment ? v->args : "",
                      .cni_path = v->cni_path,
                      .input = req,
                      .input_len = req_len,
                      .timeout_ms = timeout_of(v->cfg) };
        log_debug("%s %s: plugin %zu %s", v->command, v->list->name, index, path);
        _cleanup_(cni_output_donep) CniOutput o = {};
        if ((r = cni_exec(&x, &o, ce)) < 0) {
                if (ce) {
                        (void) snprintf(ce->plugin, sizeof ce->plugin, "%s", p->type);
                        ce->index = (int) index;
                        ce->command = v->command;
                }
                return r;
        }
        if (o.err_len)
                log_debug("plugin type='%s' (%s) stderr: %.*s", p->type, v->command, (int) o.err_len, o.err);
        return cni_outcome(&o, p->type, (int) index, v->command, ret != NULL, v->list->version, ret, ce);
}

/* DEL of a list in reverse order; each plugin is looked up when due. */
static int run_del(const Invoke *v, const char *prev, CniError *ce) {
        for (size_t i = v->list->n_plugins; i-- > 0;) {
                _cleanup_free_ char *path = NULL;
                int r = cni_find_plugin(v->cfg, v->list->plugins[i].type, &path, ce);
                if (r < 0)
                        return r;
                if ((r = invoke(v, i, path, prev, true, NULL, NULL, ce)) < 0)
                        return r;
        }
        return 0;
}

static int check_attachment_ids(const CniList *list, const CniRuntime *rt, CniError *ce) {
        int r;
        if ((r = cni_check_network_name(list ? list->name : "x", ce)) < 0 ||
            (r = cni_check_container_id(rt->container_id, ce)) < 0 ||
            (r = cni_check_ifname(rt->ifname, ce)) < 0 || (r = cni_args_check(rt->args, ce)) < 0)
                return r;
        if (rt->cap_args && !json_is_object(rt->cap_args))
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "capability args must be a JSON object");
        return 0;
}

/* ADD and CHECK need a netns that is there. */
static int check_netns(const CniRuntime *rt, CniError *ce) {
        if (!rt->netns || !*rt->netns)
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "a network namespace path is required");
        if (access(rt->netns, F_OK) < 0)
                return cni_fail(ce, CNI_ERR_INVALID, 0, -errno, "network namespace '%s': %m", rt->netns);
        return 0;
}

int cni_add(const CniConfig *cfg, const CniList *list, const CniRuntime *rt, CniAddFlags flags, json_t **ret,
            CniError *ce) {
        int r;
        /* everything checked before anything runs */
        if ((r = check_attachment_ids(list, rt, ce)) < 0 || (r = check_netns(rt, ce)) < 0)
                return r;
        _cleanup_free_ char *cni_path = cni_path_joined(cfg), *args = cni_args_join(rt->args);
        _cleanup_free_ char *cache = cni_cache_path(cfg, list->name, rt->container_id, rt->ifname);
        if (!cni_path || !args || !cache)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        if (!*cni_path)
                return cni_fail(ce, CNI_ERR_CONFIG, 0, -EINVAL, "no paths provided");

        _cleanup_(op_unlock) OpLocks locks;
        if ((r = op_lock(cfg, list->name, rt->container_id, &locks, ce)) < 0)
                return r;
        if (!(flags & CNI_ADD_SKIP_ATTACHED) && access(cache, F_OK) == 0)
                return cni_fail(ce, CNI_ERR_ALREADY_ATTACHED, 0, -EEXIST,
                                "container '%s' is already attached to network '%s' as %s", rt->container_id,
                                list->name, rt->ifname);

        /* every binary found before the first runs */
        char **paths = calloc(list->n_plugins + 1, sizeof(char *));
        _cleanup_(strv_freep) char **paths_owner = paths;
        if (!paths)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        for (size_t i = 0; i < list->n_plugins; i++)
                if ((r = cni_find_plugin(cfg, list->plugins[i].type, &paths[i], ce)) < 0)
                        return r;
        /* a list a plugin cannot serve would leak what DEL can never free */
        if (!(flags & CNI_ADD_SKIP_VALIDATE) && (r = cni_validate(cfg, list, NULL, ce)) < 0)
                return r;

        Invoke v = { cfg, list, rt, "ADD", cni_path, args };
        json_auto_t *result = NULL;
        for (size_t i = 0; i < list->n_plugins; i++) {
                _cleanup_free_ char *prev = result ? json_dumps(result, JSON_COMPACT) : NULL;
                json_t *next = NULL;
                if ((r = invoke(&v, i, paths[i], prev, true, NULL, &next, ce)) < 0)
                        goto rollback;
                json_decref(result);
                result = next;
        }
        CniCacheEntry e = { .container_id = (char *) rt->container_id, .ifname = (char *) rt->ifname,
                            .network = list->name, .netns = (char *) rt->netns, .config = list->raw,
                            .config_len = list->raw_len, .args = (char **) rt->args, .cap_args = rt->cap_args,
                            .result = result };
        RtError we = {};
        if ((r = cni_cache_write(cfg, &e, &we)) < 0) {
                (void) cni_fail(ce, CNI_ERR_CACHE, 5, r, "write the result cache: %s", we.msg);
                goto rollback;
        }
        if (ret)
                *ret = TAKE_PTR(result);
        return 0;

rollback:
        if (flags & CNI_ADD_ROLLBACK) {
                /* nothing half-attached; the ADD error is the one reported */
                Invoke d = { cfg, list, rt, "DEL", cni_path, args };
                CniError de = {};
                if (run_del(&d, NULL, &de) < 0 && ce) {
                        log_warning("rollback of network '%s' for '%s' failed: %s", list->name, rt->container_id,
                                    de.e.msg);
                        (void) snprintf(ce->secondary, sizeof ce->secondary, "%s", de.e.msg);
                }
        }
        return r;
}

/* The cache entry of an attachment: 0, -ENOENT when none, or -EBADMSG when it was
 * unreadable and has been dropped. */
static int load_entry(const char *path, CniCacheEntry *ret) {
        RtError e = {};
        int r = cni_cache_read(path, ret, &e);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                log_warning("dropping the unreadable CNI cache entry %s: %s", path, e.msg);
                (void) unlink(path);
                return -EBADMSG;
        }
        return 0;
}

/* The cached result in the list's version, as a string for prevResult; NULL when there is
 * none or it cannot be converted. */
static char *prev_result_for(const CniCacheEntry *e, const CniList *list, const char *path) {
        if (!e->result)
                return NULL;
        json_auto_t *conv = NULL;
        RtError err = {};
        json_auto_t *res = json_deep_copy(e->result);
        json_t *v = json_object_get(res, "cniVersion");
        if (!v || !json_is_string(v) || !*json_string_value(v))
                (void) json_object_set_new(res, "cniVersion", json_string(*list->version ? list->version : "0.1.0"));
        if (cni_result_convert(res, *list->version ? list->version : "0.1.0", &conv, &err) < 0) {
                log_warning("dropping the CNI cache entry %s: its result cannot be used (%s)", path, err.msg);
                (void) unlink(path);
                return NULL;
        }
        return json_dumps(conv, JSON_COMPACT);
}

int cni_del(const CniConfig *cfg, const char *network, const CniList *list, const CniRuntime *rt,
            bool prefer_cache, CniError *ce) {
        int r;
        if ((r = cni_check_network_name(network, ce)) < 0 || (r = check_attachment_ids(list, rt, ce)) < 0)
                return r;
        _cleanup_free_ char *cache = cni_cache_path(cfg, network, rt->container_id, rt->ifname);
        _cleanup_free_ char *cni_path = cni_path_joined(cfg);
        if (!cache || !cni_path)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        if (!*cni_path)
                return cni_fail(ce, CNI_ERR_CONFIG, 0, -EINVAL, "no paths provided");

        _cleanup_(op_unlock) OpLocks locks;
        if ((r = op_lock(cfg, network, rt->container_id, &locks, ce)) < 0)
                return r;
        _cleanup_(cni_cache_entry_donep) CniCacheEntry e = {};
        bool have_entry = load_entry(cache, &e) == 0;

        /* the cached config wins when the file changed or is gone */
        _cleanup_(cni_list_donep) CniList cached = {};
        const CniList *use = list;
        if (have_entry && e.config && (prefer_cache || !list) &&
            (!list || list->raw_len != e.config_len || memcmp(list->raw, e.config, e.config_len) != 0)) {
                CniError pe = {};
                if (cni_list_parse(cache, e.config, e.config_len, false, NULL, &cached, &pe) == 0 &&
                    streq(cached.name, network))
                        use = &cached;
                else
                        log_warning("the cached config of %s cannot be used (%s)", cache,
                                    pe.e.msg[0] ? pe.e.msg : "it names another network");
        }
        if (!use)
                return cni_fail(ce, CNI_ERR_NOT_FOUND, 0, -ENOENT,
                                "network '%s': no configuration on disk and none cached for container '%s' (%s)",
                                network, rt->container_id, rt->ifname);
        CniRuntime r2 = *rt;
        if (have_entry) {
                if (!r2.args && e.args)
                        r2.args = e.args;
                if (!r2.cap_args && e.cap_args)
                        r2.cap_args = e.cap_args;
                if ((!r2.netns || !*r2.netns) && e.netns)
                        r2.netns = e.netns;
        }
        _cleanup_free_ char *args = cni_args_join(r2.args);
        if (!args)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        /* prevResult only from 0.4.0 on */
        _cleanup_free_ char *prev = NULL;
        if (have_entry && cni_version_cmp(*use->version ? use->version : "0.1.0", "0.4.0") >= 0)
                prev = prev_result_for(&e, use, cache);

        Invoke v = { cfg, use, &r2, "DEL", cni_path, args };
        if ((r = run_del(&v, prev, ce)) < 0)
                return r; /* the entry stays for a retry */
        if (unlink(cache) < 0 && errno != ENOENT)
                return cni_fail(ce, CNI_ERR_CACHE, 5, -errno, "remove %s: %m", cache);
        return 0;
}

int cni_check(const CniConfig *cfg, const CniList *list, const CniRuntime *rt, CniError *ce) {
        int r;
        if ((r = check_attachment_ids(list, rt, ce)) < 0)
                return r;
        const char *version = *list->version ? list->version : "0.1.0";
        /* libcni's order of checks: the version first (CHECK exists from 0.4.0 on), then
         * disableCheck, then the netns */
        if (cni_version_cmp(version, "0.4.0") < 0)
                return cni_fail(ce, CNI_ERR_VERSION, 1, -EOPNOTSUPP,
                                "configuration version \"%s\" does not support the CHECK command", list->version);
        if (list->disable_check)
                return 0;
        if ((r = check_netns(rt, ce)) < 0)
                return r;
        _cleanup_free_ char *cache = cni_cache_path(cfg, list->name, rt->container_id, rt->ifname);
        _cleanup_free_ char *cni_path = cni_path_joined(cfg), *args = cni_args_join(rt->args);
        if (!cache || !cni_path || !args)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        _cleanup_(op_unlock) OpLocks locks;
        if ((r = op_lock(cfg, list->name, rt->container_id, &locks, ce)) < 0)
                return r;
        _cleanup_(cni_cache_entry_donep) CniCacheEntry e = {};
        r = load_entry(cache, &e);
        _cleanup_free_ char *prev = r == 0 ? prev_result_for(&e, list, cache) : NULL;
        /* no cached ADD: "not attached", and no plugin runs (the spec: never CHECK a
         * container that was not ADDed; libcni would run them without a prevResult) */
        if (!prev)
                return cni_fail(ce, CNI_ERR_NOT_ATTACHED, 0, -ENOENT,
                                "container '%s' is not attached to network '%s' as %s%s", rt->container_id,
                                list->name, rt->ifname, r == -EBADMSG ? " (its cache entry was corrupt)" : "");
        Invoke v = { cfg, list, rt, "CHECK", cni_path, args };
        for (size_t i = 0; i < list->n_plugins; i++) {
                _cleanup_free_ char *path = NULL;
                if ((r = cni_find_plugin(cfg, list->plugins[i].type, &path, ce)) < 0 ||
                    (r = invoke(&v, i, path, prev, true, NULL, NULL, ce)) < 0)
                        return r;
        }
        return 0;
}

static bool in_valid(json_t *valid, const char *cid, const char *ifname) {
        size_t i;
        json_t *a;
        json_array_foreach(valid, i, a) {
                const char *c = json_string_value(json_object_get(a, "containerID"));
                const char *f = json_string_value(json_object_get(a, "ifname"));
                if (c && f && streq(c, cid) && streq(f, ifname))
                        return true;
        }
        return false;
}

/* Keeps the first error in ce and counts the rest into its text (every failure is reported). */
static void gather(CniError *ce, int *first, int r, const CniError *one, unsigned *more) {
        if (r >= 0)
                return;
        if (*first >= 0) {
                *first = r;
                if (ce)
                        *ce = *one;
        } else {
                (*more)++;
                log_warning("%s", one->e.msg);
        }
}

int cni_gc(const CniConfig *cfg, const CniList *list, json_t *valid, CniError *ce) {
        if (list->disable_gc)
                return 0;
        if (valid && !json_is_array(valid))
                return cni_fail(ce, CNI_ERR_INVALID, 4, -EINVAL, "valid attachments must be an array");
        _cleanup_free_ char *cni_path = cni_path_joined(cfg);
        if (!cni_path)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        int first = 0;
        unsigned more = 0;

        CniCacheEntry *entries = NULL;
        size_t n = 0;
        RtError le = {};
        int r = cni_cache_list(cfg, list->name, &entries, &n, &le);
        if (r < 0)
                return cni_fail(ce, CNI_ERR_CACHE, 5, r, "%s", le.msg);
        for (size_t i = 0; i < n; i++) {
                if (in_valid(valid, entries[i].container_id, entries[i].ifname))
                        continue;
                CniRuntime rt = { .container_id = entries[i].container_id, .netns = entries[i].netns,
                                  .ifname = entries[i].ifname, .args = entries[i].args,
                                  .cap_args = entries[i].cap_args };
                CniError one = {};
                gather(ce, &first, cni_del(cfg, list->name, list, &rt, false, &one), &one, &more);
        }
        cni_cache_entries_free(entries, n);

        if (cni_version_cmp(*list->version ? list->version : "0.1.0", "1.1.0") >= 0) {
                _cleanup_(op_unlock) OpLocks locks;
                if ((r = op_lock(cfg, list->name, NULL, &locks, ce)) < 0)
                        return r;
                json_auto_t *extra = json_object();
                json_t *va = valid ? json_incref(valid) : json_array();
                (void) json_object_set(extra, "cni.dev/valid-attachments", va);
                (void) json_object_set_new(extra, "cni.dev/attachments", va);
                CniRuntime none = {};
                Invoke v = { cfg, list, &none, "GC", cni_path, "" };
                for (size_t i = 0; i < list->n_plugins; i++) {
                        _cleanup_free_ char *path = NULL;
                        CniError one = {};
                        r = cni_find_plugin(cfg, list->plugins[i].type, &path, &one);
                        if (r >= 0)
                                r = invoke(&v, i, path, NULL, false, extra, NULL, &one);
                        gather(ce, &first, r, &one, &more);
                }
        }
        if (first < 0 && more && ce) {
                char extra_text[64];
                (void) snprintf(extra_text, sizeof extra_text, " (and %u more error%s)", more, more == 1 ? "" : "s");
                size_t l = strlen(ce->e.msg);
                (void) snprintf(ce->e.msg + l, sizeof ce->e.msg - l, "%s", extra_text);
        }
        return first;
}

int cni_status(const CniConfig *cfg, const CniList *list, CniError *ce) {
        if (cni_version_cmp(*list->version ? list->version : "0.1.0", "1.1.0") < 0)
                return 0;
        _cleanup_free_ char *cni_path = cni_path_joined(cfg);
        if (!cni_path)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        CniRuntime none = {};
        Invoke v = { cfg, list, &none, "STATUS", cni_path, "" };
        for (size_t i = 0; i < list->n_plugins; i++) {
                _cleanup_free_ char *path = NULL;
                int r;
                if ((r = cni_find_plugin(cfg, list->plugins[i].type, &path, ce)) < 0 ||
                    (r = invoke(&v, i, path, NULL, false, NULL, NULL, ce)) < 0)
                        return r;
        }
        return 0;
}
