/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Netlink encoders checked by decoding what they built (libnftnl's way): no kernel needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <netlink/errno.h>

#include "nl-internal.h"

#define MAX_ATTR 64

typedef struct Attrs {
        const struct nlattr *tb[MAX_ATTR];
} Attrs;

static int collect_cb(const struct nlattr *a, void *data) {
        Attrs *t = data;
        int type = mnl_attr_get_type(a);
        assert_true(type < MAX_ATTR);
        assert_null(t->tb[type]); /* each attribute once */
        t->tb[type] = a;
        return MNL_CB_OK;
}

static Attrs parse_msg(const struct nlmsghdr *nlh, size_t hdrlen) {
        Attrs t = {};
        assert_int_equal(mnl_attr_parse(nlh, (unsigned) hdrlen, collect_cb, &t), MNL_CB_OK);
        return t;
}

static Attrs parse_nest(const struct nlattr *nest) {
        Attrs t = {};
        assert_non_null(nest);
        assert_int_equal(mnl_attr_parse_nested(nest, collect_cb, &t), MNL_CB_OK);
        return t;
}

static void veth_request_round_trip(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        NetnsMac mac = { { 0x02, 1, 2, 3, 4, 5 } }, pmac = { { 0x02, 9, 8, 7, 6, 5 } };
        NetnsVeth v = { .ifname = "nsv0", .peer_ifname = "eth1", .peer_netns_fd = 7, .mac = &mac,
                        .peer_mac = &pmac, .mtu = 9000, .master_ifindex = 42, .up = true,
                        .owner = "x" };
        struct nlmsghdr *nlh = nl_build_veth(buf, &v);

        assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
        assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK),
                         NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        assert_int_equal(ifi->ifi_flags & IFF_UP, IFF_UP);
        assert_int_equal(ifi->ifi_change & IFF_UP, IFF_UP);

        Attrs t = parse_msg(nlh, sizeof *ifi);
        assert_string_equal(mnl_attr_get_str(t.tb[IFLA_IFNAME]), "nsv0");
        assert_memory_equal(mnl_attr_get_payload(t.tb[IFLA_ADDRESS]), mac.bytes, 6);
        assert_int_equal(mnl_attr_get_u32(t.tb[IFLA_MTU]), 9000);
        assert_int_equal(mnl_attr_get_u32(t.tb[IFLA_MASTER]), 42);
        assert_null(t.tb[IFLA_IFALIAS]); /* the kernel would ignore it: sent separately */
        /* one queue each way, stated (the kernel's default costs two RCU grace periods) */
        assert_int_equal(mnl_attr_get_u32(t.tb[IFLA_NUM_TX_QUEUES]), 1);
        assert_int_equal(mnl_attr_get_u32(t.tb[IFLA_NUM_RX_QUEUES]), 1);

        Attrs li = parse_nest(t.tb[IFLA_LINKINFO]);
        assert_string_equal(mnl_attr_get_str(li.tb[IFLA_INFO_KIND]), "veth");
        Attrs data = parse_nest(li.tb[IFLA_INFO_DATA]);
        const struct nlattr *peer = data.tb[VETH_INFO_PEER];
        assert_non_null(peer);
        /* Not flagged as a pure nest: the kernel then mis-parses it (ENOTCONN). */
        assert_int_equal(peer->nla_type & NLA_F_NESTED, 0);

        const struct ifinfomsg *pifi = mnl_attr_get_payload(peer);
        assert_int_equal(pifi->ifi_flags, 0); /* IFF_UP here fails in the kernel */
        Attrs p = {};
        const struct nlattr *a;
        const char *end = (const char *) peer + peer->nla_len;
        for (a = (const void *) ((const char *) pifi + NLMSG_ALIGN(sizeof *pifi));
             (const char *) a < end; a = mnl_attr_next(a))
                collect_cb(a, &p);
        assert_string_equal(mnl_attr_get_str(p.tb[IFLA_IFNAME]), "eth1");
        assert_memory_equal(mnl_attr_get_payload(p.tb[IFLA_ADDRESS]), pmac.bytes, 6);
        assert_int_equal(mnl_attr_get_u32(p.tb[IFLA_MTU]), 9000);
        assert_int_equal(mnl_attr_get_u32(p.tb[IFLA_NET_NS_FD]), 7);
        assert_int_equal(mnl_attr_get_u32(p.tb[IFLA_NUM_TX_QUEUES]), 1);
        assert_int_equal(mnl_attr_get_u32(p.tb[IFLA_NUM_RX_QUEUES]), 1);
}

static void veth_request_minimal(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        NetnsVeth v = { .ifname = "a", .peer_ifname = "b", .peer_netns_fd = -1, .owner = "x" };
        struct nlmsghdr *nlh = nl_build_veth(buf, &v);
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        assert_int_equal(ifi->ifi_change, 0);
        Attrs t = parse_msg(nlh, sizeof *ifi);
        assert_null(t.tb[IFLA_ADDRESS]);
        assert_null(t.tb[IFLA_MTU]);
        assert_null(t.tb[IFLA_MASTER]);
}

