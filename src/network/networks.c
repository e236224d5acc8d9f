/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network's making and removal: its record first (the bridge's ledger, in effect), then
 * its bridge, on the host or in a netns of its own; refused where it would meet what the
 * host (or another store) already has. Removal deletes bridges in one kernel batch. */
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

static void pick_bridge_name(const Network *n, char buf[static NETNS_IFNAME_MAX + 1]) {
        uint64_t h = fnv1a(FNV1A_OFFSET, n->id, strlen(n->id));
        (void) snprintf(buf, NETNS_IFNAME_MAX + 1, "nsbr%011llx",
                        (unsigned long long) (h & 0xfffffffffffull));
}

static void bridge_owner(const Network *n, char buf[static NETNS_OWNER_MAX + 1]) {
        (void) snprintf(buf, NETNS_OWNER_MAX + 1, "net-%.32s", n->id);
}

/* The network's own nftables table, "ip nsprov-<id>": its name is its mark, and
 * deleting it takes every rule nsprov made for the network. */
void net_bridge_netns_name(const Network *n, char buf[static NETNS_NAME_MAX + 1]) {
        (void) snprintf(buf, NETNS_NAME_MAX + 1, "nsprov-net-%s-%.8s", n->name, n->id);
}

static int bridge_netns_delete(const Network *n, RtError *err) {
        char name[NETNS_NAME_MAX + 1];
        net_bridge_netns_name(n, name);
        return netns_delete(name, err);
}


void net_bridge_side_close(BridgeSide *b) {
        netns_sock_free(b->sk);
        b->sk = NULL;
        b->netns_fd = safe_close(b->netns_fd);
}

/* The network's own netns, made on first use (or after a reboot emptied /run) when
 * create_in is given. Nothing in it needs IPv6: without it the bridge and its ports send
 * nothing (router solicitations, MLD, DAD) into the segment. */
static int bridge_netns_open(const Network *n, const CtrStore *create_in, int *ret_fd, RtError *err) {
        char name[NETNS_NAME_MAX + 1];
        net_bridge_netns_name(n, name);
        for (int attempt = 0;; attempt++) {
                int r = netns_open(name, ret_fd, err);
                /* a plain file: another command is making it right now (file, then mount) */
                if (r == -EINVAL && attempt < 100) {
                        (void) usleep(1000);
                        continue;
                }
                if (r != -ENOENT || !create_in)
                        return r;
                r = netns_pool_make(create_in->netns_pool, name, ret_fd, err);
                if (r == -EEXIST && attempt < 100)
                        continue; /* another command made it in the meantime */
                if (r < 0)
                        return rt_err_prefix(err, r, "network '%s'", n->name);
                static const char *const keys[] = { "net/ipv6/conf/all/disable_ipv6",
                                                    "net/ipv6/conf/default/disable_ipv6" };
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        (void) netns_sysctl_write(*ret_fd, keys[i], "1", NULL);
                return 0;
        }
}

/* create_in: as bridge_netns_open's */
int net_bridge_side_open(const Network *n, const CtrStore *create_in, BridgeSide *ret, RtError *err) {
        *ret = (BridgeSide) { .netns_fd = -1 };
        int r;
        if (n->own_netns && (r = bridge_netns_open(n, create_in, &ret->netns_fd, err)) < 0)
                return r;
        if ((r = netns_sock_open(ret->netns_fd, &ret->sk, err)) < 0) {
                net_bridge_side_close(ret);
                return r;
        }
        return 0;
}

/* Makes the bridge when it is not there (first use, or after a reboot); addresses the
 * gateways on it unless the network is internal. */
