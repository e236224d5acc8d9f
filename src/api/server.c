/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connections: accept, peer credentials, requests read with every limit, replies. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "proc.h"

enum {
        API_REQUEST_MS = 60 * 1000, /* an upload's body or a reply may stall this long */
        API_THREAD_STACK = 256 * 1024,
};

int api_write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        bool socket = true;
        while (len > 0) {
                /* send() for sockets (no SIGPIPE); a pipe (an exec's stdin) takes write() */
                ssize_t n = socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
                if (n < 0 && errno == ENOTSOCK && socket) {
                        socket = false;
                        continue;
                }
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = { fd, POLLOUT, 0 };
                                if (poll(&pfd, 1, API_REQUEST_MS) <= 0)
                                        return -ETIMEDOUT;
                                continue;
                        }
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int api_common_headers(char *buf, size_t size) {
        return snprintf(buf, size,
                        "Api-Version: " API_COMPAT_VERSION "\r\n"
                        "Libpod-Api-Version: " API_LIBPOD_VERSION "\r\n"
                        "Server: Libpod/" API_LIBPOD_VERSION " (linux)\r\n");
}

int api_reply(ApiConn *c, int status, const char *content_type, const void *body, size_t len) {
        char head[1024];
        int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        bool no_body = status == 204 || status == 304;
        if (content_type && !no_body)
                n += snprintf(head + n, sizeof head - (size_t) n, "Content-Type: %s\r\n", content_type);
        if (!no_body)
                n += snprintf(head + n, sizeof head - (size_t) n, "Content-Length: %zu\r\n", len);
        if (!c->keep_alive)
                n += snprintf(head + n, sizeof head - (size_t) n, "Connection: close\r\n");
        n += snprintf(head + n, sizeof head - (size_t) n, "\r\n");
        /* One send for header and body: the client wakes once, not twice, per answer. A
         * HEAD's answer has the length a GET's body would have, and no body: a client
         * would read those bytes as an answer nobody asked for. */
        struct iovec iov[2] = { { head, (size_t) n }, { (void *) body, no_body || c->head ? 0 : len } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t sent;
        do
                sent = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
        int r = sent < 0 && errno != EAGAIN ? -errno : 0;
        /* the rest of a partial (or would-block) send, in order */
        size_t done = sent > 0 ? (size_t) sent : 0;
        for (int i = 0; r == 0 && i < 2; i++) {
                size_t skip = done < iov[i].iov_len ? done : iov[i].iov_len;
                done -= skip;
                if (iov[i].iov_len > skip)
                        r = api_write_all(c->fd, (const char *) iov[i].iov_base + skip, iov[i].iov_len - skip);
        }
        return r < 0 ? r : c->keep_alive ? 0 : -ECONNRESET;
}

int api_reply_json(ApiConn *c, int status, json_t *j) {
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text)
                return api_error(c, 500, "out of memory", "out of memory");
        size_t len = strlen(text);
        /* Podman ends its JSON with a newline; some clients read line-wise */
        char *nl = realloc(text, len + 2);
        if (nl) {
                text = nl;
                text[len++] = '\n';
                text[len] = 0;
        }
        int r = api_reply(c, status, "application/json", text, len);
        free(text);
        return r;
}

int api_reply_text(ApiConn *c, int status, const char *text) {
        return api_reply(c, status, "text/plain; charset=us-ascii", text, strlen(text));
}

int api_error(ApiConn *c, int status, const char *cause, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return api_reply_json(c, status, json_pack("{s:s, s:s, s:i}", "cause", cause, "message", msg, "response", status));
}

/* A container has a pid namespace of its own; what merely has a mount namespace of its
 * own (a service with PrivateTmp, `ip netns exec`, `unshare -m`) does not. */
