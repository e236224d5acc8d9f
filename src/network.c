/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Native bridge networks (net.h). A network is a record under --root (it outlives
 * reboots, as Podman's do) and a bridge made on demand; address allocations and a
 * container's attachments are runtime state under --runroot. */
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

#include "ctr-internal.h"
#include "dynlib.h"
#include "filecache.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "net.h"
#include "strv.h"

static uint64_t hash_strings(const char *a, const char *b, unsigned n) {
        uint64_t h = FNV1A_OFFSET;
        h = fnv1a(h, a, strlen(a) + 1);
        h = fnv1a(h, b, strlen(b) + 1);
        return fnv1a(h, &n, sizeof n);
}

void net_derive_mac(const char *ctr_name, const char *network, unsigned index, NetnsMac *ret) {
        uint64_t h = hash_strings(ctr_name, network, index);
        for (int i = 0; i < 6; i++)
                ret->bytes[i] = (uint8_t) (h >> (8 * i));
        /* locally administered (bit 1), unicast (bit 0 clear) */
        ret->bytes[0] = (uint8_t) ((ret->bytes[0] & 0xfc) | 0x02);
}

void net_host_ifname(const char *ctr_id, const char *ifname, char buf[static NETNS_IFNAME_MAX + 1]) {
        uint64_t h = hash_strings(ctr_id, ifname, 0);
        (void) snprintf(buf, NETNS_IFNAME_MAX + 1, "nsv%012llx",
                        (unsigned long long) (h & 0xffffffffffffull));
}

int net_name_check(const char *name, RtError *err) {
        size_t l = name ? strlen(name) : 0;
        if (l == 0 || l > NET_NAME_MAX)
                return rt_err_setx(err, -EINVAL, "network name must be 1-%d characters", NET_NAME_MAX);
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) name[i];
                if (!isascii(c) || !(isalnum(c) || ((c == '_' || c == '.' || c == '-') && i > 0)))
                        return rt_err_setx(err, -EINVAL,
                                           "invalid network name '%.64s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                           name);
        }
        if (streq(name, "none") || streq(name, "host"))
                return rt_err_setx(err, -EINVAL, "'%s' is a network mode, not a network name", name);
        return 0;
}

static int attachment_parse(json_t *o, NetAttachment *a);

static void net_path(const CtrStore *s, const char *name, char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, "%s/networks/%s.json", s->root, name);
}

void net_done(Network *n) {
        if (!n)
                return;
        strv_free(n->labels);
        *n = (Network) {};
}

void net_list_free(Network *ns, size_t n) {
        for (size_t i = 0; i < n; i++)
                net_done(&ns[i]);
        free(ns);
}

static int net_save(const CtrStore *s, const Network *n, RtError *err) {
        json_t *subnets = json_array();
        for (size_t i = 0; i < n->n_subnets; i++) {
                char c[NETNS_CIDR_STRLEN], g[INET6_ADDRSTRLEN];
                json_t *o = json_pack("{s:s}", "subnet", netns_cidr_format(&n->subnets[i].subnet, c));
                if (n->subnets[i].gateway.family)
                        json_object_set_new(o, "gateway",
                                            json_string(netns_ip_format(&n->subnets[i].gateway, g)));
                if (n->subnets[i].range.ip.family)
                        json_object_set_new(o, "ipRange",
                                            json_string(netns_cidr_format(&n->subnets[i].range, c)));
                json_array_append_new(subnets, o);
        }
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:o, s:o, s:I}", "name",
                              n->name, "id", n->id, "driver", "bridge", "bridge", n->bridge,
                              "internal", n->internal, "ipv6", n->ipv6, "ipv6Dad", n->ipv6_dad,
                              "nat", n->nat, "bridgeNetns", n->own_netns,
                              "mtu", (int) n->mtu, "subnets", subnets, "labels",
                              strv_to_json(n->labels), "created", (json_int_t) n->created_ns);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (!text)
                return rt_err_set(err, -ENOMEM, "encode network");
        char p[PATH_MAX];
        net_path(s, n->name, p);
        int r = write_file_atomic(p, text, strlen(text), 0600, WRITE_DURABLE, err);
        free(text);
        return r;
}

static int net_parse(json_t *j, Network *n) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *br = json_string_value(json_object_get(j, "bridge"));
        if (!name || !id || !br || strlen(name) > NET_NAME_MAX || strlen(id) != CTR_ID_LEN ||
            netns_ifname_check(br, NULL) < 0)
                return -EBADMSG;
        strcpy(n->name, name);
        strcpy(n->id, id);
        strcpy(n->bridge, br);
        n->internal = json_is_true(json_object_get(j, "internal"));
        n->ipv6 = json_is_true(json_object_get(j, "ipv6"));
        n->ipv6_dad = json_is_true(json_object_get(j, "ipv6Dad"));
        n->nat = json_is_true(json_object_get(j, "nat"));
        /* absent in records of earlier versions, whose bridges are on the host */
        n->own_netns = json_is_true(json_object_get(j, "bridgeNetns"));
        json_int_t mtu = json_integer_value(json_object_get(j, "mtu"));
        if (mtu < 0 || mtu > 65535)
                return -EBADMSG;
        n->mtu = (uint32_t) mtu;
        n->created_ns = (uint64_t) json_integer_value(json_object_get(j, "created"));
        json_t *subs = json_object_get(j, "subnets");
        if (!json_is_array(subs) || json_array_size(subs) > NET_MAX_SUBNETS)
                return -EBADMSG;
        size_t i;
        json_t *o;
        json_array_foreach(subs, i, o) {
                NetSubnet *sn = &n->subnets[n->n_subnets];
                const char *sub = json_string_value(json_object_get(o, "subnet"));
                const char *gw = json_string_value(json_object_get(o, "gateway"));
                const char *rg = json_string_value(json_object_get(o, "ipRange"));
                if (!sub || netns_cidr_parse(sub, &sn->subnet, NULL) < 0)
                        return -EBADMSG;
                if (gw && netns_ip_parse(gw, &sn->gateway, NULL) < 0)
                        return -EBADMSG;
                if (rg && netns_cidr_parse(rg, &sn->range, NULL) < 0)
                        return -EBADMSG;
                n->n_subnets++;
        }
        json_t *labels = json_object_get(j, "labels");
        if (labels && strv_from_json(labels, CTR_MAX_LABELS, &n->labels) < 0)
                return -EBADMSG;
        return 0;
}

