/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container state on disk: runroot/containers/<id>/{config,state}.json, a name index
 * (runroot/names/<name>, created O_EXCL so two racing creates of one name cannot both
 * win), and lookups by id, id prefix or name. */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "netns.h"
#include "hash.h"
#include "json.h"
#include "filecache.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "strv.h"

static const char *const status_names[_CTR_STATUS_MAX] = {
        [CTR_CREATED] = "created",
        [CTR_RUNNING] = "running",
        [CTR_EXITED] = "exited",
};

const char *ctr_status_to_string(CtrStatus s) {
        return s >= 0 && s < _CTR_STATUS_MAX ? status_names[s] : "unknown";
}

static CtrStatus status_from_string(const char *s) {
        for (int i = 0; s && i < _CTR_STATUS_MAX; i++)
                if (streq(s, status_names[i]))
                        return i;
        return _CTR_STATUS_INVALID;
}

int ctr_store_init(CtrStore *s, const char *root, const char *runroot, RtError *err) {
        if (!root || root[0] != '/' || !runroot || runroot[0] != '/')
                return rt_err_setx(err, -EINVAL, "--root and --runroot must be absolute paths");
        if (strlen(root) >= sizeof s->root - 128 || strlen(runroot) >= sizeof s->runroot - 128)
                return rt_err_setx(err, -ENAMETOOLONG, "--root or --runroot path is too long");
        /* Paths under these end up in overlay mount options, where ',' and ':' separate
         * options and layers: a path holding one would be read as something else. */
        if (strpbrk(root, ",:\\") || strpbrk(runroot, ",:\\"))
                return rt_err_setx(err, -EINVAL, "--root and --runroot must not contain ',', ':' or '\\'");
        s->fresh_monitor = false; /* a threaded caller says otherwise */
        s->spawner_fd = -1;
        s->spawner_pid = 0;
        s->caches = NULL; /* a long-lived caller opens them */
        s->netns_pool = NULL;
        (void) snprintf(s->root, sizeof s->root, "%s", root);
        (void) snprintf(s->runroot, sizeof s->runroot, "%s", runroot);
        const struct {
                const char *env, *def;
                char *buf;
                size_t size;
        } defaults[] = {
                { "NSPROV_DEFAULT_NETWORK", CTR_DEFAULT_NETWORK, s->default_network, sizeof s->default_network },
                { "NSPROV_DEFAULT_SUBNET", CTR_DEFAULT_SUBNET, s->default_subnet, sizeof s->default_subnet },
                { "NSPROV_DEFAULT_BRIDGE", CTR_DEFAULT_BRIDGE, s->default_bridge, sizeof s->default_bridge },
                { "NSPROV_CNI_CONFIG_DIR", CTR_DEFAULT_CNI_CONFIG_DIR, s->cni_config_dir, sizeof s->cni_config_dir },
                { "NSPROV_CNI_PATH", CTR_DEFAULT_CNI_PATH, s->cni_path, sizeof s->cni_path },
                { "NSPROV_CNI_CACHE_DIR", CTR_DEFAULT_CNI_CACHE_DIR, s->cni_cache_dir, sizeof s->cni_cache_dir },
        };
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                const char *v = getenv(defaults[i].env);
                if (v && strlen(v) >= defaults[i].size)
                        return rt_err_setx(err, -EINVAL, "%s is too long", defaults[i].env);
                (void) snprintf(defaults[i].buf, defaults[i].size, "%s", v && *v ? v : defaults[i].def);
        }
        /* A bridge name is global to the host, a root is not: another root's default
         * bridge is its own ("nsprov" and 8 hex digits of its path and the network's
         * name), never the default root's with a second IPAM file handing out the same
         * addresses, nor one that outlives a scratch root nobody removes networks from.
         * The default root's: nsprov0, or nspodman0 for the shim's "podman" network. */
        const char *bridge_env = getenv("NSPROV_DEFAULT_BRIDGE");
        if (!bridge_env || !*bridge_env) {
                uint64_t h = fnv1a(FNV1A_OFFSET, s->root, strlen(s->root) + 1);
                h = fnv1a(h, s->default_network, strlen(s->default_network));
                if (!streq(s->root, CTR_DEFAULT_ROOT))
                        (void) snprintf(s->default_bridge, sizeof s->default_bridge, "nsprov%08llx",
                                        (unsigned long long) (h & 0xffffffffull));
                else if (streq(s->default_network, CTR_PODMAN_NETWORK))
                        (void) snprintf(s->default_bridge, sizeof s->default_bridge, "%s", CTR_PODMAN_BRIDGE);
        }
        const char *dirs[] = { "containers", "names" };
        char p[PATH_MAX];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", s->runroot, dirs[i]);
                int r = mkdir_p(p, 0700, err);
                if (r < 0)
                        return r;
        }
        (void) snprintf(p, sizeof p, "%s/images", s->root);
        return mkdir_p(p, 0700, err);
}