static bool same_pid_ns(pid_t pid) {
        char p[64];
        struct stat ours, theirs;
        (void) snprintf(p, sizeof p, "/proc/%d/ns/pid", (int) pid);
        return pid > 0 && stat("/proc/self/ns/pid", &ours) == 0 && stat(p, &theirs) == 0 && ours.st_ino == theirs.st_ino &&
               ours.st_dev == theirs.st_dev;
}

/* The peer may talk to us: root, or a member of --group (SO_PEERCRED, before any byte). */
static bool peer_allowed(const ApiServer *srv, int fd, char *who, size_t size) {
        struct ucred cr;
        socklen_t l = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
                return false;
        (void) snprintf(who, size, "uid %u (pid %d)", (unsigned) cr.uid, (int) cr.pid);
        /* a container's root is uid 0 too: a peer in another pid namespace is in one (a
         * pid translated into ours is 0 when it is in none we can see), and the socket
         * was reached through a mount into it */
        if (!srv->allow_containers && !same_pid_ns(cr.pid)) {
                size_t used = strlen(who);
                (void) snprintf(who + used, size - used, " in a container (another pid namespace)");
                return false;
        }
        if (cr.uid == 0)
                return true;
        if (!srv->have_group)
                return false;
        if (cr.gid == srv->group)
                return true;
        /* the peer's supplementary groups as the socket recorded them at connect
         * (SO_PEERGROUPS): not read from /proc by a pid another process may have by now */
        gid_t few[64], *groups = few;
        socklen_t gl = sizeof few;
        _cleanup_free_ gid_t *many = NULL;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) < 0) {
                /* more than a few: the kernel said how many */
                if (errno != ERANGE || gl > NGROUPS_MAX * sizeof(gid_t) || !(many = malloc(gl)) ||
                    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, many, &gl) < 0)
                        return false;
                groups = many;
        }
        for (size_t i = 0; i < gl / sizeof(gid_t); i++)
                if (groups[i] == srv->group)
                        return true;
        return false;
}

/* Reads until the buffer holds want bytes, or EOF, or the deadline (monotonic ms). */
static int fill(ApiConn *c, size_t want, uint64_t deadline_ms) {
        while (c->len < want) {
                if (c->cap < want + 4096) {
                        size_t cap = c->cap ? c->cap : 8192;
                        while (cap < want + 4096)
                                cap *= 2;
                        char *b = realloc(c->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        c->buf = b;
                        c->cap = cap;
                }
                uint64_t now = now_monotonic_ms();
                if (now >= deadline_ms)
                        return -ETIMEDOUT;
                struct pollfd pfd = { c->fd, POLLIN, 0 };
                int k = poll(&pfd, 1, (int) MIN(deadline_ms - now, (uint64_t) INT_MAX));
                if (k == 0)
                        return -ETIMEDOUT;
                if (k < 0 && errno != EINTR)
                        return -errno;
                ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (n == 0)
                        return -ECONNRESET;
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                c->len += (size_t) n;
        }
        return 0;
}

/* Between requests a keep-alive connection is idle: at the connection cap the oldest
 * idle one makes room for a new client (nginx's way), so that idle clients cannot lock
 * everyone out. Under srv->lock. */
static void idle_unlink(ApiServer *srv, ApiConn *c) {
        if (!c->idle)
                return;
        if (c->idle_prev)
                c->idle_prev->idle_next = c->idle_next;
        else
                srv->idle_first = c->idle_next;
        if (c->idle_next)
                c->idle_next->idle_prev = c->idle_prev;
        else
                srv->idle_last = c->idle_prev;
        c->idle_prev = c->idle_next = NULL;
        c->idle = false;
}

static void idle_begin(ApiConn *c) {
        ApiServer *srv = c->srv;
        pthread_mutex_lock(&srv->lock);
        c->idle = true;
        c->idle_prev = NULL;
        c->idle_next = srv->idle_first;
        if (srv->idle_first)
                srv->idle_first->idle_prev = c;
        else
                srv->idle_last = c;
        srv->idle_first = c;
        pthread_mutex_unlock(&srv->lock);
}

static void idle_end(ApiConn *c) {
        pthread_mutex_lock(&c->srv->lock);
        idle_unlink(c->srv, c);
        pthread_mutex_unlock(&c->srv->lock);
}

/* The oldest idle connection told to close (its read ends); whether there was one */
static bool idle_evict(ApiServer *srv) {
        pthread_mutex_lock(&srv->lock);
        ApiConn *c = srv->idle_last;
        if (c) {
                idle_unlink(srv, c);
                (void) shutdown(c->fd, SHUT_RD);
        }
        pthread_mutex_unlock(&srv->lock);
        return c != NULL;
}

static uint64_t in_ms(unsigned ms) {
        return now_monotonic_ms() + ms;
}

static void consume(ApiConn *c, size_t n) {
        memmove(c->buf, c->buf + n, c->len - n);
        c->len -= n;
}

/* The path after /v{V} and /libpod, split and percent-decoded (spec 1.2). */
static int split_path(ApiRequest *r) {
        const char *p = r->http.path;
        /* counted in the request as they are made: an error halfway leaves them to
         * api_request_done (the fuzzer found them leaked) */
        size_t *n = &r->n_segs;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchr(p, '/');
                size_t len = e ? (size_t) (e - p) : strlen(p);
                if (*n >= ELEMENTSOF(r->segs))
                        return -E2BIG;
                char *seg;
                if (http_unescape(p, len, false, &seg) < 0)
                        return -EBADMSG;
                if (*n == 0 && !r->version[0] && !r->libpod && seg[0] == 'v' && seg[1] >= '0' && seg[1] <= '9' &&
                    strlen(seg) < sizeof r->version) {
                        strcpy(r->version, seg + 1);
                        free(seg);
                } else if (*n == 0 && !r->libpod && strcmp(seg, "libpod") == 0) {
                        r->libpod = true;
                        free(seg);
                } else
                        r->segs[(*n)++] = seg;
                p += len;
        }
        return 0;
}

