/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "log.h"
#include "nl-internal.h"

static size_t ip_len(const NetnsIp *ip) {
        return ip->family == AF_INET ? sizeof ip->v4 : sizeof ip->v6;
}

static const void *ip_bytes(const NetnsIp *ip) {
        return ip->family == AF_INET ? (const void *) &ip->v4 : (const void *) &ip->v6;
}

struct nlmsghdr *nl_build_addr(void *buf, uint16_t type, int ifindex, const NetnsCidr *addr,
                               NetnsAddrFlags flags) {
        memset(buf, 0, NL_REQ_BUF_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        if (type == RTM_NEWADDR)
                nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        ifa->ifa_family = (uint8_t) addr->ip.family;
        ifa->ifa_prefixlen = addr->prefixlen;
        ifa->ifa_index = (uint32_t) ifindex;
        uint32_t f = (flags & NETNS_ADDR_NODAD) ? IFA_F_NODAD : 0;
        ifa->ifa_flags = (uint8_t) f;
        /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links
         * and must equal IFA_LOCAL otherwise, or IPv4 treats it as a peer address. */
        mnl_attr_put(nlh, IFA_LOCAL, ip_len(&addr->ip), ip_bytes(&addr->ip));
        mnl_attr_put(nlh, IFA_ADDRESS, ip_len(&addr->ip), ip_bytes(&addr->ip));
        if (type == RTM_NEWADDR && f)
                mnl_attr_put_u32(nlh, IFA_FLAGS, f);
        return nlh;
}

struct nlmsghdr *nl_build_default_route(void *buf, const NetnsIp *gw, int ifindex) {
        memset(buf, 0, NL_REQ_BUF_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        rtm->rtm_family = (uint8_t) gw->family;
        rtm->rtm_dst_len = 0;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, ip_len(gw), ip_bytes(gw));
        if (ifindex > 0)
                mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) ifindex);
        return nlh;
}

struct nlmsghdr *nl_build_neigh_del(void *buf, int ifindex, const NetnsIp *ip) {
        memset(buf, 0, NL_REQ_BUF_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_DELNEIGH;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
        ndm->ndm_family = (uint8_t) ip->family;
        ndm->ndm_ifindex = ifindex;
        mnl_attr_put(nlh, NDA_DST, ip_len(ip), ip_bytes(ip));
        return nlh;
}

int netns_neigh_forget(NlSock *sk, int ifindex, const NetnsIp *ip, RtError *err) {
        assert_return(sk && ifindex > 0 && ip, -EINVAL);
        if (ip->family != AF_INET && ip->family != AF_INET6)
                return rt_err_setx(err, -EAFNOSUPPORT, "address family %d is not IPv4 or IPv6", ip->family);
        char a[INET6_ADDRSTRLEN], buf[NL_REQ_BUF_SIZE];
        int r = nl_transact(sk, nl_build_neigh_del(buf, ifindex, ip), NULL, NULL, err, "forget neighbour %s on link %d",
                            netns_ip_format(ip, a), ifindex);
        return r == -ENOENT ? 0 : r;
}

static int cidr_check(const NetnsCidr *a, RtError *err) {
        if (a->ip.family != AF_INET && a->ip.family != AF_INET6)
                return rt_err_setx(err, -EAFNOSUPPORT, "address family %d is not IPv4 or IPv6",
                                   a->ip.family);
        if (a->prefixlen > (a->ip.family == AF_INET ? 32 : 128))
                return rt_err_setx(err, -EINVAL, "prefix length %u is too long", a->prefixlen);
        return 0;
}

static int addr_change(NlSock *sk, uint16_t type, int ifindex, const NetnsCidr *addr,
                       NetnsAddrFlags flags, RtError *err) {
        char c[NETNS_CIDR_STRLEN];
        int r = cidr_check(addr, err);
        if (r < 0)
                return r;
        char buf[NL_REQ_BUF_SIZE];
        return nl_transact(sk, nl_build_addr(buf, type, ifindex, addr, flags), NULL, NULL, err,
                           "%s address %s %s link %d", type == RTM_NEWADDR ? "add" : "remove",
                           netns_cidr_format(addr, c), type == RTM_NEWADDR ? "to" : "from", ifindex);
}

int netns_addr_add(NlSock *sk, int ifindex, const NetnsCidr *addr, NetnsAddrFlags flags,
                   RtError *err) {
        assert_return(sk && ifindex > 0 && addr, -EINVAL);
        return addr_change(sk, RTM_NEWADDR, ifindex, addr, flags, err);
}

int netns_addr_del(NlSock *sk, int ifindex, const NetnsCidr *addr, RtError *err) {
        assert_return(sk && ifindex > 0 && addr, -EINVAL);
        return addr_change(sk, RTM_DELADDR, ifindex, addr, 0, err);
}

int netns_route_add_default(NlSock *sk, const NetnsIp *gateway, int ifindex, RtError *err) {
        assert_return(sk && gateway && ifindex >= 0, -EINVAL);
        char a[INET6_ADDRSTRLEN];
        if (gateway->family != AF_INET && gateway->family != AF_INET6)
                return rt_err_setx(err, -EAFNOSUPPORT, "gateway family %d is not IPv4 or IPv6",
                                   gateway->family);
        char buf[NL_REQ_BUF_SIZE];
        return nl_transact(sk, nl_build_default_route(buf, gateway, ifindex), NULL, NULL, err,
                           "add default route via %s", netns_ip_format(gateway, a));
}
