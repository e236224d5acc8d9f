/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers: create, start (monitor + init), stop, kill, remove, wait.
 *
 * Process model (DESIGN.md): `start` forks a monitor (setsid, so it outlives the CLI),
 * which clones the container's PID 1 into new mount, pid, uts, ipc and cgroup namespaces;
 * PID 1 joins the container's named netns, builds the root filesystem, drops privileges
 * and, as a tiny init, forks the command, reaps zombies and forwards signals. Setup
 * failures travel back over SOCK_SEQPACKET sync sockets as {code, message} records, so
 * the caller sees "exec 'foo': No such file or directory", never a bare exit status. */
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

#include "ctr-internal.h"
#include "forkexec.h"
#include "fs.h"
#include "parse.h"
#include "log.h"
#include "net.h"
#include "netns.h"
#include "strv.h"
#include "sys.h"

enum {
        SYNC_ERROR = 1,
        SYNC_STARTED,
        SYNC_EXITED,
        SYNC_PTY,    /* carries the pty master, made in the container's own devpts */
        SYNC_NETNS,  /* to PID 1 (and from a wiring CLI to the monitor): the container's
                      * netns, named already, as an fd; code SYNC_NETNS_LO_UP when its
                      * wiring brought lo up too */
        SYNC_PID1,   /* monitor to starter, right after the clone: PID 1's host pid */
        SYNC_READY,  /* PID 1 to the monitor: set up, the command found; waits for GO */
        SYNC_GO,     /* the monitor to PID 1: "running" is on record, exec the command */
};

#define SYNC_NETNS_LO_UP 1

typedef struct SyncMsg {
        int type;
        int code;   /* -errno for SYNC_ERROR, exit status for SYNC_EXITED */
        pid_t pid;  /* SYNC_PID1 (and SYNC_STARTED from the monitor): the container's PID 1
                     * as the host sees it; SYNC_ERROR: 126/127 when the command could
                     * not be run/found */
        pid_t sender; /* the monitor's pid, for the state: it is not the caller's child */
        char msg[512];
} SyncMsg;

/* Child-side send: a failed send has nobody left to tell, so it is ignored. */
static void sync_send(int fd, int type, int code, pid_t pid, const char *msg) {
        SyncMsg m = { .type = type, .code = code, .pid = pid, .sender = getpid() };
        if (msg)
                (void) snprintf(m.msg, sizeof m.msg, "%s", msg);
        (void) send(fd, &m, sizeof m, MSG_NOSIGNAL);
}

static int sync_send_fd(int fd, int type, int code, int passfd) {
        SyncMsg m = { .type = type, .code = code };
        return sys_send_with_fd(fd, &m, sizeof m, passfd);
}

/* Receives a SYNC_PTY record with its fd, or another record (an error) without one. */
static int sync_recv_fd(int fd, SyncMsg *m, int *ret_fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return n == 0 ? -ETIMEDOUT : -errno;
        ssize_t got = sys_recv_with_fd(fd, m, sizeof *m, ret_fd);
        if (got <= 0)
                return (int) got;
        if ((size_t) got != sizeof *m) {
                if (*ret_fd >= 0)
                        *ret_fd = safe_close(*ret_fd);
                return -EBADMSG;
        }
        m->msg[sizeof m->msg - 1] = '\0';
        return 1;
}

/* Waits at most timeout_ms for one record; EOF is 0 (the peer exec'd or died). */
static int sync_recv(int fd, SyncMsg *m, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        for (;;) {
                int n = poll(&p, 1, timeout_ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ETIMEDOUT;
                ssize_t got = recv(fd, m, sizeof *m, 0);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return -errno;
                if (got == 0)
                        return 0;
                if ((size_t) got != sizeof *m)
                        return -EBADMSG;
                m->msg[sizeof m->msg - 1] = '\0';
                return 1;
        }
}

/* After our half-close: waits (10 s at most) until the monitor has gone, which its end
 * of the socket closing tells, records it sent meanwhile read and dropped. Then closes. */
static void sync_wait_gone(int fd) {
        (void) shutdown(fd, SHUT_WR);
        SyncMsg m;
        for (uint64_t end = now_monotonic_ms() + 10 * 1000, now; (now = now_monotonic_ms()) < end;)
                if (sync_recv(fd, &m, (int) (end - now)) <= 0)
                        break;
        close(fd);
}

/* The container's netns, made at start (or taken from serve's pool); one of that name left
 * by a killed monitor is this container's own, and goes first. */
static int container_netns_create(const CtrStore *s, const char *name, int *ret_fd, RtError *err) {
        int r = netns_pool_make(s->netns_pool, name, ret_fd, err);
        if (r == -EEXIST) {
                (void) netns_delete(name, NULL);
                r = netns_pool_make(s->netns_pool, name, ret_fd, err);
        }
        return r;
}

void ctr_netns_name(const char *id, char buf[static 128]) {
        (void) snprintf(buf, 128, "%s%s", NETNS_NAME_PREFIX, id);
}

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
        (void) snprintf(p, sizeof p, "%s/names/%s", s->runroot, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && name_abandoned(s, p)) {
                (void) unlink(p);
                fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        }
        if (fd < 0 && errno == EEXIST) {
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
                return rt_err_set(err, -errno, "claim name '%s'", name);
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

/* ---- inside the container ---- */

typedef struct ChildArgs {
        const CtrStore *store;
        const CtrConfig *config;
        const char *ctrdir;
        int sync_fd;       /* to the monitor */
        /* the monitor's starter (the CLI, the shim), told SYNC_STARTED by PID 1 itself:
         * a hop less on every start's path; -1 when nobody waits */
        int starter_fd;
        int stdin_fd, stdout_fd, stderr_fd; /* the command's, in the host's view */
        bool tty;
        const SeccompProgram *seccomp;
} ChildArgs;

/* Moves the fds a process keeps to fixed low numbers (3, 4, …) and closes every other one
 * it inherited: the CLI's lock fds, whose flocks would otherwise stay held for the
 * container's whole life, and the monitor's pipe ends, which PID 1 (a fork that never
 * execs, so O_CLOEXEC does not help) would otherwise hold open, keeping EOF from the
 * command. */
int ctr_find_executable(const char *name, char *const *env, char buf[static PATH_MAX]) {
        if (strchr(name, '/')) {
                (void) snprintf(buf, PATH_MAX, "%s", name);
                return access(buf, X_OK) == 0 ? 0 : -errno;
        }
        const char *path = strv_env_get(env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        int last = -ENOENT;
        for (const char *p = path; *p;) {
                const char *colon = strchr(p, ':');
                size_t l = colon ? (size_t) (colon - p) : strlen(p);
                (void) snprintf(buf, PATH_MAX, "%.*s/%s", (int) l, l ? p : ".", name);
                if (access(buf, X_OK) == 0)
                        return 0;
                if (errno == EACCES)
                        last = -EACCES;
                p += l + (colon ? 1 : 0);
                if (!colon)
                        break;
        }
        return last;
}

/* After fork, before exec: the command's stdio, terminal, workdir, then exec. Any
 * failure goes to status_fd as an errno and the process ends. */
static _noreturn_ void exec_command(const ChildArgs *a, int status_fd) {
        sigset_t none;
        sigemptyset(&none);
        /* Only an ignored signal survives exec; the rest reset themselves. These are the
         * ones a caller (a server ignores SIGPIPE) may have ignored. */
        static const int reset[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(reset); i++)
                (void) signal(reset[i], SIG_DFL);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) setsid();
        if (a->tty && ioctl(a->stdout_fd, TIOCSCTTY, 0) < 0)
                goto fail;
        if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0)
                goto fail;
        const char *wd = a->config->workdir ? a->config->workdir : "/";
        if (chdir(wd) < 0)
                goto fail;
        char exe[PATH_MAX];
        int r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        execve(exe, a->config->argv, a->config->env);
fail:;
        int e = errno;
        (void) !write(status_fd, &e, sizeof e);
        _exit(e == ENOENT ? 127 : 126);
}

static void describe_exec_error(const CtrConfig *c, int e, char *buf, size_t size) {
        if (e == ENOENT)
                (void) snprintf(buf, size, "exec '%s': executable file not found in $PATH: "
                                "No such file or directory", c->argv[0]);
        else
                (void) snprintf(buf, size, "exec '%s': %s", c->argv[0], strerror(e));
}

/* PID 1: forks the command, reaps everything, forwards signals, exits with the
 * command's status (128+N when a signal N ended it). */
/* Without a terminal the command starts through posix_spawn: glibc's vfork-style clone
 * skips copying our page tables, and an exec failure comes back as its return value. A
 * terminal needs TIOCSCTTY in the child, which posix_spawn cannot do: fork then. */
static int spawn_command(const ChildArgs *a, pid_t *ret_pid) {
        char exe[PATH_MAX];
        int r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
        if (r < 0)
                return -r;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        static const int reset[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(reset); i++)
                sigaddset(&dfl, reset[i]);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stdin_fd, 0);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stdout_fd, 1);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stderr_fd, 2);
        (void) posix_spawn_file_actions_addchdir_np(&fa, a->config->workdir ? a->config->workdir : "/");
        (void) posix_spawnattr_setsigmask(&at, &none);
        (void) posix_spawnattr_setsigdefault(&at, &dfl);
        (void) posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                      POSIX_SPAWN_SETSIGDEF);
        r = posix_spawn(ret_pid, exe, &fa, &at, a->config->argv, a->config->env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        return r;
}

