/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's attachments wired into its netns (a veth born with its peer inside, its
 * address from IPAM) and unwired; what a killed hot plug left, reclaimed from the ledger. */
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

/* ---- wiring ---- */

static void owner_of(const char *ctr_id, const char *ifname, char buf[static 96]) {
        (void) snprintf(buf, 96, "%s/%s", ctr_id, ifname);
}

/* Where a container's netns is bound while it runs: CNI plugins are given the path. */
static void ctr_netns_path(const char *ctr_id, char buf[static PATH_MAX]) {
        char ns[128];
        ctr_netns_name(ctr_id, ns);
        (void) snprintf(buf, PATH_MAX, "%s/%s", NETNS_RUN_DIR, ns);
}

/* What an attachment holds only while wired: its host end, addresses, CNI state. */
static void forget_wiring(NetAttachment *a) {
        a->host_ifname[0] = '\0';
        a->cni_attached = false;
        a->addr4 = a->addr6 = (NetnsCidr) {};
        a->gateway4 = a->gateway6 = (NetnsIp) {};
}

static void unwire_cni(const CtrStore *s, const char *ctr_id, NetAttachment *a) {
        if (!a->cni_attached)
                return;
        char ns[PATH_MAX];
        ctr_netns_path(ctr_id, ns);
        RtError e = {};
        /* a failed DEL stays in the ledger: gc tries again */
        if (net_cni_unwire(s, ctr_id, access(ns, F_OK) == 0 ? ns : NULL, a, &e) < 0)
                log_warning("%s, ignoring", e.msg);
        forget_wiring(a);
}

void net_unwire_one(const CtrStore *s, const char *ctr_id, NetAttachment *a) {
        if (a->cni) {
                unwire_cni(s, ctr_id, a);
                return;
        }
        if (a->host_ifname[0]) {
                /* Its bridge's side; the host's when the network is gone, where the link
                 * is found only if it is there. */
                Network n = {};
                if (net_load(s, a->network, &n, NULL) < 0)
                        n.own_netns = false;
                _cleanup_(net_bridge_side_close) BridgeSide side = { .netns_fd = -1 };
                int idx;
                if (net_bridge_side_open(&n, NULL, &side, NULL) == 0 &&
                    netns_link_index(side.sk, a->host_ifname, &idx, NULL) == 0)
                        (void) netns_link_del(side.sk, idx, NULL);
                net_done(&n);
        }
        char owner[96];
        owner_of(ctr_id, a->ifname, owner);
        net_ipam_release_owner(s, a->network, owner);
        forget_wiring(a);
}

/* A host end named host_ifname on the bridge side that a killed connect left: ours when it
 * carries owner's mark, or when it carries none yet but hangs on our bridge (the kernel
 * takes the mark in a second request: a kill between the two leaves it bare; the name is
 * derived from the container's id, the bridge is the network's). Deleted (its peer in the
 * container goes with it); returns 1 when one went, 2 when there is none (any more), 0 when
 * the one there is not ours: marked by another owner, or bare elsewhere, it stays. */
static int reclaim_host_end(NlSock *sk, const char *host_ifname, const char *owner, int bridge) {
        NetnsLinkList list = {};
        if (netns_link_list(sk, &list, NULL) < 0)
                return 0;
        const NetnsLink *l = netns_link_list_find(&list, host_ifname);
        const char *mark = l ? netns_link_owner(l) : NULL;
        bool ours = l && (mark ? streq(mark, owner) : bridge > 0 && l->master_ifindex == bridge);
        int del = ours ? netns_link_del(sk, l->ifindex, NULL) : -EPERM;
        /* one the kernel is unregistering already cannot be deleted: as good as gone */
        int removed = del == 0 ? 1 : ours && (del == -ENODEV || del == -ENOENT) ? 2 : 0;
        log_debug("reclaim %s: %s, mark %s, master %d (bridge %d): %s", host_ifname, l ? "there" : "gone",
                  mark ?: "-", l ? l->master_ifindex : 0, bridge, removed ? "removed" : "kept");
        /* gone by the time we looked: the kernel's teardown of the netns this container
         * had before (a restart's stop closes it; the kernel unregisters its links a
         * moment later, in the background) */
        if (!l)
                removed = 2;
        netns_link_list_done(&list);
        return removed;
}

