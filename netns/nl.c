/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/socket.h>

#include "log.h"
#include "nl-internal.h"
#include "sys.h"

int nle_to_errno(int nle) {
        switch (nle < 0 ? -nle : nle) {
        case 0:
                return 0;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_NODEV:
                return -ENODEV;
        case NLE_OBJ_NOTFOUND:
                return -ENOENT;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_INVAL:
        case NLE_RANGE:
                return -EINVAL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_INTR:
                return -EINTR;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        default:
                return -EIO;
        }
}

/* netns_fd: the netns we are in, when the caller has an fd of it already; -1: look it up */
static int sock_open_here(int netns_fd, NlSock **ret, RtError *err) {
        _cleanup_(netns_sock_freep) NlSock *sk = calloc(1, sizeof *sk);
        if (!sk)
                return rt_err_set(err, -ENOMEM, "allocate netlink socket");
        sk->netns_fd = -1;
        sk->recv_buf = malloc(NL_RECV_BUF_SIZE);
        if (!sk->recv_buf)
                return rt_err_set(err, -ENOMEM, "allocate netlink buffer");

        sk->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!sk->mnl)
                return rt_err_set(err, -errno, "open rtnetlink socket");
        if (mnl_socket_bind(sk->mnl, 0, MNL_SOCKET_AUTOPID) < 0)
                return rt_err_set(err, -errno, "bind rtnetlink socket");
        sk->portid = mnl_socket_get_portid(sk->mnl);
        /* Extended acks carry the kernel's own words ("Unknown device type"); capped acks
         * keep each ack small instead of echoing our whole request back. Both are
         * best-effort: an old kernel still gives the errno. */
        int one = 1;
        (void) mnl_socket_setsockopt(sk->mnl, NETLINK_EXT_ACK, &one, sizeof one);
        (void) mnl_socket_setsockopt(sk->mnl, NETLINK_CAP_ACK, &one, sizeof one);
        /* A reply the kernel never sends (dropped on an overrun socket, say) must end as
         * an error, not as a thread blocked for good with a container's lock held. */
        struct timeval reply_timeout = { .tv_sec = NL_REPLY_TIMEOUT_S };
        (void) setsockopt(mnl_socket_get_fd(sk->mnl), SOL_SOCKET, SO_RCVTIMEO, &reply_timeout,
                          sizeof reply_timeout);

        /* Remember the netns, so the libnl socket for dumps can be made there later,
         * wherever this thread happens to be by then. */
        sk->netns_fd = netns_fd >= 0 ? RET_NERRNO(fcntl(netns_fd, F_DUPFD_CLOEXEC, 3))
                                     : sys_open("/proc/thread-self/ns/net", O_RDONLY, 0);
        if (sk->netns_fd < 0)
                return rt_err_set(err, sk->netns_fd, "open the current network namespace");

        sk->seq = (uint32_t) time(NULL);
        *ret = TAKE_PTR(sk);
        return 0;
}

typedef struct SockOpenArgs {
        int netns_fd;
        NlSock **ret;
} SockOpenArgs;

static int sock_open_cb(void *userdata, RtError *err) {
        SockOpenArgs *a = userdata;
        return sock_open_here(a->netns_fd, a->ret, err);
}

int netns_sock_open(int netns_fd, NlSock **ret, RtError *err) {
        assert_return(ret, -EINVAL);
        if (netns_fd < 0)
                return sock_open_here(-1, ret, err);
        /* A netlink socket stays bound to the netns it was created in, so a socket made
         * inside the container's netns keeps configuring it after we come back. */
        SockOpenArgs a = { .netns_fd = netns_fd, .ret = ret };
        return netns_run_in(netns_fd, sock_open_cb, &a, err);
}

static int libnl_connect_cb(void *userdata, RtError *err) {
        NlSock *sk = userdata;
        struct nl_sock *nl = nl_socket_alloc();
        if (!nl)
                return rt_err_set(err, -ENOMEM, "allocate libnl socket");
        int r = nl_connect(nl, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(nl);
                return rt_err_set(err, nle_to_errno(r), "connect libnl socket");
        }
        if (fcntl(nl_socket_get_fd(nl), F_SETFD, FD_CLOEXEC) < 0) {
                r = -errno;
                nl_socket_free(nl);
                return rt_err_set(err, r, "mark libnl socket close-on-exec");
        }
        sk->nl = nl;
        return 0;
}

