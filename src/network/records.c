/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network records (--root/networks/<name>.json: they outlive reboots, as Podman's do),
 * a container's attachment list (its networks.json under --runroot), their parsers (outside
 * input: the files can be edited by hand) and serve's caches of both; names and MACs
 * derived from them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "network-internal.h"
#include "dynlib.h"
#include "filecache.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
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


void net_path(const CtrStore *s, const char *name, char buf[static PATH_MAX]) {
        store_path(s, STORE_NETWORKS, name, ".json", buf);
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

int net_save(const CtrStore *s, const Network *n, RtError *err) {
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
        /* a new record only: of two commands making one network, one wins whole */
        int r = write_file_atomic(p, text, strlen(text), 0600, WRITE_DURABLE | WRITE_EXCLUSIVE, err);
        free(text);
        return r;
}

/* ---- the record, through field tables (json.h): a file edited by hand says where it is
 * wrong (".subnets[0].gateway: ..."), and a key nsprov does not write is refused ---- */

static int parse_driver(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v) || !streq(json_string_value(v), "bridge"))
                return rt_err_setx(err, -EBADMSG, "%s: the only driver is \"bridge\"", path);
        return 0;
}

static int parse_mtu(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int mtu = 0;
        int r = json_parse_int(path, v, &mtu, f, err);
        if (r == 0)
                *(uint32_t *) field = (uint32_t) mtu;
        return r;
}

static int parse_cidr(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v))
                return rt_err_setx(err, -EBADMSG, "%s: expected a string", path);
        int r = netns_cidr_parse(json_string_value(v), field, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

static int parse_ip(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v))
                return rt_err_setx(err, -EBADMSG, "%s: expected a string", path);
        int r = netns_ip_parse(json_string_value(v), field, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

static const JsonField subnet_fields[] = {
        { "subnet", parse_cidr, offsetof(NetSubnet, subnet), JF_MANDATORY },
        { "gateway", parse_ip, offsetof(NetSubnet, gateway), 0 },
        { "ipRange", parse_cidr, offsetof(NetSubnet, range), 0 },
        {},
};

static int parse_subnets(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        Network *n = (Network *) ((char *) field - offsetof(Network, subnets));
        if (!json_is_array(v))
                return rt_err_setx(err, -EBADMSG, "%s: expected an array", path);
        if (json_array_size(v) > NET_MAX_SUBNETS)
                return rt_err_setx(err, -E2BIG, "%s: at most %d subnets", path, NET_MAX_SUBNETS);
        size_t i;
        json_t *o;
        json_array_foreach(v, i, o) {
                char sub[256];
                (void) snprintf(sub, sizeof sub, "%s[%zu]", path, i);
                int r = json_dispatch(sub, o, subnet_fields, &n->subnets[i], 0, err);
                if (r < 0)
                        return r;
        }
        n->n_subnets = json_array_size(v);
        return 0;
}

static int parse_labels(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        int r = json_parse_strv(path, v, field, f, err);
        if (r == 0 && strv_length(*(char ***) field) > CTR_MAX_LABELS)
                return rt_err_setx(err, -E2BIG, "%s: at most %d labels", path, CTR_MAX_LABELS);
        return r;
}

static const JsonField network_fields[] = {
        { "name", json_parse_string_buf, offsetof(Network, name), JF_MANDATORY, .size = NET_NAME_MAX + 1,
          .check = net_name_check },
        { "id", json_parse_string_buf, offsetof(Network, id), JF_MANDATORY, .size = CTR_ID_LEN + 1,
          .check = ctr_id_check },
        { "driver", parse_driver, 0, 0 },
        { "bridge", json_parse_string_buf, offsetof(Network, bridge), JF_MANDATORY, .size = NETNS_IFNAME_MAX + 1,
          .check = netns_ifname_check },
        { "internal", json_parse_bool, offsetof(Network, internal), 0 },
        { "ipv6", json_parse_bool, offsetof(Network, ipv6), 0 },
        { "ipv6Dad", json_parse_bool, offsetof(Network, ipv6_dad), 0 },
        { "nat", json_parse_bool, offsetof(Network, nat), 0 },
        /* absent in records of earlier versions, whose bridges are on the host */
        { "bridgeNetns", json_parse_bool, offsetof(Network, own_netns), 0 },
        /* 0: the kernel's default */
        { "mtu", parse_mtu, offsetof(Network, mtu), 0, .min = 0, .max = 65535 },
        { "subnets", parse_subnets, offsetof(Network, subnets), JF_MANDATORY },
        { "labels", parse_labels, offsetof(Network, labels), JF_NULLABLE },
        { "created", json_parse_uint64, offsetof(Network, created_ns), 0 },
        {},
};

int net_record_parse(const char *text, size_t len, Network *ret, RtError *err) {
        Network n = {};
        int r = json_dispatch_text("network", text, len, network_fields, &n, 0, err);
        if (r < 0) {
                net_done(&n);
                return rt_err_prefix(err, r, "not a valid network record");
        }
        *ret = n;
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
static int list_load_network(const CtrStore *s, const char *name, void *slot) {
        *(Network *) slot = (Network) {};
        return strlen(name) <= NET_NAME_MAX ? net_load(s, name, slot, NULL) : -ENAMETOOLONG;
}

static void list_done_network(void *slot) {
        net_done(slot);
}

int net_list(const CtrStore *s, Network **ret, size_t *ret_n, RtError *err) {
        void *ns = NULL;
        int r = store_list(s, STORE_NETWORKS, ".json", sizeof(Network), list_load_network, list_done_network,
                           cmp_net, &ns, ret_n, err);
        if (r == 0)
                *ret = ns;
        return r;
}

/* The first usable host address of a subnet: the gateway by default. */
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
        if (a->last4.family)
                json_object_set_new(o, "last4", json_string(netns_ip_format(&a->last4, b)));
        if (a->last6.family)
                json_object_set_new(o, "last6", json_string(netns_ip_format(&a->last6, b)));
        return o;
}

static int parse_mac(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v))
                return rt_err_setx(err, -EBADMSG, "%s: expected a string", path);
        int r = netns_mac_parse(json_string_value(v), field, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
}