static int fork_command(const ChildArgs *a, pid_t *ret_pid) {
        int status_pipe[2];
        if (pipe2(status_pipe, O_CLOEXEC) < 0)
                return errno;
        pid_t cmd = fork();
        if (cmd < 0) {
                int e = errno;
                close(status_pipe[0]);
                close(status_pipe[1]);
                return e;
        }
        if (cmd == 0) {
                close(status_pipe[0]);
                exec_command(a, status_pipe[1]);
        }
        close(status_pipe[1]);
        int e = 0;
        ssize_t n;
        do
                n = read(status_pipe[0], &e, sizeof e);
        while (n < 0 && errno == EINTR);
        close(status_pipe[0]);
        if (n == sizeof e) {
                (void) waitpid(cmd, NULL, 0);
                return e;
        }
        *ret_pid = cmd;
        return 0;
}

/* Everything that can keep the command from running is checked before the monitor puts
 * "running" on record: its workdir, and the executable on its PATH. A failure ends PID 1
 * with the status Podman gives it (126, or 127 when the command is not found). */
static void command_check(const ChildArgs *a) {
        struct stat wst;
        char msg[512], exe[PATH_MAX];
        if (a->config->workdir && (stat(a->config->workdir, &wst) < 0 || !S_ISDIR(wst.st_mode))) {
                (void) snprintf(msg, sizeof msg, "workdir '%s' does not exist in the container",
                                a->config->workdir);
                sync_send(a->sync_fd, SYNC_ERROR, -ENOENT, 126, msg);
                _exit(126);
        }
        int r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
        if (r < 0) {
                describe_exec_error(a->config, -r, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, r, r == -ENOENT ? 127 : 126, msg);
                _exit(r == -ENOENT ? 127 : 126);
        }
}

/* The command runs only once the monitor has recorded the container as running: a caller
 * killed before that leaves no command that no record shows. Anything but GO (the
 * monitor undoing the start, or gone) ends PID 1 before the command ever ran. */
static void await_commit(const ChildArgs *a) {
        sync_send(a->sync_fd, SYNC_READY, 0, 0, NULL);
        SyncMsg m = {};
        if (sync_recv(a->sync_fd, &m, 120 * 1000) != 1 || m.type != SYNC_GO)
                _exit(125);
}

/* PID 1: starts the command, reaps everything, forwards signals, exits with the
 * command's status (128+N when a signal N ended it). */
static _noreturn_ void run_init(const ChildArgs *a) {
        sigset_t all;
        sigfillset(&all);
        (void) sigprocmask(SIG_BLOCK, &all, NULL);

        pid_t cmd = -1;
        command_check(a);
        await_commit(a);
        int e = a->tty ? fork_command(a, &cmd) : spawn_command(a, &cmd);
        close(a->stdin_fd);
        close(a->stdout_fd);
        if (a->stderr_fd != a->stdout_fd)
                close(a->stderr_fd);
        if (e != 0) {
                char msg[512];
                describe_exec_error(a->config, e, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, -e, e == ENOENT ? 127 : 126, msg);
                _exit(e == ENOENT ? 127 : 126);
        }
        if (a->starter_fd >= 0) {
                sync_send(a->starter_fd, SYNC_STARTED, 0, 0, NULL);
                /* not ours to hold: the starter reads the monitor's end of life from it */
                close(a->starter_fd);
        }
        sync_send(a->sync_fd, SYNC_STARTED, 0, 0, NULL);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(cmd, sig);
                        continue;
                }
                int st;
                pid_t p;
                while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                        if (p == cmd) {
                                int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                                /* Told before we exit: the kernel's teardown of our
                                 * namespaces then overlaps the monitor's bookkeeping. */
                                sync_send(a->sync_fd, SYNC_EXITED, code, 0, NULL);
                                _exit(code);
                        }
        }
}

/* The monitor makes and names the netns while we build the root (two cores, both busy),
 * and hands it over as an fd; a command can then never end before its netns has a name. */
static int join_container_netns(void *userdata, RtError *err) {
        ChildArgs *a = userdata;
        SyncMsg msg = {};
        int fd = -1;
        int r = sync_recv_fd(a->sync_fd, &msg, &fd, 60 * 1000);
        if (r != 1 || msg.type != SYNC_NETNS || fd < 0) {
                if (fd >= 0)
                        close(fd);
                return rt_err_setx(err, -EIO, "the monitor gave no network namespace");
        }
        r = sys_setns(fd, CLONE_NEWNET);
        close(fd);
        if (r < 0)
                return rt_err_set(err, r, "join the network namespace");
        if (msg.code == SYNC_NETNS_LO_UP)
                return 0; /* by its wiring, which had a socket in there already */
        /* A fresh netns has only lo, at index 1, and it is down. */
        _cleanup_(netns_sock_freep) NlSock *sk = NULL;
        if ((r = netns_sock_open(-1, &sk, err)) < 0 || (r = netns_link_set_up(sk, 1, true, err)) < 0)
                return r;
        return 0;
}