void store_path(const CtrStore *s, StoreDir dir, const char *name, const char *suffix, char buf[static PATH_MAX]) {
        static const struct {
                bool persistent; /* under the root, else the runroot */
                const char *sub;
        } dirs[_STORE_DIR_MAX] = {
                [STORE_RUN] = { false, NULL },           [STORE_CONTAINERS] = { false, "containers" },
                [STORE_NAMES] = { false, "names" },      [STORE_EXITS] = { false, "exits" },
                [STORE_IPAM] = { false, "ipam" },        [STORE_NETWORKS] = { true, "networks" },
                [STORE_IMAGES] = { true, "images" },
        };
        assert(dir >= 0 && dir < _STORE_DIR_MAX);
        int n = snprintf(buf, PATH_MAX, "%s%s%s", dirs[dir].persistent ? s->root : s->runroot,
                         dirs[dir].sub ? "/" : "", dirs[dir].sub ? dirs[dir].sub : "");
        if (name && n > 0 && n < PATH_MAX)
                (void) snprintf(buf + n, PATH_MAX - (size_t) n, "/%s%s", name, suffix ? suffix : "");
}

int store_each(const CtrStore *s, StoreDir dir, const char *suffix,
               int (*fn)(const CtrStore *s, const char *name, void *userdata), void *userdata) {
        char p[PATH_MAX];
        store_path(s, dir, NULL, NULL, p);
        _cleanup_closedir_ DIR *d = opendir(p);
        struct dirent *de;
        int total = 0;
        size_t sl = suffix ? strlen(suffix) : 0;
        while (d && (de = readdir(d))) {
                char name[NAME_MAX + 1];
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l <= sl || (sl && !streq(de->d_name + l - sl, suffix)))
                        continue;
                memcpy(name, de->d_name, l - sl);
                name[l - sl] = '\0';
                total += fn(s, name, userdata);
        }
        return total;
}

typedef struct ListBuild {
        size_t size;
        int (*load)(const CtrStore *s, const char *name, void *slot);
        void (*done)(void *slot);
        char *items;
        size_t n, cap;
        bool oom;
} ListBuild;

static int list_one(const CtrStore *s, const char *name, void *userdata) {
        ListBuild *b = userdata;
        if (b->oom)
                return 0;
        if (b->n == b->cap) {
                size_t cap = b->cap ? 2 * b->cap : 16;
                char *items = realloc(b->items, cap * b->size);
                if (!items) {
                        b->oom = true;
                        return 0;
                }
                b->items = items;
                b->cap = cap;
        }
        if (b->load(s, name, b->items + b->n * b->size) == 0)
                b->n++;
        return 0;
}

int store_list(const CtrStore *s, StoreDir dir, const char *suffix, size_t size,
               int (*load)(const CtrStore *s, const char *name, void *slot), void (*done)(void *slot),
               int (*cmp)(const void *a, const void *b), void **ret, size_t *ret_n, RtError *err) {
        ListBuild b = { .size = size, .load = load, .done = done };
        (void) store_each(s, dir, suffix, list_one, &b);
        if (b.oom) {
                for (size_t i = 0; i < b.n; i++)
                        done(b.items + i * size);
                free(b.items);
                return rt_err_set(err, -ENOMEM, "list the store");
        }
        if (cmp && b.n)
                qsort(b.items, b.n, size, cmp);
        *ret = b.items;
        *ret_n = b.n;
        return 0;
}

void ctr_path(const CtrStore *s, const char *id, const char *file, char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, "%s/containers/%s%s%s", s->runroot, id, file ? "/" : "",
                        file ? file : "");
}

