/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>

#include "log.h"
#include "nl-internal.h"

static struct nlmsghdr *put_link_header(void *buf, uint16_t type, uint16_t flags, int ifindex,
                                        bool up, struct ifinfomsg **ret_ifi) {
        memset(buf, 0, NL_REQ_BUF_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        if (up) {
                ifi->ifi_flags = IFF_UP;
                ifi->ifi_change = IFF_UP;
        }
        if (ret_ifi)
                *ret_ifi = ifi;
        return nlh;
}

/* One queue each way, stated: left to the kernel, a veth gets one per possible CPU, and
 * cutting that to the one it uses costs each end a synchronize_net() (an expedited RCU
 * grace period) under the rtnl lock, which made up half of a pair's creation on these
 * machines (1.0 against 0.45 ms). The queues in use are the same, one. */
static void put_veth_queues(struct nlmsghdr *nlh) {
        mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
        mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

struct nlmsghdr *nl_build_veth(void *buf, const NetnsVeth *v) {
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
                                               v->up, NULL);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, v->ifname);
        put_veth_queues(nlh);
        if (v->mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, sizeof v->mac->bytes, v->mac->bytes);
        if (v->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
        if (v->master_ifindex > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) v->master_ifindex);

        struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* Not a pure nest (it starts with an ifinfomsg), and kernels that see NLA_F_NESTED
         * on it parse it as attributes and fail with ENOTCONN; iproute2 leaves it off too. */
        peer->nla_type &= (uint16_t) ~NLA_F_NESTED;
        /* The peer's own ifinfomsg, then its attributes. Its flags stay 0: IFF_UP there
         * fails with ENOTCONN, the pair is not joined yet when the kernel opens the peer. */
        struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof *pifi);
        pifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_ifname);
        put_veth_queues(nlh);
        if (v->peer_mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, sizeof v->peer_mac->bytes, v->peer_mac->bytes);
        if (v->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
        if (v->peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) v->peer_netns_fd);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);
        return nlh;
}

struct nlmsghdr *nl_build_bridge(void *buf, const NetnsBridge *b) {
        struct nlmsghdr *nlh = put_link_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
                                               b->up, NULL);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, b->ifname);
        if (b->mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, sizeof b->mac->bytes, b->mac->bytes);
        if (b->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, b->mtu);
        struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        /* Lab links must forward at once: no STP listening/learning (30 s by default with
         * STP on), and no forward delay should STP ever be switched on by hand. */
        mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
        mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, linkinfo);
        return nlh;
}

struct nlmsghdr *nl_build_setlink(void *buf, int ifindex) {
        return put_link_header(buf, RTM_SETLINK, 0, ifindex, false, NULL);
}

struct nlmsghdr *nl_build_brport(void *buf, int ifindex, NetnsTristate hairpin,
                                 NetnsTristate learning) {
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = put_link_header(buf, RTM_SETLINK, 0, ifindex, false, &ifi);
        /* Port flags live in the bridge's own family, as `bridge link set` sends them. */
        ifi->ifi_family = AF_BRIDGE;
        struct nlattr *prot = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
        if (hairpin != NETNS_UNCHANGED)
                mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, hairpin == NETNS_ON);
        if (learning != NETNS_UNCHANGED)
                mnl_attr_put_u8(nlh, IFLA_BRPORT_LEARNING, learning == NETNS_ON);
        mnl_attr_nest_end(nlh, prot);
        return nlh;
}

static int check_mark_owner(const char *owner, const char *ifname, RtError *err) {
        int r = netns_owner_check(owner, err);
        if (r < 0)
                return rt_err_prefix(err, r, "mark of '%s'", ifname);
        return 0;
}

static int check_optional_mac(const NetnsMac *mac, const char *ifname, RtError *err) {
        if (!mac)
                return 0;
        int r = netns_mac_check_unicast(mac, err);
        if (r < 0)
                return rt_err_prefix(err, r, "interface '%s'", ifname);
        return 0;
}

