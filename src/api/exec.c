/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exec sessions (spec 5): create, inspect, resize, remove, and start with Podman 4's
 * stream protocol or Docker's upgrade. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "json.h"
#include "cleanup.h"
#include "cni.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "proc.h"
#include "strv.h"


/* ---- exec sessions (4.9 – 4.13, 5) ---- */

enum { EXEC_KEEP_MS = 5 * 60 * 1000, EXEC_HOLD_MS = 60 };

struct ExecSession {
        char id[65];
        char ctr_id[CTR_ID_LEN + 1];
        char **argv;
        char **env;
        char *workdir;
        char *user;
        char detach_keys[32];
        bool tty, attach_stdin, attach_stdout, attach_stderr, privileged;
        bool running, started;
        int exit_code;
        pid_t pid;
        int pty_master; /* while running with a terminal: for resize; -1 otherwise */
        uint64_t created_ms, finished_ms;
        size_t bytes; /* of its command, environment and the rest: counted against API_EXEC_MAX_BYTES */
        ExecSession *next;
};

static void session_free(ExecSession *s) {
        strv_free(s->argv);
        strv_free(s->env);
        free(s->workdir);
        free(s->user);
        free(s);
}

void api_sessions_free(ApiServer *srv) {
        for (ExecSession *s = srv->sessions, *n; s; s = n) {
                n = s->next;
                session_free(s);
        }
        srv->sessions = NULL;
        srv->n_sessions = srv->session_bytes = 0;
}

/* Under srv->lock: *p unlinked and freed, the server's counts with it */
static void session_drop(ApiServer *srv, ExecSession **p) {
        ExecSession *s = *p;
        *p = s->next;
        srv->n_sessions--;
        srv->session_bytes -= s->bytes;
        session_free(s);
}

/* Under srv->lock. Finished sessions are kept a while for their ExitCode (spec 2); ones
 * never started go after a while too (a client that creates and forgets would otherwise
 * grow the server without end). */
static void sessions_expire(ApiServer *srv) {
        uint64_t now = now_monotonic_ms();
        for (ExecSession **p = &srv->sessions; *p;) {
                ExecSession *s = *p;
                if ((s->finished_ms && now - s->finished_ms > EXEC_KEEP_MS) ||
                    (!s->started && now - s->created_ms > API_EXEC_UNSTARTED_MS))
                        session_drop(srv, p);
                else
                        p = &s->next;
        }
}

void api_sessions_drop_container(ApiServer *srv, const char *ctr_id) {
        pthread_mutex_lock(&srv->lock);
        for (ExecSession **p = &srv->sessions; *p;)
                if (streq((*p)->ctr_id, ctr_id) && !(*p)->running)
                        session_drop(srv, p);
                else
                        p = &(*p)->next;
        pthread_mutex_unlock(&srv->lock);
}

static size_t strv_bytes(char *const *v) {
        size_t n = 0;
        for (char *const *p = v; p && *p; p++)
                n += strlen(*p) + 1 + sizeof(char *);
        return n;
}

static ExecSession *session_find(ApiServer *srv, const char *id) {
        for (ExecSession *s = srv->sessions; s; s = s->next)
                if (streq(s->id, id))
                        return s;
        return NULL;
}

static int parse_cmd(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int r = json_parse_strv(path, v, field, f, err);
        if (r == 0 && !(*(char ***) field)[0])
                return rt_err_setx(err, -EBADMSG, "%s: an empty command", path);
        return r;
}

static int parse_env(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int r = json_parse_strv(path, v, field, f, err);
        for (char **kv = r == 0 ? *(char ***) field : NULL; kv && *kv; kv++)
                if (!strchr(*kv, '=') || **kv == '=')
                        return rt_err_setx(err, -EBADMSG, "%s: '%s' is not KEY=VALUE", path, *kv);
        return r;
}

/* The body of libpod's and Docker's exec create: their keys, any case, null as absent;
 * the many keys nsprov has no use for pass. */