int ctr_id_check(const char *id, RtError *err) {
        if (!id || strlen(id) != CTR_ID_LEN || strspn(id, "0123456789abcdef") != CTR_ID_LEN)
                return rt_err_setx(err, -EBADMSG, "not a 64-hex id");
        return 0;
}

int ctr_name_check(const char *name, RtError *err) {
        size_t l = name ? strlen(name) : 0;
        if (l == 0 || l > CTR_NAME_MAX)
                return rt_err_setx(err, -EINVAL, "container name must be 1-%d characters",
                                   CTR_NAME_MAX);
        /* Podman's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
        if (!isascii((unsigned char) name[0]) || !isalnum((unsigned char) name[0]))
                goto bad;
        for (size_t i = 1; i < l; i++) {
                unsigned char c = (unsigned char) name[i];
                if (!isascii(c) || !(isalnum(c) || c == '_' || c == '.' || c == '-'))
                        goto bad;
        }
        return 0;
bad:
        return rt_err_setx(err, -EINVAL,
                           "invalid container name '%.64s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*", name);
}

int ctr_lookup(const CtrStore *s, const char *ref, char ret_id[static CTR_ID_LEN + 1], RtError *err) {
        char p[PATH_MAX];
        if (!ref || !*ref)
                return rt_err_setx(err, -EINVAL, "no container given");
        /* A name first: Podman resolves names before id prefixes. */
        if (ctr_name_check(ref, NULL) == 0) {
                (void) snprintf(p, sizeof p, "%s/names/%s", s->runroot, ref);
                char buf[CTR_ID_LEN + 2] = "";
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        ssize_t n = read(fd, buf, CTR_ID_LEN);
                        close(fd);
                        if (n == CTR_ID_LEN) {
                                buf[CTR_ID_LEN] = '\0';
                                if (ctr_id_check(buf, NULL) == 0) {
                                        memcpy(ret_id, buf, CTR_ID_LEN + 1);
                                        return 0;
                                }
                        }
                }
        }
        size_t rl = strlen(ref);
        /* A whole id names one directory: no need to read them all (clients pass ids on
         * every request after create). */
        if (rl == CTR_ID_LEN && ctr_id_check(ref, NULL) == 0) {
                (void) snprintf(p, sizeof p, "%s/containers/%s", s->runroot, ref);
                if (access(p, F_OK) == 0) {
                        memcpy(ret_id, ref, CTR_ID_LEN + 1);
                        return 0;
                }
        }
        if (rl >= 3 && rl <= CTR_ID_LEN) {
                (void) snprintf(p, sizeof p, "%s/containers", s->runroot);
                _cleanup_closedir_ DIR *d = opendir(p);
                struct dirent *de;
                int found = 0;
                while (d && (de = readdir(d)))
                        if (ctr_id_check(de->d_name, NULL) == 0 && strncmp(de->d_name, ref, rl) == 0) {
                                if (found++)
                                        return rt_err_setx(err, -EINVAL,
                                                           "'%s' matches more than one container",
                                                           ref);
                                memcpy(ret_id, de->d_name, CTR_ID_LEN + 1);
                        }
                if (found == 1)
                        return 0;
        }
        return rt_err_setx(err, -ENOENT, "no such container '%.80s'", ref);
}

/* ---- JSON encoding of config and state ---- */

static json_t *mounts_to_json(const BindMount *m, size_t n) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "source", m[i].source,
                                                   "destination", m[i].destination, "readonly",
                                                   m[i].readonly));
        return a;
}