static int mtu_check(uint32_t mtu, const char *ifname, RtError *err) {
        /* 68 is IPv4's minimum; 65535 is the largest any software device takes. */
        if (mtu != 0 && (mtu < 68 || mtu > 65535))
                return rt_err_setx(err, -EINVAL, "interface '%s': MTU %u is outside 68-65535",
                                   ifname, mtu);
        return 0;
}

typedef struct LinkIndexes {
        int ifindex;
        int peer_ifindex; /* IFLA_LINK */
} LinkIndexes;

static int getlink_index_cb(const struct nlmsghdr *nlh, void *userdata) {
        LinkIndexes *ix = userdata;
        if (nlh->nlmsg_type != RTM_NEWLINK ||
            mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
                return -EBADMSG;
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        ix->ifindex = ifi->ifi_index;
        const struct nlattr *a;
        mnl_attr_for_each(a, nlh, sizeof *ifi)
                if (mnl_attr_get_type(a) == IFLA_LINK &&
                    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                        ix->peer_ifindex = (int) mnl_attr_get_u32(a);
        return 0;
}

static int link_indexes(NlSock *sk, const char *ifname, LinkIndexes *ret, RtError *err) {
        int r = netns_ifname_check(ifname, err);
        if (r < 0)
                return r;
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_GETLINK, 0, 0, false, NULL);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        /* No statistics: we only want indexes, and stats are most of a link's reply. */
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        LinkIndexes ix = {};
        r = nl_transact(sk, nlh, getlink_index_cb, &ix, err, "look up link '%s'", ifname);
        if (r == -ENODEV)
                return rt_err_setx(err, -ENODEV, "link '%s' does not exist", ifname);
        if (r < 0)
                return r;
        if (ix.ifindex <= 0)
                return rt_err_setx(err, -EBADMSG, "look up link '%s': no index in reply", ifname);
        *ret = ix;
        return 0;
}

static struct nlmsghdr *build_mark(void *buf, int ifindex, const char *ifname, const char *owner) {
        char alias[sizeof NETNS_MARK_PREFIX + NETNS_OWNER_MAX];
        (void) snprintf(alias, sizeof alias, "%s%s", NETNS_MARK_PREFIX, owner);
        struct nlmsghdr *nlh = nl_build_setlink(buf, ifindex);
        /* With index 0 the kernel finds the link by IFLA_IFNAME. */
        if (ifindex == 0)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
        return nlh;
}

int netns_link_mark(NlSock *sk, int ifindex, const char *owner, RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        int r = netns_owner_check(owner, err);
        if (r < 0)
                return r;
        char buf[NL_REQ_BUF_SIZE];
        return nl_transact(sk, build_mark(buf, ifindex, NULL, owner), NULL, NULL, err,
                           "mark link %d with owner '%s'", ifindex, owner);
}

static int del_by_name(NlSock *sk, const char *ifname) {
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = put_link_header(buf, RTM_DELLINK, 0, 0, false, NULL);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        return nl_transact(sk, nlh, NULL, NULL, /* err= */ NULL, "delete link '%s'", ifname);
}

/* The kernel ignores IFLA_IFALIAS in a create request, so the mark is a second request,
 * made right after by name (we just created that name with NLM_F_EXCL); a failure there
 * removes the link again rather than leave an unmarked one behind. ret, when given, is
 * filled unless the create's echo did already (a kernel before 6.3 sends none). */
static int mark_new_link(NlSock *sk, const char *ifname, const char *owner, LinkIndexes *ret,
                         RtError *err) {
        char buf[NL_REQ_BUF_SIZE];
        int r = nl_transact(sk, build_mark(buf, 0, ifname, owner), NULL, NULL, err,
                            "mark link '%s' with owner '%s'", ifname, owner);
        if (r >= 0 && ret && ret->ifindex <= 0)
                r = link_indexes(sk, ifname, ret, err);
        if (r < 0)
                (void) del_by_name(sk, ifname);
        return r;
}

int netns_veth_add(NlSock *sk, const NetnsVeth *v, int *ret_ifindex, int *ret_peer_ifindex,
                   RtError *err) {
        assert_return(sk && v, -EINVAL);
        int r;
        if ((r = netns_ifname_check(v->ifname, err)) < 0 ||
            (r = netns_ifname_check(v->peer_ifname, err)) < 0 ||
            (r = check_mark_owner(v->owner, v->ifname, err)) < 0 ||
            (r = check_optional_mac(v->mac, v->ifname, err)) < 0 ||
            (r = check_optional_mac(v->peer_mac, v->peer_ifname, err)) < 0 ||
            (r = mtu_check(v->mtu, v->ifname, err)) < 0)
                return rt_err_prefix(err, r, "create veth '%s'", v->ifname ? v->ifname : "");
        bool peer_here = v->peer_netns_fd < 0;
        if (v->peer_up && !peer_here && !v->peer_sk)
                return rt_err_setx(err, -EINVAL,
                                   "create veth '%s': bringing the peer up needs a socket in its "
                                   "netns", v->ifname);

        /* The indexes from the create's echo: a RTM_GETLINK of the new link would make the
         * kernel apply its pending carrier change there and then (linkwatch_sync_dev), a
         * qdisc deactivation that waits out an RCU grace period. */
        char buf[NL_REQ_BUF_SIZE];
        bool want_indexes = ret_ifindex || ret_peer_ifindex;
        struct nlmsghdr *req = nl_build_veth(buf, v);
        if (want_indexes)
                req->nlmsg_flags |= NLM_F_ECHO;
        LinkIndexes ix = {};
        r = nl_transact(sk, req, want_indexes ? getlink_index_cb : NULL, &ix, err,
                        "create veth '%s' with peer '%s'", v->ifname, v->peer_ifname);
        if (r < 0)
                return r;

        /* From here on a failure deletes the pair (one end takes the other with it). */
        /* When the peer stays in this netns it needs the mark too; when it is born in
         * another netns it dies with that netns, which carries nsprov's name. */
        if (peer_here)
                r = mark_new_link(sk, v->peer_ifname, v->owner, NULL, err);
        if (r >= 0)
                r = mark_new_link(sk, v->ifname, v->owner,
                                  ret_ifindex || ret_peer_ifindex ? &ix : NULL, err);
        if (r >= 0 && v->peer_up) {
                /* By name: the peer's index is not known yet, and looking it up would cost
                 * a round trip more. */
                char pbuf[NL_REQ_BUF_SIZE];
                struct nlmsghdr *nlh = put_link_header(pbuf, RTM_SETLINK, 0, 0, true, NULL);
                mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_ifname);
                r = nl_transact(peer_here ? sk : v->peer_sk, nlh, NULL, NULL, err,
                                "set peer '%s' up", v->peer_ifname);
                if (r < 0)
                        (void) del_by_name(sk, v->ifname);
        }
        if (r < 0)
                return rt_err_prefix(err, r, "create veth '%s'", v->ifname);
        if (ret_ifindex)
                *ret_ifindex = ix.ifindex;
        if (ret_peer_ifindex)
                *ret_peer_ifindex = ix.peer_ifindex;
        return 0;
}

