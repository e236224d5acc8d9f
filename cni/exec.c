/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running one plugin (section 2): environment, stdin, concurrent reads of stdout and
 * stderr, the timeout that takes its whole process group, and what the outcome means. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni-internal.h"
#include "log.h"
#include "proc.h"
#include "forkexec.h"
#include "strv.h"

extern char **environ;

void cni_output_done(CniOutput *o) {
        free(o->out);
        free(o->err);
        *o = (CniOutput) {};
}

int cni_path_split(const char *joined, char ***ret) {
        _cleanup_(strv_freep) char **path = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(joined ?: "");
        if (!path || !copy)
                return -ENOMEM;
        for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
                if (strv_push(&path, d) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(path);
        return 0;
}

int cni_config_init(CniConfig *ret, char ***ret_path, const char *conf_dir, const char *path,
                    const char *cache_dir, const char *state_dir) {
        char **dirs = NULL;
        int r = cni_path_split(path, &dirs);
        if (r < 0)
                return r;
        *ret = (CniConfig) { .conf_dir = conf_dir, .path = dirs, .cache_dir = cache_dir, .state_dir = state_dir };
        *ret_path = dirs;
        return 0;
}

char *cni_path_joined(const CniConfig *cfg) {
        size_t len = 1;
        for (char **d = cfg->path; d && *d; d++)
                len += strlen(*d) + 1;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        *p = 0;
        for (char **d = cfg->path; d && *d; d++)
                p += sprintf(p, "%s%s", d == cfg->path ? "" : ":", *d);
        return s;
}

/* the caller's environment, the six CNI_* variables set (never duplicated), and
 * /usr/sbin on PATH as Podman adds it (plugins run iptables and friends). */
static char **plugin_env(const CniExec *x) {
        _cleanup_(strv_freep) char **env = strv_copy(environ);
        if (!env && !(env = calloc(1, sizeof(char *))))
                return NULL;
        const struct {
                const char *key, *value;
        } vars[] = {
                { "CNI_COMMAND", x->command },     { "CNI_CONTAINERID", x->container_id },
                { "CNI_NETNS", x->netns },         { "CNI_IFNAME", x->ifname },
                { "CNI_ARGS", x->args },           { "CNI_PATH", x->cni_path },
        };
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", vars[i].key, vars[i].value ?: "") < 0 || strv_env_set(&env, kv) < 0)
                        return NULL;
        }
        const char *path = strv_env_get(env, "PATH");
        if (!path || !strstr(path, "/usr/sbin")) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "PATH=%s%s/usr/sbin", path ?: "/usr/local/bin:/usr/bin:/bin",
                             ":") < 0 || strv_env_set(&env, kv) < 0)
                        return NULL;
        }
        return TAKE_PTR(env);
}

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, size_t max) {
        if (*len + n > max)
                return -EFBIG;
        if (*len + n + 1 > *cap) {
                size_t c = *cap ? *cap : 4096;
                while (c < *len + n + 1)
                        c *= 2;
                char *b = realloc(*buf, c);
                if (!b)
                        return -ENOMEM;
                *buf = b;
                *cap = c;
        }
        memcpy(*buf + *len, data, n);
        *len += n;
        (*buf)[*len] = 0;
        return 0;
}

static void kill_group(pid_t pgid, int sig) {
        (void) kill(-pgid, sig);
}