int net_ensure_bridge(const BridgeSide *side, const Network *n, int *ret_ifindex, RtError *err) {
        int idx;
        int r = netns_link_index(side->sk, n->bridge, &idx, NULL);
        if (r == 0) {
                *ret_ifindex = idx;
                return 0;
        }
        char owner[NETNS_OWNER_MAX + 1];
        bridge_owner(n, owner);
        NetnsBridge b = { .ifname = n->bridge, .mtu = n->mtu, .up = true, .owner = owner };
        /* Its own MAC, so it does not take on a port's and collide with a container's. */
        NetnsMac mac;
        net_derive_mac(n->id, "bridge", 0, &mac);
        b.mac = &mac;
        r = netns_bridge_add(side->sk, &b, &idx, err);
        /* another command made it in the meantime: as good */
        if (r == -EEXIST && netns_link_index(side->sk, n->bridge, &idx, NULL) == 0) {
                *ret_ifindex = idx;
                return 0;
        }
        if (r < 0)
                return rt_err_prefix(err, r, "network '%s'", n->name);
        /* An L2-only lab segment on the host must carry the test's traffic alone: without
         * IPv6 on the bridge the host sends no router solicitations or MLD reports into it
         * (in a netns of its own, nothing has IPv6 in the first place). */
        if (n->n_subnets == 0 && !n->own_netns) {
                char key[96];
                (void) snprintf(key, sizeof key, "net/ipv6/conf/%s/disable_ipv6", n->bridge);
                (void) netns_sysctl_write(-1, key, "1", NULL);
                /* ...and does not answer ARP there for its own addresses elsewhere (Linux
                 * would by default), which would steal a lab address the host also has. */
                (void) snprintf(key, sizeof key, "net/ipv4/conf/%s/arp_ignore", n->bridge);
                (void) netns_sysctl_write(-1, key, "8", NULL);
        }
        for (size_t i = 0; !n->internal && i < n->n_subnets; i++) {
                if (!n->subnets[i].gateway.family)
                        continue;
                NetnsCidr gw = { .ip = n->subnets[i].gateway, .prefixlen = n->subnets[i].subnet.prefixlen };
                r = netns_addr_add(side->sk, idx, &gw, NETNS_ADDR_NODAD, err);
                if (r < 0 && r != -EEXIST) {
                        (void) netns_link_del(side->sk, idx, NULL);
                        return rt_err_prefix(err, r, "network '%s': gateway", n->name);
                }
        }
        if (n->nat && (r = net_nat_setup(n, err)) < 0) {
                (void) netns_link_del(side->sk, idx, NULL);
                return r;
        }
        *ret_ifindex = idx;
        return 0;
}

/* Whether two prefixes share an address. */
static bool cidrs_overlap(const NetnsCidr *a, const NetnsCidr *b) {
        if (a->ip.family != b->ip.family)
                return false;
        const NetnsCidr *wider = a->prefixlen <= b->prefixlen ? a : b;
        const NetnsCidr *other = wider == a ? b : a;
        return net_in_subnet(wider, &other->ip);
}

/* A network whose bridge is on the host meets what the host has: a bridge of that name
 * made by another nsprov network (of this root or another: the name is the host's, the
 * records are a root's) is refused, as is a link of that name that is no bridge; a subnet
 * whose gateway would overlap an address the host holds (another store's default
 * network, the host's own LAN) is refused, as Podman refuses one. */
static int host_conflicts(NlSock *sk, const Network *n, RtError *err) {
        NetnsLinkList list = {};
        int r = netns_link_list(sk, &list, err);
        if (r < 0)
                return r;
        char owner[NETNS_OWNER_MAX + 1];
        bridge_owner(n, owner);
        const NetnsLink *br = netns_link_list_find(&list, n->bridge);
        const char *mark = br ? netns_link_owner(br) : NULL;
        if (br && mark && !streq(mark, owner))
                r = rt_err_setx(err, -EEXIST,
                                "bridge '%s' belongs to another nsprov network (%s), of this or another "
                                "--root: name another one with --bridge", n->bridge, mark);
        else if (br && !streq(br->kind, "bridge"))
                r = rt_err_setx(err, -EINVAL, "'%s' is a %s link, not a bridge", n->bridge,
                                br->kind[0] ? br->kind : "plain");
        for (size_t i = 0; r == 0 && !n->internal && i < n->n_subnets; i++) {
                if (!n->subnets[i].gateway.family)
                        continue;
                for (size_t k = 0; r == 0 && k < list.n; k++)
                        for (size_t a = 0; r == 0 && a < list.links[k].n_addrs; a++) {
                                const NetnsLinkAddr *la = &list.links[k].addrs[a];
                                if (la->scope >= 254 /* host (lo's), nowhere */ ||
                                    !cidrs_overlap(&n->subnets[i].subnet, &la->cidr))
                                        continue;
                                char want[NETNS_CIDR_STRLEN], have[NETNS_CIDR_STRLEN];
                                r = rt_err_setx(err, -EADDRINUSE,
                                                "subnet %s overlaps %s on the host's '%s': choose another "
                                                "(for the default network: --default-subnet)",
                                                netns_cidr_format(&n->subnets[i].subnet, want),
                                                netns_cidr_format(&la->cidr, have), list.links[k].name);
                        }
        }
        netns_link_list_done(&list);
        return r;
}

