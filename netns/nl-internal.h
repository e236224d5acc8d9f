/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by netns/'s own files and its unit tests, not part of the public header. */

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>

#include "netns.h"

/* Requests are small (names, a MAC, an alias); replies to them are acks and single links. */
#define NL_REQ_BUF_SIZE 4096
#define NL_RECV_BUF_SIZE (64 * 1024)

/* Longer than any request takes even with rtnl contended for long; shorter than forever. */
#define NL_REPLY_TIMEOUT_S 60

struct NlSock {
        struct mnl_socket *mnl; /* requests, acks, extended acks */
        struct nl_sock *nl;     /* libnl dumps into rtnl_link / rtnl_addr objects; lazy */
        int netns_fd;           /* the netns both sockets live in */
        uint32_t portid;
        uint32_t seq;
        char *recv_buf;
};

/* The libnl socket for dumps, made on first use in the socket's netns. */
int nl_libnl(NlSock *sk, struct nl_sock **ret, RtError *err);

/* Data messages of a reply go to cb; returns 0 or -errno (which aborts the transaction). */
typedef int (*NlReplyFunc)(const struct nlmsghdr *nlh, void *userdata);

/* Sends one request and waits for its ack. On a kernel error, err gets
 * "<what>: <strerror>" plus the kernel's extended-ack text when it sent one. */
int nl_transact(NlSock *sk, struct nlmsghdr *req, NlReplyFunc cb, void *userdata, RtError *err,
                const char *what_fmt, ...) _printf_(6, 7);

/* Parses an NLMSG_ERROR message of len bytes: *ret_error is 0 for an ack, else -errno;
 * *ret_msg points at the extended-ack text inside the message (or NULL). */
int nl_parse_ack(const struct nlmsghdr *nlh, size_t len, int *ret_error, const char **ret_msg);

/* libnl's NLE_* codes lose information; they become errno exactly here (style R6). */
int nle_to_errno(int nle);

/* Message builders, pure functions tested by round trip (no kernel). buf holds
 * NL_REQ_BUF_SIZE bytes; each returns the header of the message it built in it. */
struct nlmsghdr *nl_build_veth(void *buf, const NetnsVeth *veth);
struct nlmsghdr *nl_build_bridge(void *buf, const NetnsBridge *bridge);
struct nlmsghdr *nl_build_setlink(void *buf, int ifindex);
struct nlmsghdr *nl_build_brport(void *buf, int ifindex, NetnsTristate hairpin,
                                 NetnsTristate learning);
struct nlmsghdr *nl_build_addr(void *buf, uint16_t type, int ifindex, const NetnsCidr *addr,
                               NetnsAddrFlags flags);
struct nlmsghdr *nl_build_default_route(void *buf, const NetnsIp *gateway, int ifindex);
struct nlmsghdr *nl_build_neigh_del(void *buf, int ifindex, const NetnsIp *ip);