static void api_request_done(ApiRequest *r) {
        for (size_t i = 0; i < r->n_segs; i++)
                free(r->segs[i]);
        http_request_done(&r->http);
        *r = (ApiRequest) {};
}

static int body_timed_out(ApiConn *c, int k) {
        if (k == -ETIMEDOUT) {
                c->keep_alive = false;
                (void) api_error(c, 408, "request timeout", "the request's body did not arrive within %u s",
                                 c->srv->body_timeout_ms / 1000);
        }
        return k;
}

/* One request from the connection: 0, or < 0 to close (an error reply already sent
 * when there was something to say). */
static int read_request(ApiConn *c, ApiRequest *r) {
        const ApiServer *srv = c->srv;
        char *end = NULL;
        /* a keep-alive connection may wait this long for its next request; once its first
         * byte is here, the whole head must follow within the header timeout, however it
         * trickles in */
        if (c->len == 0) {
                idle_begin(c);
                int k = fill(c, 1, in_ms(srv->keepalive_timeout_ms));
                idle_end(c);
                if (k < 0)
                        return k;
        }
        uint64_t head_deadline = in_ms(srv->header_timeout_ms);
        for (;;) {
                end = memmem(c->buf, c->len, "\r\n\r\n", 4);
                if (end)
                        break;
                if (c->len >= HTTP_MAX_HEADER_BYTES) {
                        c->keep_alive = false;
                        (void) api_error(c, 431, "request header too large", "request header larger than %d bytes",
                                         HTTP_MAX_HEADER_BYTES);
                        return -E2BIG;
                }
                int k = fill(c, c->len + 1, head_deadline);
                if (k == -ETIMEDOUT) {
                        c->keep_alive = false;
                        (void) api_error(c, 408, "request timeout", "the request's head did not arrive within %u s",
                                         srv->header_timeout_ms / 1000);
                }
                if (k < 0)
                        return k;
        }
        size_t head_len = (size_t) (end - c->buf) + 4;
        RtError e = {};
        int k = http_parse_head(c->buf, head_len, &r->http, &e);
        consume(c, head_len);
        if (k < 0) {
                c->keep_alive = false;
                (void) api_error(c, k == -E2BIG ? 431 : k == -EOPNOTSUPP ? 501 : 400, "bad request", "%s", e.msg);
                return k;
        }
        c->keep_alive = r->http.keep_alive;
        c->head = streq(r->http.method, "HEAD");
        if ((k = split_path(r)) < 0) {
                c->keep_alive = false;
                (void) api_error(c, 400, "bad request", "bad path '%.200s'", r->http.path);
                return k;
        }
        if (api_streams_body(r) && (r->http.content_length > 0 || r->http.chunked)) {
                r->body_pending = true;
                return 0;
        }
        uint64_t body_deadline = in_ms(srv->body_timeout_ms);
        if (r->http.content_length > 0) {
                if (r->http.content_length > API_MAX_JSON_BODY) {
                        c->keep_alive = false;
                        (void) api_error(c, 413, "request body too large", "request body larger than %d bytes",
                                         API_MAX_JSON_BODY);
                        return -E2BIG;
                }
                size_t want = (size_t) r->http.content_length;
                if ((k = fill(c, want, body_deadline)) < 0)
                        return body_timed_out(c, k);
                if (!(r->http.body = malloc(want + 1)))
                        return -ENOMEM;
                memcpy(r->http.body, c->buf, want);
                r->http.body[want] = 0;
                r->http.body_len = want;
                consume(c, want);
        } else if (r->http.chunked) {
                /* decoded as it comes, its framing consumed: what is held is the body */
                HttpChunkReader cr = {};
                size_t cap = 0;
                for (;;) {
                        size_t used, data, n;
                        k = http_chunk_next(&cr, c->buf, c->len, &used, &data, &n);
                        if (k == -EAGAIN) {
                                if ((k = fill(c, c->len + 1, body_deadline)) < 0)
                                        return body_timed_out(c, k);
                                continue;
                        }
                        if (k >= 0 && r->http.body_len + n + http_chunk_pending(&cr) > API_MAX_JSON_BODY)
                                k = -E2BIG;
                        if (k < 0) {
                                c->keep_alive = false;
                                (void) api_error(c, k == -E2BIG ? 413 : 400, "bad request",
                                                 k == -E2BIG ? "chunked body (or its trailers) too large"
                                                             : "bad chunked body");
                                return k;
                        }
                        if (r->http.body_len + n + 1 > cap) {
                                size_t ncap = MAX(cap * 2, r->http.body_len + n + 1 + 4096);
                                char *b = realloc(r->http.body, ncap);
                                if (!b)
                                        return -ENOMEM;
                                r->http.body = b;
                                cap = ncap;
                        }
                        memcpy(r->http.body + r->http.body_len, c->buf + data, n);
                        r->http.body_len += n;
                        r->http.body[r->http.body_len] = '\0';
                        consume(c, used);
                        if (k == 1)
                                break;
                }
        }
        return 0;
}