int net_create(const CtrStore *s, const NetCreate *spec, Network *ret, RtError *err) {
        _cleanup_(net_bridge_side_close) BridgeSide side = { .netns_fd = -1 };
        int r = net_name_check(spec->name, err);
        if (r < 0)
                return r;
        if (spec->n_subnets > NET_MAX_SUBNETS)
                return rt_err_setx(err, -E2BIG, "at most %d subnets", NET_MAX_SUBNETS);
        if (spec->mtu && (spec->mtu < 68 || spec->mtu > 65535))
                return rt_err_setx(err, -EINVAL, "MTU %u is outside 68-65535", spec->mtu);
        Network n = { .internal = spec->internal, .ipv6 = spec->ipv6, .ipv6_dad = spec->ipv6_dad,
                      .nat = spec->nat, .mtu = spec->mtu, .created_ns = now_realtime_ns() };
        if (spec->nat && (spec->internal || spec->n_subnets == 0))
                return rt_err_setx(err, -EINVAL, "--nat needs a --subnet and a network that is not --internal");
        strcpy(n.name, spec->name);
        uint8_t b[CTR_ID_LEN / 2];
        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return rt_err_set(err, -errno, "generate a network id");
        for (size_t i = 0; i < sizeof b; i++)
                (void) snprintf(n.id + 2 * i, 3, "%02x", b[i]);
        for (size_t i = 0; i < spec->n_subnets; i++) {
                NetSubnet *sn = &n.subnets[n.n_subnets++];
                if ((r = netns_cidr_parse(spec->subnets[i], &sn->subnet, err)) < 0)
                        return rt_err_prefix(err, r, "--subnet");
                uint32_t host_bits = (sn->subnet.ip.family == AF_INET ? 32u : 128u) - sn->subnet.prefixlen;
                if (host_bits < 2)
                        return rt_err_setx(err, -EINVAL, "subnet '%s' has no room for hosts",
                                           spec->subnets[i]);
                if (sn->subnet.ip.family == AF_INET6)
                        n.ipv6 = true;
                if (spec->gateways && spec->gateways[i]) {
                        if ((r = netns_ip_parse(spec->gateways[i], &sn->gateway, err)) < 0)
                                return rt_err_prefix(err, r, "--gateway");
                        if (!net_in_subnet(&sn->subnet, &sn->gateway))
                                return rt_err_setx(err, -EINVAL, "gateway '%s' is not in subnet '%s'",
                                                   spec->gateways[i], spec->subnets[i]);
                } else
                        net_subnet_host(&sn->subnet, 1, &sn->gateway);
                if (spec->ranges && spec->ranges[i]) {
                        if ((r = netns_cidr_parse(spec->ranges[i], &sn->range, err)) < 0)
                                return rt_err_prefix(err, r, "--ip-range");
                        if (sn->range.prefixlen < sn->subnet.prefixlen || !net_in_subnet(&sn->subnet, &sn->range.ip))
                                return rt_err_setx(err, -EINVAL, "ip range '%s' is not inside subnet '%s'",
                                                   spec->ranges[i], spec->subnets[i]);
                }
        }
        if (spec->bridge) {
                if ((r = netns_ifname_check(spec->bridge, err)) < 0)
                        return r;
                (void) snprintf(n.bridge, sizeof n.bridge, "%s", spec->bridge);
        } else
                pick_bridge_name(&n, n.bridge);
        if (spec->labels && !(n.labels = strv_copy(spec->labels)))
                return rt_err_set(err, -ENOMEM, "labels");

        char p[PATH_MAX];
        store_path(s, STORE_NETWORKS, NULL, NULL, p);
        if ((r = mkdir_p(p, 0700, err)) < 0)
                goto fail;
        net_path(s, n.name, p);
        if (access(p, F_OK) == 0) {
                r = rt_err_setx(err, -EEXIST, "network '%s' already exists", n.name);
                goto fail;
        }
        /* The host holds no address on it: its own netns, unless asked, or unless the
         * bridge named is one the user made on the host. */
        n.own_netns = (n.n_subnets == 0 || n.internal) && !spec->host_bridge &&
                      !(spec->bridge && if_nametoindex(spec->bridge) != 0);
        /* The record first (the bridge's ledger, in effect), then the bridge. */
        if ((r = net_save(s, &n, err)) < 0) {
                if (r == -EEXIST) /* made by another command since the check above */
                        r = rt_err_setx(err, -EEXIST, "network '%s' already exists", n.name);
                goto fail;
        }
        int idx;
        r = net_bridge_side_open(&n, s, &side, err);
        if (r == 0 && !n.own_netns)
                r = host_conflicts(side.sk, &n, err);
        if (r == 0)
                r = net_ensure_bridge(&side, &n, &idx, err);
        /* done with the pool's netns it may have taken: its successor is made now */
        netns_pool_refill(s->netns_pool);
        if (r < 0) {
                if (n.own_netns)
                        (void) bridge_netns_delete(&n, NULL);
                (void) unlink(p);
                goto fail;
        }
        if (ret)
                *ret = n;
        else
                net_done(&n);
        return 0;
fail:
        net_done(&n);
        return r;
}