int net_record_parse(const char *text, size_t len, Network *ret, RtError *err) {
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return rt_err_setx(err, -EBADMSG, "network:%d:%d: %s", je.line, je.column, je.text);
        Network n = {};
        int r = net_parse(j, &n);
        json_decref(j);
        if (r < 0) {
                net_done(&n);
                return rt_err_setx(err, -EBADMSG, "not a valid network record");
        }
        *ret = n;
        return 0;
}

int net_attachments_parse(const char *text, size_t len, NetAttachment **ret, size_t *ret_n) {
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_array(j) || json_array_size(j) > NET_MAX_ATTACHMENTS) {
                json_decref(j);
                return -EBADMSG;
        }
        NetAttachment *a = calloc(json_array_size(j) + 1, sizeof *a);
        size_t i;
        json_t *o;
        json_array_foreach(j, i, o) if (!a || attachment_parse(o, &a[i]) < 0) {
                free(a);
                json_decref(j);
                return -EBADMSG;
        }
        *ret_n = json_array_size(j);
        json_decref(j);
        *ret = a;
        return 0;
}

static int parse_network_file(const char *path, const char *text, size_t len, void *value, RtError *err) {
        int r = net_record_parse(text, len, value, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

int net_load(const CtrStore *s, const char *name, Network *ret, RtError *err) {
        int r = net_name_check(name, err);
        if (r < 0)
                return r;
        char p[PATH_MAX];
        net_path(s, name, p);
        RtError e = {};
        r = file_cache_load(s->caches ? s->caches->network : NULL, p, 1 << 20, parse_network_file, ret, &e);
        if (r == -ENOENT)
                return rt_err_setx(err, -ENOENT, "no such network '%s'", name);
        if (r < 0 && err)
                *err = e;
        return r;
}

static int cmp_net(const void *a, const void *b) {
        return strcmp(((const Network *) a)->name, ((const Network *) b)->name);
}

/* The network name of a per-network "<name>.json" file (records and IPAM files). */
static bool json_stem(const char *file, char name[static NET_NAME_MAX + 1]) {
        size_t l = strlen(file);
        if (l <= 5 || l - 5 > NET_NAME_MAX || !streq(file + l - 5, ".json"))
                return false;
        memcpy(name, file, l - 5);
        name[l - 5] = '\0';
        return true;
}

int net_list(const CtrStore *s, Network **ret, size_t *ret_n, RtError *err) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/networks", s->root);
        Network *ns = NULL;
        size_t n = 0;
        _cleanup_closedir_ DIR *d = opendir(p);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char name[NET_NAME_MAX + 1];
                if (!json_stem(de->d_name, name))
                        continue;
                Network one;
                if (net_load(s, name, &one, NULL) < 0)
                        continue;
                Network *nn = realloc(ns, (n + 1) * sizeof *nn);
                if (!nn) {
                        net_done(&one);
                        net_list_free(ns, n);
                        return rt_err_set(err, -ENOMEM, "list networks");
                }
                ns = nn;
                ns[n++] = one;
        }
        if (n)
                qsort(ns, n, sizeof *ns, cmp_net);
        *ret = ns;
        *ret_n = n;
        return 0;
}