static void bridge_request_turns_stp_and_delay_off(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        NetnsMac mac = { { 0x02, 0, 0, 0, 0, 1 } };
        NetnsBridge b = { .ifname = "nsbr0", .mac = &mac, .mtu = 1400, .up = true, .owner = "x" };
        struct nlmsghdr *nlh = nl_build_bridge(buf, &b);
        Attrs t = parse_msg(nlh, sizeof(struct ifinfomsg));
        assert_string_equal(mnl_attr_get_str(t.tb[IFLA_IFNAME]), "nsbr0");
        assert_int_equal(mnl_attr_get_u32(t.tb[IFLA_MTU]), 1400);
        Attrs li = parse_nest(t.tb[IFLA_LINKINFO]);
        assert_string_equal(mnl_attr_get_str(li.tb[IFLA_INFO_KIND]), "bridge");
        Attrs data = parse_nest(li.tb[IFLA_INFO_DATA]);
        assert_int_equal(mnl_attr_get_u32(data.tb[IFLA_BR_STP_STATE]), 0);
        assert_int_equal(mnl_attr_get_u32(data.tb[IFLA_BR_FORWARD_DELAY]), 0);
}

static void bridge_port_flags_use_af_bridge(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = nl_build_brport(buf, 5, NETNS_ON, NETNS_OFF);
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
        assert_int_equal(ifi->ifi_family, AF_BRIDGE);
        assert_int_equal(ifi->ifi_index, 5);
        Attrs t = parse_msg(nlh, sizeof *ifi);
        Attrs p = parse_nest(t.tb[IFLA_PROTINFO]);
        assert_int_equal(mnl_attr_get_u8(p.tb[IFLA_BRPORT_MODE]), 1);
        assert_int_equal(mnl_attr_get_u8(p.tb[IFLA_BRPORT_LEARNING]), 0);

        nlh = nl_build_brport(buf, 5, NETNS_UNCHANGED, NETNS_ON);
        t = parse_msg(nlh, sizeof *ifi);
        p = parse_nest(t.tb[IFLA_PROTINFO]);
        assert_null(p.tb[IFLA_BRPORT_MODE]);
        assert_int_equal(mnl_attr_get_u8(p.tb[IFLA_BRPORT_LEARNING]), 1);
}

static void address_requests(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        NetnsCidr c;
        assert_int_equal(netns_cidr_parse("2001:db8::7/64", &c, NULL), 0);
        struct nlmsghdr *nlh = nl_build_addr(buf, RTM_NEWADDR, 3, &c, NETNS_ADDR_NODAD);
        assert_int_equal(nlh->nlmsg_flags & NLM_F_EXCL, NLM_F_EXCL);
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        assert_int_equal(ifa->ifa_family, AF_INET6);
        assert_int_equal(ifa->ifa_prefixlen, 64);
        assert_int_equal(ifa->ifa_index, 3);
        assert_int_equal(ifa->ifa_flags & IFA_F_NODAD, IFA_F_NODAD);
        Attrs t = parse_msg(nlh, sizeof *ifa);
        assert_int_equal(mnl_attr_get_payload_len(t.tb[IFA_LOCAL]), 16);
        assert_memory_equal(mnl_attr_get_payload(t.tb[IFA_LOCAL]), &c.ip.v6, 16);
        assert_memory_equal(mnl_attr_get_payload(t.tb[IFA_ADDRESS]), &c.ip.v6, 16);
        assert_int_equal(mnl_attr_get_u32(t.tb[IFA_FLAGS]), IFA_F_NODAD);

        assert_int_equal(netns_cidr_parse("198.51.100.1/24", &c, NULL), 0);
        nlh = nl_build_addr(buf, RTM_DELADDR, 3, &c, 0);
        assert_int_equal(nlh->nlmsg_flags & NLM_F_CREATE, 0);
        t = parse_msg(nlh, sizeof *ifa);
        assert_int_equal(mnl_attr_get_payload_len(t.tb[IFA_LOCAL]), 4);
        assert_null(t.tb[IFA_FLAGS]);
}

static void default_route_request(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        NetnsIp gw;
        assert_int_equal(netns_ip_parse("198.51.100.1", &gw, NULL), 0);
        struct nlmsghdr *nlh = nl_build_default_route(buf, &gw, 4);
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        assert_int_equal(rtm->rtm_dst_len, 0);
        assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
        assert_int_equal(rtm->rtm_type, RTN_UNICAST);
        Attrs t = parse_msg(nlh, sizeof *rtm);
        assert_memory_equal(mnl_attr_get_payload(t.tb[RTA_GATEWAY]), &gw.v4, 4);
        assert_int_equal(mnl_attr_get_u32(t.tb[RTA_OIF]), 4);
        nlh = nl_build_default_route(buf, &gw, 0);
        t = parse_msg(nlh, sizeof *rtm);
        assert_null(t.tb[RTA_OIF]);
}