static _noreturn_ void container_main(ChildArgs *a) {
        RtError e = {};
        int r;
        bool shared_err = a->stderr_fd == a->stdout_fd, shared_in = a->stdin_fd == a->stdout_fd;
        int *keep[] = { &a->sync_fd, &a->stdin_fd, &a->stdout_fd, &a->stderr_fd, &a->starter_fd };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* a pty is one fd for all three: keep exec_command's TIOCSCTTY on the same one */
        if (shared_err) {
                close(a->stderr_fd);
                a->stderr_fd = a->stdout_fd;
        }
        if (shared_in) {
                close(a->stdin_fd);
                a->stdin_fd = a->stdout_fd;
        }
        /* Dies with its monitor: a container nobody watches is a leak. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "nsprov-init");
        if (getppid() == 1)
                _exit(125);

        if (sethostname(a->config->hostname, strlen(a->config->hostname)) < 0) {
                r = rt_err_set(&e, -errno, "set hostname");
                goto fail;
        }
        /* read while the container dir is in reach: after the pivot it is not */
        struct winsize ws = {};
        if (a->tty) {
                char p[PATH_MAX], *text = NULL;
                unsigned rows = 0, cols = 0;
                (void) snprintf(p, sizeof p, "%s/%s", a->ctrdir, CTR_TTYSIZE_FILE);
                if (read_file(p, 64, &text, NULL, NULL) == 0 && sscanf(text, "%u %u", &rows, &cols) == 2 &&
                    rows > 0 && rows <= USHRT_MAX && cols > 0 && cols <= USHRT_MAX)
                        ws = (struct winsize) { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
                free(text);
        }
        char rootfs[PATH_MAX];
        (void) snprintf(rootfs, sizeof rootfs, "%s/rootfs", a->ctrdir);
        RootfsPlan plan = { .config = a->config, .ctrdir = a->ctrdir, .rootfs = rootfs,
                            .join_netns = join_container_netns, .userdata = a };
        if ((r = rootfs_setup(&plan, &e)) < 0)
                goto fail;
        /* where it cannot be made (the host image is read-only), the check below says so */
        if (a->config->create_workdir && a->config->workdir)
                (void) mkdir_p(a->config->workdir, 0755, NULL);
        if (a->tty) {
                /* The pty comes from the container's own devpts, so `tty` inside names a
                 * device it can see; the master goes to the monitor. */
                int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0) {
                        r = rt_err_set(&e, -errno, "allocate a terminal");
                        goto fail;
                }
                int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0) {
                        r = rt_err_set(&e, -errno, "open the terminal");
                        goto fail;
                }
                /* before the command can ask; an attached CLI's own size follows */
                if (ws.ws_row)
                        (void) ioctl(master, TIOCSWINSZ, &ws);
                r = sync_send_fd(a->sync_fd, SYNC_PTY, 0, master);
                close(master);
                if (r < 0) {
                        (void) rt_err_set(&e, r, "pass the terminal to the monitor");
                        goto fail;
                }
                a->stdin_fd = a->stdout_fd = a->stderr_fd = slave;
        }
        /* --user: looked up in the container's own files, now that we are in its root */
        CtrUser user, *as_user = NULL;
        CtrConfig with_home;
        if (a->config->user && *a->config->user) {
                if ((r = ctr_user_lookup(a->config->user, &user, &e)) < 0) {
                        /* the command cannot be invoked as asked: 126, as Podman says */
                        sync_send(a->sync_fd, SYNC_ERROR, r, 126, e.msg);
                        _exit(126);
                }
                as_user = &user;
                with_home = *a->config;
                if (!(with_home.env = ctr_user_env(a->config->env, &user))) {
                        r = rt_err_set(&e, -ENOMEM, "env");
                        goto fail;
                }
                a->config = &with_home;
        }
        if ((r = security_apply(a->config, as_user, a->seccomp, &e)) < 0)
                goto fail;

        if (a->config->init)
                run_init(a);

        /* --init=false: the command itself becomes PID 1. The sync socket closes on
         * exec (O_CLOEXEC), which tells the monitor it worked; a failure is sent as a
         * record like any other. */
        {
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) setsid();
                if (a->tty && ioctl(a->stdout_fd, TIOCSCTTY, 0) < 0) {
                        r = rt_err_set(&e, -errno, "set the controlling terminal");
                        goto fail;
                }
                if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0) {
                        r = rt_err_set(&e, -errno, "set up stdio");
                        goto fail;
                }
                command_check(a);
                await_commit(a);
                char exe[PATH_MAX];
                if (chdir(a->config->workdir ? a->config->workdir : "/") < 0)
                        r = -errno;
                else
                        r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
                if (r == 0) {
                        execve(exe, a->config->argv, a->config->env);
                        r = -errno;
                }
                char msg[512];
                describe_exec_error(a->config, -r, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, r, r == -ENOENT ? 127 : 126, msg);
                _exit(r == -ENOENT ? 127 : 126);
        }
fail:
        sync_send(a->sync_fd, SYNC_ERROR, r, 0, e.msg);
        _exit(125);
}

/* ---- the monitor ---- */

typedef struct Monitor {
        const CtrStore *store;
        const CtrConfig *config;
        char ctrdir[PATH_MAX];
        int cli_fd;                  /* sync socket to the CLI */
        /* The container's lock, the starter's own open file (a flock belongs to it, not
         * to a process): held until the start is on record or undone, so that a starter
         * killed at any instant leaves the container locked until then, never half
         * started for another command to see. */
        int lock_fd;
        bool committed;              /* "running" is on record */
        CtrAttach attach;            /* the CLI's stdio when attached, else all -1 */
        CtrState prior;              /* the record before the commit */
        const SeccompProgram *seccomp;
        bool netns_from_cli;         /* the CLI wires the netns meanwhile and sends it when
                                      * done; else the monitor makes it */
        bool attached;
        int stdin_listen_fd;         /* CTR_STDIN_SOCKET: a client's stdin for an -i container
                                      * started without an attached CLI (the shim's attach) */
        int log_fd;
        uint64_t log_bytes;
        char partial[2][8192];       /* an unterminated line per stream, for the log */
        size_t partial_len[2];
} Monitor;

static void log_rotate_if_needed(Monitor *m) {
        if (m->log_bytes < CTR_LOG_MAX_BYTES)
                return;
        char p[PATH_MAX], old[PATH_MAX + 4];
        (void) snprintf(p, sizeof p, "%s/ctr.log", m->ctrdir);
        (void) snprintf(old, sizeof old, "%s.1", p);
        (void) rename(p, old);
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
                close(m->log_fd);
                m->log_fd = fd;
        }
        m->log_bytes = 0;
}

/* One log line in Podman's k8s-file format: "<RFC3339Nano> <stream> <F|P> <text>". */
static void log_line(Monitor *m, int stream, const char *text, size_t len, bool full) {
        if (m->log_fd == -1) {
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/ctr.log", m->ctrdir);
                m->log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                struct stat lst;
                if (m->log_fd >= 0 && fstat(m->log_fd, &lst) == 0)
                        m->log_bytes = (uint64_t) lst.st_size;
                if (m->log_fd < 0)
                        m->log_fd = -2; /* do not try again for every line */
        }
        if (m->log_fd < 0)
                return;
        char ts[40], head[64];
        int hl = snprintf(head, sizeof head, "%s %s %c ", format_rfc3339(now_realtime_ns(), ts),
                          stream ? "stderr" : "stdout", full ? 'F' : 'P');
        struct iovec iov[3] = { { head, (size_t) hl }, { (void *) text, len }, { (void *) "\n", 1 } };
        ssize_t n = writev(m->log_fd, iov, 3);
        if (n > 0)
                m->log_bytes += (uint64_t) n;
        log_rotate_if_needed(m);
}

static void log_output(Monitor *m, int stream, const char *buf, size_t len) {
        char *part = m->partial[stream];
        size_t *pl = &m->partial_len[stream];
        while (len > 0) {
                const char *nl = memchr(buf, '\n', len);
                size_t take = nl ? (size_t) (nl - buf) : len;
                if (*pl + take > sizeof m->partial[stream]) {
                        /* A very long line goes out in pieces marked partial. */
                        log_line(m, stream, part, *pl, false);
                        *pl = 0;
                        if (take > sizeof m->partial[stream]) {
                                log_line(m, stream, buf, take, !!nl);
                                buf += take + (nl ? 1 : 0);
                                len -= take + (nl ? 1 : 0);
                                continue;
                        }
                }
                memcpy(part + *pl, buf, take);
                *pl += take;
                if (nl) {
                        log_line(m, stream, part, *pl, true);
                        *pl = 0;
                        take++;
                }
                buf += take;
                len -= take;
        }
}

static void log_flush_partial(Monitor *m) {
        for (int s = 0; s < 2; s++)
                if (m->partial_len[s]) {
                        log_line(m, s, m->partial[s], m->partial_len[s], false);
                        m->partial_len[s] = 0;
                }
}

static void write_all_or_detach(int *fd, const char *buf, size_t len) {
        while (*fd >= 0 && len > 0) {
                ssize_t n = write(*fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* The attached CLI went away: keep logging, stop relaying. */
                        *fd = safe_close(*fd);
                        return;
                }
                buf += n;
                len -= (size_t) n;
        }
}

/* An --rm container goes; its exit code outlives it a while, for a client's wait after
 * it (Podman's remote run --rm, docker's condition=removed). Under its lock. */
static void remove_with_exit_code(const CtrStore *s, const CtrConfig *c, int exit_code) {
        char p[PATH_MAX], code[16];
        (void) snprintf(p, sizeof p, "%s/exits", s->runroot);
        (void) mkdir(p, 0700);
        (void) snprintf(p, sizeof p, "%s/exits/%s", s->runroot, c->id);
        int len = snprintf(code, sizeof code, "%d", exit_code);
        (void) write_file(p, code, (size_t) len, 0600, false, NULL);
        (void) ctr_destroy(s, c->id, c->name);
        ctr_event(s, "container", "remove", c->id, c->name, c->image, -1);
}

/* Records the end, tears down the netns, removes an --rm container. Under the container
 * lock, so a concurrent stop/rm/inspect sees before or after, never halfway. */