/* known: the attachment's network when the caller has it loaded already, else NULL */
int net_wire_one(NlSock *in, int netns_fd, const CtrStore *s, const CtrConfig *c,
                    NetAttachment *a, const Network *known, bool *have_default_route, RtError *err) {
        _cleanup_(net_done) Network loaded = {};
        const Network *n = known;
        int r = 0;
        if (!n && (r = net_load(s, a->network, &loaded, err)) < 0)
                return r;
        if (!n)
                n = &loaded;
        _cleanup_(net_bridge_side_close) BridgeSide side = { .netns_fd = -1 };
        int br;
        if ((r = net_bridge_side_open(n, s, &side, err)) < 0 || (r = net_ensure_bridge(&side, n, &br, err)) < 0)
                return r;
        net_host_ifname(c->id, a->ifname, a->host_ifname);
        NetnsVeth v = { .ifname = a->host_ifname, .peer_ifname = a->ifname, .peer_netns_fd = netns_fd,
                        .peer_mac = &a->mac, .mtu = n->mtu, .master_ifindex = br, .up = true,
                        .peer_up = false, .owner = c->id };
        int peer;
        r = netns_veth_add(side.sk, &v, NULL, &peer, err);
        /* in the way: ours, from a connect killed before it was on record, or from this
         * container's last run, which the kernel is still unregistering */
        for (int attempt = 0, k; r == -EEXIST && attempt < 50 && (k = reclaim_host_end(side.sk, a->host_ifname, c->id, br)) > 0;
             attempt++) {
                /* the kernel's background teardown still holds the name: give it a moment */
                if (k == 2 && attempt > 0)
                        (void) usleep(2000);
                r = netns_veth_add(side.sk, &v, NULL, &peer, err);
        }
        if (r < 0) {
                a->host_ifname[0] = '\0';
                return rt_err_prefix(err, r, "connect %s of '%s' to '%s'", a->ifname, c->name, n->name);
        }
        /* A bridge port needs no addresses of its own; without IPv6 it sends nothing
         * into the segment (in a netns of the network's own, nothing has IPv6). */
        if (!n->own_netns) {
                char key[96];
                (void) snprintf(key, sizeof key, "net/ipv6/conf/%s/disable_ipv6", a->host_ifname);
                (void) netns_sysctl_write(-1, key, "1", NULL);
        }
        /* Lab links are usable at once: no duplicate address detection unless asked. */
        if (!n->ipv6_dad) {
                char key[96];
                (void) snprintf(key, sizeof key, "net/ipv6/conf/%s/accept_dad", a->ifname);
                (void) netns_sysctl_write(netns_fd, key, "0", NULL);
        }
        if ((r = netns_link_set_up(in, peer, true, err)) < 0)
                goto fail;

        char owner[96];
        owner_of(c->id, a->ifname, owner);
        for (size_t i = 0; i < n->n_subnets; i++) {
                const NetSubnet *sn = &n->subnets[i];
                bool v4 = sn->subnet.ip.family == AF_INET;
                NetnsCidr *slot = v4 ? &a->addr4 : &a->addr6;
                if (slot->ip.family)
                        continue; /* one address per family */
                json_t *j;
                int lock;
                if ((r = net_ipam_open(s, n->name, &j, &lock, err)) < 0)
                        goto fail;
                NetnsIp got;
                const NetnsIp *want = v4 ? &a->ip : &a->ip6, *last = v4 ? &a->last4 : &a->last6;
                if (want->family == sn->subnet.ip.family)
                        r = net_ipam_take(j, sn, want, owner, &got, err);
                /* the one it had, while nobody else took it; else the next free */
                else if (last->family != sn->subnet.ip.family || net_ipam_take(j, sn, last, owner, &got, NULL) < 0)
                        r = net_ipam_take(j, sn, NULL, owner, &got, err);
                else
                        r = 0;
                if (r == 0)
                        r = net_ipam_save(s, n->name, j, err);
                json_decref(j);
                close(lock);
                if (r < 0) {
                        (void) rt_err_prefix(err, r, "network '%s'", n->name);
                        goto fail;
                }
                slot->ip = got;
                slot->prefixlen = sn->subnet.prefixlen;
                *(v4 ? &a->last4 : &a->last6) = got;
                if ((r = netns_addr_add(in, peer, slot, NETNS_ADDR_NODAD, err)) < 0)
                        goto fail;
                /* a reused address: the host would go on sending to the MAC of the
                 * container that had it, for as long as its neighbour entry lives
                 * (15-45 s), and a controller connecting at once would time out */
                (void) netns_neigh_forget(side.sk, br, &got, NULL);
                if (sn->gateway.family && !n->internal) {
                        if (v4)
                                a->gateway4 = sn->gateway;
                        else
                                a->gateway6 = sn->gateway;
                        /* the first network with a gateway routes the container out */
                        if (v4 && !*have_default_route) {
                                if ((r = netns_route_add_default(in, &sn->gateway, peer, err)) < 0)
                                        goto fail;
                                *have_default_route = true;
                        }
                }
        }
        return 0;
fail:
        net_unwire_one(s, c->id, a);
        return rt_err_prefix(err, r, "connect %s of '%s' to '%s'", a->ifname, c->name, n->name);
}