int netns_bridge_add(NlSock *sk, const NetnsBridge *b, int *ret_ifindex, RtError *err) {
        assert_return(sk && b, -EINVAL);
        int r;
        if ((r = netns_ifname_check(b->ifname, err)) < 0 ||
            (r = check_mark_owner(b->owner, b->ifname, err)) < 0 ||
            (r = check_optional_mac(b->mac, b->ifname, err)) < 0 ||
            (r = mtu_check(b->mtu, b->ifname, err)) < 0)
                return rt_err_prefix(err, r, "create bridge");

        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *req = nl_build_bridge(buf, b);
        if (ret_ifindex)
                req->nlmsg_flags |= NLM_F_ECHO; /* the index without a GETLINK: see veth_add */
        LinkIndexes ix = {};
        r = nl_transact(sk, req, ret_ifindex ? getlink_index_cb : NULL, &ix, err, "create bridge '%s'",
                        b->ifname);
        if (r < 0)
                return r;
        r = mark_new_link(sk, b->ifname, b->owner, ret_ifindex ? &ix : NULL, err);
        if (r < 0)
                return rt_err_prefix(err, r, "create bridge '%s'", b->ifname);
        if (ret_ifindex)
                *ret_ifindex = ix.ifindex;
        return 0;
}

int netns_bridge_port_set(NlSock *sk, int ifindex, NetnsTristate hairpin, NetnsTristate learning,
                          RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        if (hairpin == NETNS_UNCHANGED && learning == NETNS_UNCHANGED)
                return 0;
        char buf[NL_REQ_BUF_SIZE];
        return nl_transact(sk, nl_build_brport(buf, ifindex, hairpin, learning), NULL, NULL, err,
                           "set bridge port flags of link %d", ifindex);
}