/* The first usable host address of a subnet: the gateway by default. */
static void subnet_host(const NetnsCidr *c, uint32_t index, NetnsIp *ret) {
        *ret = c->ip;
        if (c->ip.family == AF_INET) {
                uint32_t mask = c->prefixlen ? ~0u << (32 - c->prefixlen) : 0;
                uint32_t base = ntohl(c->ip.v4.s_addr) & mask;
                ret->v4.s_addr = htonl(base + index);
        } else {
                uint8_t *b = ret->v6.s6_addr;
                for (int i = c->prefixlen; i < 128; i++)
                        b[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
                uint32_t carry = index;
                for (int i = 15; i >= 0 && carry; i--) {
                        uint32_t v = b[i] + (carry & 0xff);
                        b[i] = (uint8_t) v;
                        carry = (carry >> 8) + (v >> 8);
                }
        }
}

static bool in_subnet(const NetnsCidr *c, const NetnsIp *ip) {
        if (ip->family != c->ip.family)
                return false;
        const uint8_t *a = ip->family == AF_INET ? (const uint8_t *) &ip->v4 : ip->v6.s6_addr;
        const uint8_t *b = c->ip.family == AF_INET ? (const uint8_t *) &c->ip.v4 : c->ip.v6.s6_addr;
        for (int i = 0; i < c->prefixlen; i++)
                if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
                        return false;
        return true;
}

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
static void nat_table(const Network *n, char buf[static 48]) {
        (void) snprintf(buf, 48, "nsprov-%.12s", n->id);
}

/* libnftables (and libnftnl, libxtables, libgmp with it) only when a --nat network
 * needs it: see dynlib.h. */
typedef struct NftLib {
        typeof(&nft_ctx_new) ctx_new;
        typeof(&nft_ctx_free) ctx_free;
        typeof(&nft_ctx_buffer_output) buffer_output;
        typeof(&nft_ctx_buffer_error) buffer_error;
        typeof(&nft_ctx_get_error_buffer) get_error_buffer;
        typeof(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
} NftLib;

static NftLib nft_syms;
static RtError nft_load_error;

static void nft_load(void) {
        const DynSym syms[] = {
                { "nft_ctx_new", (void **) &nft_syms.ctx_new },
                { "nft_ctx_free", (void **) &nft_syms.ctx_free },
                { "nft_ctx_buffer_output", (void **) &nft_syms.buffer_output },
                { "nft_ctx_buffer_error", (void **) &nft_syms.buffer_error },
                { "nft_ctx_get_error_buffer", (void **) &nft_syms.get_error_buffer },
                { "nft_run_cmd_from_buffer", (void **) &nft_syms.run_cmd_from_buffer },
        };
        (void) dynlib_load("libnftables.so.1", syms, ELEMENTSOF(syms), "--nat", &nft_load_error);
}

static int nft_lib(const NftLib **ret, RtError *err) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&once, nft_load);
        if (!nft_syms.ctx_new)
                return rt_err_setx(err, nft_load_error.code, "%s", nft_load_error.msg);
        *ret = &nft_syms;
        return 0;
}

static int nft_run(const char *cmd, RtError *err) {
        const NftLib *nft = NULL;
        int r = nft_lib(&nft, err);
        if (r < 0)
                return r;
        struct nft_ctx *ctx = nft->ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return rt_err_set(err, -ENOMEM, "nftables");
        (void) nft->buffer_output(ctx);
        (void) nft->buffer_error(ctx);
        int rc = nft->run_cmd_from_buffer(ctx, cmd);
        if (rc != 0) {
                const char *msg = nft->get_error_buffer(ctx);
                char first[256] = "";
                if (msg)
                        (void) snprintf(first, sizeof first, "%.*s", (int) strcspn(msg, "\n"), msg);
                r = rt_err_setx(err, -EIO, "nftables: %s", *first ? first : "command failed");
        }
        nft->ctx_free(ctx);
        return r;
}

/* Masquerading for what leaves the host from the network's IPv4 subnets, and forwarding
 * for it; an L2-only network never gets either. */
static int nat_setup(const Network *n, RtError *err) {
        char table[48], cmd[4096];
        nat_table(n, table);
        size_t l = (size_t) snprintf(cmd, sizeof cmd,
                                     "table ip %s {\n"
                                     " chain postrouting { type nat hook postrouting priority srcnat; }\n"
                                     " chain forward { type filter hook forward priority filter; }\n"
                                     "}\nflush table ip %s\n",
                                     table, table);
        for (size_t i = 0; i < n->n_subnets && l < sizeof cmd; i++) {
                char c[NETNS_CIDR_STRLEN];
                if (n->subnets[i].subnet.ip.family != AF_INET)
                        continue;
                l += (size_t) snprintf(cmd + l, sizeof cmd - l,
                                       "add rule ip %s postrouting ip saddr %s oifname != \"%s\" masquerade\n"
                                       "add rule ip %s forward iifname \"%s\" accept\n"
                                       "add rule ip %s forward oifname \"%s\" ct state established,related accept\n",
                                       table, netns_cidr_format(&n->subnets[i].subnet, c), n->bridge, table,
                                       n->bridge, table, n->bridge);
        }
        int r = nft_run(cmd, err);
        if (r < 0)
                return rt_err_prefix(err, r, "network '%s': NAT", n->name);
        /* Forwarding is host-wide; nsprov only ever turns it on, and only when asked. */
        r = netns_sysctl_write(-1, "net.ipv4.ip_forward", "1", err);
        return r < 0 ? rt_err_prefix(err, r, "network '%s'", n->name) : 0;
}

static void nat_teardown(const Network *n) {
        char table[48], cmd[128];
        nat_table(n, table);
        (void) snprintf(cmd, sizeof cmd, "delete table ip %s", table);
        (void) nft_run(cmd, NULL);
}

void net_bridge_netns_name(const Network *n, char buf[static NETNS_NAME_MAX + 1]) {
        (void) snprintf(buf, NETNS_NAME_MAX + 1, "nsprov-net-%s-%.8s", n->name, n->id);
}

static int bridge_netns_delete(const Network *n, RtError *err) {
        char name[NETNS_NAME_MAX + 1];
        net_bridge_netns_name(n, name);
        return netns_delete(name, err);
}

/* Where a network's bridge lives: a socket there, and the netns (-1: the host's). */
typedef struct BridgeSide {
        NlSock *sk;
        int netns_fd;
} BridgeSide;