int api_body_to_fd(ApiConn *c, ApiRequest *r, int fd, uint64_t max, RtError *err) {
        const HttpRequest *h = &r->http;
        if (!r->body_pending)
                return rt_err_setx(err, -ENODATA, "the request has no body");
        const char *expect = http_header(h, "Expect");
        if (expect && strcasecmp(expect, "100-continue") == 0) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                int k = api_write_all(c->fd, cont, sizeof cont - 1);
                if (k < 0)
                        return rt_err_set(err, k, "answer Expect");
        }
        uint64_t total = 0;
        int k;
        if (!h->chunked) {
                if ((uint64_t) h->content_length > max)
                        return rt_err_setx(err, -E2BIG, "request body larger than %llu bytes", (unsigned long long) max);
                for (uint64_t left = (uint64_t) h->content_length; left > 0;) {
                        if (c->len == 0 && (k = fill(c, 1, in_ms(API_REQUEST_MS))) < 0)
                                return rt_err_set(err, k, "read the request body");
                        size_t n = c->len < left ? c->len : (size_t) left;
                        if ((k = api_write_all(fd, c->buf, n)) < 0)
                                return rt_err_set(err, k, "spool the request body");
                        consume(c, n);
                        left -= n;
                }
                r->body_pending = false;
                return 0;
        }
        HttpChunkReader cr = {};
        for (;;) {
                size_t used, data, n;
                k = http_chunk_next(&cr, c->buf, c->len, &used, &data, &n);
                if (k == -EAGAIN) {
                        /* an upload may take long; a pause of API_REQUEST_MS ends it */
                        if ((k = fill(c, c->len + 1, in_ms(API_REQUEST_MS))) < 0)
                                return rt_err_set(err, k, "read the request body");
                        continue;
                }
                if (k < 0)
                        return rt_err_setx(err, k, "bad chunked body");
                total += n;
                if (total + http_chunk_pending(&cr) > max)
                        return rt_err_setx(err, -E2BIG, "request body larger than %llu bytes", (unsigned long long) max);
                int w = n ? api_write_all(fd, c->buf + data, n) : 0;
                if (w < 0)
                        return rt_err_set(err, w, "spool the request body");
                consume(c, used);
                if (k == 1) {
                        r->body_pending = false;
                        return 0;
                }
        }
}