int netns_link_index(NlSock *sk, const char *ifname, int *ret_ifindex, RtError *err) {
        assert_return(sk && ret_ifindex, -EINVAL);
        int r = netns_ifname_check(ifname, err);
        if (r < 0)
                return r;
        /* An ioctl on the netlink socket asks its netns's device table alone. A GETLINK
         * takes the rtnl lock and first applies the link's pending carrier change: on a
         * bridge that has just gained or lost a port, a qdisc swap waiting out an RCU grace
         * period, in the middle of a connect. */
        struct ifreq ifr = {};
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
        if (ioctl(mnl_socket_get_fd(sk->mnl), SIOCGIFINDEX, &ifr) < 0) {
                if (errno == ENODEV)
                        return rt_err_setx(err, -ENODEV, "link '%s' does not exist", ifname);
                return rt_err_set(err, -errno, "look up link '%s'", ifname);
        }
        *ret_ifindex = ifr.ifr_ifindex;
        return 0;
}

int netns_link_del(NlSock *sk, int ifindex, RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        char buf[NL_REQ_BUF_SIZE];
        return nl_transact(sk, put_link_header(buf, RTM_DELLINK, 0, ifindex, false, NULL), NULL,
                           NULL, err, "delete link %d", ifindex);
}

/* The kernel deletes a whole device group in one unregister batch (RTM_DELLINK with
 * IFLA_GROUP and no index, as `ip link delete group`). The links are first moved to a
 * group no other link of the netns is in, drawn at random in nsprov's range so two
 * concurrent batches do not meet. */
#define BATCH_GROUP_BASE 0x6e000000u

static uint32_t unused_group(const NetnsLinkList *all) {
        for (;;) {
                uint32_t rnd = 0;
                if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
                        rnd = (uint32_t) random();
                uint32_t g = BATCH_GROUP_BASE | (rnd & 0xffffffu);
                bool used = false;
                for (size_t i = 0; i < all->n && !used; i++)
                        used = all->links[i].group == g;
                if (!used)
                        return g;
        }
}

static bool listed(const NetnsLinkList *all, int ifindex) {
        for (size_t i = 0; i < all->n; i++)
                if (all->links[i].ifindex == ifindex)
                        return true;
        return false;
}

/* A link already gone is what was wanted; the first real failure is the one reported. */
static void delete_one(NlSock *sk, int ifindex, int *first_error, RtError *err) {
        RtError e = {};
        int r = netns_link_del(sk, ifindex, &e);
        if (r < 0 && r != -ENODEV && *first_error == 0)
                *first_error = rt_err_setx(err, r, "%s", e.msg);
}