static const JsonField exec_create_fields[] = {
        { "Cmd", parse_cmd, offsetof(ExecSession, argv), JF_MANDATORY | JF_NULLABLE, .max = CTR_MAX_ARGS },
        { "Env", parse_env, offsetof(ExecSession, env), JF_NULLABLE, .max = CTR_MAX_ENV },
        { "WorkingDir", json_parse_string, offsetof(ExecSession, workdir), JF_NULLABLE },
        { "User", json_parse_string, offsetof(ExecSession, user), JF_NULLABLE, .check = ctr_user_check },
        { "Tty", json_parse_bool, offsetof(ExecSession, tty), JF_NULLABLE },
        { "AttachStdin", json_parse_bool, offsetof(ExecSession, attach_stdin), JF_NULLABLE },
        { "AttachStdout", json_parse_bool, offsetof(ExecSession, attach_stdout), JF_NULLABLE },
        { "AttachStderr", json_parse_bool, offsetof(ExecSession, attach_stderr), JF_NULLABLE },
        { "Privileged", json_parse_bool, offsetof(ExecSession, privileged), JF_NULLABLE },
        { "DetachKeys", json_parse_string_buf, offsetof(ExecSession, detach_keys), JF_NULLABLE,
          .size = sizeof(((ExecSession *) 0)->detach_keys) },
        {},
};

int api_ep_exec_create(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        json_auto_t *b = NULL;
        int e = api_body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 500, "container state improper",
                                 "can only create exec sessions on running containers: container state improper");
        ExecSession *s = calloc(1, sizeof *s);
        if (!s)
                return api_error(c, 500, "out of memory", "out of memory");
        s->pty_master = -1;
        RtError berr = {};
        if (json_dispatch("", b, exec_create_fields, s, JD_ALLOW_UNKNOWN | JD_CASE_INSENSITIVE, &berr) < 0) {
                session_free(s);
                return api_error(c, 400, "bad request", "exec: %s", berr.msg);
        }
        /* "" is as good as none */
        if (s->workdir && !*s->workdir) {
                free(s->workdir);
                s->workdir = NULL;
        }
        if (s->user && !*s->user) {
                free(s->user);
                s->user = NULL;
        }
        if (!s->detach_keys[0])
                (void) snprintf(s->detach_keys, sizeof s->detach_keys, "ctrl-p,ctrl-q");
        memcpy(s->ctr_id, k.config.id, sizeof s->ctr_id);
        api_hex_id(s->id);
        char id[65];
        memcpy(id, s->id, sizeof id);
        s->created_ms = now_monotonic_ms();
        s->bytes = sizeof *s + strv_bytes(s->argv) + strv_bytes(s->env) + (s->workdir ? strlen(s->workdir) : 0) +
                   (s->user ? strlen(s->user) : 0);
        ApiServer *srv = c->srv;
        pthread_mutex_lock(&srv->lock);
        sessions_expire(srv);
        size_t of_ctr = 0;
        for (ExecSession *o = srv->sessions; o; o = o->next)
                of_ctr += streq(o->ctr_id, s->ctr_id);
        const char *full = of_ctr >= API_EXEC_MAX_PER_CONTAINER ? "the container has" :
                           srv->n_sessions >= API_EXEC_MAX_SESSIONS ||
                                           srv->session_bytes + s->bytes > API_EXEC_MAX_BYTES
                                   ? "the server has"
                                   : NULL;
        if (!full) {
                s->next = srv->sessions;
                srv->sessions = s;
                srv->n_sessions++;
                srv->session_bytes += s->bytes;
        }
        pthread_mutex_unlock(&srv->lock);
        if (full) {
                session_free(s);
                return api_error(c, 503, "too many exec sessions",
                                 "%s too many exec sessions not yet removed: start or remove them (unstarted ones "
                                 "go after %d min)", full, API_EXEC_UNSTARTED_MS / 60000);
        }
        return api_reply_json(c, 201, json_pack("{s:s}", "Id", id));
}

int api_ep_exec_json(ApiConn *c, ApiRequest *r) {
        pthread_mutex_lock(&c->srv->lock);
        ExecSession *s = session_find(c->srv, r->segs[1]);
        json_t *j = NULL;
        if (s) {
                json_t *args = json_array();
                for (size_t i = 1; s->argv[i]; i++)
                        json_array_append_new(args, json_string(s->argv[i]));
                j = json_pack("{s:b, s:s, s:s, s:i, s:s, s:b, s:b, s:b, s:b, s:i, s:{s:o, s:s, s:b, s:b, s:s}}",
                              "CanRemove", s->started && !s->running, "ContainerID", s->ctr_id, "DetachKeys",
                              s->detach_keys, "ExitCode", s->exit_code, "ID", s->id, "OpenStderr", s->attach_stderr,
                              "OpenStdin", s->attach_stdin, "OpenStdout", s->attach_stdout, "Running", s->running, "Pid",
                              s->running ? (int) s->pid : 0, "ProcessConfig", "arguments", args, "entrypoint",
                              s->argv[0], "privileged", s->privileged, "tty", s->tty, "user", s->user ?: "");
        }
        pthread_mutex_unlock(&c->srv->lock);
        if (!j)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        return api_reply_json(c, 200, j);
}