int cni_exec(const CniExec *x, CniOutput *o, CniError *ce) {
        _cleanup_(strv_freep) char **env = plugin_env(x);
        if (!env)
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, -ENOMEM, "out of memory");
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                int r = -errno;
                for (int i = 0; i < 2; i++)
                        (void) (safe_close(in[i]) + safe_close(out[i]) + safe_close(errp[i]));
                return cni_fail(ce, CNI_ERR_SYSTEM, 0, r, "pipe: %s", strerror(-r));
        }
        _cleanup_close_ int in_w = in[1], out_r = out[0], err_r = errp[0];
        int fd_map[] = { in[0], out[1], errp[1] };
        char *argv[] = { (char *) x->path, NULL };
        SpawnSpec spec = { .path = x->path, .argv = argv, .envp = env, .fd_map = fd_map, .n_fds = 3,
                           .new_process_group = true };
        pid_t pid = -1;
        RtError se = {};
        int r;
        /* a binary still being written (an install in progress) is ETXTBSY */
        for (int attempt = 0;; attempt++) {
                r = spawn(&spec, &pid, &se);
                if (r != -ETXTBSY || attempt >= 5)
                        break;
                (void) nanosleep(&(struct timespec) { .tv_sec = 1 }, NULL);
        }
        (void) close(in[0]);
        (void) close(out[1]);
        (void) close(errp[1]);
        if (r < 0)
                return cni_fail(ce, CNI_ERR_EXEC, 0, r, "%s", se.msg);

        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        (void) fcntl(in_w, F_SETFL, O_NONBLOCK);
        (void) fcntl(out_r, F_SETFL, O_NONBLOCK);
        (void) fcntl(err_r, F_SETFL, O_NONBLOCK);

        /* a plugin may exit without reading its stdin; EPIPE is then no error, and
         * the SIGPIPE it would raise is held blocked and taken back below */
        sigset_t pipe_set, old_mask;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        (void) pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
        sigset_t pending;
        bool pipe_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);

        size_t written = 0, out_cap = 0, err_cap = 0;
        uint64_t start = now_monotonic_ms(), timeout = x->timeout_ms ?: CNI_TIMEOUT_MS_DEFAULT;
        uint64_t deadline = start + timeout, kill_at = 0, eof_deadline = 0;
        bool reaped = false, timed_out = false, too_big = false;
        int status = 0;
        if (x->input_len == 0)
                in_w = safe_close(in_w);
        r = 0;
        while (out_r >= 0 || err_r >= 0 || !reaped) {
                struct pollfd p[4];
                int n = 0, i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
                if (in_w >= 0)
                        p[i_in = n++] = (struct pollfd) { in_w, POLLOUT, 0 };
                if (out_r >= 0)
                        p[i_out = n++] = (struct pollfd) { out_r, POLLIN, 0 };
                if (err_r >= 0)
                        p[i_err = n++] = (struct pollfd) { err_r, POLLIN, 0 };
                if (!reaped && pidfd >= 0)
                        p[i_pid = n++] = (struct pollfd) { pidfd, POLLIN, 0 };

                uint64_t now = now_monotonic_ms();
                uint64_t until = reaped ? eof_deadline : kill_at ? kill_at : deadline;
                if (!reaped && pidfd < 0) /* no pidfd: poll the child */
                        until = now + 10 < until ? now + 10 : until;
                int wait_ms = until > now ? (int) (until - now) : 0;
                int k = poll(p, (nfds_t) n, wait_ms);
                if (k < 0 && errno != EINTR) {
                        r = cni_fail(ce, CNI_ERR_SYSTEM, 0, -errno, "poll: %m");
                        break;
                }
                if (i_in >= 0 && p[i_in].revents) {
                        ssize_t w = write(in_w, x->input + written, x->input_len - written);
                        if (w > 0)
                                written += (size_t) w;
                        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == x->input_len)
                                in_w = safe_close(in_w);
                }
                int *fds[2] = { &out_r, &err_r };
                int idx[2] = { i_out, i_err };
                for (int s = 0; s < 2; s++) {
                        if (idx[s] < 0 || !p[idx[s]].revents)
                                continue;
                        char buf[65536];
                        ssize_t got = read(*fds[s], buf, sizeof buf);
                        if (got > 0) {
                                int a = s == 0 ? append(&o->out, &o->out_len, &out_cap, buf, (size_t) got, CNI_MAX_STDOUT)
                                               : o->err_len >= CNI_MAX_STDERR_KEPT ? 0
                                               : append(&o->err, &o->err_len, &err_cap, buf,
                                                        (size_t) got < CNI_MAX_STDERR_KEPT - o->err_len
                                                                ? (size_t) got : CNI_MAX_STDERR_KEPT - o->err_len,
                                                        CNI_MAX_STDERR_KEPT);
                                if (a == -EFBIG && !too_big) {
                                        too_big = true;
                                        kill_group(pid, SIGKILL);
                                } else if (a < 0 && a != -EFBIG) {
                                        r = cni_fail(ce, CNI_ERR_SYSTEM, 0, a, "out of memory");
                                }
                        } else if (got == 0 || (errno != EAGAIN && errno != EINTR))
                                *fds[s] = safe_close(*fds[s]);
                }
                if (!reaped && (i_pid < 0 || p[i_pid].revents)) {
                        pid_t w = waitpid(pid, &status, WNOHANG);
                        if (w == pid) {
                                reaped = true;
                                eof_deadline = now_monotonic_ms() + CNI_EOF_GRACE_MS;
                                /* a timed-out plugin's helpers go with it */
                                if (timed_out || too_big)
                                        kill_group(pid, SIGKILL);
                        }
                }
                now = now_monotonic_ms();
                if (!reaped && !timed_out && now >= deadline) {
                        timed_out = true;
                        kill_group(pid, SIGTERM);
                        kill_at = now + CNI_KILL_GRACE_MS;
                } else if (!reaped && kill_at && now >= kill_at) {
                        kill_group(pid, SIGKILL);
                        kill_at = now + 60 * 1000;
                }
                /* a daemonized grandchild may hold stdout open for ever */
                if (reaped && now >= eof_deadline) {
                        if (out_r >= 0 || err_r >= 0)
                                log_debug("%s: output still open %d ms after it exited; using what was read",
                                          x->path, CNI_EOF_GRACE_MS);
                        break;
                }
        }
        if (!reaped) {
                kill_group(pid, SIGKILL);
                (void) waitpid(pid, &status, 0);
        }
        if (!pipe_was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
                int sig;
                (void) sigwait(&pipe_set, &sig);
        }
        (void) pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        o->wait_status = status;
        if (r < 0)
                return r;
        if (timed_out)
                return cni_fail(ce, CNI_ERR_TIMEOUT, 0, -ETIME, "%s timed out after %.1f s (its process group was killed)",
                                x->path, (double) timeout / 1000);
        if (too_big)
                return cni_fail(ce, CNI_ERR_OUTPUT, 0, -EFBIG, "%s printed more than %d bytes", x->path,
                                CNI_MAX_STDOUT);
        return 0;
}