int netns_links_del(NlSock *sk, const int *ifindexes, size_t n, RtError *err) {
        assert_return(sk && (ifindexes || n == 0), -EINVAL);
        int first_error = 0;
        if (n <= 1) {
                if (n == 1)
                        delete_one(sk, ifindexes[0], &first_error, err);
                return first_error;
        }
        _cleanup_(netns_link_list_done) NetnsLinkList all = {};
        int r = netns_link_list(sk, &all, err);
        if (r < 0)
                return r;
        uint32_t group = unused_group(&all);
        char buf[NL_REQ_BUF_SIZE];
        size_t grouped = 0;
        for (size_t i = 0; i < n; i++) {
                if (!listed(&all, ifindexes[i]))
                        continue;
                struct nlmsghdr *nlh = nl_build_setlink(buf, ifindexes[i]);
                mnl_attr_put_u32(nlh, IFLA_GROUP, group);
                r = nl_transact(sk, nlh, NULL, NULL, NULL, "move link %d to group %u", ifindexes[i],
                                group);
                if (r == 0)
                        grouped++;
                else /* not in the batch: it goes on its own */
                        delete_one(sk, ifindexes[i], &first_error, err);
        }
        if (grouped == 0)
                return first_error;
        struct nlmsghdr *nlh = put_link_header(buf, RTM_DELLINK, 0, 0, false, NULL);
        mnl_attr_put_u32(nlh, IFLA_GROUP, group);
        r = nl_transact(sk, nlh, NULL, NULL, NULL, "delete the %zu links of group %u", grouped, group);
        /* A link whose kind has no group delete fails the whole group (EOPNOTSUPP):
         * then each goes on its own. */
        for (size_t i = 0; r < 0 && i < n; i++)
                delete_one(sk, ifindexes[i], &first_error, err);
        return first_error;
}

int netns_link_set_up(NlSock *sk, int ifindex, bool up, RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        char buf[NL_REQ_BUF_SIZE];
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = put_link_header(buf, RTM_SETLINK, 0, ifindex, up, &ifi);
        ifi->ifi_change = IFF_UP;
        return nl_transact(sk, nlh, NULL, NULL, err, "set link %d %s", ifindex, up ? "up" : "down");
}

int netns_link_set_master(NlSock *sk, int ifindex, int master_ifindex, RtError *err) {
        assert_return(sk && ifindex > 0 && master_ifindex >= 0, -EINVAL);
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = nl_build_setlink(buf, ifindex);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) master_ifindex);
        if (master_ifindex == 0)
                return nl_transact(sk, nlh, NULL, NULL, err, "release link %d from its master",
                                   ifindex);
        return nl_transact(sk, nlh, NULL, NULL, err, "attach link %d to master %d", ifindex,
                           master_ifindex);
}

int netns_link_rename(NlSock *sk, int ifindex, const char *ifname, RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        int r = netns_ifname_check(ifname, err);
        if (r < 0)
                return rt_err_prefix(err, r, "rename link %d", ifindex);
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = nl_build_setlink(buf, ifindex);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        return nl_transact(sk, nlh, NULL, NULL, err, "rename link %d to '%s'", ifindex, ifname);
}

int netns_link_set_mac(NlSock *sk, int ifindex, const NetnsMac *mac, RtError *err) {
        assert_return(sk && ifindex > 0 && mac, -EINVAL);
        char m[NETNS_MAC_STRLEN];
        int r = netns_mac_check_unicast(mac, err);
        if (r < 0)
                return rt_err_prefix(err, r, "set MAC of link %d", ifindex);
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = nl_build_setlink(buf, ifindex);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof mac->bytes, mac->bytes);
        return nl_transact(sk, nlh, NULL, NULL, err, "set MAC of link %d to %s", ifindex,
                           netns_mac_format(mac, m));
}

int netns_link_set_mtu(NlSock *sk, int ifindex, uint32_t mtu, RtError *err) {
        assert_return(sk && ifindex > 0, -EINVAL);
        char name[16];
        (void) snprintf(name, sizeof name, "%d", ifindex);
        int r = mtu == 0 ? rt_err_setx(err, -EINVAL, "MTU 0 is not valid") : mtu_check(mtu, name, err);
        if (r < 0)
                return r;
        char buf[NL_REQ_BUF_SIZE];
        struct nlmsghdr *nlh = nl_build_setlink(buf, ifindex);
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        return nl_transact(sk, nlh, NULL, NULL, err, "set MTU of link %d to %u", ifindex, mtu);
}
