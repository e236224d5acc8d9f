/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Podman shim (DESIGN.md): the libpod REST subset of shared/podman-api-subset.md on
 * a unix socket, over the runtime, native networks and the CNI executor. One thread per
 * connection: a slow or stuck client holds its own thread only, and a long operation
 * (a stop that waits out its timeout, a held wait, an exec stream) never blocks the
 * others. */

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime.h"
#include "http.h"

#define API_LIBPOD_VERSION "4.9.4" /* ≥ 4.0.0 for Podman 4 clients; exec remove exists */
#define API_COMPAT_VERSION "1.41"

typedef struct ExecSession ExecSession;

typedef struct ApiServer {
        CtrStore store;
        const char *self_exe;     /* this binary, as info reports it */
        const char *network_backend; /* what info reports: "netavark" or "cni" */
        int listen_fds[4];
        size_t n_listen;
        bool have_group;
        bool allow_containers; /* peers in another pid namespace (containers) let in */
        gid_t group;
        unsigned idle_timeout_s;  /* exit when idle this long; 0: never */
        /* limits against clients that hold what they open (README, serve --help) */
        unsigned max_connections;     /* past it: 503 and close */
        unsigned header_timeout_ms;   /* a request's head must arrive within this of its first byte */
        unsigned body_timeout_ms;     /* ...and a JSON body within this of the head */
        unsigned keepalive_timeout_ms; /* an idle keep-alive connection is closed after this */
        char **ready_defaults;    /* "IMAGE=SPEC": the readiness of the image's containers
                                   * when neither they nor the image declare one */
        pthread_mutex_t lock;     /* the fields below */
        unsigned active;          /* open connections */
        uint64_t last_activity_ms;
        ExecSession *sessions;
        size_t n_sessions, session_bytes;
        struct ApiConn *idle_first, *idle_last; /* connections waiting for their next request, newest first */
} ApiServer;

#define API_DEFAULT_MAX_CONNECTIONS 512
#define API_DEFAULT_HEADER_TIMEOUT_MS (30 * 1000)
#define API_DEFAULT_BODY_TIMEOUT_MS (60 * 1000)
#define API_DEFAULT_KEEPALIVE_TIMEOUT_MS (5 * 60 * 1000)
/* Exec sessions a client made and never started go after this; at most this many per
 * container and in all, and this many bytes of commands and environments in all */
#define API_EXEC_UNSTARTED_MS (10 * 60 * 1000)
#define API_EXEC_MAX_PER_CONTAINER 256
#define API_EXEC_MAX_SESSIONS 4096
#define API_EXEC_MAX_BYTES (64u << 20)
/* Drops the sessions of a container being removed (the running ones end with it) */
void api_sessions_drop_container(ApiServer *srv, const char *ctr_id);

typedef struct ApiConn {
        ApiServer *srv;
        int fd;
        struct ApiConn *idle_prev, *idle_next; /* in srv's idle list (under srv->lock) */
        bool idle;
        char *buf; /* read, not yet consumed (pipelined requests) */
        size_t len, cap;
        bool keep_alive; /* of the request being answered */
        bool head;       /* ...which is a HEAD: the reply's headers only */
} ApiConn;

typedef struct ApiRequest {
        HttpRequest http;
        char *segs[12];  /* decoded path segments, after /v{V} and /libpod */
        size_t n_segs;
        char version[32]; /* the /v{V} prefix, "" without */
        bool libpod;
        bool body_pending; /* a body left on the connection for its handler (api_streams_body) */
} ApiRequest;

/* An image archive: as large as the disk takes, not held in memory */
#define API_MAX_UPLOAD (64ull << 30)
/* The requests whose body its handler reads itself, as it arrives (api_body_to_fd). */
bool api_streams_body(const ApiRequest *r);
/* The request's body (Content-Length or chunked) written to fd as it arrives; at most
 * max bytes (-E2BIG past it). */
int api_body_to_fd(ApiConn *c, ApiRequest *r, int fd, uint64_t max, RtError *err);

/* Serves until the idle timeout (or for ever); returns an exit status. */
int api_serve(ApiServer *srv);

/* Requests read and answered on fd (a peer let in) until the connection ends; fd stays
 * open. The limits unset in srv first get their defaults: */
void api_connection_serve(ApiServer *srv, int fd);
void api_server_limits_default(ApiServer *srv);
/* Answers one request; 0 keeps the connection, < 0 closes it. */
int api_handle(ApiConn *c, ApiRequest *r);

/* Replies: whole bodies with Content-Length, Podman's headers on every one. */
int api_reply(ApiConn *c, int status, const char *content_type, const void *body, size_t len);
int api_reply_json(ApiConn *c, int status, json_t *j); /* takes j */
int api_reply_text(ApiConn *c, int status, const char *text);
/* {"cause","message","response"}: the one error body (spec 1.5). */
int api_error(ApiConn *c, int status, const char *cause, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Writes all of data to the connection; -EPIPE when the peer is gone. */
int api_write_all(int fd, const void *data, size_t len);
/* The common headers of every response, into buf. */
int api_common_headers(char *buf, size_t size);

/* Exec sessions (handlers.c). */
void api_sessions_free(ApiServer *srv);