static int net_remove_prepare(const CtrStore *s, const char *name, NetDetach detach, Network *ret,
                              RtError *err) {
        _cleanup_(net_done) Network n = {};
        int r = net_load(s, name, &n, err);
        if (r < 0)
                return r;
        Container *cs = NULL;
        size_t nc = 0;
        if ((r = ctr_list(s, &cs, &nc, err)) < 0)
                return r;
        int users = 0;
        for (size_t i = 0; i < nc && r >= 0; i++) {
                NetAttachment *as = NULL;
                size_t na = 0;
                if (net_attachments_load(s, cs[i].config.id, &as, &na, NULL) < 0)
                        continue;
                for (size_t k = 0; k < na; k++) {
                        if (!streq(as[k].network, name))
                                continue;
                        users++;
                        if (detach && (r = detach(s, cs[i].config.id, name, as[k].ifname, err)) < 0)
                                break;
                }
                free(as);
        }
        ctr_list_free(cs, nc);
        if (r < 0)
                return r;
        if (users && !detach)
                return rt_err_setx(err, -EBUSY,
                                   "network '%s' is used by %d interface(s); disconnect them or use --force",
                                   name, users);
        *ret = n;
        n = (Network) {};
        return 0;
}

static int net_remove_state(const CtrStore *s, const Network *n, RtError *err) {
        if (n->nat)
                net_nat_teardown(n);
        char p[PATH_MAX];
        store_path(s, STORE_IPAM, n->name, ".json", p);
        (void) unlink(p);
        store_path(s, STORE_IPAM, n->name, ".lock", p);
        (void) unlink(p);
        net_path(s, n->name, p);
        if (unlink(p) < 0)
                return rt_err_set(err, -errno, "remove network '%s'", n->name);
        if (s->caches)
                file_cache_forget(s->caches->network, p);
        return 0;
}

/* A slot of net_remove_many holds a network only once net_remove_prepare loaded it. */
static bool prepared(const Network *n) {
        return n->id[0] != '\0';
}

/* The marked links of the prepared networks' bridges, deleted in one batch. */
static int delete_bridges(const Network *nets, size_t n, RtError *err) {
        _cleanup_(netns_sock_freep) NlSock *host = NULL;
        int r = netns_sock_open(-1, &host, err);
        if (r < 0)
                return r;
        NetnsMarked m = {};
        if ((r = netns_find_marked(host, NULL, NULL, &m, err)) < 0)
                return r;
        _cleanup_free_ int *ifindexes = calloc(m.links.n + 1, sizeof *ifindexes);
        size_t n_links = 0;
        for (size_t i = 0; ifindexes && i < n; i++) {
                if (!prepared(&nets[i]) || nets[i].own_netns)
                        continue;
                char owner[NETNS_OWNER_MAX + 1];
                bridge_owner(&nets[i], owner);
                for (size_t k = 0; k < m.links.n; k++) {
                        const char *o = netns_link_owner(&m.links.links[k]);
                        if (o && streq(o, owner))
                                ifindexes[n_links++] = m.links.links[k].ifindex;
                }
        }
        netns_marked_done(&m);
        if (!ifindexes)
                return rt_err_set(err, -ENOMEM, "delete bridges");
        return netns_links_del(host, ifindexes, n_links, err);
}

/* After a failed batch: whether the network's marked bridge is still there (when that
 * cannot be told, it is taken as there, so no state is dropped for a live bridge). */