static void bridge_side_close(BridgeSide *b) {
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
static int bridge_side_open(const Network *n, const CtrStore *create_in, BridgeSide *ret, RtError *err) {
        *ret = (BridgeSide) { .netns_fd = -1 };
        int r;
        if (n->own_netns && (r = bridge_netns_open(n, create_in, &ret->netns_fd, err)) < 0)
                return r;
        if ((r = netns_sock_open(ret->netns_fd, &ret->sk, err)) < 0) {
                bridge_side_close(ret);
                return r;
        }
        return 0;
}

/* Makes the bridge when it is not there (first use, or after a reboot); addresses the
 * gateways on it unless the network is internal. */
static int ensure_bridge(const BridgeSide *side, const Network *n, int *ret_ifindex, RtError *err) {
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
        if (n->nat && (r = nat_setup(n, err)) < 0) {
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
        return in_subnet(wider, &other->ip);
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
        _cleanup_(bridge_side_close) BridgeSide side = { .netns_fd = -1 };
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
                        if (!in_subnet(&sn->subnet, &sn->gateway))
                                return rt_err_setx(err, -EINVAL, "gateway '%s' is not in subnet '%s'",
                                                   spec->gateways[i], spec->subnets[i]);
                } else
                        subnet_host(&sn->subnet, 1, &sn->gateway);
                if (spec->ranges && spec->ranges[i]) {
                        if ((r = netns_cidr_parse(spec->ranges[i], &sn->range, err)) < 0)
                                return rt_err_prefix(err, r, "--ip-range");
                        if (sn->range.prefixlen < sn->subnet.prefixlen || !in_subnet(&sn->subnet, &sn->range.ip))
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
        (void) snprintf(p, sizeof p, "%s/networks", s->root);
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
        if ((r = net_save(s, &n, err)) < 0)
                goto fail;
        int idx;
        r = bridge_side_open(&n, s, &side, err);
        if (r == 0 && !n.own_netns)
                r = host_conflicts(side.sk, &n, err);
        if (r == 0)
                r = ensure_bridge(&side, &n, &idx, err);
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

/* ---- IPAM: runroot/ipam/<network>.json, {"ip": "owner"}, under a lock ---- */

static int ipam_open(const CtrStore *s, const char *net, json_t **ret, int *ret_lock, RtError *err) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/ipam", s->runroot);
        int r = mkdir_p(p, 0700, err);
        if (r < 0)
                return r;
        (void) snprintf(p, sizeof p, "%s/ipam/%s.lock", s->runroot, net);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        (void) snprintf(p, sizeof p, "%s/ipam/%s.json", s->runroot, net);
        char *text = NULL;
        size_t len;
        json_t *j = NULL;
        if (read_file(p, 16 << 20, &text, &len, NULL) == 0) {
                j = json_loadb(text, len, 0, NULL);
                free(text);
        }
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        *ret = j;
        *ret_lock = lock;
        return 0;
}

static int ipam_save(const CtrStore *s, const char *net, json_t *j, RtError *err) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/ipam/%s.json", s->runroot, net);
        char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                return rt_err_set(err, -ENOMEM, "ipam");
        int r = write_file_atomic(p, text, strlen(text), 0600, 0, err);
        free(text);
        return r;
}

/* Takes want (when given: refused if taken or outside) or the next free address of the
 * subnet for owner. */
static int ipam_take(json_t *j, const NetSubnet *sn, const NetnsIp *want, const char *owner,
                     NetnsIp *ret, RtError *err) {
        char a[INET6_ADDRSTRLEN];
        if (want && want->family) {
                NetnsIp first, last;
                subnet_host(&sn->subnet, 0, &first);
                if (!in_subnet(&sn->subnet, want))
                        return rt_err_setx(err, -EINVAL, "address %s is not in subnet",
                                           netns_ip_format(want, a));
                if (memcmp(want, &first, sizeof first) == 0 ||
                    (sn->gateway.family && memcmp(want, &sn->gateway, sizeof *want) == 0))
                        return rt_err_setx(err, -EINVAL, "address %s is reserved",
                                           netns_ip_format(want, a));
                (void) last;
                netns_ip_format(want, a);
                if (json_object_get(j, a))
                        return rt_err_setx(err, -EADDRINUSE, "address %s is already in use", a);
                json_object_set_new(j, a, json_string(owner));
                *ret = *want;
                return 0;
        }
        /* Draw from --ip-range when there is one, else from the whole subnet. */
        const NetnsCidr *pool = sn->range.ip.family ? &sn->range : &sn->subnet;
        uint32_t host_bits = (pool->ip.family == AF_INET ? 32u : 128u) - pool->prefixlen;
        uint64_t size = host_bits >= 32 ? (1ull << 32) : (1ull << host_bits);
        /* IPv4 leaves the broadcast address out; the walk is bounded for huge IPv6 ones. */
        uint64_t last = pool->ip.family == AF_INET ? size - 2 : (size > 65536 ? 65536 : size - 1);
        NetnsIp subnet_base, subnet_bcast;
        subnet_host(&sn->subnet, 0, &subnet_base);
        uint32_t sbits = (sn->subnet.ip.family == AF_INET ? 32u : 128u) - sn->subnet.prefixlen;
        subnet_host(&sn->subnet, sbits >= 32 ? UINT32_MAX : (uint32_t) ((1ull << sbits) - 1), &subnet_bcast);
        for (uint64_t i = pool == &sn->subnet ? 1 : 0; i <= last + (pool == &sn->subnet ? 0 : 1); i++) {
                NetnsIp ip;
                subnet_host(pool, (uint32_t) i, &ip);
                if (sn->gateway.family && memcmp(&ip, &sn->gateway, sizeof ip) == 0)
                        continue;
                /* a range may touch the subnet's own network and broadcast addresses */
                if (memcmp(&ip, &subnet_base, sizeof ip) == 0 ||
                    (ip.family == AF_INET && memcmp(&ip, &subnet_bcast, sizeof ip) == 0))
                        continue;
                netns_ip_format(&ip, a);
                if (json_object_get(j, a))
                        continue;
                json_object_set_new(j, a, json_string(owner));
                *ret = ip;
                return 0;
        }
        return rt_err_setx(err, -ENOSPC, "no free address left in %s", sn->range.ip.family ? "its --ip-range" : "the subnet");
}

/* Drops the entries of one network's IPAM file whose owner drop() picks; returns how
 * many went. */
static int ipam_drop(const CtrStore *s, const char *net, bool (*drop)(const char *owner, void *ud),
                     void *ud) {
        json_t *j;
        int lock;
        if (ipam_open(s, net, &j, &lock, NULL) < 0)
                return 0;
        const char *key;
        json_t *v, *tmp;
        int dropped = 0;
        json_object_foreach_safe(j, tmp, key, v) if (drop(json_string_value(v) ?: "", ud)) {
                json_object_del(j, key);
                dropped++;
        }
        if (dropped)
                (void) ipam_save(s, net, j, NULL);
        json_decref(j);
        close(lock);
        return dropped;
}

static bool owner_is(const char *owner, void *ud) {
        return streq(owner, ud);
}

static void ipam_release_owner(const CtrStore *s, const char *net, const char *owner) {
        (void) ipam_drop(s, net, owner_is, (void *) owner);
}

/* Calls fn for the name of every network that has an IPAM file. */
static int ipam_each(const CtrStore *s, int (*fn)(const CtrStore *s, const char *net, void *ud), void *ud) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/ipam", s->runroot);
        _cleanup_closedir_ DIR *d = opendir(p);
        struct dirent *de;
        int total = 0;
        while (d && (de = readdir(d))) {
                char net[NET_NAME_MAX + 1];
                if (json_stem(de->d_name, net))
                        total += fn(s, net, ud);
        }
        return total;
}