static int parse_att_driver(const char *path, json_t *v, void *field, const JsonField *f, RtError *err) {
        if (!json_is_string(v) || !streq(json_string_value(v), "cni"))
                return rt_err_setx(err, -EBADMSG, "%s: the only driver named is \"cni\"", path);
        *(bool *) field = true;
        return 0;
}

static const JsonField attachment_fields[] = {
        { "network", json_parse_string_buf, offsetof(NetAttachment, network), JF_MANDATORY, .size = NET_NAME_MAX + 1 },
        { "ifname", json_parse_string_buf, offsetof(NetAttachment, ifname), JF_MANDATORY,
          .size = NETNS_IFNAME_MAX + 1, .check = netns_ifname_check },
        { "mac", parse_mac, offsetof(NetAttachment, mac), JF_MANDATORY },
        { "macGiven", json_parse_bool, offsetof(NetAttachment, mac_given), 0 },
        { "driver", parse_att_driver, offsetof(NetAttachment, cni), 0 },
        { "cniAttached", json_parse_bool, offsetof(NetAttachment, cni_attached), 0 },
        { "ip", parse_ip, offsetof(NetAttachment, ip), 0 },
        { "ip6", parse_ip, offsetof(NetAttachment, ip6), 0 },
        { "hostIfname", json_parse_string_buf, offsetof(NetAttachment, host_ifname), 0,
          .size = NETNS_IFNAME_MAX + 1, .check = netns_ifname_check },
        { "addr4", parse_cidr, offsetof(NetAttachment, addr4), 0 },
        { "addr6", parse_cidr, offsetof(NetAttachment, addr6), 0 },
        { "gateway4", parse_ip, offsetof(NetAttachment, gateway4), 0 },
        { "gateway6", parse_ip, offsetof(NetAttachment, gateway6), 0 },
        { "last4", parse_ip, offsetof(NetAttachment, last4), 0 },
        { "last6", parse_ip, offsetof(NetAttachment, last6), 0 },
        {},
};

int net_attachments_parse(const char *text, size_t len, NetAttachment **ret, size_t *ret_n, RtError *err) {
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return rt_err_setx(err, -EBADMSG, "attachments:%d:%d: %s", je.line, je.column, je.text);
        if (!json_is_array(j) || json_array_size(j) > NET_MAX_ATTACHMENTS) {
                json_decref(j);
                return rt_err_setx(err, -EBADMSG, ".: not a list of at most %d attachments", NET_MAX_ATTACHMENTS);
        }
        NetAttachment *a = calloc(json_array_size(j) + 1, sizeof *a);
        size_t i;
        json_t *o;
        json_array_foreach(j, i, o) {
                char path[32];
                (void) snprintf(path, sizeof path, "[%zu]", i);
                int r = a ? json_dispatch(path, o, attachment_fields, &a[i], 0, err) : rt_err_set(err, -ENOMEM, "attachments");
                if (r < 0) {
                        free(a);
                        json_decref(j);
                        return r;
                }
                /* only a CNI attachment is ever attached by plugins */
                a[i].cni_attached = a[i].cni && a[i].cni_attached;
        }
        *ret_n = json_array_size(j);
        json_decref(j);
        *ret = a;
        return 0;
}

typedef struct AttachmentList {
        NetAttachment *a;
        size_t n;
} AttachmentList;

static int parse_attachments_file(const char *path, const char *text, size_t len, void *value,
                                  RtError *err) {
        AttachmentList *l = value;
        int r = net_attachments_parse(text, len, &l->a, &l->n, err);
        return r < 0 ? rt_err_prefix(err, r, "%s", path) : 0;
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

int net_caches_open(CtrStore *s, RtError *err) {
        CtrCaches *c = s->caches;
        if (!c)
                return rt_err_setx(err, -EINVAL, "network caches: the state's are not open");
        int r = file_cache_new(&network_cache_type, 128, &c->network);
        if (r == 0)
                r = file_cache_new(&attachments_cache_type, 512, &c->attachments);
        if (r < 0) {
                /* all or none: a request finds either every cache or none */
                ctr_store_caches_close(s);
                return rt_err_set(err, r, "network caches");
        }
        return 0;
}