static void monitor_finish(Monitor *m, int exit_code) {
        const CtrConfig *c = m->config;
        char p[PATH_MAX];
        ctr_path(m->store, c->id, "lock", p);
        int lock = lock_file(p, true, NULL);

        ctr_event(m->store, "container", "died", c->id, c->name, c->image, exit_code);
        /* attachments first: CNI plugins DEL best while the netns is still there */
        net_release_container(m->store, c->id);
        char ns[128];
        ctr_netns_name(c->id, ns);
        (void) netns_delete(ns, NULL);
        (void) ledger_forget(m->store, c->id, LEDGER_NETNS);
        if (c->rm)
                remove_with_exit_code(m->store, c, exit_code);
        else {
                CtrState st = {};
                if (ctr_state_read(m->store, c->id, &st, NULL) == 0) {
                        st.status = CTR_EXITED;
                        st.exit_code = exit_code;
                        st.finished_ns = now_realtime_ns();
                        st.netns[0] = '\0';
                        st.init = (ProcId) {};
                        /* a start right after must not take us for a live monitor */
                        st.monitor = (ProcId) {};
                        (void) ctr_state_write(m->store, c->id, &st, NULL);
                }
        }
        if (lock >= 0)
                close(lock);
}

/* Relays and logs output until the container has ended and its output is drained.
 * ctl_fd is the sync socket to PID 1, which reports the command's status before it exits;
 * *ret_reaped says whether PID 1 has been waited for already. */
static int monitor_loop(Monitor *m, pid_t child, int out_fd, int err_fd, int in_fd, int sigfd,
                        int ctl_fd, bool *ret_reaped) {
        char buf[16384];
        int exit_code = -1;
        bool child_done = false, reaped = false;
        /* After PID 1 is gone, the pid namespace is gone and every writer with it; the
         * pipes reach EOF soon. The bound is for a pipe some process outside still
         * holds (a leaked fd): we do not wait on it forever. */
        uint64_t drain_deadline = 0;

        while (out_fd >= 0 || err_fd >= 0 || !child_done) {
                struct pollfd p[6] = {
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = out_fd, .events = POLLIN },
                        { .fd = err_fd, .events = POLLIN },
                        { .fd = in_fd >= 0 ? m->attach.stdin_fd : -1, .events = POLLIN },
                        { .fd = ctl_fd, .events = POLLIN },
                        { .fd = in_fd >= 0 && m->attach.stdin_fd < 0 ? m->stdin_listen_fd : -1, .events = POLLIN },
                };
                int timeout = -1;
                if (child_done) {
                        uint64_t now = now_monotonic_ms();
                        if (now >= drain_deadline)
                                break;
                        timeout = (int) (drain_deadline - now);
                }
                int n = poll(p, 6, timeout);
                if (n < 0 && errno != EINTR)
                        break;
                if (n <= 0)
                        continue;
                if (p[5].fd >= 0 && (p[5].revents & POLLIN)) {
                        /* one stdin at a time, and only root's (the socket is 0600 in a 0700
                         * dir already) */
                        int client = accept4(p[5].fd, NULL, NULL, SOCK_CLOEXEC);
                        struct ucred cred;
                        socklen_t len = sizeof cred;
                        if (client >= 0 && getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                            cred.uid == 0)
                                m->attach.stdin_fd = client;
                        else if (client >= 0)
                                close(client);
                }
                if (ctl_fd >= 0 && (p[4].revents & (POLLIN | POLLHUP | POLLERR))) {
                        SyncMsg msg = {};
                        int r = sync_recv(ctl_fd, &msg, 0);
                        if (r == 1 && msg.type == SYNC_EXITED && !child_done) {
                                exit_code = msg.code;
                                child_done = true;
                                drain_deadline = now_monotonic_ms() + 2000;
                        }
                        if (r != 1)
                                ctl_fd = safe_close(ctl_fd);
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        (void) !read(sigfd, &si, sizeof si);
                        int st;
                        pid_t w;
                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                if (w == child) {
                                        if (!child_done) {
                                                exit_code = WIFEXITED(st) ? WEXITSTATUS(st)
                                                                          : 128 + WTERMSIG(st);
                                                child_done = true;
                                                drain_deadline = now_monotonic_ms() + 2000;
                                        }
                                        reaped = true;
                                }
                }
                for (int s = 0; s < 2; s++) {
                        int *fd = s ? &err_fd : &out_fd;
                        if (*fd < 0 || !(p[1 + s].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        ssize_t got = read(*fd, buf, sizeof buf);
                        if (got <= 0) {
                                /* EOF, or EIO from a pty whose last slave closed */
                                if (got == 0 || errno != EINTR)
                                        *fd = safe_close(*fd);
                                continue;
                        }
                        log_output(m, s, buf, (size_t) got);
                        write_all_or_detach(s ? &m->attach.stderr_fd : &m->attach.stdout_fd, buf,
                                            (size_t) got);
                }
                if (in_fd >= 0 && m->attach.stdin_fd >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t got = read(m->attach.stdin_fd, buf, sizeof buf);
                        int target = in_fd;
                        if (got <= 0) {
                                /* stdin EOF: the command sees EOF too (a pty gets ^D) */
                                if (m->config->tty)
                                        (void) !write(target, "\x04", 1);
                                else
                                        in_fd = safe_close(in_fd);
                                m->attach.stdin_fd = safe_close(m->attach.stdin_fd);
                                if (m->config->tty)
                                        in_fd = -1;
                        } else
                                write_all_or_detach(&target, buf, (size_t) got);
                }
        }
        log_flush_partial(m);
        if (ctl_fd >= 0)
                close(ctl_fd);
        if (!child_done) {
                int st;
                if (waitpid(child, &st, 0) == child)
                        exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                reaped = true;
        }
        *ret_reaped = reaped;
        return exit_code;
}

static int stdin_socket_listen(const char *ctrdir);

/* The stdin socket goes with the start it was made for when that fails, and with the
 * container's end: a client attaching later must not find a dead one there. */
static void stdin_socket_remove(Monitor *m) {
        if (m->stdin_listen_fd < 0)
                return;
        m->stdin_listen_fd = safe_close(m->stdin_listen_fd);
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/%s", m->ctrdir, CTR_STDIN_SOCKET);
        (void) unlink(p);
}

/* The starter has gone (killed): its end of the sync socket closed. A starter that failed
 * shuts down only its writing half, and still reads. */
static bool starter_gone(const Monitor *m) {
        struct pollfd p = { .fd = m->cli_fd, .events = POLLIN };
        return m->cli_fd < 0 || (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)));
}

/* What a start that will not happen made, undone: the addresses and CNI attachments taken
 * for it, its netns, and the record put back as it was with the reason. The starter does
 * this itself when it lives to hear of the failure; this is for the starter gone, or a
 * "running" on record already. Under the container's lock (m->lock_fd). */
static void monitor_undo(Monitor *m, bool starter_left, const char *why) {
        const CtrConfig *c = m->config;
        if (starter_left) {
                char ns[128];
                net_release_container(m->store, c->id);
                (void) ledger_undo(m->store, c->id);
                ctr_netns_name(c->id, ns);
                (void) netns_delete(ns, NULL);
        }
        CtrState st = m->prior;
        if (!m->committed && ctr_state_read(m->store, c->id, &st, NULL) < 0)
                return;
        (void) snprintf(st.error, sizeof st.error, "%s", why ? why : "start undone");
        (void) ctr_state_write(m->store, c->id, &st, NULL);
        if (starter_left && c->rm)
                remove_with_exit_code(m->store, c, 125);
}

/* The start failed: PID 1 goes (when there is one), and what was made for it, and the
 * starter hears why, unless it is the one that told us (tell false). */
static _noreturn_ void monitor_abort(Monitor *m, pid_t child, bool tell, int code, pid_t pid,
                                     const char *msg) {
        if (child > 0) {
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
        }
        stdin_socket_remove(m);
        bool left = starter_gone(m);
        if (left || m->committed)
                monitor_undo(m, left, left ? "the caller went before the container started" : msg);
        if (tell && !left)
                sync_send(m->cli_fd, SYNC_ERROR, code, pid, msg);
        _exit(1);
}

/* "running" on record, with both pids: written by the monitor, which alone knows both
 * and outlives any caller. The record as it was is kept to put back should the command
 * still fail to exec. */