int ctr_config_write(const CtrStore *s, const CtrConfig *c, RtError *err) {
        json_t *j = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s?, s:s?, s:o, s:o, s:o, s:s, s:i, s:i, s:b, "
                "s:b, s:b, s:b, s:b, s:I, s:b}",
                "id", c->id, "name", c->name, "image", c->image, "rootfs", c->rootfs, "hostname",
                c->hostname, "argv", strv_to_json(c->argv), "env", strv_to_json(c->env),
                "workdir", c->workdir, "user", c->user, "caps", strv_to_json(c->caps), "labels",
                strv_to_json(c->labels), "mounts", mounts_to_json(c->mounts, c->n_mounts),
                "network", c->network, "stopSignal", c->stop_signal, "stopTimeout",
                c->stop_timeout, "privileged", c->privileged, "tty", c->tty, "interactive",
                c->interactive, "rm", c->rm, "init", c->init, "created", (json_int_t) c->created_ns,
                "createWorkdir", c->create_workdir);
        if (j && c->ready)
                (void) json_object_set_new(j, "ready", json_string(c->ready));
        if (j && c->ready_timeout_ms)
                (void) json_object_set_new(j, "readyTimeoutMs", json_integer(c->ready_timeout_ms));
        if (j && c->pids_limit)
                (void) json_object_set_new(j, "pidsLimit", json_integer(c->pids_limit));
        if (j && c->memory_limit)
                (void) json_object_set_new(j, "memoryLimit", json_integer((json_int_t) c->memory_limit));
        if (j && c->cpu_quota_us)
                (void) json_object_set_new(j, "cpuQuotaUs", json_integer((json_int_t) c->cpu_quota_us));
        if (!j)
                return rt_err_set(err, -ENOMEM, "encode container config");
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!text)
                return rt_err_set(err, -ENOMEM, "encode container config");
        char p[PATH_MAX];
        ctr_path(s, c->id, "config.json", p);
        /* Written once, into a fresh dir, never rewritten: a plain exclusive write. A
         * reader that comes too early sees no file or a short one and skips the dir. */
        int r = write_file(p, text, strlen(text), 0600, true, err);
        free(text);
        return r;
}

static json_t *proc_id_to_json(const ProcId *id) {
        return json_pack("{s:i, s:I}", "pid", (int) id->pid, "start", (json_int_t) id->start_time);
}

int ctr_state_write(const CtrStore *s, const char *id, const CtrState *st, RtError *err) {
        json_t *j = json_pack("{s:s, s:o, s:o, s:i, s:I, s:I, s:s, s:s}", "status",
                              ctr_status_to_string(st->status), "monitor",
                              proc_id_to_json(&st->monitor), "init", proc_id_to_json(&st->init),
                              "exitCode", st->exit_code, "started", (json_int_t) st->started_ns,
                              "finished", (json_int_t) st->finished_ns, "error", st->error,
                              "netns", st->netns);
        if (!j)
                return rt_err_set(err, -ENOMEM, "encode container state");
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!text)
                return rt_err_set(err, -ENOMEM, "encode container state");
        char p[PATH_MAX];
        ctr_path(s, id, "state.json", p);
        int r = write_file_atomic(p, text, strlen(text), 0600, 0, err);
        free(text);
        return r;
}

/* ---- the config record, through field tables (json.h) ---- */

static int parse_argv(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int r = json_parse_strv(path, v, field, f, err);
        if (r == 0 && !(*(char ***) field)[0])
                return rt_err_setx(err, -EBADMSG, "%s: no command", path);
        return r;
}

static const JsonField mount_fields[] = {
        { "source", json_parse_string, offsetof(BindMount, source), JF_MANDATORY },
        { "destination", json_parse_string, offsetof(BindMount, destination), JF_MANDATORY },
        { "readonly", json_parse_bool, offsetof(BindMount, readonly), 0 },
        {},
};