int nl_libnl(NlSock *sk, struct nl_sock **ret, RtError *err) {
        /* Made on first use only: most sockets (wiring a veth, setting an address) never
         * dump, and a second socket per container would be paid on every start. */
        if (!sk->nl) {
                int r = netns_run_in(sk->netns_fd, libnl_connect_cb, sk, err);
                if (r < 0)
                        return r;
        }
        *ret = sk->nl;
        return 0;
}

void netns_sock_free(NlSock *sk) {
        if (!sk)
                return;
        if (sk->mnl)
                (void) mnl_socket_close(sk->mnl);
        if (sk->nl)
                nl_socket_free(sk->nl);
        (void) safe_close(sk->netns_fd);
        free(sk->recv_buf);
        free(sk);
}

int nl_parse_ack(const struct nlmsghdr *nlh, size_t len, int *ret_error, const char **ret_msg) {
        if (len < sizeof *nlh || nlh->nlmsg_len > len || nlh->nlmsg_type != NLMSG_ERROR ||
            nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
                return -EBADMSG;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        const char *msg = NULL;

        /* Without NETLINK_CAP_ACK the kernel echoes the whole request after nlmsgerr; the
         * TLVs come after that echo. */
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                size_t off = NLMSG_HDRLEN + sizeof *e;
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
                        if (e->msg.nlmsg_len < sizeof e->msg ||
                            e->msg.nlmsg_len > nlh->nlmsg_len - NLMSG_HDRLEN - sizeof e->error)
                                return -EBADMSG;
                        off += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof e->msg;
                }
                while (off + sizeof(struct nlattr) <= nlh->nlmsg_len) {
                        const struct nlattr *a = (const void *) ((const char *) nlh + off);
                        if (a->nla_len < sizeof *a || off + a->nla_len > nlh->nlmsg_len)
                                return -EBADMSG;
                        size_t plen = a->nla_len - sizeof *a;
                        const char *p = (const char *) a + sizeof *a;
                        if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && plen > 0 &&
                            memchr(p, '\0', plen))
                                msg = p;
                        off += NLA_ALIGN(a->nla_len);
                }
        }
        if (e->error > 0 || e->error < -4095)
                return -EBADMSG;
        *ret_error = e->error;
        if (ret_msg)
                *ret_msg = msg && *msg ? msg : NULL;
        return 0;
}

int nl_transact(NlSock *sk, struct nlmsghdr *req, NlReplyFunc cb, void *userdata, RtError *err,
                const char *what_fmt, ...) {
        char what[256];
        va_list ap;
        va_start(ap, what_fmt);
        (void) vsnprintf(what, sizeof what, what_fmt, ap);
        va_end(ap);

        req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        req->nlmsg_seq = ++sk->seq;
        if (mnl_socket_sendto(sk->mnl, req, req->nlmsg_len) < 0)
                return rt_err_set(err, -errno, "%s: send netlink request", what);

        /* Read to the ack even after a callback failed, so nothing of this reply is left
         * queued for the next request to trip over. */
        int cb_error = 0;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(sk->mnl, sk->recv_buf, NL_RECV_BUF_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return rt_err_setx(err, -ETIMEDOUT, "%s: no reply from the kernel in %d s",
                                                   what, NL_REPLY_TIMEOUT_S);
                        return rt_err_set(err, -errno, "%s: receive netlink reply", what);
                }
                const struct nlmsghdr *nlh = (const void *) sk->recv_buf;
                int left = (int) n;
                for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        /* Replies to an earlier request we gave up on are not ours. */
                        if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != sk->portid)
                                continue;
                        if (nlh->nlmsg_type == NLMSG_ERROR) {
                                int e;
                                const char *kmsg = NULL;
                                if (nl_parse_ack(nlh, (size_t) left, &e, &kmsg) < 0)
                                        return rt_err_setx(err, -EBADMSG,
                                                           "%s: malformed netlink ack", what);
                                if (e == 0 && cb_error < 0)
                                        return rt_err_set(err, cb_error, "%s: parse reply", what);
                                if (e == 0)
                                        return 0;
                                if (kmsg)
                                        return rt_err_setx(err, e, "%s: %s (kernel: %s)", what,
                                                           strerror(-e), kmsg);
                                return rt_err_set(err, e, "%s", what);
                        }
                        if (nlh->nlmsg_type == NLMSG_DONE)
                                return cb_error < 0 ? rt_err_set(err, cb_error, "%s: parse reply", what) : 0;
                        if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb && cb_error == 0)
                                cb_error = cb(nlh, userdata);
                }
        }
}