static int monitor_commit(Monitor *m, pid_t child, RtError *err) {
        const CtrConfig *c = m->config;
        if (ctr_state_read(m->store, c->id, &m->prior, err) < 0)
                return err ? err->code : -EIO;
        char ns[128];
        ctr_netns_name(c->id, ns);
        CtrState st = { .status = CTR_RUNNING, .started_ns = now_realtime_ns() };
        (void) proc_id_of(getpid(), &st.monitor);
        (void) proc_id_of(child, &st.init);
        (void) snprintf(st.netns, sizeof st.netns, "%s/%s", NETNS_RUN_DIR, ns);
        int r = ctr_state_write(m->store, c->id, &st, err);
        if (r < 0)
                return r;
        m->committed = true;
        return 0;
}

static _noreturn_ void monitor_main(Monitor *m) {
        (void) setsid();
        /* it lives as long as the container: the caller's cwd must not stay busy */
        (void) !chdir("/");
        (void) prctl(PR_SET_NAME, "nsprov-monitor");
        /* a client that went (an attached CLI, an API stdin) is an EPIPE to handle */
        (void) signal(SIGPIPE, SIG_IGN);
        int *keep[] = { &m->cli_fd, &m->attach.stdin_fd, &m->attach.stdout_fd,
                        &m->attach.stderr_fd, &m->lock_fd };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* Our own stdio must not keep the caller's pipes open: `$(nsprov run -d …)` would
         * wait for an EOF that never comes. */
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; fd++)
                (void) dup2(devnull, fd);
        if (devnull > 2)
                close(devnull);

        m->log_fd = -1; /* opened on the first output: most short commands print nothing */

        /* The command's stdio: a pty, or pipes; stdin a pipe only when interactive. */
        int c_in = -1, c_out = -1, c_err = -1, m_out = -1, m_err = -1, m_in = -1;
        RtError e = {};
        int r = 0;
        if (m->config->tty) {
                /* made by PID 1 in the container's devpts, received below */
        } else {
                int po[2], pe[2], pi[2];
                if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
                        r = rt_err_set(&e, -errno, "pipe");
                else {
                        c_out = po[1], m_out = po[0];
                        c_err = pe[1], m_err = pe[0];
                }
                if (r == 0 && m->config->interactive) {
                        if (pipe2(pi, O_CLOEXEC) < 0)
                                r = rt_err_set(&e, -errno, "pipe");
                        else
                                c_in = pi[0], m_in = pi[1];
                } else if (r == 0)
                        c_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        int sp[2] = { -1, -1 };
        if (r == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                r = rt_err_set(&e, -errno, "socketpair");
        if (r < 0)
                monitor_abort(m, -1, true, r, 0, e.msg);

        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &chld, NULL);
        int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        /* before the starter can hear of the start (from PID 1): it hands the client's
         * stdin over right after */
        if (m->config->interactive && !m->attached)
                m->stdin_listen_fd = stdin_socket_listen(m->ctrdir);

        pid_t child = (pid_t) syscall(SYS_clone,
                                      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                                              CLONE_NEWCGROUP | SIGCHLD,
                                      NULL, NULL, NULL, NULL);
        if (child < 0) {
                (void) rt_err_set(&e, -errno, "clone the container's namespaces");
                monitor_abort(m, -1, true, e.code, 0, e.msg);
        }
        if (child == 0) {
                close(sp[0]);
                ChildArgs a = { .store = m->store, .config = m->config, .ctrdir = m->ctrdir,
                                .sync_fd = sp[1], .starter_fd = m->cli_fd, .stdin_fd = c_in,
                                .stdout_fd = c_out, .stderr_fd = c_err >= 0 ? c_err : c_out,
                                .tty = m->config->tty, .seccomp = m->seccomp };
                container_main(&a);
        }
        close(sp[1]);
        sync_send(m->cli_fd, SYNC_PID1, 0, child, NULL);
        /* The netns is made here (or by the wiring caller), in parallel with PID 1
         * building its root, named, and handed over. */
        char ns[128];
        ctr_netns_name(m->config->id, ns);
        int netns_fd = -1, netns_code = 0;
        r = 0;
        if (m->netns_from_cli) {
                /* EOF or anything else: the CLI could not wire it, and says why itself */
                SyncMsg from_cli = {};
                int q = sync_recv_fd(m->cli_fd, &from_cli, &netns_fd, 120 * 1000);
                if (q != 1 || from_cli.type != SYNC_NETNS || netns_fd < 0) {
                        if (netns_fd >= 0)
                                close(netns_fd);
                        monitor_abort(m, child, false, 0, 0, NULL);
                }
                netns_code = from_cli.code;
        } else {
                r = container_netns_create(m->store, ns, &netns_fd, &e);
        }
        if (r == 0) {
                /* A failed send means PID 1 is gone already; its own error record,
                 * read below, says why. */
                (void) sync_send_fd(sp[0], SYNC_NETNS, netns_code, netns_fd);
                close(netns_fd);
        }
        if (r < 0)
                monitor_abort(m, child, true, r, 0, e.msg);
        if (c_in >= 0 && c_in != c_out)
                close(c_in);
        if (c_err >= 0 && c_err != c_out)
                close(c_err);
        if (c_out >= 0)
                close(c_out);

        SyncMsg msg = {};
        if (m->config->tty) {
                int master = -1;
                r = sync_recv_fd(sp[0], &msg, &master, 60 * 1000);
                if (r == 1 && msg.type == SYNC_PTY && master >= 0) {
                        m_out = master;
                        m_in = m->config->interactive ? master : -1;
                        struct winsize ws;
                        if (m->attach.stdout_fd >= 0 && ioctl(m->attach.stdout_fd, TIOCGWINSZ, &ws) == 0)
                                (void) ioctl(master, TIOCSWINSZ, &ws);
                }
        }
        if (!m->config->tty || (r == 1 && msg.type == SYNC_PTY))
                r = sync_recv(sp[0], &msg, 60 * 1000);
        if (r == 1 && msg.type == SYNC_READY) {
                /* A starter killed by now will never hear of the start: undone, PID 1
                 * goes before its command ran. Killed after this: the container runs,
                 * on record, as it asked. */
                if (starter_gone(m))
                        monitor_abort(m, child, false, 0, 0, NULL);
                if ((r = monitor_commit(m, child, &e)) < 0)
                        monitor_abort(m, child, true, r, 0, e.msg);
                (void) sync_send(sp[0], SYNC_GO, 0, 0, NULL);
                r = sync_recv(sp[0], &msg, 60 * 1000);
        } else if (r == 1 && msg.type != SYNC_ERROR)
                r = -EBADMSG;
        else if (r == 0)
                r = -ECONNRESET; /* PID 1 ended before it was set up, without a word */
        if (r < 0 || (r == 1 && msg.type == SYNC_ERROR)) {
                if (r < 0)
                        (void) snprintf(msg.msg, sizeof msg.msg, "container setup did not answer: %s",
                                        strerror(-r));
                monitor_abort(m, child, true, r < 0 ? r : msg.code, r < 0 ? 0 : msg.pid, msg.msg);
        }
        /* r == 0 (EOF: the command exec'd as PID 1: we tell the starter) or SYNC_STARTED
         * (nsprov-init told the starter itself) */
        if (r == 0)
                sync_send(m->cli_fd, SYNC_STARTED, 0, child, NULL);
        if (!m->attached)
                m->cli_fd = safe_close(m->cli_fd);
        /* on record and running: the lock is the starter's alone again, and ours to take
         * anew when the container ends (monitor_finish) */
        m->lock_fd = safe_close(m->lock_fd);

        bool reaped;
        int code = monitor_loop(m, child, m_out, m_err, m_in, sigfd, r == 1 ? sp[0] : safe_close(sp[0]),
                                &reaped);
        m->attach.stdout_fd = safe_close(m->attach.stdout_fd);
        m->attach.stderr_fd = safe_close(m->attach.stderr_fd);
        m->attach.stdin_fd = safe_close(m->attach.stdin_fd);
        stdin_socket_remove(m);
        monitor_finish(m, code);
        if (m->cli_fd >= 0)
                sync_send(m->cli_fd, SYNC_EXITED, code, 0, NULL);
        /* Only now: PID 1 may still be in the kernel's namespace teardown. */
        if (!reaped)
                (void) waitpid(child, NULL, 0);
        _exit(0);
}

/* ---- stdin for a container started without an attached caller ---- */

/* A unix socket path too long for sun_path (a deep runroot) is reached through an fd of
 * its directory: /proc/self/fd/N/NAME. */