static int parse_mounts(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        CtrConfig *c = (CtrConfig *) ((char *) field - offsetof(CtrConfig, mounts));
        if (!json_is_array(v))
                return rt_err_setx(err, -EBADMSG, "%s: expected an array", path);
        if (json_array_size(v) > CTR_MAX_MOUNTS)
                return rt_err_setx(err, -E2BIG, "%s: more than %d mounts", path, CTR_MAX_MOUNTS);
        if (c->mounts)
                return rt_err_setx(err, -EBADMSG, "%s: given twice", path);
        if (!(c->mounts = calloc(json_array_size(v) + 1, sizeof *c->mounts)))
                return rt_err_set(err, -ENOMEM, "%s", path);
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
                char sub[256];
                (void) snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                /* counted first: what a failed entry has is freed with the config */
                c->n_mounts++;
                int r = json_dispatch(sub, m, mount_fields, &c->mounts[i], 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const JsonField config_fields[] = {
        { "id", json_parse_string_buf, offsetof(CtrConfig, id), JF_MANDATORY, .size = CTR_ID_LEN + 1,
          .check = ctr_id_check },
        { "name", json_parse_string_buf, offsetof(CtrConfig, name), JF_MANDATORY, .size = CTR_NAME_MAX + 1,
          .check = ctr_name_check },
        { "hostname", json_parse_string_buf, offsetof(CtrConfig, hostname), JF_MANDATORY, .size = CTR_HOSTNAME_MAX + 1 },
        { "image", json_parse_string, offsetof(CtrConfig, image), JF_MANDATORY },
        { "rootfs", json_parse_string, offsetof(CtrConfig, rootfs), JF_MANDATORY },
        { "network", json_parse_string, offsetof(CtrConfig, network), JF_MANDATORY },
        { "workdir", json_parse_string, offsetof(CtrConfig, workdir), JF_NULLABLE },
        { "user", json_parse_string, offsetof(CtrConfig, user), JF_NULLABLE, .check = ctr_user_check },
        { "argv", parse_argv, offsetof(CtrConfig, argv), JF_MANDATORY, .max = CTR_MAX_ARGS },
        { "env", json_parse_strv, offsetof(CtrConfig, env), 0, .max = CTR_MAX_ENV },
        { "caps", json_parse_strv, offsetof(CtrConfig, caps), 0, .max = 64 },
        { "labels", json_parse_strv, offsetof(CtrConfig, labels), 0, .max = CTR_MAX_LABELS },
        { "mounts", parse_mounts, offsetof(CtrConfig, mounts), JF_MANDATORY },
        { "stopSignal", json_parse_int, offsetof(CtrConfig, stop_signal), JF_MANDATORY, .min = 1, .max = NSIG - 1 },
        { "stopTimeout", json_parse_int, offsetof(CtrConfig, stop_timeout), 0, .min = 0, .max = INT32_MAX },
        { "privileged", json_parse_bool, offsetof(CtrConfig, privileged), 0 },
        { "tty", json_parse_bool, offsetof(CtrConfig, tty), 0 },
        { "interactive", json_parse_bool, offsetof(CtrConfig, interactive), 0 },
        { "rm", json_parse_bool, offsetof(CtrConfig, rm), 0 },
        { "init", json_parse_bool, offsetof(CtrConfig, init), 0 },
        { "createWorkdir", json_parse_bool, offsetof(CtrConfig, create_workdir), 0 },
        { "created", json_parse_uint64, offsetof(CtrConfig, created_ns), 0 },
        { "ready", json_parse_string, offsetof(CtrConfig, ready), JF_NULLABLE, .check = ctr_ready_check },
        { "readyTimeoutMs", json_parse_int, offsetof(CtrConfig, ready_timeout_ms), 0, .min = 1,
          .max = CTR_READY_MAX_TIMEOUT_MS },
        { "pidsLimit", json_parse_int64, offsetof(CtrConfig, pids_limit), 0, .min = -1, .max = INT32_MAX },
        { "memoryLimit", json_parse_uint64, offsetof(CtrConfig, memory_limit), 0 },
        { "cpuQuotaUs", json_parse_uint64, offsetof(CtrConfig, cpu_quota_us), 0 },
        {},
};

/* ---- the state record, through field tables: unknown keys refused, integers ranged ---- */

static int parse_status(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        CtrStatus st = status_from_string(json_string_value(v));
        if (st < 0)
                return rt_err_setx(err, -EBADMSG, "%s: not a container status (created, running, exited)", path);
        *(CtrStatus *) field = st;
        return 0;
}

static const JsonField proc_id_fields[] = {
        { "pid", json_parse_int, offsetof(ProcId, pid), JF_MANDATORY, .min = 0, .max = INT32_MAX },
        { "start", json_parse_uint64, offsetof(ProcId, start_time), JF_MANDATORY },
        {},
};

static int parse_proc_id(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        ProcId id = {};
        int r = json_dispatch(path, v, proc_id_fields, &id, 0, err);
        if (r == 0)
                *(ProcId *) field = id;
        return r;
}

static const JsonField state_fields[] = {
        { "status", parse_status, offsetof(CtrState, status), JF_MANDATORY },
        { "monitor", parse_proc_id, offsetof(CtrState, monitor), 0 },
        { "init", parse_proc_id, offsetof(CtrState, init), 0 },
        /* an exit code, or the 128+N of a signal, or Podman's 125-127 */
        { "exitCode", json_parse_int, offsetof(CtrState, exit_code), 0, .min = -1, .max = 255 },
        { "started", json_parse_uint64, offsetof(CtrState, started_ns), 0 },
        { "finished", json_parse_uint64, offsetof(CtrState, finished_ns), 0 },
        { "error", json_parse_string_buf, offsetof(CtrState, error), 0, .size = sizeof(((CtrState *) 0)->error) },
        { "netns", json_parse_string_buf, offsetof(CtrState, netns), 0, .size = sizeof(((CtrState *) 0)->netns) },
        {},
};

int ctr_config_parse(const char *text, size_t len, CtrConfig *ret, RtError *err) {
        CtrConfig k = {};
        int r = json_dispatch_text("config", text, len, config_fields, &k, 0, err);
        if (r < 0) {
                ctr_config_done(&k);
                return rt_err_prefix(err, r, "not a valid container config");
        }
        *ret = k;
        return 0;
}

int ctr_state_parse(const char *text, size_t len, CtrState *ret, RtError *err) {
        CtrState st = {};
        int r = json_dispatch_text("state", text, len, state_fields, &st, 0, err);
        if (r < 0)
                return rt_err_prefix(err, r, "not a valid container state");
        *ret = st;
        return 0;
}

static int parse_state_file(const char *path, const char *text, size_t len, void *value, RtError *err) {
        int r = ctr_state_parse(text, len, value, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

int ctr_state_read(const CtrStore *s, const char *id, CtrState *ret, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "state.json", p);
        RtError e = {};
        int r = file_cache_load(s->caches ? s->caches->state : NULL, p, CTR_MAX_STATE_FILE, parse_state_file,
                                ret, &e);
        /* Never started: create writes no state file. */
        if (r == -ENOENT) {
                *ret = (CtrState) { .status = CTR_CREATED };
                return 0;
        }
        if (r < 0 && err)
                *err = e;
        return r;
}

void ctr_config_done(CtrConfig *k) {
        free(k->image);
        free(k->rootfs);
        free(k->workdir);
        free(k->user);
        free(k->network);
        free(k->ready);
        strv_free(k->argv);
        strv_free(k->env);
        strv_free(k->caps);
        strv_free(k->labels);
        for (size_t i = 0; i < k->n_mounts; i++) {
                free(k->mounts[i].source);
                free(k->mounts[i].destination);
        }
        free(k->mounts);
        *k = (CtrConfig) {};
}

void ctr_done(Container *c) {
        if (!c)
                return;
        ctr_config_done(&c->config);
        *c = (Container) {};
}

static int dup_optional(const char *v, char **ret) {
        *ret = NULL;
        return v && !(*ret = strdup(v)) ? -ENOMEM : 0;
}

static int strv_copy_optional(char *const *v, char ***ret) {
        *ret = NULL;
        return v && !(*ret = strv_copy(v)) ? -ENOMEM : 0;
}

int ctr_config_copy(CtrConfig *dst, const CtrConfig *src) {
        CtrConfig k = *src;
        k.image = k.rootfs = k.workdir = k.user = k.network = k.ready = NULL;
        k.argv = k.env = k.caps = k.labels = NULL;
        k.mounts = NULL;
        k.n_mounts = 0;
        int r = 0;
        if ((r = dup_optional(src->image, &k.image)) < 0 || (r = dup_optional(src->rootfs, &k.rootfs)) < 0 ||
            (r = dup_optional(src->workdir, &k.workdir)) < 0 || (r = dup_optional(src->user, &k.user)) < 0 ||
            (r = dup_optional(src->network, &k.network)) < 0 || (r = dup_optional(src->ready, &k.ready)) < 0 || (r = strv_copy_optional(src->argv, &k.argv)) < 0 ||
            (r = strv_copy_optional(src->env, &k.env)) < 0 || (r = strv_copy_optional(src->caps, &k.caps)) < 0 ||
            (r = strv_copy_optional(src->labels, &k.labels)) < 0)
                goto fail;
        if (src->mounts) {
                /* one spare, as config_from_json allocates */
                if (!(k.mounts = calloc(src->n_mounts + 1, sizeof *k.mounts))) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (; k.n_mounts < src->n_mounts; k.n_mounts++) {
                        const BindMount *m = &src->mounts[k.n_mounts];
                        BindMount *b = &k.mounts[k.n_mounts];
                        *b = *m;
                        b->source = b->destination = NULL;
                        if ((r = dup_optional(m->source, &b->source)) < 0 ||
                            (r = dup_optional(m->destination, &b->destination)) < 0) {
                                k.n_mounts++; /* freed with the rest */
                                goto fail;
                        }
                }
        }
        *dst = k;
        return 0;
fail:
        ctr_config_done(&k);
        return r;
}

static int config_value_copy(void *dst, const void *src) {
        return ctr_config_copy(dst, src);
}

static void config_value_done(void *value) {
        ctr_config_done(value);
}

static int state_value_copy(void *dst, const void *src) {
        memcpy(dst, src, sizeof(CtrState));
        return 0;
}

static const FileCacheType config_cache_type = {
        .size = sizeof(CtrConfig), .copy = config_value_copy, .done = config_value_done,
};
static const FileCacheType state_cache_type = { .size = sizeof(CtrState), .copy = state_value_copy };

int ctr_store_caches_open(CtrStore *s, RtError *err) {
        CtrCaches *c = calloc(1, sizeof *c);
        if (!c)
                return rt_err_set(err, -ENOMEM, "state caches");
        /* slots: more than the containers of a lab host at once; a collision costs a parse */
        int r;
        if ((r = file_cache_new(&config_cache_type, 512, &c->config)) < 0 ||
            (r = file_cache_new(&state_cache_type, 512, &c->state)) < 0) {
                s->caches = c;
                ctr_store_caches_close(s);
                return rt_err_set(err, r, "state caches");
        }
        s->caches = c;
        return 0;
}

void ctr_caches_forget(const CtrStore *s, const char *id) {
        if (!s->caches)
                return;
        char p[PATH_MAX];
        ctr_path(s, id, "config.json", p);
        file_cache_forget(s->caches->config, p);
        ctr_path(s, id, "state.json", p);
        file_cache_forget(s->caches->state, p);
        ctr_path(s, id, "networks.json", p);
        file_cache_forget(s->caches->attachments, p);
}

void ctr_store_caches_close(CtrStore *s) {
        CtrCaches *c = s->caches;
        if (!c)
                return;
        /* the network module's too (net_caches_open): each cache frees its own kind */
        file_cache_free(c->config);
        file_cache_free(c->state);
        file_cache_free(c->network);
        file_cache_free(c->attachments);
        free(c);
        s->caches = NULL;
}

static int parse_config_file(const char *path, const char *text, size_t len, void *value, RtError *err) {
        int r = ctr_config_parse(text, len, value, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

int ctr_load(const CtrStore *s, const char *id, Container *ret, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "config.json", p);
        _cleanup_(ctr_done) Container c = {};
        int r = file_cache_load(s->caches ? s->caches->config : NULL, p, CTR_MAX_STATE_FILE, parse_config_file,
                                &c.config, err);
        if (r == -ENOENT)
                return rt_err_setx(err, -ENOENT, "no such container '%s'", id);
        if (r < 0)
                return r;
        r = ctr_state_read(s, id, &c.state, err);
        if (r < 0)
                return r;
        *ret = c;
        c = (Container) {};
        return 0;
}

void ctr_list_free(Container *cs, size_t n) {
        for (size_t i = 0; i < n; i++)
                ctr_done(&cs[i]);
        free(cs);
}

static int cmp_created(const void *a, const void *b) {
        const Container *x = a, *y = b;
        return (x->config.created_ns < y->config.created_ns) - (x->config.created_ns > y->config.created_ns);
}

/* A container dir's record, as a listing shows it (a dead monitor's reads as exited). A
 * container being created or removed right now has a partial dir: passed over. */
static int list_load_container(const CtrStore *s, const char *name, void *slot) {
        Container *c = slot;
        *c = (Container) {};
        if (ctr_id_check(name, NULL) < 0 || ctr_load(s, name, c, NULL) < 0)
                return -ENOENT;
        (void) ctr_state_observe(c);
        return 0;
}

static void list_done_container(void *slot) {
        ctr_done(slot);
}

int ctr_list(const CtrStore *s, Container **ret, size_t *ret_n, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_CONTAINERS, NULL, NULL, p);
        if (access(p, F_OK) < 0)
                return rt_err_set(err, -errno, "read %s", p);
        void *cs = NULL;
        int r = store_list(s, STORE_CONTAINERS, NULL, sizeof(Container), list_load_container, list_done_container,
                           cmp_created, &cs, ret_n, err);
        if (r == 0)
                *ret = cs;
        return r;
}

int signal_from_string(const char *s) {
        if (!s || !*s)
                return -EINVAL;
        uint32_t n;
        if (safe_atou32(s, &n) == 0)
                return n > 0 && n < NSIG ? (int) n : -EINVAL;
        const char *name = startswith(s, "SIG") ?: s;
        /* Real-time signals have no fixed number: RTMIN, RTMIN+N, RTMAX-N */
        const char *rt;
        if ((rt = startswith(name, "RTMIN")) || (rt = startswith(name, "RTMAX"))) {
                bool min = name[3] == 'I';
                int base = min ? SIGRTMIN : SIGRTMAX, off = 0;
                if (*rt) {
                        uint32_t v;
                        if (rt[0] != (min ? '+' : '-') || safe_atou32(rt + 1, &v) < 0 || v > 32)
                                return -EINVAL;
                        off = min ? (int) v : -(int) v;
                }
                int sig = base + off;
                return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -EINVAL;
        }
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, name) == 0)
                        return i;
        }
        return -EINVAL;
}