static bool bridge_left(const Network *net) {
        if (net->own_netns) {
                char ns[NETNS_NAME_MAX + 1];
                net_bridge_netns_name(net, ns);
                return netns_exists(ns);
        }
        _cleanup_(netns_sock_freep) NlSock *host = NULL;
        NetnsMarked m = {};
        char owner[NETNS_OWNER_MAX + 1];
        bridge_owner(net, owner);
        if (netns_sock_open(-1, &host, NULL) < 0 || netns_find_marked(host, NULL, owner, &m, NULL) < 0)
                return true;
        bool left = m.links.n > 0;
        netns_marked_done(&m);
        return left;
}

void net_remove_many(const CtrStore *s, char *const *names, size_t n, NetDetach detach,
                     NetRemoveReport report, void *userdata) {
        _cleanup_free_ Network *nets = calloc(n ? n : 1, sizeof *nets);
        if (!nets) {
                for (size_t i = 0; i < n; i++) {
                        RtError e = {};
                        report(names[i], rt_err_set(&e, -ENOMEM, "remove network '%s'", names[i]), &e,
                               userdata);
                }
                return;
        }
        bool any = false;
        for (size_t i = 0; i < n; i++) {
                RtError e = {};
                int r = net_remove_prepare(s, names[i], detach, &nets[i], &e);
                if (r < 0)
                        report(names[i], r, &e, userdata);
                any = any || r == 0;
        }

        /* The bridges go only if they carry their network's mark: a --bridge the user
         * made and named stays theirs. All in one batch: deleting a bridge costs the
         * kernel ~40 ms alone, most of it waits that a batch shares. A network whose
         * bridge could not go keeps its state, so rm can be retried and gc finds it. */
        RtError kernel_error = {};
        int r = any ? delete_bridges(nets, n, &kernel_error) : 0;
        /* A bridge in a netns of its own goes with it, in the kernel's own time: the
         * netns is out of sight at once, and its links with it. */
        for (size_t i = 0; i < n; i++) {
                if (!prepared(&nets[i]) || !nets[i].own_netns)
                        continue;
                RtError e = {};
                int q = bridge_netns_delete(&nets[i], &e);
                if (q < 0 && q != -ENOENT && r == 0) {
                        r = q;
                        kernel_error = e;
                }
        }

        for (size_t i = 0; i < n; i++) {
                if (!prepared(&nets[i]))
                        continue;
                RtError e = {};
                if (r < 0 && bridge_left(&nets[i]))
                        report(names[i],
                               rt_err_setx(&e, r, "remove network '%s': %s", names[i], kernel_error.msg),
                               &e, userdata);
                else
                        report(names[i], net_remove_state(s, &nets[i], &e), &e, userdata);
                net_done(&nets[i]);
        }
}

int net_remove_every(const CtrStore *s, NetDetach detach, NetRemoveReport report, void *userdata,
                     RtError *err) {
        Network *ns = NULL;
        size_t n = 0;
        int r = net_list(s, &ns, &n, err);
        if (r < 0)
                return r;
        _cleanup_free_ char **names = calloc(n ? n : 1, sizeof *names);
        if (!names) {
                net_list_free(ns, n);
                return rt_err_set(err, -ENOMEM, "remove networks");
        }
        for (size_t i = 0; i < n; i++)
                names[i] = ns[i].name;
        net_remove_many(s, names, n, detach, report, userdata);
        net_list_free(ns, n);
        return 0;
}

static void remember_error(const char *name, int r, const RtError *e, void *userdata) {
        (void) name;
        RtError *err = userdata;
        if (r < 0) {
                err->code = r;
                (void) snprintf(err->msg, sizeof err->msg, "%s", e->msg);
        }
}

int net_remove(const CtrStore *s, const char *name, NetDetach detach, RtError *err) {
        RtError e = { .code = 0 };
        char *names[] = { (char *) name };
        net_remove_many(s, names, 1, detach, remember_error, &e);
        if (e.code < 0 && err)
                *err = e;
        return e.code;
}

int net_ensure_default(const CtrStore *s, RtError *err) {
        Network n = {};
        int r = net_load(s, s->default_network, &n, NULL);
        net_done(&n);
        if (r == 0)
                return 0;
        const char *subnets[] = { s->default_subnet };
        NetCreate nc = { .name = s->default_network, .bridge = s->default_bridge, .subnets = subnets,
                         .n_subnets = 1 };
        r = net_create(s, &nc, NULL, err);
        /* Another command made it in the meantime: as good. */
        if (r == -EEXIST)
                return 0;
        return r < 0 ? rt_err_prefix(err, r, "default network") : 0;
}