static bool only_space(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!json_space(s[i]))
                        return false;
        return true;
}

static void copy_trimmed(char *dst, size_t size, const char *src, size_t len) {
        while (len && json_space(src[len - 1]))
                len--;
        (void) snprintf(dst, size, "%.*s", (int) (len < size ? len : size - 1), src);
}

/* Fills the plugin-side fields and renders libcni's text:
 * plugin type="T" failed (cmd): msg; details */
static int plugin_fail(CniError *ce, CniCategory cat, unsigned code, const char *type, int index,
                       const char *command, const char *msg, const char *details, const CniOutput *o) {
        if (!ce)
                return -EIO;
        *ce = (CniError) { .origin = CNI_ORIGIN_PLUGIN, .category = cat, .code = code, .index = index,
                           .command = command, .exit_status = -1 };
        (void) snprintf(ce->plugin, sizeof ce->plugin, "%s", type);
        (void) snprintf(ce->msg, sizeof ce->msg, "%s", msg);
        (void) snprintf(ce->details, sizeof ce->details, "%s", details ?: "");
        if (WIFEXITED(o->wait_status))
                ce->exit_status = WEXITSTATUS(o->wait_status);
        else if (WIFSIGNALED(o->wait_status))
                ce->signal = WTERMSIG(o->wait_status);
        if (o->err)
                copy_trimmed(ce->stderr_text, sizeof ce->stderr_text, o->err, o->err_len);
        char lower[16];
        size_t i = 0;
        for (; command[i] && i < sizeof lower - 1; i++)
                lower[i] = (char) (command[i] >= 'A' && command[i] <= 'Z' ? command[i] + 32 : command[i]);
        lower[i] = 0;
        (void) rt_err_setx(&ce->e, -EIO, "plugin type=\"%s\" failed (%s): %s%s%s", type, lower, ce->msg,
                           ce->details[0] ? "; " : "", ce->details);
        return -EIO;
}