/* Builds an NLMSG_ERROR as the kernel would, with or without the request echoed. */
static size_t make_ack(char *buf, int error, bool capped, const char *extack) {
        memset(buf, 0, NL_REQ_BUF_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = NLMSG_ERROR;
        struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof *e);
        e->error = error;
        e->msg.nlmsg_len = sizeof e->msg + 24; /* the echoed request: header + 24 bytes */
        e->msg.nlmsg_type = RTM_NEWLINK;
        if (capped)
                nlh->nlmsg_flags |= NLM_F_CAPPED;
        else
                (void) mnl_nlmsg_put_extra_header(nlh, 24);
        if (extack) {
                nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
                mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
                mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, extack);
        }
        return nlh->nlmsg_len;
}

static void acks_parse(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        int error;
        const char *msg;
        size_t n;

        n = make_ack(buf, 0, true, NULL);
        assert_int_equal(nl_parse_ack((void *) buf, n, &error, &msg), 0);
        assert_int_equal(error, 0);
        assert_null(msg);

        n = make_ack(buf, -EEXIST, true, "Link already exists");
        assert_int_equal(nl_parse_ack((void *) buf, n, &error, &msg), 0);
        assert_int_equal(error, -EEXIST);
        assert_string_equal(msg, "Link already exists");

        /* uncapped: the TLVs sit after the echoed request */
        n = make_ack(buf, -EOPNOTSUPP, false, "Unknown device type");
        assert_int_equal(nl_parse_ack((void *) buf, n, &error, &msg), 0);
        assert_int_equal(error, -EOPNOTSUPP);
        assert_string_equal(msg, "Unknown device type");
}

static void malformed_acks_are_refused(void **state) {
        char buf[NL_REQ_BUF_SIZE];
        int error;
        const char *msg;
        size_t n = make_ack(buf, -EINVAL, true, "x");
        struct nlmsghdr *nlh = (void *) buf;

        assert_int_equal(nl_parse_ack(nlh, 8, &error, &msg), -EBADMSG); /* short buffer */
        assert_int_equal(nl_parse_ack(nlh, n - 1, &error, &msg), -EBADMSG);

        nlh->nlmsg_type = NLMSG_DONE;
        assert_int_equal(nl_parse_ack(nlh, n, &error, &msg), -EBADMSG);
        nlh->nlmsg_type = NLMSG_ERROR;

        struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        e->error = 5; /* positive errors do not exist */
        assert_int_equal(nl_parse_ack(nlh, n, &error, &msg), -EBADMSG);
        e->error = -EINVAL;

        /* an attribute that runs past the message */
        struct nlattr *a = (void *) (buf + NLMSG_HDRLEN + sizeof *e);
        a->nla_len = 4000;
        assert_int_equal(nl_parse_ack(nlh, n, &error, &msg), -EBADMSG);

        /* an extack string without its NUL is ignored, not read past */
        n = make_ack(buf, -EINVAL, true, NULL);
        nlh = (void *) buf;
        nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
        struct nlattr *s = mnl_nlmsg_get_payload_tail(nlh);
        s->nla_type = NLMSGERR_ATTR_MSG;
        s->nla_len = sizeof *s + 4;
        memcpy((char *) s + sizeof *s, "abcd", 4);
        nlh->nlmsg_len += s->nla_len;
        assert_int_equal(nl_parse_ack(nlh, nlh->nlmsg_len, &error, &msg), 0);
        assert_null(msg);
}

static void nle_codes_map_to_errno(void **state) {
        assert_int_equal(nle_to_errno(0), 0);
        assert_int_equal(nle_to_errno(-NLE_EXIST), -EEXIST);
        assert_int_equal(nle_to_errno(-NLE_NODEV), -ENODEV);
        assert_int_equal(nle_to_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
        assert_int_equal(nle_to_errno(-NLE_PERM), -EPERM);
        assert_int_equal(nle_to_errno(-NLE_NOMEM), -ENOMEM);
        assert_int_equal(nle_to_errno(-NLE_FAILURE), -EIO);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(veth_request_round_trip),
                cmocka_unit_test(veth_request_minimal),
                cmocka_unit_test(bridge_request_turns_stp_and_delay_off),
                cmocka_unit_test(bridge_port_flags_use_af_bridge),
                cmocka_unit_test(address_requests),
                cmocka_unit_test(default_route_request),
                cmocka_unit_test(acks_parse),
                cmocka_unit_test(malformed_acks_are_refused),
                cmocka_unit_test(nle_codes_map_to_errno),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