static int stdin_socket_address(const char *ctrdir, struct sockaddr_un *sa, int *ret_dirfd) {
        *ret_dirfd = open(ctrdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*ret_dirfd < 0)
                return -errno;
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        (void) snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *ret_dirfd, CTR_STDIN_SOCKET);
        return 0;
}

/* The monitor's end: listening, 0600, for the shim's attach to hand it a client's stdin. */
static int stdin_socket_listen(const char *ctrdir) {
        struct sockaddr_un sa;
        _cleanup_close_ int dirfd = -1;
        if (stdin_socket_address(ctrdir, &sa, &dirfd) < 0)
                return -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -1;
        (void) unlinkat(dirfd, CTR_STDIN_SOCKET, 0);
        mode_t old = umask(0077);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 2) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int ctr_stdin_connect(const CtrStore *s, const char *id, RtError *err) {
        char dir[PATH_MAX];
        ctr_path(s, id, NULL, dir);
        struct sockaddr_un sa;
        _cleanup_close_ int dirfd = -1;
        int r = stdin_socket_address(dir, &sa, &dirfd);
        if (r < 0)
                return rt_err_set(err, r, "open container %s", id);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rt_err_set(err, -errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return rt_err_set(err, r, "connect to the stdin of container %s", id);
        }
        return fd;
}

/* Detached: forked once more, the parent gone (the exec'd monitor of a server without its
 * spawner, whose parent the server reaps); else the caller is the spawner's child already. */
static int monitor_run(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli,
                       bool detach) {
        (void) fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
        (void) fcntl(lock_fd, F_SETFD, FD_CLOEXEC);
        static Container c; /* the monitor's for its whole life */
        RtError e = {};
        static SeccompProgram prog;
        int r = ctr_load(s, id, &c, &e);
        if (r == 0 && !c.config.privileged)
                r = seccomp_program_load(s, &prog, &e);
        if (r < 0) {
                sync_send(sync_fd, SYNC_ERROR, r, 0, e.msg);
                return EXIT_FAILURE;
        }
        pid_t mon = detach ? fork() : 0;
        if (mon < 0) {
                sync_send(sync_fd, SYNC_ERROR, -errno, 0, "fork the monitor");
                return EXIT_FAILURE;
        }
        if (mon > 0)
                _exit(0);
        Monitor m = { .store = s, .config = &c.config, .cli_fd = sync_fd, .lock_fd = lock_fd,
                      .attach = { -1, -1, -1 }, .stdin_listen_fd = -1, .log_fd = -1, .seccomp = &prog,
                      .netns_from_cli = netns_from_cli };
        ctr_path(s, c.config.id, NULL, m.ctrdir);
        monitor_main(&m);
}

int ctr_monitor_main(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli) {
        /* the monitor is not the server's child */
        return monitor_run(s, id, sync_fd, lock_fd, netns_from_cli, true);
}

/* ---- the spawner: serve's monitors, forked without an exec ---- */

/* A fork of a threaded process inherits whatever lock another thread held at that instant
 * (the allocator's, a library's), so the server cannot fork its monitors itself; an exec
 * of the binary for each costs ~1 ms of dynamic loading on start's path. The spawner is
 * forked while the server has one thread, stays single-threaded, and forks a monitor per
 * request: one SpawnRequest carrying the monitor's sync socket. The monitors are its
 * children (reaped as they end), so never the server's; when the server ends, the
 * spawner does, and they go to the host's init. */
typedef struct SpawnRequest {
        char id[CTR_ID_LEN + 1];
        bool netns_from_cli;
} SpawnRequest;

static bool spawn_request_valid(const SpawnRequest *q) {
        return q->id[CTR_ID_LEN] == '\0' && strlen(q->id) == CTR_ID_LEN &&
               strspn(q->id, "0123456789abcdef") == CTR_ID_LEN;
}

/* The request and its fds (the sync socket, the container's lock); 0 at the end of the
 * stream (the server has gone). */
static int spawn_request_recv(int fd, SpawnRequest *q, int ret_fds[static 2]) {
        ssize_t n = sys_recv_with_fds(fd, q, sizeof *q, ret_fds, 2);
        if (n <= 0)
                return (int) n;
        if (ret_fds[0] < 0 || ret_fds[1] < 0 || (size_t) n != sizeof *q || !spawn_request_valid(q)) {
                for (int i = 0; i < 2; i++)
                        ret_fds[i] = safe_close(ret_fds[i]);
                return -EBADMSG;
        }
        return 1;
}

static _noreturn_ void spawner_main(const CtrStore *s, int channel, pid_t server) {
        (void) prctl(PR_SET_NAME, "nsprov-spawner");
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != server) /* it died before the line above */
                _exit(0);
        int *keep[] = { &channel };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* its children, the monitors, reaped as they end */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &chld, NULL);
        int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        for (;;) {
                struct pollfd p[2] = { { .fd = channel, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
                if (poll(p, sigfd >= 0 ? 2 : 1, sigfd >= 0 ? -1 : 100) < 0 && errno != EINTR)
                        _exit(1);
                struct signalfd_siginfo si;
                while (sigfd >= 0 && read(sigfd, &si, sizeof si) > 0) {
                }
                while (waitpid(-1, NULL, WNOHANG) > 0) {
                }
                if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                SpawnRequest q;
                int fds[2];
                int r = spawn_request_recv(channel, &q, fds);
                if (r == 0)
                        _exit(0);
                if (r < 0)
                        continue;
                pid_t pid = fork();
                if (pid == 0) {
                        (void) sigprocmask(SIG_UNBLOCK, &chld, NULL);
                        (void) prctl(PR_SET_PDEATHSIG, 0);
                        close(channel);
                        if (sigfd >= 0)
                                close(sigfd);
                        _exit(monitor_run(s, q.id, fds[0], fds[1], q.netns_from_cli, false));
                }
                if (pid < 0)
                        sync_send(fds[0], SYNC_ERROR, -errno, 0, "fork the monitor");
                close(fds[0]);
                close(fds[1]);
        }
}

int ctr_spawner_start(CtrStore *s, RtError *err) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return rt_err_set(err, -errno, "socketpair for the spawner");
        pid_t server = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return rt_err_set(err, r, "fork the spawner");
        }
        if (pid == 0) {
                close(sp[0]);
                spawner_main(s, sp[1], server);
        }
        close(sp[1]);
        s->spawner_fd = sp[0];
        s->spawner_pid = pid;
        return 0;
}

void ctr_spawner_stop(CtrStore *s) {
        if (s->spawner_fd < 0)
                return;
        s->spawner_fd = safe_close(s->spawner_fd); /* its end of the stream: it exits */
        while (waitpid(s->spawner_pid, NULL, 0) < 0 && errno == EINTR) {
        }
        s->spawner_pid = 0;
}

/* Hands the monitor's making to the spawner; -errno when it cannot take it (it has gone:
 * the caller execs one instead). */
static int spawner_request(const CtrStore *s, const char *id, bool netns_from_cli, int sync_fd,
                           int lock_fd) {
        SpawnRequest q = { .netns_from_cli = netns_from_cli };
        (void) snprintf(q.id, sizeof q.id, "%s", id);
        int fds[] = { sync_fd, lock_fd };
        return sys_send_with_fds(s->spawner_fd, &q, sizeof q, fds, 2);
}

/* ---- start ---- */

static int signal_init(const CtrState *st, int sig);

/* The middle process of start's double fork: execs a fresh-image monitor for a threaded
 * caller without a spawner, or forks the monitor and goes. */