int cni_outcome(const CniOutput *o, const char *type, int index, const char *command, bool want_result,
                const char *list_version, json_t **ret, CniError *ce) {
        int st = o->wait_status;
        if (WIFSIGNALED(st)) {
                char msg[64];
                (void) snprintf(msg, sizeof msg, "signal: %s", strsignal(WTERMSIG(st)));
                return plugin_fail(ce, CNI_ERR_SIGNAL, 0, type, index, command, msg, NULL, o);
        }
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
        json_auto_t *j = NULL;
        if (o->out_len && !only_space(o->out, o->out_len))
                j = json_loadb(o->out, o->out_len, 0, NULL);

        if (code != 0) {
                json_t *c = json_object_get(j, "code");
                if (json_is_object(j) && json_is_integer(c) && json_integer_value(c) >= 0 &&
                    json_integer_value(c) <= UINT32_MAX) {
                        const char *msg = json_string_value(json_object_get(j, "msg"));
                        const char *details = json_string_value(json_object_get(j, "details"));
                        return plugin_fail(ce, CNI_ERR_PLUGIN, (unsigned) json_integer_value(c), type, index,
                                           command, msg ?: "", details, o);
                }
                char msg[256];
                if (o->out_len && !only_space(o->out, o->out_len)) {
                        (void) snprintf(msg, sizeof msg, "plugin failed but its output is not valid JSON (exit status %d)", code);
                        char raw[512];
                        copy_trimmed(raw, sizeof raw, o->out, o->out_len);
                        return plugin_fail(ce, CNI_ERR_OUTPUT, 0, type, index, command, msg, raw, o);
                }
                if (o->err_len && !only_space(o->err, o->err_len)) {
                        copy_trimmed(msg, sizeof msg, o->err, o->err_len);
                        return plugin_fail(ce, CNI_ERR_PLUGIN, 0, type, index, command, msg, NULL, o);
                }
                (void) snprintf(msg, sizeof msg, "plugin failed with no error message: exit status %d", code);
                return plugin_fail(ce, CNI_ERR_PLUGIN, 0, type, index, command, msg, NULL, o);
        }

        /* exit 0: only ADD reads stdout */
        if (!want_result) {
                if (json_is_object(j) && json_object_get(j, "code") && json_object_get(j, "msg"))
                        log_warning("plugin type='%s' (%s) exited 0 but printed an error object, ignoring it",
                                    type, command);
                return 0;
        }
        if (!j) {
                if (!o->out_len || only_space(o->out, o->out_len))
                        return plugin_fail(ce, CNI_ERR_OUTPUT, 0, type, index, command,
                                           "unexpected end of JSON input", NULL, o);
                char raw[512];
                copy_trimmed(raw, sizeof raw, o->out, o->out_len);
                return plugin_fail(ce, CNI_ERR_OUTPUT, 0, type, index, command,
                                   "invalid result: not valid JSON", raw, o);
        }
        if (!json_is_object(j))
                return plugin_fail(ce, CNI_ERR_OUTPUT, 0, type, index, command,
                                   "invalid result: not a JSON object", NULL, o);
        if (json_object_get(j, "code") && json_object_get(j, "msg") && !json_object_get(j, "ips") &&
            !json_object_get(j, "interfaces")) {
                /* libcni reads this as an empty result; we do too, and say so */
                log_warning("plugin type='%s' exited 0 with an error object ('%s'); taken as an empty result",
                            type, json_string_value(json_object_get(j, "msg")) ?: "");
                json_t *empty = json_object();
                (void) json_object_set_new(empty, "cniVersion", json_string(list_version));
                *ret = empty;
                return 0;
        }
        json_t *v = json_object_get(j, "cniVersion");
        if (!v || (json_is_string(v) && !*json_string_value(v)))
                (void) json_object_set_new(j, "cniVersion", json_string(*list_version ? list_version : "0.1.0"));
        RtError e = {};
        if (cni_result_check(j, &e) < 0)
                return plugin_fail(ce, CNI_ERR_OUTPUT, 0, type, index, command, "invalid result", e.msg, o);
        *ret = TAKE_PTR(j);
        return 0;
}