static bool owner_of_container(const char *owner, void *ud) {
        size_t l = strlen(ud);
        return strncmp(owner, ud, l) == 0 && owner[l] == '/';
}

static int release_container_in(const CtrStore *s, const char *net, void *ud) {
        return ipam_drop(s, net, owner_of_container, ud);
}

/* ---- attachments of a container: ctrdir/networks.json ---- */

static json_t *attachment_json(const NetAttachment *a) {
        char m[NETNS_MAC_STRLEN], b[NETNS_CIDR_STRLEN];
        json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "network", a->network, "ifname", a->ifname,
                              "mac", netns_mac_format(&a->mac, m), "macGiven", a->mac_given);
        if (a->cni) {
                json_object_set_new(o, "driver", json_string("cni"));
                json_object_set_new(o, "cniAttached", json_boolean(a->cni_attached));
        }
        if (a->ip.family)
                json_object_set_new(o, "ip", json_string(netns_ip_format(&a->ip, b)));
        if (a->ip6.family)
                json_object_set_new(o, "ip6", json_string(netns_ip_format(&a->ip6, b)));
        if (a->host_ifname[0])
                json_object_set_new(o, "hostIfname", json_string(a->host_ifname));
        if (a->addr4.ip.family)
                json_object_set_new(o, "addr4", json_string(netns_cidr_format(&a->addr4, b)));
        if (a->addr6.ip.family)
                json_object_set_new(o, "addr6", json_string(netns_cidr_format(&a->addr6, b)));
        if (a->gateway4.family)
                json_object_set_new(o, "gateway4", json_string(netns_ip_format(&a->gateway4, b)));
        if (a->gateway6.family)
                json_object_set_new(o, "gateway6", json_string(netns_ip_format(&a->gateway6, b)));
        return o;
}

static int attachment_parse(json_t *o, NetAttachment *a) {
        const char *net = json_string_value(json_object_get(o, "network"));
        const char *ifn = json_string_value(json_object_get(o, "ifname"));
        const char *mac = json_string_value(json_object_get(o, "mac"));
        if (!net || strlen(net) > NET_NAME_MAX || !ifn || netns_ifname_check(ifn, NULL) < 0 || !mac ||
            netns_mac_parse(mac, &a->mac, NULL) < 0)
                return -EBADMSG;
        strcpy(a->network, net);
        strcpy(a->ifname, ifn);
        a->mac_given = json_is_true(json_object_get(o, "macGiven"));
        const char *v = json_string_value(json_object_get(o, "driver"));
        a->cni = v && streq(v, "cni");
        a->cni_attached = a->cni && json_is_true(json_object_get(o, "cniAttached"));
        if ((v = json_string_value(json_object_get(o, "ip"))) && netns_ip_parse(v, &a->ip, NULL) < 0)
                return -EBADMSG;
        if ((v = json_string_value(json_object_get(o, "ip6"))) && netns_ip_parse(v, &a->ip6, NULL) < 0)
                return -EBADMSG;
        if ((v = json_string_value(json_object_get(o, "hostIfname"))) &&
            netns_ifname_check(v, NULL) == 0)
                strcpy(a->host_ifname, v);
        if ((v = json_string_value(json_object_get(o, "addr4"))) && netns_cidr_parse(v, &a->addr4, NULL) < 0)
                return -EBADMSG;
        if ((v = json_string_value(json_object_get(o, "addr6"))) && netns_cidr_parse(v, &a->addr6, NULL) < 0)
                return -EBADMSG;
        if ((v = json_string_value(json_object_get(o, "gateway4"))) && netns_ip_parse(v, &a->gateway4, NULL) < 0)
                return -EBADMSG;
        if ((v = json_string_value(json_object_get(o, "gateway6"))) && netns_ip_parse(v, &a->gateway6, NULL) < 0)
                return -EBADMSG;
        return 0;
}