int api_ep_exec_resize(ApiConn *c, ApiRequest *r) {
        struct winsize ws = { .ws_row = api_query_dimension(r, "h"), .ws_col = api_query_dimension(r, "w") };
        pthread_mutex_lock(&c->srv->lock);
        ExecSession *s = session_find(c->srv, r->segs[1]);
        /* a finished or pipe-backed session has nothing to resize, and says 201 all the
         * same (4.12) */
        if (s && s->pty_master >= 0 && ws.ws_row && ws.ws_col)
                (void) ioctl(s->pty_master, TIOCSWINSZ, &ws);
        pthread_mutex_unlock(&c->srv->lock);
        if (!s)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        return api_reply(c, 201, NULL, NULL, 0);
}

int api_ep_exec_remove(ApiConn *c, ApiRequest *r) {
        pthread_mutex_lock(&c->srv->lock);
        ExecSession **p = &c->srv->sessions;
        while (*p && !streq((*p)->id, r->segs[1]))
                p = &(*p)->next;
        ExecSession *s = *p;
        bool busy = s && s->running;
        if (s && !busy)
                session_drop(c->srv, p);
        pthread_mutex_unlock(&c->srv->lock);
        if (!s)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        if (busy)
                return api_error(c, 409, "exec session is running", "cannot remove exec session %s: it is running", r->segs[1]);
        return api_reply(c, 200, "text/plain; charset=us-ascii", "", 0);
}

/* The session's command, started in this thread as the server's own child (no helper
 * process: ctr_exec_spawn forks once, straight into the container). */
static int session_spawn(const ApiServer *srv, const ExecSession *s, const int stdio[3],
                         const struct winsize *ws, CtrExecChild *ret, RtError *err) {
        CtrExec ex = { .argv = s->argv, .env = s->env, .workdir = s->workdir, .user = s->user,
                       .tty = s->tty, .interactive = s->attach_stdin, .privileged = s->privileged };
        return ctr_exec_spawn(&srv->store, s->ctr_id, &ex, stdio, ws, ret, err);
}

static void session_finished(ApiServer *srv, const char *id, int status) {
        pthread_mutex_lock(&srv->lock);
        ExecSession *s = session_find(srv, id);
        if (s) {
                s->pty_master = -1;
                s->running = false;
                s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                s->finished_ms = now_monotonic_ms();
        }
        pthread_mutex_unlock(&srv->lock);
}

typedef struct DetachedExec {
        ApiServer *srv;
        pid_t pid;
        int pty_master; /* drained to the end: closing it would hang the command up */
        char id[65];
} DetachedExec;

static void *reap_detached(void *p) {
        DetachedExec d = *(DetachedExec *) p;
        free(p);
        if (d.pty_master >= 0) {
                char buf[4096];
                while (read(d.pty_master, buf, sizeof buf) > 0 || errno == EINTR)
                        ;
        }
        int st = 0;
        while (waitpid(d.pid, &st, 0) < 0 && errno == EINTR)
                ;
        session_finished(d.srv, d.id, st);
        (void) safe_close(d.pty_master);
        return NULL;
}

/* Before the stream: a container no longer running (the runtime's -ESRCH) is 409, as
 * Podman's "container state improper"; anything else that kept the command from
 * running at all, 500. The session ends with 126, or the code the runtime gave. */
static int exec_start_failed(ApiConn *c, const ExecSession *s, const CtrExecChild *child,
                             const RtError *err) {
        if (err->code == -ESRCH) {
                session_finished(c->srv, s->id, 126 << 8);
                /* the spec's words, with the state the container is in now */
                _cleanup_(ctr_done) Container k = {};
                bool loaded = ctr_load(&c->srv->store, s->ctr_id, &k, NULL) == 0;
                if (loaded)
                        (void) ctr_state_observe(&k);
                return api_error(c, 409, "container state improper",
                                 "cannot exec in a container that is not running; container %s is %s", s->ctr_id,
                                 loaded ? ctr_status_to_string(k.state.status) : "gone");
        }
        session_finished(c->srv, s->id, (child->cannot_run ? child->cannot_run : 125) << 8);
        return api_error(c, 500, "exec failed", "start exec session: %s", err->msg);
}