static _noreturn_ void monitor_middle(const CtrStore *s, const CtrConfig *k, const CtrAttach *attach,
                                      int sync_fd, int lock_fd, const SeccompProgram *prog,
                                      bool netns_from_cli) {
        if (s->fresh_monitor) {
                /* only async-signal-safe calls here: we are a fork of a threaded process */
                char fd[16], lfd[16], *argv[] = { (char *) "nsprov", (char *) "--root", (char *) s->root,
                                                  (char *) "--runroot", (char *) s->runroot,
                                                  (char *) "__monitor", (char *) k->id, fd, lfd,
                                                  (char *) (netns_from_cli ? "1" : "0"), NULL };
                /* without O_CLOEXEC */
                int keep = fcntl(sync_fd, F_DUPFD, 3), keep_lock = fcntl(lock_fd, F_DUPFD, 3);
                (void) snprintf(fd, sizeof fd, "%d", keep);
                (void) snprintf(lfd, sizeof lfd, "%d", keep_lock);
                if (keep >= 0 && keep_lock >= 0)
                        execv("/proc/self/exe", argv);
                sync_send(sync_fd, SYNC_ERROR, -errno, 0, "exec the monitor");
                _exit(1);
        }
        pid_t mon = fork();
        if (mon != 0) {
                if (mon < 0)
                        sync_send(sync_fd, SYNC_ERROR, -errno, 0, "fork the monitor");
                _exit(0);
        }
        Monitor m = { .store = s, .config = k, .cli_fd = sync_fd, .lock_fd = lock_fd, .stdin_listen_fd = -1,
                      .attach = { -1, -1, -1 }, .log_fd = -1, .seccomp = prog,
                      .netns_from_cli = netns_from_cli };
        ctr_path(s, k->id, NULL, m.ctrdir);
        if (attach) {
                m.attached = true;
                m.attach.stdin_fd = k->interactive && attach->stdin_fd >= 0
                                            ? fcntl(attach->stdin_fd, F_DUPFD_CLOEXEC, 3)
                                            : -1;
                m.attach.stdout_fd = fcntl(attach->stdout_fd, F_DUPFD_CLOEXEC, 3);
                m.attach.stderr_fd = fcntl(attach->stderr_fd, F_DUPFD_CLOEXEC, 3);
        }
        monitor_main(&m);
}

static int start_locked(const CtrStore *s, Container *c, int lock_fd, const CtrAttach *attach,
                        int *ret_cli_fd, int *ret_exec_status, RtError *err) {
        CtrConfig *k = &c->config;
        char ns[128];
        ctr_netns_name(k->id, ns);
        _cleanup_(reap_childp) pid_t middle = -1;

        /* The monitor makes the netns and names it; written down first. */
        int r = ledger_record(s, k->id, LEDGER_NETNS, ns, err);
        if (r < 0)
                return r;
        /* With networks, the command must find its interfaces there when it starts: the
         * netns is made and wired here, while the monitor clones PID 1 and builds its
         * root (two cores, both busy), and handed over when wired. */
        _cleanup_close_ int netns_fd = -1;
        _cleanup_free_ NetAttachment *atts = NULL;
        /* Loaded here, in memory the monitor and PID 1 inherit: after pivot_root the
         * container cannot reach the host's cache file. */
        _cleanup_(seccomp_program_done) SeccompProgram prog = {};
        size_t n_atts = 0;
        if ((r = net_attachments_load(s, k->id, &atts, &n_atts, err)) < 0)
                goto fail;

        /* (a fresh-image monitor loads its own) */
        if (!k->privileged && !s->fresh_monitor && (r = seccomp_program_load(s, &prog, err)) < 0)
                goto fail;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = rt_err_set(err, -errno, "socketpair");
                goto fail;
        }
        /* Forked twice: the monitor must not be our child, or a long-lived caller (serve)
         * collects a zombie per container; it is re-parented to the host's init or
         * subreaper, as conmon is. The middle process is reaped after the wiring. A
         * threaded caller's spawner forks it instead (it takes no attached stdio). */
        if (attach || s->spawner_fd < 0 || spawner_request(s, k->id, n_atts > 0, sp[1], lock_fd) < 0) {
                middle = fork();
                if (middle < 0) {
                        r = rt_err_set(err, -errno, "fork the monitor");
                        close(sp[0]);
                        close(sp[1]);
                        goto fail;
                }
                if (middle == 0) {
                        close(sp[0]);
                        monitor_middle(s, k, attach, sp[1], lock_fd, &prog, n_atts > 0);
                }
        }
        close(sp[1]);
        if (n_atts > 0) {
                r = container_netns_create(s, ns, &netns_fd, err);
                if (r < 0 || (r = net_wire(s, k, netns_fd, atts, n_atts, true, err)) < 0 ||
                    (r = net_attachments_save(s, k->id, atts, n_atts, err)) < 0) {
                        /* our end closed: the monitor kills PID 1 and goes */
                        sync_wait_gone(sp[0]);
                        goto fail;
                }
                /* A monitor that failed before has said why: read below. */
                (void) sync_send_fd(sp[0], SYNC_NETNS, SYNC_NETNS_LO_UP, netns_fd);
        }
        /* the monitor names PID 1 first; then PID 1 (or the monitor) says it started */
        SyncMsg msg = {};
        pid_t init_pid = 0, monitor_pid = 0;
        while ((r = sync_recv(sp[0], &msg, 120 * 1000)) == 1 && msg.type == SYNC_PID1) {
                init_pid = msg.pid;
                monitor_pid = msg.sender;
        }
        if (r <= 0 || msg.type != SYNC_STARTED) {
                if (r == 1 && msg.pid > 0 && ret_exec_status)
                        *ret_exec_status = msg.pid;
                if (r == 1)
                        r = rt_err_setx(err, msg.code < 0 ? msg.code : -EIO, "%s", msg.msg);
                else
                        r = rt_err_set(err, r < 0 ? r : -EIO, "the monitor ended during start");
                sync_wait_gone(sp[0]);
                goto fail;
        }

        /* On record already, by the monitor (monitor_commit); this is the caller's copy.
         * (PID 1's own record carries no pids: it knows itself as 1) */
        pid_t init = init_pid ? init_pid : msg.pid;
        CtrState *st = &c->state;
        *st = (CtrState) { .status = CTR_RUNNING, .started_ns = now_realtime_ns() };
        (void) proc_id_of(monitor_pid ? monitor_pid : msg.sender, &st->monitor);
        (void) proc_id_of(init, &st->init);
        (void) snprintf(st->netns, sizeof st->netns, "%s/%s", NETNS_RUN_DIR, ns);
        if (ret_cli_fd)
                *ret_cli_fd = sp[0];
        else
                close(sp[0]);
        /* The monitor is not waited for: it lives on as the host init's. An attached
         * caller waits for its exit record instead. */
        return 0;
fail:
        net_release_container(s, k->id);
        (void) netns_delete(ns, NULL);
        (void) ledger_forget(s, k->id, LEDGER_NETNS);
        /* The container stays as it was (created or exited), with the reason kept. */
        (void) snprintf(c->state.error, sizeof c->state.error, "%s", err ? err->msg : "");
        (void) ctr_state_write(s, k->id, &c->state, NULL);
        return r;
}