typedef struct AttachmentList {
        NetAttachment *a;
        size_t n;
} AttachmentList;

static int parse_attachments_file(const char *path, const char *text, size_t len, void *value,
                                  RtError *err) {
        AttachmentList *l = value;
        if (net_attachments_parse(text, len, &l->a, &l->n) < 0)
                return rt_err_setx(err, -EBADMSG, "%s is not a valid attachment list", path);
        return 0;
}

int net_attachments_load(const CtrStore *s, const char *ctr_id, NetAttachment **ret, size_t *ret_n,
                         RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, ctr_id, "networks.json", p);
        *ret = NULL;
        *ret_n = 0;
        AttachmentList l = {};
        RtError e = {};
        int r = file_cache_load(s->caches ? s->caches->attachments : NULL, p, 1 << 20, parse_attachments_file,
                                &l, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (err)
                        *err = e;
                return r;
        }
        *ret = l.a;
        *ret_n = l.n;
        return 0;
}

int net_attachments_save(const CtrStore *s, const char *ctr_id, const NetAttachment *a, size_t n,
                         RtError *err) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, attachment_json(&a[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        if (!text)
                return rt_err_set(err, -ENOMEM, "encode attachments");
        char p[PATH_MAX];
        ctr_path(s, ctr_id, "networks.json", p);
        int r = write_file_atomic(p, text, strlen(text), 0600, 0, err);
        free(text);
        return r;
}

static int network_value_copy(void *dst, const void *src) {
        const Network *from = src;
        Network n = *from;
        if (from->labels && !(n.labels = strv_copy(from->labels)))
                return -ENOMEM;
        *(Network *) dst = n;
        return 0;
}

static void network_value_done(void *value) {
        net_done(value);
}

static int attachments_value_copy(void *dst, const void *src) {
        const AttachmentList *from = src;
        /* one spare, as the parser allocates: connect appends to it */
        AttachmentList l = { .a = calloc(from->n + 1, sizeof *l.a), .n = from->n };
        if (!l.a)
                return -ENOMEM;
        if (from->n)
                memcpy(l.a, from->a, from->n * sizeof *l.a);
        *(AttachmentList *) dst = l;
        return 0;
}

static void attachments_value_done(void *value) {
        free(((AttachmentList *) value)->a);
}

static const FileCacheType network_cache_type = {
        .size = sizeof(Network), .copy = network_value_copy, .done = network_value_done,
};
static const FileCacheType attachments_cache_type = {
        .size = sizeof(AttachmentList), .copy = attachments_value_copy, .done = attachments_value_done,
};

int net_caches_open(CtrCaches *c) {
        int r = file_cache_new(&network_cache_type, 128, &c->network);
        return r < 0 ? r : file_cache_new(&attachments_cache_type, 512, &c->attachments);
}

void net_caches_close(CtrCaches *c) {
        file_cache_free(c->network);
        file_cache_free(c->attachments);
}

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

static void unwire_one(const CtrStore *s, const char *ctr_id, NetAttachment *a) {
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
                _cleanup_(bridge_side_close) BridgeSide side = { .netns_fd = -1 };
                int idx;
                if (bridge_side_open(&n, NULL, &side, NULL) == 0 &&
                    netns_link_index(side.sk, a->host_ifname, &idx, NULL) == 0)
                        (void) netns_link_del(side.sk, idx, NULL);
                net_done(&n);
        }
        char owner[96];
        owner_of(ctr_id, a->ifname, owner);
        ipam_release_owner(s, a->network, owner);
        forget_wiring(a);
}

/* A host end named host_ifname on the bridge side that carries owner's mark: a link of
 * ours that a killed connect left (its peer in the container goes with it). Deleted;
 * returns 1 when one went. A link of that name carrying another mark, or none, is not
 * ours and stays. */
static int reclaim_host_end(NlSock *sk, const char *host_ifname, const char *owner) {
        NetnsLinkList list = {};
        if (netns_link_list(sk, &list, NULL) < 0)
                return 0;
        const NetnsLink *l = netns_link_list_find(&list, host_ifname);
        const char *mark = l ? netns_link_owner(l) : NULL;
        int removed = mark && streq(mark, owner) && netns_link_del(sk, l->ifindex, NULL) == 0;
        netns_link_list_done(&list);
        return removed;
}