int api_ep_exec_start(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int e = api_body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        ApiServer *srv = c->srv;
        pthread_mutex_lock(&srv->lock);
        ExecSession *found = session_find(srv, r->segs[1]);
        ExecSession s = {};
        bool busy = found && found->started;
        if (found && !busy) {
                found->started = found->running = true;
                s = *found; /* the strings stay owned by the list; the session is not removed while running */
        }
        pthread_mutex_unlock(&srv->lock);
        if (!found)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        if (busy)
                return api_error(c, 409, "exec session state improper", "exec session %s has already been started", r->segs[1]);

        /* 4.11: the size the client's terminal has, given before the start */
        struct winsize ws = { .ws_row = api_json_dimension(api_jget(b, "h")), .ws_col = api_json_dimension(api_jget(b, "w")) };
        RtError spawn_err = {};
        if (api_jbool(b, "Detach")) {
                CtrExecChild child;
                const int none[3] = { -1, -1, -1 };
                if (session_spawn(srv, &s, none, &ws, &child, &spawn_err) < 0)
                        return exec_start_failed(c, &s, &child, &spawn_err);
                pid_t pid = child.pid;
                int master = child.pty_master;
                pthread_mutex_lock(&srv->lock);
                if ((found = session_find(srv, s.id))) {
                        found->pid = pid;
                        found->pty_master = master; /* closed only after session_finished */
                }
                pthread_mutex_unlock(&srv->lock);
                DetachedExec *d = malloc(sizeof *d);
                pthread_t t;
                pthread_attr_t at;
                pthread_attr_init(&at);
                pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
                if (d) {
                        *d = (DetachedExec) { srv, pid, master };
                        memcpy(d->id, s.id, sizeof d->id);
                }
                if (!d || pthread_create(&t, &at, reap_detached, d) != 0) {
                        free(d);
                        int st = 0;
                        (void) waitpid(pid, &st, 0);
                        session_finished(srv, s.id, st);
                        (void) safe_close(master);
                }
                pthread_attr_destroy(&at);
                return api_reply_text(c, 200, "\n");
        }

        /* the hijacked stream (5): pipes, or the pty's master both ways */
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
        if (!s.tty && ((s.attach_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
                       pipe2(err, O_CLOEXEC) < 0)) {
                for (int i = 0; i < 2; i++)
                        (void) (safe_close(in[i]) + safe_close(out[i]) + safe_close(err[i]));
                session_finished(srv, s.id, 125 << 8);
                return api_error(c, 500, "exec failed", "pipe: %s", strerror(errno));
        }
        CtrExecChild child;
        const int stdio[3] = { in[0], out[1], err[1] };
        e = session_spawn(srv, &s, stdio, &ws, &child, &spawn_err);
        (void) (safe_close(in[0]) + safe_close(out[1]) + safe_close(err[1]));
        int stdin_w = in[1], out_r = out[0], err_r = err[0];
        pid_t pid = child.pid;
        int master = child.pty_master;
        if (e < 0 && !child.cannot_run) {
                (void) (safe_close(stdin_w) + safe_close(out_r) + safe_close(err_r));
                return exec_start_failed(c, &s, &child, &spawn_err);
        }
        if (e < 0) {
                /* The command could not be run: as with Podman, the stream still opens
                 * and says why on stderr, and the session's ExitCode is 126 or 127. The
                 * text goes through a pipe of its own, so the loop below holds and frames
                 * it like any output. */
                int why[2];
                (void) (safe_close(stdin_w) + safe_close(out_r) + safe_close(err_r));
                stdin_w = out_r = err_r = -1;
                if (pipe2(why, O_CLOEXEC) == 0) {
                        char text[sizeof spawn_err.msg + 16];
                        (void) snprintf(text, sizeof text, "Error: %s\n", spawn_err.msg);
                        (void) api_write_all(why[1], text, strlen(text));
                        close(why[1]);
                        *(s.tty ? &out_r : &err_r) = why[0];
                }
        }
        /* The master itself stays open, for resize, until the session is finished; the
         * loop below reads and writes copies of it. */
        if (master >= 0) {
                out_r = fcntl(master, F_DUPFD_CLOEXEC, 3);
                stdin_w = s.attach_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1;
        }
        pthread_mutex_lock(&srv->lock);
        if ((found = session_find(srv, s.id))) {
                found->pid = pid;
                found->pty_master = master;
        }
        pthread_mutex_unlock(&srv->lock);

        bool upgrade = r->http.upgrade[0];
        /* 1.6: Podman ≥ 4.7 names the non-tty framing multiplexed; older request versions,
         * and the compat API at our 1.41, call every stream raw (no client reads it) */
        unsigned minor = strchr(r->version, '.') ? (unsigned) atoi(strchr(r->version, '.') + 1) : 0;
        bool multiplexed_name = !s.tty && r->libpod && (api_major_version(r) > 4 || (api_major_version(r) == 4 && minor >= 7));
        const char *ctype = multiplexed_name ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
        char head[512];
        int n = upgrade ? snprintf(head, sizeof head,
                                   "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n",
                                   ctype, r->http.upgrade)
                        : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype);
        bool client_ok = api_write_all(c->fd, head, (size_t) n) == 0;
        /* 5.3: Podman 4 clients lose output sent with the 200 header: hold it a moment,
         * or until the client's first stdin byte or half-close. Only Go's HTTP client
         * reads the stream that way (and one that names itself not at all may be one):
         * podman-py, curl and the like get their output at once. */
        const char *ua = http_header(&r->http, "User-Agent");
        bool go_client = !ua || startswith(ua, "Go-http-client");
        uint64_t hold_until = upgrade || !go_client ? 0 : now_monotonic_ms() + EXEC_HOLD_MS;

        /* bytes the client sent after the request, already read: stdin */
        size_t pending_in = c->len;
        bool client_read_open = client_ok;
        char buf[65536];
        while (out_r >= 0 || err_r >= 0) {
                struct pollfd p[4];
                int np = 0, i_client = -1, i_out = -1, i_err = -1;
                uint64_t now = now_monotonic_ms();
                bool holding = hold_until && now < hold_until;
                if (client_read_open)
                        p[i_client = np++] = (struct pollfd) { c->fd, POLLIN | POLLRDHUP, 0 };
                if (!holding) {
                        if (out_r >= 0)
                                p[i_out = np++] = (struct pollfd) { out_r, POLLIN, 0 };
                        if (err_r >= 0)
                                p[i_err = np++] = (struct pollfd) { err_r, POLLIN, 0 };
                }
                if (pending_in) {
                        if (stdin_w >= 0)
                                (void) api_write_all(stdin_w, c->buf, pending_in);
                        c->len = 0;
                        pending_in = 0;
                        hold_until = 0;
                        continue;
                }
                int polled = poll(p, (nfds_t) np, holding ? (int) (hold_until - now) : -1);
                if (polled < 0 && errno != EINTR)
                        break;
                if (i_client >= 0 && p[i_client].revents) {
                        ssize_t got = recv(c->fd, buf, sizeof buf, 0);
                        if (got > 0) {
                                if (stdin_w >= 0 && s.attach_stdin)
                                        (void) api_write_all(stdin_w, buf, (size_t) got);
                        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                                /* a half-close is stdin's EOF, not a disconnect: output goes on */
                                client_read_open = false;
                                stdin_w = safe_close(stdin_w);
                        }
                        hold_until = 0;
                }
                int *fds[2] = { &out_r, &err_r };
                int idx[2] = { i_out, i_err };
                for (int st = 0; st < 2; st++) {
                        if (idx[st] < 0 || !p[idx[st]].revents)
                                continue;
                        ssize_t got = read(*fds[st], buf, sizeof buf);
                        if (got <= 0) {
                                if (got == 0 || (errno != EINTR && errno != EAGAIN))
                                        *fds[st] = safe_close(*fds[st]);
                                continue;
                        }
                        bool wanted = st == 0 ? s.attach_stdout : s.attach_stderr;
                        if (!client_ok || !wanted)
                                continue;
                        int w = s.tty ? api_write_all(c->fd, buf, (size_t) got)
                                      : api_frame_write(c->fd, (uint8_t) (st + 1), buf, (size_t) got);
                        if (w < 0)
                                client_ok = false; /* gone: the command still runs to its end */
                }
        }
        stdin_w = safe_close(stdin_w);
        int st = child.cannot_run << 8;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        /* the exit code is recorded before the stream closes (5.2) */
        session_finished(srv, s.id, st);
        if (client_ok)
                (void) shutdown(c->fd, SHUT_WR);
        (void) safe_close(master); /* after: a pty's release takes a while */
        return -ECONNRESET; /* the connection was the stream's */
}