static void touch(ApiServer *srv, int delta) {
        pthread_mutex_lock(&srv->lock);
        srv->active = (unsigned) ((int) srv->active + delta);
        srv->last_activity_ms = now_monotonic_ms();
        pthread_mutex_unlock(&srv->lock);
}

typedef struct ConnArgs {
        ApiServer *srv;
        int fd;
} ConnArgs;

void api_connection_serve(ApiServer *srv, int fd) {
        ApiConn c = { .srv = srv, .fd = fd, .keep_alive = true };
        for (;;) {
                ApiRequest r = {};
                if (read_request(&c, &r) < 0) {
                        api_request_done(&r);
                        break;
                }
                uint64_t t0 = now_monotonic_us();
                int k = api_handle(&c, &r);
                /* a body its handler did not read: the next request's bytes are not where
                 * they should be */
                if (r.body_pending)
                        c.keep_alive = false;
                /* after the handler, with its time: where a client's time goes */
                log_debug("%s %s%s%s: %.2f ms", r.http.method, r.http.path, r.http.query[0] ? "?" : "", r.http.query,
                          (double) (now_monotonic_us() - t0) / 1000.0);
                api_request_done(&r);
                touch(srv, 0);
                if (k < 0 || !c.keep_alive)
                        break;
        }
        free(c.buf);
}

static void *connection_main(void *p) {
        ConnArgs a = *(ConnArgs *) p;
        free(p);
        char who[64];
        if (!peer_allowed(a.srv, a.fd, who, sizeof who)) {
                log_warning("refused a connection from %s: neither root nor in the socket's group, or in a "
                            "container", who);
                ApiConn c = { .srv = a.srv, .fd = a.fd };
                (void) api_error(&c, 403, "permission denied", "permission denied: %s may not use this socket", who);
        } else
                api_connection_serve(a.srv, a.fd);
        close(a.fd);
        touch(a.srv, -1);
        return NULL;
}

static volatile sig_atomic_t stop_requested;
static void on_stop(int sig) {
        stop_requested = 1;
}

/* Past the connection cap: a 503, sent without waiting, and the connection closed */
static void refuse_busy(int fd, unsigned max) {
        char reply[512];
        char body[160];
        int bl = snprintf(body, sizeof body,
                          "{\"cause\":\"too many connections\",\"message\":\"the server has %u connections open, "
                          "its limit\",\"response\":503}\n", max);
        int n = snprintf(reply, sizeof reply,
                         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                         "Content-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s", bl, body);
        (void) !send(fd, reply, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL);
        close(fd);
}