const char *signal_to_string(int sig, char buf[static 16]) {
        const char *a = sigabbrev_np(sig);
        if (a)
                (void) snprintf(buf, 16, "SIG%s", a);
        else
                (void) snprintf(buf, 16, "%d", sig);
        return buf;
}

bool ctr_state_observe(Container *c) {
        CtrState *st = &c->state;
        if (st->status != CTR_RUNNING || proc_id_alive(&st->monitor))
                return false;
        /* Its monitor is gone (kill -9, OOM): the container ended with it, PID 1 by its
         * parent-death signal. */
        st->status = CTR_EXITED;
        st->exit_code = 137;
        st->finished_ns = st->finished_ns ? st->finished_ns : now_realtime_ns();
        st->netns[0] = '\0';
        (void) snprintf(st->error, sizeof st->error, "its monitor died");
        return true;
}

int ctr_removed_exit_code(const CtrStore *s, const char *id, int *ret) {
        char p[PATH_MAX], *text = NULL;
        if (strlen(id) != CTR_ID_LEN || strchr(id, '/'))
                return -ENOENT;
        (void) snprintf(p, sizeof p, "%s/exits/%s", s->runroot, id);
        int r = read_file(p, 64, &text, NULL, NULL);
        if (r < 0)
                return r;
        int32_t code;
        r = safe_atoi32(text, &code);
        free(text);
        if (r < 0)
                return -EBADMSG;
        *ret = code;
        return 0;
}

