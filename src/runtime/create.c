/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create: a container's config checked, built from its image and written, its name
 * claimed, its networks attached (not wired: that is start's). */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "sync.h"
#include "forkexec.h"
#include "fs.h"
#include "parse.h"
#include "log.h"
#include "netns.h"
#include "strv.h"
#include "sys.h"

/* ---- create ---- */

static const char *const name_left[] = {
        "agile", "brave", "calm", "eager", "fond", "gentle", "happy", "keen", "lucid", "merry",
        "nimble", "proud", "quiet", "rapid", "sharp", "tidy", "vivid", "witty", "zesty", "bold",
};
static const char *const name_right[] = {
        "babbage", "cerf", "dijkstra", "euler", "gauss", "hopper", "kahn", "knuth", "lamport",
        "liskov", "lovelace", "metcalfe", "noether", "perlman", "postel", "ritchie", "shannon",
        "thompson", "turing", "wirth",
};

static int generate_id(char out[static CTR_ID_LEN + 1]) {
        uint8_t b[CTR_ID_LEN / 2];
        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -errno;
        for (size_t i = 0; i < sizeof b; i++)
                (void) snprintf(out + 2 * i, 3, "%02x", b[i]);
        /* Docker's rule, kept by Podman: an id is never all digits, so it never looks
         * like a number to a tool that parses `ps` output. */
        if (strspn(out, "0123456789") == CTR_ID_LEN)
                out[0] = 'a';
        return 0;
}

static int hostname_check(const char *h, RtError *err) {
        size_t l = strlen(h);
        if (l == 0 || l > CTR_HOSTNAME_MAX)
                return rt_err_setx(err, -EINVAL, "hostname must be 1-%d characters", CTR_HOSTNAME_MAX);
        for (size_t i = 0; i < l; i++)
                if (!isascii((unsigned char) h[i]) ||
                    !(isalnum((unsigned char) h[i]) || h[i] == '-' || h[i] == '.' || h[i] == '_'))
                        return rt_err_setx(err, -EINVAL, "invalid hostname '%.64s'", h);
        return 0;
}

static int path_check(const char *what, const char *p, RtError *err) {
        if (!p || p[0] != '/')
                return rt_err_setx(err, -EINVAL, "%s '%s' must be an absolute path", what, p ? p : "");
        if (strlen(p) >= PATH_MAX / 2)
                return rt_err_setx(err, -ENAMETOOLONG, "%s is too long", what);
        /* ".." could climb out of the rootfs before RESOLVE_IN_ROOT ever sees it in
         * the source, and in the target it is never what a user means. */
        for (const char *q = p; (q = strstr(q, "..")); q += 2)
                if ((q == p || q[-1] == '/') && (q[2] == '/' || q[2] == '\0'))
                        return rt_err_setx(err, -EINVAL, "%s '%s' must not contain '..'", what, p);
        return 0;
}

static int kv_check(const char *what, char *const *v, size_t max, RtError *err) {
        if (strv_length(v) > max)
                return rt_err_setx(err, -E2BIG, "too many %s entries (at most %zu)", what, max);
        for (size_t i = 0; v && v[i]; i++) {
                const char *eq = strchr(v[i], '=');
                if (!eq || eq == v[i])
                        return rt_err_setx(err, -EINVAL, "%s '%.80s' is not KEY=VALUE", what, v[i]);
        }
        return 0;
}

static int resolve_command(const Image *img, const CtrSpec *spec, char ***ret, RtError *err) {
        _cleanup_(strv_freep) char **argv = NULL;
        char *const *entry = img->config.entrypoint;
        char *const *cmd = spec->command && spec->command[0] ? spec->command : img->config.cmd;
        char *const one[] = { (char *) spec->entrypoint, NULL };
        if (spec->entrypoint) {
                entry = spec->entrypoint[0] ? one : NULL;
                /* Docker's rule: a new entrypoint drops the image's Cmd. */
                if (!(spec->command && spec->command[0]))
                        cmd = NULL;
        }
        for (size_t i = 0; entry && entry[i]; i++)
                if (strv_push(&argv, entry[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "command");
        for (size_t i = 0; cmd && cmd[i]; i++)
                if (strv_push(&argv, cmd[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "command");
        if (!argv || !argv[0] || !argv[0][0])
                return rt_err_setx(err, -EINVAL, "no command given and image '%s' has none",
                                   img->name);
        if (strv_length(argv) > CTR_MAX_ARGS)
                return rt_err_setx(err, -E2BIG, "command has more than %d arguments", CTR_MAX_ARGS);
        *ret = TAKE_PTR(argv);
        return 0;
}

int ctr_parse_memory(const char *s, uint64_t *ret) {
        return parse_size(s, ret);
}

int ctr_parse_cpus(const char *s, uint64_t *ret) {
        if (!s || !*s || s[0] == '-')
                return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || *end || end == s || !(v > 0))
                return -EINVAL;
        if (v > 4096)
                return -ERANGE;
        /* the kernel's floor for a quota is 1 ms */
        uint64_t us = (uint64_t) (v * 100000 + 0.5);
        *ret = us < 1000 ? 1000 : us;
        return 0;
}

static int resolve_limits(const CtrSpec *spec, CtrConfig *c, RtError *err) {
        if (spec->pids_limit < -1 || spec->pids_limit > INT32_MAX)
                return rt_err_setx(err, -EINVAL, "a pids limit is -1 (none) or up to %d", INT32_MAX);
        if (spec->memory_limit && spec->memory_limit < CTR_MIN_MEMORY_LIMIT)
                return rt_err_setx(err, -EINVAL, "a memory limit is at least 6 MiB (Podman's minimum)");
        c->pids_limit = spec->pids_limit;
        c->memory_limit = spec->memory_limit;
        c->cpu_quota_us = spec->cpu_quota_us;
        return 0;
}

/* What the container must show before a start returns: its own declaration (an option or
 * a label), the image's, the server's default for the image. */
static int resolve_ready(const CtrSpec *spec, const Image *img, CtrConfig *c, RtError *err) {
        const char *ready = spec->ready ?: strv_env_get(spec->labels, CTR_READY_LABEL) ?: img->config.ready
                                                                                         ?: spec->ready_default;
        CtrReady parsed;
        int r = ctr_ready_parse(ready, &parsed, err);
        if (r < 0)
                return r;
        if (parsed.kind != CTR_READY_NONE && !(c->ready = strdup(ready)))
                return rt_err_set(err, -ENOMEM, "readiness");
        c->ready_timeout_ms = spec->ready_timeout_ms;
        const char *timeout = strv_env_get(spec->labels, CTR_READY_TIMEOUT_LABEL);
        if (!c->ready_timeout_ms && timeout) {
                uint64_t ms;
                if (parse_duration_ms(timeout, CTR_READY_MAX_TIMEOUT_MS, &ms) < 0 || ms == 0)
                        return rt_err_setx(err, -EINVAL, "label %s: '%.32s' is not a duration of at most 24h",
                                           CTR_READY_TIMEOUT_LABEL, timeout);
                c->ready_timeout_ms = (int) ms;
        }
        if (c->ready_timeout_ms < 0 || c->ready_timeout_ms > (int) CTR_READY_MAX_TIMEOUT_MS)
                return rt_err_setx(err, -EINVAL, "a ready timeout is at most 24h");
        return 0;
}

static int build_config(const CtrStore *s, const CtrSpec *spec, const Image *img, CtrConfig *c,
                        RtError *err) {
        int r;
        if ((r = resolve_command(img, spec, &c->argv, err)) < 0)
                return r;
        if ((r = kv_check("env", spec->env, CTR_MAX_ENV, err)) < 0 ||
            (r = kv_check("label", spec->labels, CTR_MAX_LABELS, err)) < 0)
                return r;
        for (size_t i = 0; img->config.env && img->config.env[i]; i++)
                if (strv_env_set(&c->env, img->config.env[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "env");
        for (size_t i = 0; spec->env && spec->env[i]; i++)
                if (strv_env_set(&c->env, spec->env[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "env");
        if (!strv_env_get(c->env, "PATH") &&
            strv_env_set(&c->env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
                return rt_err_set(err, -ENOMEM, "env");
        if (spec->labels && !(c->labels = strv_copy(spec->labels)))
                return rt_err_set(err, -ENOMEM, "labels");

        if ((r = ctr_user_check(spec->user, err)) < 0)
                return r;
        if (spec->user && *spec->user && !(c->user = strdup(spec->user)))
                return rt_err_set(err, -ENOMEM, "user");

        const char *wd = spec->workdir ? spec->workdir : img->config.workdir;
        if (wd && (r = path_check("workdir", wd, err)) < 0)
                return r;
        if (wd && !(c->workdir = strdup(wd)))
                return rt_err_set(err, -ENOMEM, "workdir");
        c->create_workdir = wd && !spec->workdir;

        if ((r = caps_resolve(spec->cap_add, spec->cap_drop, spec->privileged, &c->caps, err)) < 0)
                return r;

        if (spec->n_mounts > CTR_MAX_MOUNTS)
                return rt_err_setx(err, -E2BIG, "more than %d mounts", CTR_MAX_MOUNTS);
        c->mounts = calloc(spec->n_mounts + 1, sizeof *c->mounts);
        if (!c->mounts)
                return rt_err_set(err, -ENOMEM, "mounts");
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const BindMount *m = &spec->mounts[i];
                struct stat st;
                if ((r = path_check("mount source", m->source, err)) < 0 ||
                    (r = path_check("mount destination", m->destination, err)) < 0)
                        return r;
                if (stat(m->source, &st) < 0)
                        return rt_err_set(err, -errno, "bind mount source '%s'", m->source);
                BindMount *b = &c->mounts[c->n_mounts++];
                b->readonly = m->readonly;
                if (!(b->source = strdup(m->source)) || !(b->destination = strdup(m->destination)))
                        return rt_err_set(err, -ENOMEM, "mounts");
        }

        bool none = spec->networks ? !spec->networks[0] : streq(s->default_network, "none");
        for (size_t i = 0; spec->networks && spec->networks[i]; i++) {
                if (streq(spec->networks[i], "none")) {
                        if (strv_length(spec->networks) > 1)
                                return rt_err_setx(err, -EINVAL, "--network none cannot be combined with networks");
                        none = true;
                } else if ((r = net_name_check(spec->networks[i], err)) < 0)
                        return r;
        }
        if (!(c->network = strdup(none ? "none" : "bridge")))
                return rt_err_set(err, -ENOMEM, "network");

        const char *sig = spec->stop_signal ? spec->stop_signal : img->config.stop_signal;
        c->stop_signal = sig ? signal_from_string(sig) : SIGTERM;
        if (c->stop_signal < 0)
                return rt_err_setx(err, -EINVAL, "unknown stop signal '%s'", sig);
        c->stop_timeout = spec->stop_timeout >= 0 ? spec->stop_timeout : CTR_DEFAULT_STOP_TIMEOUT;
        c->privileged = spec->privileged;
        c->tty = spec->tty;
        c->interactive = spec->interactive;
        c->rm = spec->rm;
        c->init = !spec->no_init;
        if ((r = resolve_ready(spec, img, c, err)) < 0 || (r = resolve_limits(spec, c, err)) < 0)
                return r;
        c->created_ns = now_realtime_ns();
        if (!(c->image = strdup(img->name)) || !(c->rootfs = strdup(img->rootfs)))
                return rt_err_set(err, -ENOMEM, "image");
        return 0;
}

/* O_EXCL makes the name file the arbiter: of two racing creates exactly one wins. */
/* A name file whose creator was killed before its container's config was written: not
 * locked by a live creator, older than a creation takes, and naming no container. */
static bool name_abandoned(const CtrStore *s, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return false;
        char other[CTR_ID_LEN + 1] = "", cfg[PATH_MAX];
        if (read(fd, other, CTR_ID_LEN) == CTR_ID_LEN) {
                ctr_path(s, other, "config.json", cfg);
                if (access(cfg, F_OK) == 0)
                        return false;
        }
        return ctr_create_abandoned(path);
}

/* The name, taken for id; *ret_lock holds it, locked, until the container's config is on
 * record, so that a name whose creator was killed halfway can be told from one being
 * made (name_abandoned, gc). */
static int claim_name(const CtrStore *s, const char *name, const char *id, int *ret_lock, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_NAMES, name, NULL, p);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int open_errno = fd < 0 ? errno : 0;
        if (open_errno == EEXIST && name_abandoned(s, p)) {
                (void) unlink(p);
                fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                open_errno = fd < 0 ? errno : 0;
        }
        if (open_errno == EEXIST) {
                char other[CTR_ID_LEN + 1] = "";
                int o = open(p, O_RDONLY | O_CLOEXEC);
                if (o >= 0) {
                        (void) !read(o, other, CTR_ID_LEN);
                        close(o);
                }
                return rt_err_setx(err, -EEXIST,
                                   "the container name '%s' is already in use by %.12s; remove "
                                   "that container to reuse the name",
                                   name, other);
        }
        if (fd < 0)
                return rt_err_set(err, -open_errno, "claim name '%s'", name);
        (void) flock(fd, LOCK_EX);
        ssize_t n = write(fd, id, CTR_ID_LEN);
        if (n != CTR_ID_LEN) {
                (void) unlink(p);
                close(fd);
                return rt_err_setx(err, -EIO, "claim name '%s': short write", name);
        }
        *ret_lock = fd;
        return 0;
}

int ctr_create(const CtrStore *s, const CtrSpec *spec, char ret_id[static CTR_ID_LEN + 1],
               RtError *err) {
        assert_return(s && spec && spec->image, -EINVAL);
        _cleanup_(ctr_done) Container c = {};
        CtrConfig *k = &c.config;
        int r = generate_id(k->id);
        if (r < 0)
                return rt_err_set(err, r, "generate a container id");

        if (spec->name) {
                if ((r = ctr_name_check(spec->name, err)) < 0)
                        return r;
                (void) snprintf(k->name, sizeof k->name, "%s", spec->name);
        } else {
                uint8_t b[2];
                if (getrandom(b, sizeof b, 0) != 2)
                        b[0] = b[1] = (uint8_t) getpid();
                (void) snprintf(k->name, sizeof k->name, "%s_%s", name_left[b[0] % ELEMENTSOF(name_left)],
                                name_right[b[1] % ELEMENTSOF(name_right)]);
        }
        if (spec->hostname && (r = hostname_check(spec->hostname, err)) < 0)
                return r;
        (void) snprintf(k->hostname, sizeof k->hostname, "%s",
                        spec->hostname ? spec->hostname : k->id);
        if (!spec->hostname)
                k->hostname[CTR_SHORT_ID_LEN] = '\0';

        _cleanup_(image_done) Image img = {};
        if ((r = ctr_image_resolve(s, spec->image, &img, err)) < 0)
                return r;
        if (!streq(img.rootfs, CTR_HOST_IMAGE) && access(img.rootfs, F_OK) < 0)
                return rt_err_set(err, -errno, "image '%s': rootfs %s", img.name, img.rootfs);
        if ((r = build_config(s, spec, &img, k, err)) < 0)
                return r;

        char dir[PATH_MAX], lockp[PATH_MAX];
        ctr_path(s, k->id, NULL, dir);
        ctr_path(s, k->id, "lock", lockp);
        _cleanup_close_ int name_lock = -1, lock = -1;
        /* Generated names can collide; try a few before giving up. */
        for (int tries = 0;; tries++) {
                r = claim_name(s, k->name, k->id, &name_lock, err);
                if (r != -EEXIST || spec->name || tries >= 8)
                        break;
                size_t l = strlen(k->name);
                (void) snprintf(k->name + (l > 60 ? 60 : l), 5, "%d", tries);
        }
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0) {
                r = rt_err_set(err, -errno, "create %s", dir);
                goto fail;
        }
        /* Locked until the config is on record: a dir without one whose lock is free was
         * left by a create that was killed (gc), not one in progress. */
        if ((lock = lock_file(lockp, true, err)) < 0) {
                r = lock;
                goto fail;
        }
        /* No state file yet: a container without one is "created". */
        if ((r = rootfs_prepare(s, k, err)) < 0 || (r = ctr_config_write(s, k, err)) < 0)
                goto fail;
        /* the connects below take the lock themselves */
        lock = safe_close(lock);
        name_lock = safe_close(name_lock);
        for (size_t i = 0; spec->networks && spec->networks[i]; i++) {
                if (streq(spec->networks[i], "none"))
                        continue;
                NetConnect nc = { .network = spec->networks[i],
                                  .ifname = spec->net_ifnames ? spec->net_ifnames[i] : NULL,
                                  .mac = spec->net_macs ? spec->net_macs[i] : NULL,
                                  .ip = spec->net_ips ? spec->net_ips[i] : NULL,
                                  .ip6 = spec->net_ip6s ? spec->net_ip6s[i] : NULL };
                if ((r = ctr_network_connect(s, k->id, &nc, NULL, err)) < 0)
                        goto fail;
        }
        if (!spec->networks && !streq(s->default_network, "none")) {
                /* No --network: the default network, made on first use, as Podman's. */
                if ((r = net_ensure_default(s, err)) < 0)
                        goto fail;
                NetConnect nc = { .network = s->default_network };
                if ((r = ctr_network_connect(s, k->id, &nc, NULL, err)) < 0)
                        goto fail;
        }
        memcpy(ret_id, k->id, CTR_ID_LEN + 1);
        ctr_event(s, "container", "create", k->id, k->name, k->image, -1);
        return 0;
fail:
        (void) ctr_destroy(s, k->id, k->name);
        return r;
}

