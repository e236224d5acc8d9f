/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPAM: runroot/ipam/<network>.json, {"ip": "owner"} under a lock; the owner is
 * "<container id>/<ifname>", so what a container holds can always be found and released. */
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

void net_subnet_host(const NetnsCidr *c, uint32_t index, NetnsIp *ret) {
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

bool net_in_subnet(const NetnsCidr *c, const NetnsIp *ip) {
        if (ip->family != c->ip.family)
                return false;
        const uint8_t *a = ip->family == AF_INET ? (const uint8_t *) &ip->v4 : ip->v6.s6_addr;
        const uint8_t *b = c->ip.family == AF_INET ? (const uint8_t *) &c->ip.v4 : c->ip.v6.s6_addr;
        for (int i = 0; i < c->prefixlen; i++)
                if ((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
                        return false;
        return true;
}

/* ---- IPAM: runroot/ipam/<network>.json, {"ip": "owner"}, under a lock ---- */

int net_ipam_open(const CtrStore *s, const char *net, json_t **ret, int *ret_lock, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_IPAM, NULL, NULL, p);
        int r = mkdir_p(p, 0700, err);
        if (r < 0)
                return r;
        store_path(s, STORE_IPAM, net, ".lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        store_path(s, STORE_IPAM, net, ".json", p);
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

int net_ipam_save(const CtrStore *s, const char *net, json_t *j, RtError *err) {
        char p[PATH_MAX];
        store_path(s, STORE_IPAM, net, ".json", p);
        char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                return rt_err_set(err, -ENOMEM, "ipam");
        int r = write_file_atomic(p, text, strlen(text), 0600, 0, err);
        free(text);
        return r;
}

/* Takes want (when given: refused if taken or outside) or the next free address of the
 * subnet for owner. */
int net_ipam_take(json_t *j, const NetSubnet *sn, const NetnsIp *want, const char *owner,
                     NetnsIp *ret, RtError *err) {
        char a[INET6_ADDRSTRLEN];
        if (want && want->family) {
                NetnsIp first, last;
                net_subnet_host(&sn->subnet, 0, &first);
                if (!net_in_subnet(&sn->subnet, want))
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
        net_subnet_host(&sn->subnet, 0, &subnet_base);
        uint32_t sbits = (sn->subnet.ip.family == AF_INET ? 32u : 128u) - sn->subnet.prefixlen;
        net_subnet_host(&sn->subnet, sbits >= 32 ? UINT32_MAX : (uint32_t) ((1ull << sbits) - 1), &subnet_bcast);
        for (uint64_t i = pool == &sn->subnet ? 1 : 0; i <= last + (pool == &sn->subnet ? 0 : 1); i++) {
                NetnsIp ip;
                net_subnet_host(pool, (uint32_t) i, &ip);
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
        if (net_ipam_open(s, net, &j, &lock, NULL) < 0)
                return 0;
        const char *key;
        json_t *v, *tmp;
        int dropped = 0;
        json_object_foreach_safe(j, tmp, key, v) if (drop(json_string_value(v) ?: "", ud)) {
                json_object_del(j, key);
                dropped++;
        }
        if (dropped)
                (void) net_ipam_save(s, net, j, NULL);
        json_decref(j);
        close(lock);
        return dropped;
}

static bool owner_is(const char *owner, void *ud) {
        return streq(owner, ud);
}

void net_ipam_release_owner(const CtrStore *s, const char *net, const char *owner) {
        (void) ipam_drop(s, net, owner_is, (void *) owner);
}

/* Calls fn for the name of every network that has an IPAM file. */
int net_ipam_each(const CtrStore *s, int (*fn)(const CtrStore *s, const char *net, void *ud), void *ud) {
        return store_each(s, STORE_IPAM, ".json", fn, ud);
}

static bool owner_of_container(const char *owner, void *ud) {
        size_t l = strlen(ud);
        return strncmp(owner, ud, l) == 0 && owner[l] == '/';
}

int net_release_container_in(const CtrStore *s, const char *net, void *ud) {
        return ipam_drop(s, net, owner_of_container, ud);
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
        return net_ipam_each(s, gc_ipam_in, NULL);
}