int net_wire(const CtrStore *s, const CtrConfig *c, int netns_fd, NetAttachment *a, size_t n, bool fresh,
             RtError *err) {
        _cleanup_(netns_sock_freep) NlSock *in = NULL;
        int r;
        if ((r = netns_sock_open(netns_fd, &in, err)) < 0)
                return r;
        /* A fresh netns has only lo, at index 1, and it is down. */
        if (fresh && (r = netns_link_set_up(in, 1, true, err)) < 0)
                return rt_err_prefix(err, r, "bring lo of '%s' up", c->name);
        bool have_route = false;
        for (size_t i = 0; i < n; i++)
                if (a[i].gateway4.family)
                        have_route = true;
        char ns_path[PATH_MAX];
        ctr_netns_path(c->id, ns_path);
        for (size_t i = 0; i < n; i++) {
                if (a[i].host_ifname[0] || a[i].cni_attached)
                        continue; /* wired already */
                r = a[i].cni ? net_cni_wire(s, c, ns_path, &a[i], err)
                             : net_wire_one(in, netns_fd, s, c, &a[i], NULL, &have_route, err);
                if (r < 0) {
                        for (size_t k = 0; k < i; k++)
                                net_unwire_one(s, c->id, &a[k]);
                        return r;
                }
        }
        return 0;
}

void net_release(const CtrStore *s, const char *ctr_id, NetAttachment *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (a[i].cni) {
                        unwire_cni(s, ctr_id, &a[i]);
                        continue;
                }
                char owner[96];
                owner_of(ctr_id, a[i].ifname, owner);
                /* A network without addresses has no IPAM file: nothing to lock and
                 * rewrite. One with a file is always looked at, even when this attachment
                 * recorded no address: a crash may have come between taking one and
                 * writing it down. */
                char p[PATH_MAX];
                store_path(s, STORE_IPAM, a[i].network, ".json", p);
                if (a[i].addr4.ip.family || a[i].addr6.ip.family || access(p, F_OK) == 0)
                        net_ipam_release_owner(s, a[i].network, owner);
                forget_wiring(&a[i]);
        }
}

void net_release_container(const CtrStore *s, const char *ctr_id) {
        /* Every address held for the container, in every network: also one that a crash
         * took between the IPAM file and the attachment list. */
        (void) net_ipam_each(s, net_release_container_in, (void *) ctr_id);
        /* the veths of hot plugs killed halfway went, or go, with the netns */
        ledger_list_forget(s, ctr_id, LEDGER_LIST_LINKS);
        NetAttachment *as = NULL;
        size_t n = 0;
        if (net_attachments_load(s, ctr_id, &as, &n, NULL) < 0 || n == 0) {
                free(as);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (as[i].cni)
                        unwire_cni(s, ctr_id, &as[i]);
                forget_wiring(&as[i]);
        }
        (void) net_attachments_save(s, ctr_id, as, n, NULL);
        free(as);
}

typedef struct LinkReconcile {
        const CtrStore *store;
        const char *ctr_id;
        const NetAttachment *atts;
        size_t n;
        int removed;
} LinkReconcile;

/* One hot plug in the ledger: on record by now (the ledger line outlived a kill after the
 * attachment list was written), or a veth and an address to take back. */