json_t *cni_runtime_config(const CniPlugin *p, json_t *cap_args) {
        if (!json_is_object(cap_args))
                return NULL;
        json_t *rc = NULL;
        for (char **c = p->caps; c && *c; c++) {
                json_t *v = json_object_get(cap_args, *c);
                if (!v)
                        continue;
                if (!rc && !(rc = json_object()))
                        return NULL;
                (void) json_object_set(rc, *c, v);
        }
        return rc;
}

static char *json_quote(const char *s) {
        json_auto_t *j = json_string(s);
        return j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
}

/* Keys the runtime sets itself: never passed on from the file as they are. */
static bool runtime_key(const char *k, bool sets_runtime_config) {
        return streq(k, "name") || streq(k, "cniVersion") || streq(k, "prevResult") ||
               (sets_runtime_config && streq(k, "runtimeConfig")) || startswith(k, "cni.dev/");
}

int cni_build_request(const CniList *list, const CniPlugin *p, const char *prev_result,
                      json_t *runtime_config, json_t *extra, char **ret, size_t *ret_len) {
        JsonMember members[512];
        size_t n = 0;
        int r = json_raw_members(p->raw, p->raw_len, members, ELEMENTSOF(members), &n);
        if (r < 0)
                return r;
        _cleanup_free_ char *name = json_quote(list->name), *version = json_quote(list->version);
        if (!name || !version)
                return -ENOMEM;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        const size_t max = SIZE_MAX / 2;
#define PUT(s, l)                                                                                  \
        do {                                                                                       \
                if ((r = append(&buf, &len, &cap, (s), (l), max)) < 0)                             \
                        goto fail;                                                                 \
        } while (0)
#define PUTS(s) PUT((s), strlen(s))
        PUTS("{\"cniVersion\":");
        PUTS(version);
        PUTS(",\"name\":");
        PUTS(name);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *k = json_raw_key(&members[i]);
                if (!k || runtime_key(k, runtime_config != NULL))
                        continue;
                PUTS(",");
                PUT(members[i].key.p, (size_t) (members[i].value.p + members[i].value.len - members[i].key.p));
        }
        if (prev_result) {
                PUTS(",\"prevResult\":");
                PUTS(prev_result);
        }
        if (runtime_config) {
                _cleanup_free_ char *rc = json_dumps(runtime_config, JSON_COMPACT);
                if (!rc) {
                        r = -ENOMEM;
                        goto fail;
                }
                PUTS(",\"runtimeConfig\":");
                PUTS(rc);
        }
        if (extra) {
                const char *k;
                json_t *v;
                json_object_foreach(extra, k, v) {
                        _cleanup_free_ char *kj = json_quote(k);
                        _cleanup_free_ char *vj = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                        if (!kj || !vj) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        PUTS(",");
                        PUTS(kj);
                        PUTS(":");
                        PUTS(vj);
                }
        }
        PUTS("}");
#undef PUT
#undef PUTS
        *ret = buf;
        *ret_len = len;
        return 0;
fail:
        free(buf);
        return r;
}
