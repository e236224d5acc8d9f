/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network namespaces made ahead for the next starts and lab networks (serve only). Making
 * one is ~0.65 ms of kernel work (every pernet subsystem sets itself up) and sits on the
 * critical path of a start: its wiring can only begin once it exists. A thread of its own
 * makes the next one while the host is between starts (the client inspecting, creating
 * the next container), and a start only names it. Unnamed, a pooled netns is held by its fd
 * alone: whatever ends serve, the kernel frees it; nothing is left to clean up. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "network.h"
#include "log.h"
#include "netns.h"

#define POOL_MAX 4

struct NetnsPool {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_t maker;
        int fds[POOL_MAX];
        size_t n, target;
        bool wanted; /* what took one has finished: make its successor */
        bool stopping;
};

static void *maker_main(void *userdata) {
        NetnsPool *p = userdata;
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (!p->stopping && !(p->wanted && p->n < p->target))
                        pthread_cond_wait(&p->wake, &p->lock);
                if (p->stopping)
                        break;
                pthread_mutex_unlock(&p->lock);
                int fd = -1;
                RtError e = {};
                int r = netns_create_unnamed(&fd, &e);
                pthread_mutex_lock(&p->lock);
                if (r < 0) {
                        /* starts make their own, as without a pool */
                        log_debug("netns pool: %s", e.msg);
                        p->wanted = false;
                        continue;
                }
                p->fds[p->n++] = fd;
                if (p->n >= p->target)
                        p->wanted = false;
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int netns_pool_start(size_t target, NetnsPool **ret, RtError *err) {
        if (target == 0 || target > POOL_MAX)
                return rt_err_setx(err, -EINVAL, "a netns pool holds 1 to %d", POOL_MAX);
        NetnsPool *p = calloc(1, sizeof *p);
        if (!p)
                return rt_err_set(err, -ENOMEM, "netns pool");
        p->target = target;
        p->wanted = true; /* the first start finds one ready */
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        int r = pthread_create(&p->maker, NULL, maker_main, p);
        if (r != 0) {
                pthread_cond_destroy(&p->wake);
                pthread_mutex_destroy(&p->lock);
                free(p);
                return rt_err_set(err, -r, "start the netns pool's thread");
        }
        *ret = p;
        return 0;
}

/* an fd of a ready netns, or -1 (none ready; p NULL) */
static int netns_pool_take(NetnsPool *p) {
        if (!p)
                return -1;
        pthread_mutex_lock(&p->lock);
        int fd = p->n > 0 ? p->fds[--p->n] : -1;
        pthread_mutex_unlock(&p->lock);
        return fd;
}

int netns_pool_make(NetnsPool *p, const char *name, int *ret_fd, RtError *err) {
        int fd = netns_pool_take(p);
        if (fd < 0)
                return netns_create(name, ret_fd, err);
        int r = netns_name(name, fd, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

void netns_pool_refill(NetnsPool *p) {
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        if (p->n < p->target) {
                p->wanted = true;
                pthread_cond_signal(&p->wake);
        }
        pthread_mutex_unlock(&p->lock);
}

void netns_pool_stop(NetnsPool *p) {
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        (void) pthread_join(p->maker, NULL);
        for (size_t i = 0; i < p->n; i++)
                close(p->fds[i]);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
}