static int reconcile_link(const char *network, const char *ifname, void *userdata) {
        LinkReconcile *lr = userdata;
        bool recorded = false, ifname_used = false;
        for (size_t i = 0; i < lr->n; i++) {
                ifname_used |= streq(lr->atts[i].ifname, ifname);
                recorded |= streq(lr->atts[i].ifname, ifname) && streq(lr->atts[i].network, network) &&
                            lr->atts[i].host_ifname[0];
        }
        if (!recorded) {
                char host[NETNS_IFNAME_MAX + 1];
                net_host_ifname(lr->ctr_id, ifname, host);
                _cleanup_(net_done) Network n = {};
                if (net_load(lr->store, network, &n, NULL) < 0)
                        n.own_netns = false;
                _cleanup_(net_bridge_side_close) BridgeSide side = { .netns_fd = -1 };
                int br = 0;
                if (net_bridge_side_open(&n, NULL, &side, NULL) == 0) {
                        if (!n.bridge[0] || netns_link_index(side.sk, n.bridge, &br, NULL) < 0)
                                br = 0;
                        lr->removed += reclaim_host_end(side.sk, host, lr->ctr_id, br) == 1;
                }
                if (!ifname_used) {
                        char owner[96];
                        owner_of(lr->ctr_id, ifname, owner);
                        net_ipam_release_owner(lr->store, network, owner);
                }
        }
        (void) ledger_list_remove(lr->store, lr->ctr_id, LEDGER_LIST_LINKS, network, ifname);
        return 0;
}

int net_links_reconcile(const CtrStore *s, const char *ctr_id) {
        /* the common case, on every hot plug's path: nothing was left */
        if (ledger_list_empty(s, ctr_id, LEDGER_LIST_LINKS))
                return 0;
        _cleanup_free_ NetAttachment *as = NULL;
        size_t n = 0;
        if (net_attachments_load(s, ctr_id, &as, &n, NULL) < 0)
                return 0;
        LinkReconcile lr = { .store = s, .ctr_id = ctr_id, .atts = as, .n = n };
        (void) ledger_list_each(s, ctr_id, LEDGER_LIST_LINKS, reconcile_link, &lr);
        return lr.removed;
}

/* Whether owner names a container this store has no record of at all (its state wiped,
 * a kill -9 of a whole runroot's worth): a 64-hex id with no container dir. */
static bool owner_without_state(const CtrStore *s, const char *owner) {
        if (!owner || ctr_id_check(owner, NULL) < 0)
                return false;
        char dir[PATH_MAX];
        ctr_path(s, owner, NULL, dir);
        return access(dir, F_OK) < 0 && errno == ENOENT;
}

/* One network's bridge: its ports whose mark names a container of no record. The bridge
 * is this store's (its name carries the store's mark, or it lives in the network's own
 * netns), so what hangs on it is this store's too, whatever record was lost. */
static int gc_orphan_ports(const CtrStore *s, const Network *n) {
        _cleanup_(net_bridge_side_close) BridgeSide side = { .netns_fd = -1 };
        int br;
        if (net_bridge_side_open(n, NULL, &side, NULL) < 0 || netns_link_index(side.sk, n->bridge, &br, NULL) < 0)
                return 0;
        NetnsLinkList list = {};
        if (netns_link_list(side.sk, &list, NULL) < 0)
                return 0;
        _cleanup_free_ int *orphans = calloc(list.n + 1, sizeof *orphans);
        size_t k = 0;
        for (size_t i = 0; orphans && i < list.n; i++) {
                const NetnsLink *l = &list.links[i];
                const char *owner = netns_link_owner(l);
                if (l->master_ifindex != br || !owner_without_state(s, owner))
                        continue;
                orphans[k++] = l->ifindex;
                /* its netns, kept by name, is ours too: the port on our bridge says so */
                char ns[128];
                ctr_netns_name(owner, ns);
                (void) netns_delete(ns, NULL);
        }
        netns_link_list_done(&list);
        /* one batch: the kernel's teardown of many links shares its waits */
        return k && netns_links_del(side.sk, orphans, k, NULL) == 0 ? (int) k : 0;
}

int net_gc_orphan_ports(const CtrStore *s) {
        Network *nets = NULL;
        size_t n = 0;
        if (net_list(s, &nets, &n, NULL) < 0)
                return 0;
        int removed = 0;
        for (size_t i = 0; i < n; i++)
                removed += gc_orphan_ports(s, &nets[i]);
        net_list_free(nets, n);
        return removed;
}