int ctr_start(const CtrStore *s, const char *id, const CtrAttach *attach, int *ret_exit_code,
              RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        _cleanup_close_ int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        _cleanup_(ctr_done) Container c = {};
        int r = ctr_load(s, id, &c, err);
        if (r < 0)
                return r;
        ctr_repair(s, &c);
        if (c.state.status == CTR_RUNNING)
                return attach ? rt_err_setx(err, -EALREADY, "container '%s' is already running",
                                            c.config.name)
                              : 0;
        /* never a second PID 1 beside a monitor that still lives */
        if (proc_id_alive(&c.state.monitor))
                return rt_err_setx(err, -EBUSY, "container '%s': its monitor (pid %d) still runs",
                                   c.config.name, (int) c.state.monitor.pid);
        int cli_fd = -1, exec_status = 0;
        r = start_locked(s, &c, lock, attach, attach ? &cli_fd : NULL, &exec_status, err);
        /* now, not while it ran: the next one is made while the host is between starts */
        netns_pool_refill(s->netns_pool);
        if (r < 0) {
                /* --rm: gone after a failed start too, as Docker's daemon does it (docker
                 * run --rm waits for the removal) */
                int code = exec_status == 126 || exec_status == 127 ? exec_status : 125;
                if (c.config.rm)
                        remove_with_exit_code(s, &c.config, code);
                if (ret_exit_code && exec_status)
                        *ret_exit_code = exec_status;
                return rt_err_prefix(err, r, "start container '%s'", c.config.name);
        }
        ctr_event(s, "container", "start", c.config.id, c.config.name, c.config.image, -1);
        lock = safe_close(lock);
        if (!attach)
                return 0;

        /* Attached: the monitor relays the output; we wait for its exit record, and pass
         * the signals a user sends us on to the container, as Podman's --sig-proxy does. */
        static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(proxied); i++)
                sigaddset(&set, proxied[i]);
        (void) sigprocmask(SIG_BLOCK, &set, &old);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        SyncMsg msg = {};
        for (;;) {
                struct pollfd pf[2] = { { .fd = cli_fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                struct signalfd_siginfo si;
                while (sfd >= 0 && read(sfd, &si, sizeof si) == sizeof si)
                        (void) signal_init(&c.state, (int) si.ssi_signo);
                if (pf[0].revents) {
                        r = sync_recv(cli_fd, &msg, 0);
                        break;
                }
        }
        if (sfd >= 0)
                close(sfd);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        close(cli_fd);
        /* Not waited for: after its exit record the monitor only reaps PID 1 while the
         * kernel tears the namespaces down; that need not delay the caller. */
        if (r == 1 && msg.type == SYNC_EXITED) {
                if (ret_exit_code)
                        *ret_exit_code = msg.code;
                return 0;
        }
        /* The monitor died without a word: the exit code is in the state, if anywhere. */
        CtrState st = {};
        if (ctr_state_read(s, id, &st, NULL) == 0 && st.status == CTR_EXITED) {
                if (ret_exit_code)
                        *ret_exit_code = st.exit_code;
                return 0;
        }
        return rt_err_setx(err, -EIO, "container '%s': its monitor ended without an exit status",
                           c.config.name);
}

/* ---- reconcile, stop, kill, remove, wait ---- */

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

/* Whether a start that did not happen (its caller and monitor killed) left objects in the
 * container's ledger. */
static bool start_leftovers(const CtrStore *s, const char *id) {
        char p[PATH_MAX];
        ctr_path(s, id, "ledger.netns", p);
        return access(p, F_OK) == 0;
}

void ctr_repair(const CtrStore *s, Container *c) {
        CtrState *st = &c->state;
        ProcId init = st->init;
        bool monitor_died = ctr_state_observe(c);
        if (!monitor_died && (st->status == CTR_RUNNING || !start_leftovers(s, c->config.id)))
                return;
        /* PID 1 outliving its monitor would be a container nobody watches */
        if (monitor_died && proc_id_alive(&init)) {
                int pfd = proc_id_pidfd(&init);
                if (pfd >= 0) {
                        (void) pidfd_send_signal(pfd, SIGKILL, NULL, 0);
                        close(pfd);
                }
        }
        net_release_container(s, c->config.id);
        (void) ledger_undo(s, c->config.id);
        char ns[128];
        ctr_netns_name(c->config.id, ns);
        (void) netns_delete(ns, NULL);
        if (!monitor_died)
                return; /* the record itself was right: not started */
        st->init = (ProcId) {};
        st->monitor = (ProcId) {};
        if (c->config.rm) {
                (void) ctr_destroy(s, c->config.id, c->config.name);
                return;
        }
        (void) ctr_state_write(s, c->config.id, st, NULL);
}

/* Waits until the process has gone (at once when it is already), at most timeout_ms (0:
 * for ever). A monitor gone has recorded its container's exit. */
static int wait_gone(const ProcId *proc, uint64_t timeout_ms) {
        int pfd = proc_id_pidfd(proc);
        if (pfd < 0)
                return 0;
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, timeout_ms ? (int) timeout_ms : -1);
        while (n < 0 && errno == EINTR);
        close(pfd);
        return n > 0 ? 0 : -ETIMEDOUT;
}

/* Waits until the container has ended and its monitor has recorded it and torn down what
 * it had (netns, addresses), at most timeout_ms. The monitor does that under the
 * container's lock, which it mostly holds by the time PID 1 is gone (PID 1 tells it the
 * exit first, then goes through the kernel's slow namespace teardown): the lock is then
 * the end of the bookkeeping, a few hundred µs before the monitor's own exit would be
 * seen. Should we get the lock first (PID 1 killed, say), the state still says running
 * and the monitor's exit is waited for, as it always was. */
static int wait_stopped(const CtrStore *s, const char *id, const CtrState *st, uint64_t timeout_ms) {
        uint64_t deadline = now_monotonic_ms() + timeout_ms;
        if (wait_gone(&st->init, timeout_ms) < 0)
                return -ETIMEDOUT;
        char path[PATH_MAX];
        ctr_path(s, id, "lock", path);
        int lock = lock_file(path, true, NULL);
        if (lock >= 0) {
                CtrState now = {};
                int r = ctr_state_read(s, id, &now, NULL);
                close(lock);
                /* exited, or an --rm container gone with its dir */
                if ((r == 0 && now.status != CTR_RUNNING) || r == -ENOENT)
                        return 0;
        }
        uint64_t t = now_monotonic_ms();
        return wait_gone(&st->monitor, t < deadline ? deadline - t : 1);
}

static int signal_init(const CtrState *st, int sig) {
        int pfd = proc_id_pidfd(&st->init);
        if (pfd < 0)
                return pfd;
        int r = pidfd_send_signal(pfd, sig, NULL, 0) < 0 ? -errno : 0;
        close(pfd);
        return r;
}

static int load_reconciled(const CtrStore *s, const char *id, Container *c, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, id, c, err);
        if (r == 0)
                ctr_repair(s, c);
        close(lock);
        return r;
}

int ctr_stop(const CtrStore *s, const char *id, int timeout, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return 0;
        if (timeout < 0)
                timeout = c.config.stop_timeout;
        /* No lock while waiting: the monitor takes it to record the exit. */
        if (timeout > 0 && signal_init(&c.state, c.config.stop_signal) == 0 &&
            wait_stopped(s, c.config.id, &c.state, (uint64_t) timeout * 1000) == 0)
                return 0;
        (void) signal_init(&c.state, SIGKILL);
        if (wait_stopped(s, c.config.id, &c.state, 10 * 1000) < 0)
                return rt_err_setx(err, -ETIMEDOUT,
                                   "container '%s' did not end 10 s after SIGKILL", c.config.name);
        return 0;
}

int ctr_kill(const CtrStore *s, const char *id, int sig, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return rt_err_setx(err, -EINVAL, "container '%s' is not running", c.config.name);
        r = signal_init(&c.state, sig);
        if (r < 0)
                return rt_err_set(err, r, "signal container '%s'", c.config.name);
        return 0;
}

int ctr_remove(const CtrStore *s, const char *id, bool force, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        char dir[PATH_MAX];
        ctr_path(s, id, NULL, dir);
        /* An --rm container whose monitor had died is removed by the reconcile itself. */
        if (access(dir, F_OK) < 0)
                return 0;
        if (c.state.status == CTR_RUNNING) {
                if (!force)
                        return rt_err_setx(err, -EBUSY,
                                           "container '%s' is running: stop it first or use --force",
                                           c.config.name);
                (void) signal_init(&c.state, SIGKILL);
                if (wait_gone(&c.state.monitor, 10 * 1000) < 0)
                        return rt_err_setx(err, -ETIMEDOUT, "container '%s' did not end after SIGKILL",
                                           c.config.name);
        }
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        _cleanup_close_ int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        (void) ctr_destroy(s, c.config.id, c.config.name);
        ctr_event(s, "container", "remove", c.config.id, c.config.name, c.config.image, -1);
        return 0;
}

int ctr_wait(const CtrStore *s, const char *id, CtrWaitCondition cond, uint64_t timeout_ms,
             int *ret_exit_code, RtError *err) {
        uint64_t deadline = timeout_ms ? now_monotonic_ms() + timeout_ms : 0;
        for (;;) {
                _cleanup_(ctr_done) Container c = {};
                int r = load_reconciled(s, id, &c, err);
                if (r < 0)
                        return r;
                CtrStatus st = c.state.status;
                if (cond == CTR_WAIT_RUNNING && st == CTR_RUNNING)
                        return 0;
                if (cond == CTR_WAIT_STOPPED && st == CTR_EXITED) {
                        if (ret_exit_code)
                                *ret_exit_code = c.state.exit_code;
                        return 0;
                }
                uint64_t now = now_monotonic_ms();
                if (deadline && now >= deadline)
                        return rt_err_setx(err, -ETIMEDOUT, "container '%s': timed out waiting",
                                           c.config.name);
                if (st == CTR_RUNNING) {
                        /* the monitor's end is the container's end, recorded */
                        (void) wait_gone(&c.state.monitor, deadline ? deadline - now : 0);
                        continue;
                }
                /* Created (or exited, waiting for running): nothing to block on until
                 * someone starts it; look again shortly. */
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                (void) nanosleep(&ts, NULL);
        }
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
