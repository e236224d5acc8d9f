/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connect and disconnect of a container, under its lock (the runtime takes it): an
 * attachment added to its list, and wired at once when it runs (hot plug). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "network-internal.h"
#include "dynlib.h"
#include "filecache.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "strv.h"

/* ---- connect / disconnect ---- */

int net_connect_locked(const CtrStore *s, const Container *ctr, const NetConnect *nc, NetAttachment *ret,
                       RtError *err) {
        const char *ctr_id = ctr->config.id;
        _cleanup_(net_done) Network n = {};
        /* a native network first; else one of the CNI config dir */
        RtError native_err = {};
        int r = net_load(s, nc->network, &n, &native_err);
        bool cni = false;
        if (r == -ENOENT && net_cni_exists(s, nc->network, NULL) == 0) {
                cni = true;
                (void) snprintf(n.name, sizeof n.name, "%s", nc->network);
        } else if (r < 0) {
                if (err)
                        *err = native_err;
                return r;
        }
        NetAttachment *as = NULL;
        size_t na = 0;
        if ((r = net_attachments_load(s, ctr_id, &as, &na, err)) < 0)
                return r;
        _cleanup_free_ NetAttachment *owned = as;
        if (na >= NET_MAX_ATTACHMENTS)
                return rt_err_setx(err, -E2BIG, "container '%s' has %d interfaces already",
                                   ctr->config.name, NET_MAX_ATTACHMENTS);
        NetAttachment a = { .cni = cni };
        strcpy(a.network, n.name);
        if (nc->ifname) {
                if ((r = netns_ifname_check(nc->ifname, err)) < 0)
                        return r;
                for (size_t i = 0; i < na; i++)
                        if (streq(as[i].ifname, nc->ifname))
                                return rt_err_setx(err, -EEXIST, "container '%s' has an interface '%s' already",
                                                   ctr->config.name, nc->ifname);
                strcpy(a.ifname, nc->ifname);
        } else
                for (unsigned k = 0;; k++) {
                        (void) snprintf(a.ifname, sizeof a.ifname, "eth%u", k);
                        bool taken = false;
                        for (size_t i = 0; i < na; i++)
                                taken |= streq(as[i].ifname, a.ifname);
                        if (!taken)
                                break;
                }
        unsigned joins = 0;
        for (size_t i = 0; i < na; i++)
                joins += streq(as[i].network, n.name);
        if (joins > 0 && nc->once)
                return rt_err_setx(err, -EALREADY, "container %s is already connected to network \"%s\"",
                                   ctr->config.id, n.name);
        if (nc->mac) {
                if ((r = netns_mac_parse(nc->mac, &a.mac, err)) < 0 ||
                    (r = netns_mac_check_unicast(&a.mac, err)) < 0)
                        return r;
                a.mac_given = true;
        } else if (!cni) /* a CNI plugin picks its own unless asked (capability "mac") */
                net_derive_mac(ctr->config.name, n.name, joins, &a.mac);
        if (nc->ip && ((r = netns_ip_parse(nc->ip, &a.ip, err)) < 0 || a.ip.family != AF_INET))
                return r < 0 ? r : rt_err_setx(err, -EINVAL, "--ip '%s' is not IPv4", nc->ip);
        if (nc->ip6 && ((r = netns_ip_parse(nc->ip6, &a.ip6, err)) < 0 || a.ip6.family != AF_INET6))
                return r < 0 ? r : rt_err_setx(err, -EINVAL, "--ip6 '%s' is not IPv6", nc->ip6);
        if ((a.ip.family || a.ip6.family) && n.n_subnets == 0 && !cni)
                return rt_err_setx(err, -EINVAL, "network '%s' has no subnet to take an address from",
                                   n.name);

        bool hot = ctr->state.status == CTR_RUNNING;
        if (hot) {
                /* hot plug */
                _cleanup_close_ int fd = open(ctr->state.netns, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return rt_err_set(err, -errno, "open %s", ctr->state.netns);
                /* what a connect killed halfway left goes first; this one is written down
                 * before its veth exists, so a kill now leaves nothing unrecorded */
                (void) net_links_reconcile(s, ctr_id);
                if (!cni && (r = ledger_list_add(s, ctr_id, LEDGER_LIST_LINKS, n.name, a.ifname, err)) < 0)
                        return rt_err_prefix(err, r, "connect %s of '%s'", a.ifname, ctr->config.name);
                if (cni)
                        r = net_wire(s, &ctr->config, fd, &a, 1, false, err);
                else {
                        _cleanup_(netns_sock_freep) NlSock *in = NULL;
                        /* the first network with a gateway routes the container out, as at
                         * start: a later one adds no second default route */
                        bool have_route = false;
                        for (size_t i = 0; i < na; i++)
                                have_route |= as[i].gateway4.family != 0;
                        if ((r = netns_sock_open(fd, &in, err)) == 0)
                                r = net_wire_one(in, fd, s, &ctr->config, &a, &n, &have_route, err);
                }
                if (r < 0) {
                        (void) ledger_list_remove(s, ctr_id, LEDGER_LIST_LINKS, n.name, a.ifname);
                        return r;
                }
        }
        NetAttachment *all = realloc(owned, (na + 1) * sizeof *all);
        if (all) {
                owned = all;
                all[na] = a;
                r = net_attachments_save(s, ctr_id, all, na + 1, err);
        } else
                r = rt_err_set(err, -ENOMEM, "connect");
        if (hot && !cni)
                (void) ledger_list_remove(s, ctr_id, LEDGER_LIST_LINKS, n.name, a.ifname);
        if (r < 0) {
                if (hot)
                        net_unwire_one(s, ctr_id, &a);
                return r;
        }
        if (ret)
                *ret = a;
        ctr_event(s, "network", "connect", ctr_id, n.name, NULL, -1);
        return 0;
}

int net_disconnect_locked(const CtrStore *s, const Container *ctr, const char *network, const char *ifname,
                          RtError *err) {
        const char *ctr_id = ctr->config.id;
        int r;
        _cleanup_free_ NetAttachment *as = NULL;
        size_t na = 0;
        if ((r = net_attachments_load(s, ctr_id, &as, &na, err)) < 0)
                return r;
        ssize_t hit = -1;
        int matches = 0;
        for (size_t i = 0; i < na; i++)
                if (streq(as[i].network, network) && (!ifname || streq(as[i].ifname, ifname))) {
                        hit = (ssize_t) i;
                        matches++;
                }
        if (matches == 0)
                return rt_err_setx(err, -ENOENT, "container '%s' is not connected to network '%s'%s%s",
                                   ctr->config.name, network, ifname ? " as " : "", ifname ? ifname : "");
        if (matches > 1)
                return rt_err_setx(err, -EINVAL,
                                   "container '%s' has %d interfaces on '%s': name one (--interface-name)",
                                   ctr->config.name, matches, network);
        if (ctr->state.status == CTR_RUNNING)
                net_unwire_one(s, ctr_id, &as[hit]);
        memmove(&as[hit], &as[hit + 1], (na - (size_t) hit - 1) * sizeof *as);
        r = net_attachments_save(s, ctr_id, as, na - 1, err);
        if (r == 0)
                ctr_event(s, "network", "disconnect", ctr_id, network, NULL, -1);
        return r;
}

/* Checks a network can go (detaching its users when the caller says how); the kernel and state
 * parts come after, for all the networks of one call at once. */