/* known: the attachment's network when the caller has it loaded already, else NULL */
static int wire_one(NlSock *in, int netns_fd, const CtrStore *s, const CtrConfig *c,
                    NetAttachment *a, const Network *known, bool *have_default_route, RtError *err) {
        _cleanup_(net_done) Network loaded = {};
        const Network *n = known;
        int r = 0;
        if (!n && (r = net_load(s, a->network, &loaded, err)) < 0)
                return r;
        if (!n)
                n = &loaded;
        _cleanup_(bridge_side_close) BridgeSide side = { .netns_fd = -1 };
        int br;
        if ((r = bridge_side_open(n, s, &side, err)) < 0 || (r = ensure_bridge(&side, n, &br, err)) < 0)
                return r;
        net_host_ifname(c->id, a->ifname, a->host_ifname);
        NetnsVeth v = { .ifname = a->host_ifname, .peer_ifname = a->ifname, .peer_netns_fd = netns_fd,
                        .peer_mac = &a->mac, .mtu = n->mtu, .master_ifindex = br, .up = true,
                        .peer_up = false, .owner = c->id };
        int peer;
        r = netns_veth_add(side.sk, &v, NULL, &peer, err);
        /* in the way: ours, from a connect killed before it was on record */
        if (r == -EEXIST && reclaim_host_end(side.sk, a->host_ifname, c->id) > 0)
                r = netns_veth_add(side.sk, &v, NULL, &peer, err);
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
                if ((r = ipam_open(s, n->name, &j, &lock, err)) < 0)
                        goto fail;
                NetnsIp got;
                const NetnsIp *want = v4 ? &a->ip : &a->ip6;
                r = ipam_take(j, sn, want->family == sn->subnet.ip.family ? want : NULL, owner, &got, err);
                if (r == 0)
                        r = ipam_save(s, n->name, j, err);
                json_decref(j);
                close(lock);
                if (r < 0) {
                        (void) rt_err_prefix(err, r, "network '%s'", n->name);
                        goto fail;
                }
                slot->ip = got;
                slot->prefixlen = sn->subnet.prefixlen;
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
        unwire_one(s, c->id, a);
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
                             : wire_one(in, netns_fd, s, c, &a[i], NULL, &have_route, err);
                if (r < 0) {
                        for (size_t k = 0; k < i; k++)
                                unwire_one(s, c->id, &a[k]);
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
                (void) snprintf(p, sizeof p, "%s/ipam/%s.json", s->runroot, a[i].network);
                if (a[i].addr4.ip.family || a[i].addr6.ip.family || access(p, F_OK) == 0)
                        ipam_release_owner(s, a[i].network, owner);
                forget_wiring(&a[i]);
        }
}

/* ---- connect / disconnect ---- */

/* The container's lock (an fd to close), and the container as it is under it. */
static int lock_container(const CtrStore *s, const char *ctr_id, Container *ret, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, ctr_id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, ctr_id, ret, err);
        if (r < 0) {
                close(lock);
                return r;
        }
        ctr_repair(s, ret);
        return lock;
}

int ctr_network_connect(const CtrStore *s, const char *ctr_id, const NetConnect *nc,
                        NetAttachment *ret, RtError *err) {
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
        _cleanup_(ctr_done) Container c = {};
        _cleanup_close_ int lock = lock_container(s, ctr_id, &c, err);
        if (lock < 0)
                return lock;

        NetAttachment *as = NULL;
        size_t na = 0;
        if ((r = net_attachments_load(s, ctr_id, &as, &na, err)) < 0)
                return r;
        _cleanup_free_ NetAttachment *owned = as;
        if (na >= NET_MAX_ATTACHMENTS)
                return rt_err_setx(err, -E2BIG, "container '%s' has %d interfaces already",
                                   c.config.name, NET_MAX_ATTACHMENTS);
        NetAttachment a = { .cni = cni };
        strcpy(a.network, n.name);
        if (nc->ifname) {
                if ((r = netns_ifname_check(nc->ifname, err)) < 0)
                        return r;
                for (size_t i = 0; i < na; i++)
                        if (streq(as[i].ifname, nc->ifname))
                                return rt_err_setx(err, -EEXIST, "container '%s' has an interface '%s' already",
                                                   c.config.name, nc->ifname);
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
                                   c.config.id, n.name);
        if (nc->mac) {
                if ((r = netns_mac_parse(nc->mac, &a.mac, err)) < 0 ||
                    (r = netns_mac_check_unicast(&a.mac, err)) < 0)
                        return r;
                a.mac_given = true;
        } else if (!cni) /* a CNI plugin picks its own unless asked (capability "mac") */
                net_derive_mac(c.config.name, n.name, joins, &a.mac);
        if (nc->ip && ((r = netns_ip_parse(nc->ip, &a.ip, err)) < 0 || a.ip.family != AF_INET))
                return r < 0 ? r : rt_err_setx(err, -EINVAL, "--ip '%s' is not IPv4", nc->ip);
        if (nc->ip6 && ((r = netns_ip_parse(nc->ip6, &a.ip6, err)) < 0 || a.ip6.family != AF_INET6))
                return r < 0 ? r : rt_err_setx(err, -EINVAL, "--ip6 '%s' is not IPv6", nc->ip6);
        if ((a.ip.family || a.ip6.family) && n.n_subnets == 0 && !cni)
                return rt_err_setx(err, -EINVAL, "network '%s' has no subnet to take an address from",
                                   n.name);

        bool hot = c.state.status == CTR_RUNNING;
        if (hot) {
                /* hot plug */
                _cleanup_close_ int fd = open(c.state.netns, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return rt_err_set(err, -errno, "open %s", c.state.netns);
                /* what a connect killed halfway left goes first; this one is written down
                 * before its veth exists, so a kill now leaves nothing unrecorded */
                (void) net_links_reconcile(s, ctr_id);
                if (!cni && (r = ledger_list_add(s, ctr_id, LEDGER_LIST_LINKS, n.name, a.ifname, err)) < 0)
                        return rt_err_prefix(err, r, "connect %s of '%s'", a.ifname, c.config.name);
                if (cni)
                        r = net_wire(s, &c.config, fd, &a, 1, false, err);
                else {
                        _cleanup_(netns_sock_freep) NlSock *in = NULL;
                        /* the first network with a gateway routes the container out, as at
                         * start: a later one adds no second default route */
                        bool have_route = false;
                        for (size_t i = 0; i < na; i++)
                                have_route |= as[i].gateway4.family != 0;
                        if ((r = netns_sock_open(fd, &in, err)) == 0)
                                r = wire_one(in, fd, s, &c.config, &a, &n, &have_route, err);
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
                        unwire_one(s, ctr_id, &a);
                return r;
        }
        if (ret)
                *ret = a;
        ctr_event(s, "network", "connect", ctr_id, n.name, NULL, -1);
        return 0;
}

int ctr_network_disconnect(const CtrStore *s, const char *ctr_id, const char *network,
                           const char *ifname, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        _cleanup_close_ int lock = lock_container(s, ctr_id, &c, err);
        if (lock < 0)
                return lock;
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
                                   c.config.name, network, ifname ? " as " : "", ifname ? ifname : "");
        if (matches > 1)
                return rt_err_setx(err, -EINVAL,
                                   "container '%s' has %d interfaces on '%s': name one (--interface-name)",
                                   c.config.name, matches, network);
        if (c.state.status == CTR_RUNNING)
                unwire_one(s, ctr_id, &as[hit]);
        memmove(&as[hit], &as[hit + 1], (na - (size_t) hit - 1) * sizeof *as);
        r = net_attachments_save(s, ctr_id, as, na - 1, err);
        if (r == 0)
                ctr_event(s, "network", "disconnect", ctr_id, network, NULL, -1);
        return r;
}

/* Checks a network can go (disconnecting its users when forced); the kernel and state
 * parts come after, for all the networks of one call at once. */
static int net_remove_prepare(const CtrStore *s, const char *name, bool force, Network *ret,
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
                        if (force && (r = ctr_network_disconnect(s, cs[i].config.id, name, as[k].ifname, err)) < 0)
                                break;
                }
                free(as);
        }
        ctr_list_free(cs, nc);
        if (r < 0)
                return r;
        if (users && !force)
                return rt_err_setx(err, -EBUSY,
                                   "network '%s' is used by %d interface(s); disconnect them or use --force",
                                   name, users);
        *ret = n;
        n = (Network) {};
        return 0;
}