/* The soft limit of open files raised to the hard one: every connection holds one, and
 * a server that runs out spins on accept instead of serving */
static void raise_nofile(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

void api_server_limits_default(ApiServer *srv) {
        srv->max_connections = srv->max_connections ?: API_DEFAULT_MAX_CONNECTIONS;
        srv->header_timeout_ms = srv->header_timeout_ms ?: API_DEFAULT_HEADER_TIMEOUT_MS;
        srv->body_timeout_ms = srv->body_timeout_ms ?: API_DEFAULT_BODY_TIMEOUT_MS;
        srv->keepalive_timeout_ms = srv->keepalive_timeout_ms ?: API_DEFAULT_KEEPALIVE_TIMEOUT_MS;
}

int api_serve(ApiServer *srv) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, API_THREAD_STACK);
        struct sigaction sa = { .sa_handler = on_stop };
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        raise_nofile();
        api_server_limits_default(srv);
        srv->last_activity_ms = now_monotonic_ms();
        struct pollfd pfds[4];
        for (size_t i = 0; i < srv->n_listen; i++)
                pfds[i] = (struct pollfd) { srv->listen_fds[i], POLLIN, 0 };
        uint64_t backoff_until = 0, last_busy_log = 0;
        while (!stop_requested) {
                /* out of fds: the pending connection stays pending (poll would report it at
                 * once, again and again) until some close */
                uint64_t now = now_monotonic_ms();
                int k = now < backoff_until ? poll(NULL, 0, (int) (backoff_until - now))
                                            : poll(pfds, (nfds_t) srv->n_listen, 1000);
                if (k < 0 && errno != EINTR)
                        return log_error_errno(-errno, "poll: %m"), 1;
                for (size_t i = 0; k > 0 && i < srv->n_listen; i++) {
                        if (!(pfds[i].revents & POLLIN))
                                continue;
                        int fd = accept4(pfds[i].fd, NULL, NULL, SOCK_CLOEXEC);
                        if (fd < 0) {
                                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                        if (now - last_busy_log > 10000) {
                                                log_warning("accept: %m; waiting for connections to close");
                                                last_busy_log = now;
                                        }
                                        backoff_until = now_monotonic_ms() + 100;
                                }
                                continue;
                        }
                        pthread_mutex_lock(&srv->lock);
                        bool full = srv->active >= srv->max_connections;
                        pthread_mutex_unlock(&srv->lock);
                        /* room made by closing the oldest idle connection (it goes at once;
                         * the count catches up as its thread ends) */
                        if (full && idle_evict(srv))
                                full = false;
                        if (full) {
                                if (now - last_busy_log > 10000) {
                                        log_warning("%u connections open, the limit (--max-connections), none "
                                                    "idle: refusing more", srv->max_connections);
                                        last_busy_log = now;
                                }
                                refuse_busy(fd, srv->max_connections);
                                continue;
                        }
                        ConnArgs *a = malloc(sizeof *a);
                        pthread_t t;
                        if (!a) {
                                close(fd);
                                continue;
                        }
                        *a = (ConnArgs) { srv, fd };
                        touch(srv, +1);
                        if (pthread_create(&t, &attr, connection_main, a) != 0) {
                                log_warning("cannot start a thread for a connection, dropping it");
                                free(a);
                                refuse_busy(fd, srv->max_connections);
                                touch(srv, -1);
                        }
                }
                if (srv->idle_timeout_s) {
                        pthread_mutex_lock(&srv->lock);
                        bool idle = srv->active == 0 &&
                                    now_monotonic_ms() - srv->last_activity_ms >= srv->idle_timeout_s * 1000ull;
                        pthread_mutex_unlock(&srv->lock);
                        if (idle) {
                                log_info("idle for %u s, exiting", srv->idle_timeout_s);
                                break;
                        }
                }
        }
        pthread_attr_destroy(&attr);
        return 0;
}