int ctr_log_line_parse(const char *line, size_t len, CtrLogLine *ret) {
        const char *end = line + len;
        const char *sp1 = memchr(line, ' ', len);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t) (end - sp1 - 1)) : NULL;
        const char *sp3 = sp2 ? memchr(sp2 + 1, ' ', (size_t) (end - sp2 - 1)) : NULL;
        if (!sp3 || sp3 != sp2 + 2)
                return -EBADMSG;
        *ret = (CtrLogLine) { .time = line, .time_len = (size_t) (sp1 - line),
                              .is_stderr = (size_t) (sp2 - sp1 - 1) == 6 && memcmp(sp1 + 1, "stderr", 6) == 0,
                              .full = sp2[1] == 'F', .text = sp3 + 1, .text_len = (size_t) (end - sp3 - 1) };
        return 0;
}

int ctr_log_path(const CtrStore *s, const char *id, char buf[static PATH_MAX]) {
        ctr_path(s, id, "ctr.log", buf);
        return 0;
}

void ctr_netns_name(const char *id, char buf[static 128]) {
        (void) snprintf(buf, 128, "%s%s", NETNS_NAME_PREFIX, id);
}

bool ctr_create_abandoned(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0 && time(NULL) - st.st_mtime > CTR_CREATE_SECONDS;
}
