/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "log.h"
#include "nl-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)

static void link_from_rtnl(struct rtnl_link *l, NetnsLink *out) {
        memset(out, 0, sizeof *out);
        out->ifindex = rtnl_link_get_ifindex(l);
        const char *name = rtnl_link_get_name(l);
        (void) snprintf(out->name, sizeof out->name, "%s", name ? name : "");
        const char *kind = rtnl_link_get_type(l);
        (void) snprintf(out->kind, sizeof out->kind, "%s", kind ? kind : "");
        struct nl_addr *a = rtnl_link_get_addr(l);
        if (a && nl_addr_get_len(a) == sizeof out->mac.bytes) {
                memcpy(out->mac.bytes, nl_addr_get_binary_addr(a), sizeof out->mac.bytes);
                out->has_mac = true;
        }
        out->mtu = rtnl_link_get_mtu(l);
        out->flags = rtnl_link_get_flags(l);
        out->operstate = rtnl_link_get_operstate(l);
        out->master_ifindex = rtnl_link_get_master(l);
        out->group = rtnl_link_get_group(l);
        int peer = rtnl_link_get_link(l);
        out->peer_ifindex = peer != out->ifindex ? peer : 0;
        int32_t nsid;
        out->peer_netnsid = rtnl_link_get_link_netnsid(l, &nsid) == 0 ? nsid : -1;
        const char *alias = rtnl_link_get_ifalias(l);
        (void) snprintf(out->alias, sizeof out->alias, "%s", alias ? alias : "");
}

static int cmp_ifindex(const void *a, const void *b) {
        const NetnsLink *x = a, *y = b;
        return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static NetnsLink *find_by_index(NetnsLinkList *list, int ifindex) {
        NetnsLink key = { .ifindex = ifindex };
        return bsearch(&key, list->links, list->n, sizeof *list->links, cmp_ifindex);
}

static int add_address(NetnsLink *link, struct rtnl_addr *ra) {
        struct nl_addr *local = rtnl_addr_get_local(ra);
        if (!local)
                return 0;
        int family = nl_addr_get_family(local);
        size_t len = nl_addr_get_len(local);
        NetnsLinkAddr a = { .scope = (uint8_t) rtnl_addr_get_scope(ra),
                            .flags = (uint32_t) rtnl_addr_get_flags(ra) };
        a.cidr.ip.family = family;
        a.cidr.prefixlen = (uint8_t) rtnl_addr_get_prefixlen(ra);
        if (family == AF_INET && len == sizeof a.cidr.ip.v4)
                memcpy(&a.cidr.ip.v4, nl_addr_get_binary_addr(local), len);
        else if (family == AF_INET6 && len == sizeof a.cidr.ip.v6)
                memcpy(&a.cidr.ip.v6, nl_addr_get_binary_addr(local), len);
        else
                return 0;

        NetnsLinkAddr *n = realloc(link->addrs, (link->n_addrs + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        link->addrs = n;
        link->addrs[link->n_addrs++] = a;
        return 0;
}

int netns_link_list(NlSock *sk, NetnsLinkList *ret, RtError *err) {
        assert_return(sk && ret, -EINVAL);
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        struct nl_sock *nl;
        int r = nl_libnl(sk, &nl, err);
        if (r < 0)
                return r;
        r = rtnl_link_alloc_cache(nl, AF_UNSPEC, &links);
        if (r < 0)
                return rt_err_set(err, nle_to_errno(r), "list links");
        r = rtnl_addr_alloc_cache(nl, &addrs);
        if (r < 0)
                return rt_err_set(err, nle_to_errno(r), "list addresses");

        _cleanup_(netns_link_list_done) NetnsLinkList list = {};
        int count = nl_cache_nitems(links);
        list.links = calloc(count > 0 ? (size_t) count : 1, sizeof *list.links);
        if (!list.links)
                return rt_err_set(err, -ENOMEM, "list links");
        for (struct nl_object *o = nl_cache_get_first(links); o && list.n < (size_t) count;
             o = nl_cache_get_next(o))
                link_from_rtnl((struct rtnl_link *) o, &list.links[list.n++]);
        qsort(list.links, list.n, sizeof *list.links, cmp_ifindex);

        for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *ra = (struct rtnl_addr *) o;
                NetnsLink *l = find_by_index(&list, rtnl_addr_get_ifindex(ra));
                if (l && add_address(l, ra) < 0)
                        return rt_err_set(err, -ENOMEM, "list addresses");
        }
        *ret = list;
        list = (NetnsLinkList) {};
        return 0;
}

void netns_link_list_done(NetnsLinkList *list) {
        if (!list)
                return;
        for (size_t i = 0; i < list->n; i++)
                free(list->links[i].addrs);
        free(list->links);
        *list = (NetnsLinkList) {};
}

const NetnsLink *netns_link_list_find(const NetnsLinkList *list, const char *ifname) {
        for (size_t i = 0; list && ifname && i < list->n; i++)
                if (streq(list->links[i].name, ifname))
                        return &list->links[i];
        return NULL;
}

const char *netns_link_owner(const NetnsLink *link) {
        const char *owner = startswith(link->alias, NETNS_MARK_PREFIX);
        return owner && *owner ? owner : NULL;
}

static int list_marked_netns(const char *dir, const char *owner, NetnsMarked *m, RtError *err) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return rt_err_set(err, -errno, "read %s", dir);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *o = startswith(de->d_name, NETNS_NAME_PREFIX);
                if (!o || !*o || (owner && !streq(o, owner)))
                        continue;
                char **n = realloc(m->netns, (m->n_netns + 2) * sizeof *n);
                if (!n)
                        return rt_err_set(err, -ENOMEM, "list %s", dir);
                m->netns = n;
                m->netns[m->n_netns] = strdup(de->d_name);
                if (!m->netns[m->n_netns])
                        return rt_err_set(err, -ENOMEM, "list %s", dir);
                m->netns[++m->n_netns] = NULL;
        }
        return 0;
}

int netns_find_marked(NlSock *sk, const char *netns_dir, const char *owner, NetnsMarked *ret,
                      RtError *err) {
        assert_return(sk && ret, -EINVAL);
        _cleanup_(netns_marked_done) NetnsMarked m = {};
        _cleanup_(netns_link_list_done) NetnsLinkList all = {};
        int r = netns_link_list(sk, &all, err);
        if (r < 0)
                return r;

        m.links.links = calloc(all.n ? all.n : 1, sizeof *m.links.links);
        if (!m.links.links)
                return rt_err_set(err, -ENOMEM, "find marked links");
        for (size_t i = 0; i < all.n; i++) {
                const char *o = netns_link_owner(&all.links[i]);
                if (!o || (owner && !streq(o, owner)))
                        continue;
                /* Move the link, addresses and all, into the result. */
                m.links.links[m.links.n++] = all.links[i];
                all.links[i].addrs = NULL;
                all.links[i].n_addrs = 0;
        }

        r = list_marked_netns(netns_dir ? netns_dir : NETNS_RUN_DIR, owner, &m, err);
        if (r < 0)
                return r;
        *ret = m;
        m = (NetnsMarked) {};
        return 0;
}

void netns_marked_done(NetnsMarked *m) {
        if (!m)
                return;
        netns_link_list_done(&m->links);
        for (size_t i = 0; i < m->n_netns; i++)
                free(m->netns[i]);
        free(m->netns);
        *m = (NetnsMarked) {};
}
