/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI networks for containers (issue 5): where `--network NAME` or `network connect NAME`
 * names a network of the CNI config dir rather than a native one, the plugins of its
 * conflist wire the interface. Each attachment is written in the container's CNI ledger
 * before its ADD and crossed out after its DEL, so `system gc` can DEL what a crash
 * left, and never anything nsprov did not make (another tool may share the cache). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "network.h"
#include "log.h"
#include "strv.h"

static void cni_list_donep(CniList *l) {
        cni_list_done(l);
}

int net_cni_config(const CtrStore *s, CniConfig *ret, char ***ret_path) {
        return cni_config_init(ret, ret_path, s->cni_config_dir, s->cni_path, s->cni_cache_dir, s->runroot);
}

int net_cni_exists(const CtrStore *s, const char *name, RtError *err) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return rt_err_set(err, -ENOMEM, "cni");
        _cleanup_(cni_list_donep) CniList l = {};
        CniError ce = {};
        int r = cni_find(&cfg, name, &l, NULL, NULL, &ce);
        if (r < 0)
                return rt_err_setx(err, r, "%s", ce.e.msg);
        return 0;
}

/* The addresses and the container-side MAC of a result (any version), for inspect. */
static void take_result(json_t *result, const char *netns_path, NetAttachment *a) {
        json_auto_t *res = NULL;
        if (cni_result_convert(result, "1.0.0", &res, NULL) < 0)
                return;
        json_t *ifs = json_object_get(res, "interfaces");
        size_t i;
        json_t *it;
        json_array_foreach(ifs, i, it) {
                const char *name = json_string_value(json_object_get(it, "name"));
                const char *mac = json_string_value(json_object_get(it, "mac"));
                const char *sandbox = json_string_value(json_object_get(it, "sandbox"));
                if (name && mac && streq(name, a->ifname) && (!sandbox || streq(sandbox, netns_path)))
                        (void) netns_mac_parse(mac, &a->mac, NULL);
        }
        json_array_foreach(json_object_get(res, "ips"), i, it) {
                const char *addr = json_string_value(json_object_get(it, "address"));
                const char *gw = json_string_value(json_object_get(it, "gateway"));
                NetnsCidr c;
                if (!addr || netns_cidr_parse(addr, &c, NULL) < 0)
                        continue;
                NetnsCidr *slot = c.ip.family == AF_INET ? &a->addr4 : &a->addr6;
                NetnsIp *gslot = c.ip.family == AF_INET ? &a->gateway4 : &a->gateway6;
                if (slot->ip.family)
                        continue;
                *slot = c;
                if (gw)
                        (void) netns_ip_parse(gw, gslot, NULL);
        }
}

/* Podman's CNI_ARGS, so the same conflists behave as under Podman. */
static int podman_args(const CtrConfig *c, char ***ret) {
        _cleanup_(strv_freep) char **args = calloc(1, sizeof(char *));
        _cleanup_free_ char *pod = NULL;
        if (!args || asprintf(&pod, "K8S_POD_NAME=%s", c->name) < 0 || strv_push(&args, "IgnoreUnknown=1") < 0 ||
            strv_push(&args, pod) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(args);
        return 0;
}

int net_cni_wire(const CtrStore *s, const CtrConfig *c, const char *netns_path, NetAttachment *a,
                 RtError *err) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL, **args = NULL;
        if (net_cni_config(s, &cfg, &path) < 0 || podman_args(c, &args) < 0)
                return rt_err_set(err, -ENOMEM, "cni");
        CniError ce = {};
        _cleanup_(cni_list_donep) CniList list = {};
        int r = cni_find(&cfg, a->network, &list, NULL, NULL, &ce);
        if (r < 0)
                return rt_err_setx(err, r, "connect %s of %s to '%s': %s", a->ifname, c->name, a->network, ce.e.msg);
        json_auto_t *caps = json_object();
        if (a->mac_given) {
                char m[NETNS_MAC_STRLEN];
                (void) json_object_set_new(caps, "mac", json_string(netns_mac_format(&a->mac, m)));
        }
        char b[NETNS_CIDR_STRLEN];
        json_t *ips = json_array();
        if (a->ip.family)
                (void) json_array_append_new(ips, json_string(netns_ip_format(&a->ip, b)));
        if (a->ip6.family)
                (void) json_array_append_new(ips, json_string(netns_ip_format(&a->ip6, b)));
        if (json_array_size(ips))
                (void) json_object_set_new(caps, "ips", ips);
        else
                json_decref(ips);

        if ((r = ledger_list_add(s, c->id, LEDGER_LIST_CNI, a->network, a->ifname, err)) < 0)
                return r;
        CniRuntime rt = { .container_id = c->id, .netns = netns_path, .ifname = a->ifname, .args = args,
                          .cap_args = json_object_size(caps) ? caps : NULL };
        json_auto_t *result = NULL;
        r = cni_add(&cfg, &list, &rt, CNI_ADD_ROLLBACK, &result, &ce);
        if (r < 0) {
                /* the rollback DEL ran; a failed one stays in the ledger for gc */
                if (!ce.secondary[0])
                        (void) ledger_list_remove(s, c->id, LEDGER_LIST_CNI, a->network, a->ifname);
                return rt_err_setx(err, r, "connect %s of %s to '%s': %s", a->ifname, c->name, a->network, ce.e.msg);
        }
        take_result(result, netns_path, a);
        a->cni_attached = true;
        return 0;
}

