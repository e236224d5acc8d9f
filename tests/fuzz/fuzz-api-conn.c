/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server's connection loop, as a client drives it: a byte stream (pipelined
 * requests, chunked and Content-Length bodies, uploads, junk) sent over a socket in
 * pieces the input chooses, the handler replaced by one that reads any body it is handed
 * (api_handle is wrapped: no container is ever made). The loop must end, answer in
 * HTTP, never read past what it holds, and free what it took. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "fuzz.h"

int __wrap_api_handle(ApiConn *c, ApiRequest *r);
int __wrap_api_handle(ApiConn *c, ApiRequest *r) {
        if (r->body_pending) {
                int fd = memfd_create("fuzz-body", MFD_CLOEXEC);
                RtError e = {};
                int k = fd >= 0 ? api_body_to_fd(c, r, fd, 1 << 20, &e) : -EIO;
                if (fd >= 0)
                        close(fd);
                if (k < 0)
                        return api_error(c, k == -E2BIG ? 413 : 400, "bad request", "%s", e.msg);
        }
        char text[64];
        (void) snprintf(text, sizeof text, "%zu %zu\n", r->n_segs, r->http.body_len);
        return api_reply_text(c, 200, text);
}

typedef struct Feed {
        int fd;
        const uint8_t *data;
        size_t size;
} Feed;

/* The input in pieces: each piece's length is the next byte (1-256), then its bytes */
static void *feed(void *p) {
        Feed *f = p;
        for (size_t i = 0; i < f->size;) {
                size_t n = (size_t) f->data[i++] + 1;
                if (n > f->size - i)
                        n = f->size - i;
                if (send(f->fd, f->data + i, n, MSG_NOSIGNAL) < 0)
                        break;
                i += n;
                sched_yield(); /* the server reads what came so far: a head split anywhere */
        }
        (void) shutdown(f->fd, SHUT_WR);
        return NULL;
}

static void *drain(void *p) {
        int fd = *(int *) p;
        char buf[4096];
        size_t total = 0;
        ssize_t n;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
                /* every answer starts as HTTP does */
                if (total == 0 && (n < 9 || memcmp(buf, "HTTP/1.1 ", 9) != 0))
                        __builtin_trap();
                total += (size_t) n;
        }
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        static ApiServer srv;
        static bool ready;
        if (!ready) {
                pthread_mutex_init(&srv.lock, NULL);
                /* short deadlines: an input that stops halfway ends at once */
                srv.header_timeout_ms = srv.body_timeout_ms = srv.keepalive_timeout_ms = 200;
                api_server_limits_default(&srv);
                ready = true;
        }
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return 0;
        int big = 1 << 20;
        (void) setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        Feed f = { sp[0], data, size };
        pthread_t writer, reader;
        if (pthread_create(&writer, NULL, feed, &f) != 0)
                goto out;
        if (pthread_create(&reader, NULL, drain, &sp[0]) != 0) {
                pthread_join(writer, NULL);
                goto out;
        }
        api_connection_serve(&srv, sp[1]);
        (void) shutdown(sp[1], SHUT_RDWR);
        pthread_join(writer, NULL);
        pthread_join(reader, NULL);
out:
        close(sp[0]);
        close(sp[1]);
        return 0;
}