static int net_remove_state(const CtrStore *s, const Network *n, RtError *err) {
        if (n->nat)
                nat_teardown(n);
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/ipam/%s.json", s->runroot, n->name);
        (void) unlink(p);
        (void) snprintf(p, sizeof p, "%s/ipam/%s.lock", s->runroot, n->name);
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

void net_remove_many(const CtrStore *s, char *const *names, size_t n, bool force,
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
                int r = net_remove_prepare(s, names[i], force, &nets[i], &e);
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

int net_remove_every(const CtrStore *s, bool force, NetRemoveReport report, void *userdata,
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
        net_remove_many(s, names, n, force, report, userdata);
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

int net_remove(const CtrStore *s, const char *name, bool force, RtError *err) {
        RtError e = { .code = 0 };
        char *names[] = { (char *) name };
        net_remove_many(s, names, 1, force, remember_error, &e);
        if (e.code < 0 && err)
                *err = e;
        return e.code;
}

void net_release_container(const CtrStore *s, const char *ctr_id) {
        /* Every address held for the container, in every network: also one that a crash
         * took between the IPAM file and the attachment list. */
        (void) ipam_each(s, release_container_in, (void *) ctr_id);
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
                _cleanup_(bridge_side_close) BridgeSide side = { .netns_fd = -1 };
                if (bridge_side_open(&n, NULL, &side, NULL) == 0)
                        lr->removed += reclaim_host_end(side.sk, host, lr->ctr_id);
                if (!ifname_used) {
                        char owner[96];
                        owner_of(lr->ctr_id, ifname, owner);
                        ipam_release_owner(lr->store, network, owner);
                }
        }
        (void) ledger_list_remove(lr->store, lr->ctr_id, LEDGER_LIST_LINKS, network, ifname);
        return 0;
}

int net_links_reconcile(const CtrStore *s, const char *ctr_id) {
        _cleanup_free_ NetAttachment *as = NULL;
        size_t n = 0;
        if (net_attachments_load(s, ctr_id, &as, &n, NULL) < 0)
                return 0;
        LinkReconcile lr = { .store = s, .ctr_id = ctr_id, .atts = as, .n = n };
        (void) ledger_list_each(s, ctr_id, LEDGER_LIST_LINKS, reconcile_link, &lr);
        return lr.removed;
}

static bool owner_not_running(const char *owner, void *ud) {
        const CtrStore *s = ud;
        char id[CTR_ID_LEN + 1];
        if (strlen(owner) < CTR_ID_LEN + 1 || owner[CTR_ID_LEN] != '/')
                return true;
        memcpy(id, owner, CTR_ID_LEN);
        id[CTR_ID_LEN] = '\0';
        /* A container being started or connected right now holds its lock, with
         * addresses taken but its state not yet running: leave those alone. */
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        if (access(p, F_OK) == 0) {
                int lock = lock_file(p, false, NULL);
                if (lock < 0)
                        return false;
                close(lock);
        }
        Container c = {};
        if (ctr_load(s, id, &c, NULL) < 0)
                return true;
        (void) ctr_state_observe(&c);
        bool running = c.state.status == CTR_RUNNING;
        ctr_done(&c);
        return !running;
}

static int gc_ipam_in(const CtrStore *s, const char *net, void *ud) {
        return ipam_drop(s, net, owner_not_running, (void *) s);
}

int net_gc(const CtrStore *s) {
        return ipam_each(s, gc_ipam_in, NULL);
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