static int cni_del_attachment(const CtrStore *s, const char *ctr_id, const char *network, const char *ifname,
                              const char *netns_path, RtError *err) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return rt_err_set(err, -ENOMEM, "cni");
        CniError ce = {};
        _cleanup_(cni_list_donep) CniList list = {};
        /* a conflist gone or broken since: the cached config does the DEL */
        bool found = cni_find(&cfg, network, &list, NULL, NULL, &ce) == 0;
        CniRuntime rt = { .container_id = ctr_id, .netns = netns_path && *netns_path ? netns_path : NULL,
                          .ifname = ifname };
        int r = cni_del(&cfg, network, found ? &list : NULL, &rt, true, &ce);
        if (r < 0)
                return rt_err_setx(err, r, "disconnect %s of %s from '%s': %s", ifname, ctr_id, network, ce.e.msg);
        (void) ledger_list_remove(s, ctr_id, LEDGER_LIST_CNI, network, ifname);
        return 0;
}

int net_cni_unwire(const CtrStore *s, const char *ctr_id, const char *netns_path, const NetAttachment *a,
                   RtError *err) {
        return cni_del_attachment(s, ctr_id, a->network, a->ifname, netns_path, err);
}

typedef struct UndoState {
        const CtrStore *s;
        const char *owner;
        int removed;
} UndoState;

static int undo_one(const char *network, const char *ifname, void *userdata) {
        UndoState *u = userdata;
        RtError e = {};
        /* the netns went with the container: the cache entry has its old path, and DEL
         * works without it */
        if (cni_del_attachment(u->s, u->owner, network, ifname, NULL, &e) == 0)
                u->removed++;
        else
                log_warning("gc: %s; kept in the ledger for the next gc", e.msg);
        return 0;
}

int net_cni_undo(const CtrStore *s, const char *owner) {
        UndoState u = { s, owner, 0 };
        (void) ledger_list_each(s, owner, LEDGER_LIST_CNI, undo_one, &u);
        return u.removed;
}

int net_cni_gc(const CtrStore *s, char *const *networks) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return -ENOMEM;
        int failed = 0;
        for (char *const *n = networks; n && *n; n++) {
                _cleanup_(cni_list_donep) CniList list = {};
                CniError ce = {};
                if (cni_find(&cfg, *n, &list, NULL, NULL, &ce) < 0)
                        continue;
                CniCacheEntry *entries = NULL;
                size_t ne = 0;
                if (cni_cache_list(&cfg, *n, &entries, &ne, NULL) < 0)
                        continue;
                json_auto_t *valid = json_array();
                for (size_t i = 0; i < ne; i++)
                        (void) json_array_append_new(valid, json_pack("{s:s, s:s}", "containerID", entries[i].container_id,
                                                                      "ifname", entries[i].ifname));
                cni_cache_entries_free(entries, ne);
                if (cni_gc(&cfg, &list, valid, &ce) < 0) {
                        log_warning("gc: CNI GC of network '%s': %s", *n, ce.e.msg);
                        failed++;
                }
        }
        return failed ? -EIO : 0;
}

int net_cni_list(const CtrStore *s, CniNetworkInfo **ret, size_t *ret_n, RtError *err) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return rt_err_set(err, -ENOMEM, "cni");
        CniList *lists = NULL;
        size_t n = 0, nd = 0;
        CniDiag *d = NULL;
        CniError ce = {};
        if (cni_list_all(&cfg, &lists, &n, &d, &nd, &ce) < 0)
                return rt_err_setx(err, ce.e.code ? ce.e.code : -EIO, "%s", ce.e.msg);
        for (size_t i = 0; i < nd; i++)
                log_debug("CNI config %s skipped: %s", d[i].file, d[i].msg);
        cni_diags_free(d, nd);
        CniNetworkInfo *out = calloc(n + 1, sizeof *out);
        for (size_t i = 0; out && i < n; i++) {
                out[i].name = TAKE_PTR(lists[i].name);
                out[i].version = TAKE_PTR(lists[i].version);
                out[i].file = TAKE_PTR(lists[i].file);
                out[i].plugins = calloc(lists[i].n_plugins + 1, sizeof(char *));
                for (size_t k = 0; out[i].plugins && k < lists[i].n_plugins; k++)
                        out[i].plugins[k] = TAKE_PTR(lists[i].plugins[k].type);
        }
        cni_lists_free(lists, n);
        if (!out)
                return rt_err_set(err, -ENOMEM, "cni");
        *ret = out;
        *ret_n = n;
        return 0;
}

void net_cni_list_free(CniNetworkInfo *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].version);
                free(l[i].file);
                strv_free(l[i].plugins);
        }
        free(l);
}
