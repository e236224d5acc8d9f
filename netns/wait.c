/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "nl-internal.h"

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

typedef struct Pending {
        int *ifindexes;
        size_t n;
} Pending;

static int pending_load(NlSock *sk, const char *owner, Pending *p, RtError *err) {
        NetnsMarked m = {};
        int r = netns_find_marked(sk, NULL, owner, &m, err);
        if (r < 0)
                return r;
        free(p->ifindexes);
        p->ifindexes = calloc(m.links.n ? m.links.n : 1, sizeof *p->ifindexes);
        p->n = 0;
        if (!p->ifindexes) {
                netns_marked_done(&m);
                return rt_err_set(err, -ENOMEM, "wait for links");
        }
        for (size_t i = 0; i < m.links.n; i++)
                p->ifindexes[p->n++] = m.links.links[i].ifindex;
        netns_marked_done(&m);
        return 0;
}

static void pending_drop(Pending *p, int ifindex) {
        for (size_t i = 0; i < p->n; i++)
                if (p->ifindexes[i] == ifindex) {
                        p->ifindexes[i] = p->ifindexes[--p->n];
                        return;
                }
}

int netns_wait_owner_gone(NlSock *sk, const char *owner, unsigned timeout_ms, RtError *err) {
        assert_return(sk, -EINVAL);
        int r = netns_owner_check(owner, err);
        if (r < 0)
                return r;

        /* Listen on a socket of its own: a burst of events overruns a listener, and an
         * overrun socket drops every unicast (the acks to our requests) until its queue
         * has been read empty; sk must stay a plain request socket. And listen before
         * looking: a link that goes between the look and the listen would otherwise be
         * waited for in vain. */
        _cleanup_(netns_sock_freep) NlSock *events = NULL;
        if ((r = netns_sock_open(sk->netns_fd, &events, err)) < 0)
                return rt_err_prefix(err, r, "listen for link events");
        int group = RTNLGRP_LINK;
        if (mnl_socket_setsockopt(events->mnl, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
                return rt_err_set(err, -errno, "listen for link events");

        Pending p = {};
        uint64_t deadline = now_ms() + timeout_ms;
        r = pending_load(sk, owner, &p, err);
        while (r >= 0 && p.n > 0) {
                uint64_t t = now_ms();
                if (t >= deadline) {
                        r = rt_err_setx(err, -ETIMEDOUT,
                                        "%zu link(s) of owner '%s' still present after %u ms", p.n,
                                        owner, timeout_ms);
                        break;
                }
                struct pollfd pfd = { .fd = mnl_socket_get_fd(events->mnl), .events = POLLIN };
                int n = poll(&pfd, 1, (int) (deadline - t));
                if (n < 0 && errno != EINTR)
                        r = rt_err_set(err, -errno, "wait for link events");
                if (n <= 0)
                        continue;
                ssize_t got = recv(pfd.fd, events->recv_buf, NL_RECV_BUF_SIZE, MSG_DONTWAIT);
                if (got < 0 && errno == ENOBUFS) {
                        /* Events were lost in a burst: look again instead. */
                        r = pending_load(sk, owner, &p, err);
                        continue;
                }
                if (got <= 0)
                        continue;
                int left = (int) got;
                for (const struct nlmsghdr *nlh = (const void *) events->recv_buf; mnl_nlmsg_ok(nlh, left);
                     nlh = mnl_nlmsg_next(nlh, &left))
                        if (nlh->nlmsg_type == RTM_DELLINK &&
                            mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg))
                                pending_drop(&p, ((const struct ifinfomsg *) mnl_nlmsg_get_payload(nlh))->ifi_index);
        }
        free(p.ifindexes);
        return r < 0 ? r : 0;
}
