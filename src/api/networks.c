/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networks (spec 4): native and CNI ones in libpod's and Docker's shapes; create,
 * connect, disconnect, delete. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "cleanup.h"
#include "cni.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "proc.h"
#include "strv.h"


/* ---- networks (4.14 – 4.20) ---- */

/* The compat API calls the default network "bridge" (7.2). */
static const char *network_name(ApiConn *c, const ApiRequest *r) {
        return !r->libpod && streq(r->segs[1], "bridge") ? c->srv->store.default_network : r->segs[1];
}

/* A libpod network JSON in Docker's shape (7.2). */
static json_t *compat_network_json(ApiConn *c, json_t *n) {
        const char *name = json_string_value(json_object_get(n, "name"));
        bool def = name && streq(name, c->srv->store.default_network);
        json_t *config = json_array();
        size_t i;
        json_t *sn;
        json_array_foreach(json_object_get(n, "subnets"), i, sn) {
                json_t *e = json_pack("{s:O}", "Subnet", json_object_get(sn, "subnet"));
                if (json_object_get(sn, "gateway"))
                        json_object_set(e, "Gateway", json_object_get(sn, "gateway"));
                json_array_append_new(config, e);
        }
        json_t *containers = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(n, "containers"), key, v) json_object_set_new(containers, key, json_pack("{s:O}", "Name", json_object_get(v, "name")));
        json_t *j = json_pack("{s:s, s:O, s:O, s:s, s:O, s:O, s:{s:s, s:{s:O}, s:o}, s:O, s:b, s:b, s:{s:s}, s:b, s:o, s:{}, s:O}",
                              "Name", def ? "bridge" : name, "Id", json_object_get(n, "id"), "Created",
                              json_object_get(n, "created"), "Scope", "local", "Driver", json_object_get(n, "driver"),
                              "EnableIPv6", json_object_get(n, "ipv6_enabled"), "IPAM", "Driver", "default", "Options",
                              "driver", json_object_get(json_object_get(n, "ipam_options"), "driver"), "Config", config,
                              "Internal", json_object_get(n, "internal"), "Attachable", 0, "Ingress", 0, "ConfigFrom",
                              "Network", "", "ConfigOnly", 0, "Containers", containers, "Options", "Labels",
                              json_object_get(n, "labels") ?: json_object());
        json_decref(n);
        return j;
}

/* A CNI network as Podman's CNI backend shows one (4.15). */
static json_t *cni_network_json(const CtrStore *s, const char *name) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return NULL;
        CniList l = {};
        if (cni_find(&cfg, name, &l, NULL, NULL, NULL) < 0)
                return NULL;
        json_auto_t *p0 = json_loadb(l.plugins[0].raw, l.plugins[0].raw_len, JSON_DECODE_INT_AS_REAL, NULL);
        json_t *ipam = json_object_get(p0, "ipam");
        bool ipam_none = !ipam || (json_is_object(ipam) && json_object_size(ipam) == 0);
        const char *bridge = json_string_value(json_object_get(p0, "bridge"));
        struct stat st;
        char created[40], id[65];
        (void) stat(l.file, &st);
        net_cni_id(name, id);
        json_t *subnets = json_array();
        const char *subnet = json_string_value(json_object_get(ipam, "subnet"));
        if (subnet)
                json_array_append_new(subnets, json_pack("{s:s}", "subnet", subnet));
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:{s:s}, s:o, s:o}", "name", l.name, "id", id,
                              "driver", l.plugins[0].type, "network_interface", bridge ?: "", "created",
                              format_rfc3339((uint64_t) st.st_mtim.tv_sec * 1000000000ull + (uint64_t) st.st_mtim.tv_nsec, created),
                              "ipv6_enabled", 0, "internal", !json_is_true(json_object_get(p0, "isGateway")),
                              "dns_enabled", 0, "ipam_options", "driver", ipam_none ? "none" : "host-local", "subnets",
                              subnets, "containers", net_containers_json(s, name));
        cni_list_done(&l);
        return j;
}

static bool network_exists(const CtrStore *s, const char *name, bool *cni) {
        Network n = {};
        bool native = net_load(s, name, &n, NULL) == 0;
        net_done(&n);
        *cni = !native && net_cni_exists(s, name, NULL) == 0;
        return native || *cni;
}

int api_ep_network_json(ApiConn *c, ApiRequest *r) {
        Network n = {};
        const char *name = network_name(c, r);
        json_t *j = NULL;
        if (net_load(&c->srv->store, name, &n, NULL) == 0) {
                j = net_inspect_json(&c->srv->store, &n, true);
                net_done(&n);
        } else
                j = cni_network_json(&c->srv->store, name);
        if (!j)
                return api_error(c, 404, "network not found", "network %s not found", name);
        return api_reply_json(c, 200, r->libpod ? j : compat_network_json(c, j));
}

int api_ep_network_exists(ApiConn *c, ApiRequest *r) {
        bool cni;
        if (!network_exists(&c->srv->store, network_name(c, r), &cni))
                return api_error(c, 404, "network not found", "network not found");
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_ep_networks_list(ApiConn *c, ApiRequest *r) {
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        if (!json_is_object(filters))
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters': \"%s\"", ftext);
        Network *ns = NULL;
        size_t n = 0;
        RtError e = {};
        if (net_list(&c->srv->store, &ns, &n, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        /* the default network first, as Podman lists it */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++) {
                        bool def = streq(ns[i].name, c->srv->store.default_network);
                        if ((pass == 0) != def)
                                continue;
                        if (!api_filter_match(filters, "name", ns[i].name, false) || !api_filter_match(filters, "id", ns[i].id, true))
                                continue;
                        json_t *j = net_inspect_json(&c->srv->store, &ns[i], true);
                        json_array_append_new(arr, r->libpod ? j : compat_network_json(c, j));
                }
        CniNetworkInfo *cn = NULL;
        size_t ncn = 0;
        if (net_cni_list(&c->srv->store, &cn, &ncn, NULL) == 0) {
                for (size_t i = 0; i < ncn; i++) {
                        bool shadowed = false;
                        for (size_t k = 0; k < n; k++)
                                shadowed |= streq(ns[k].name, cn[i].name);
                        json_t *j = shadowed || !api_filter_match(filters, "name", cn[i].name, false)
                                            ? NULL
                                            : cni_network_json(&c->srv->store, cn[i].name);
                        if (j)
                                json_array_append_new(arr, r->libpod ? j : compat_network_json(c, j));
                }
                net_cni_list_free(cn, ncn);
        }
        net_list_free(ns, n);
        return api_reply_json(c, 200, arr);
}

int api_ep_network_create(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int e = api_body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        const char *name = api_jstr(b, r->libpod ? "name" : "Name");
        if (!name || !*name)
                return api_error(c, 400, "bad request", "network create: no name given");
        bool cni;
        if (network_exists(&c->srv->store, name, &cni))
                return api_error(c, 409, "network already exists", "network name %s already used: network already exists", name);
        const char *driver = api_jstr(b, r->libpod ? "driver" : "Driver");
        if (driver && *driver && !streq(driver, "bridge"))
                return api_error(c, 500, "unsupported driver", "unsupported driver %s: only bridge networks are supported", driver);
        const char *ipam = r->libpod ? api_jstr(api_jget(b, "ipam_options"), "driver") : api_jstr(api_jget(b, "IPAM"), "Driver");
        if (ipam && *ipam && !streq(ipam, "host-local") && !streq(ipam, "none") && !streq(ipam, "default"))
                return api_error(c, 500, "unsupported ipam driver", "unsupported ipam driver \"%s\"", ipam);
        bool none = ipam && streq(ipam, "none");
        const char *subs[NET_MAX_SUBNETS], *gws[NET_MAX_SUBNETS], *ranges[NET_MAX_SUBNETS];
        size_t nsub = 0, i;
        json_t *sn;
        json_array_foreach(r->libpod ? api_jget(b, "subnets") : api_jget(api_jget(b, "IPAM"), "Config"), i, sn) {
                if (nsub >= NET_MAX_SUBNETS)
                        break;
                const char *sub = api_jstr(sn, "subnet");
                if (!sub)
                        continue;
                subs[nsub] = sub;
                gws[nsub] = api_jstr(sn, "gateway");
                ranges[nsub] = api_jstr(sn, "iprange") ?: api_jstr(sn, "ip_range");
                if (gws[nsub] && !*gws[nsub])
                        gws[nsub] = NULL;
                nsub++;
        }
        /* host-local without subnets: the next free 10.89.N.0/24, as Podman picks */
        char auto_subnet[32];
        if (!none && nsub == 0) {
                Network *all = NULL;
                size_t na = 0;
                (void) net_list(&c->srv->store, &all, &na, NULL);
                for (unsigned k = 0; k < 256; k++) {
                        (void) snprintf(auto_subnet, sizeof auto_subnet, "10.89.%u.0/24", k);
                        bool used = false;
                        for (size_t x = 0; x < na; x++)
                                for (size_t y = 0; y < all[x].n_subnets; y++) {
                                        char cb[NETNS_CIDR_STRLEN];
                                        used |= streq(netns_cidr_format(&all[x].subnets[y].subnet, cb), auto_subnet);
                                }
                        if (!used)
                                break;
                }
                net_list_free(all, na);
                subs[0] = auto_subnet;
                gws[0] = ranges[0] = NULL;
                nsub = 1;
        }
        _cleanup_(strv_freep) char **labels = NULL;
        json_t *lv = api_jget(b, r->libpod ? "labels" : "Labels");
        if (lv && json_is_object(lv) && api_strv_from_map(lv, &labels) < 0)
                return api_error(c, 400, "bad request", "network create: labels must map strings to strings");
        const char *bridge = api_jstr(b, "network_interface");
        NetCreate nc = { .name = name,
                         .bridge = bridge && *bridge ? bridge : NULL,
                         .subnets = nsub ? subs : NULL,
                         .gateways = nsub ? gws : NULL,
                         .ranges = nsub ? ranges : NULL,
                         .n_subnets = nsub,
                         .internal = api_jbool(b, r->libpod ? "internal" : "Internal"),
                         .ipv6 = api_jbool(b, r->libpod ? "ipv6_enabled" : "EnableIPv6"),
                         .labels = labels };
        const char *mtu = api_jstr(api_jget(b, "options"), "mtu");
        if (mtu)
                nc.mtu = (uint32_t) atoi(mtu);
        Network made = {};
        RtError err = {};
        if (net_create(&c->srv->store, &nc, &made, &err) < 0)
                return api_rt_error(c, &err, err.code == -EEXIST ? 409 : 500, NULL);
        json_t *j = net_inspect_json(&c->srv->store, &made, false);
        json_object_del(j, "containers");
        if (!json_array_size(json_object_get(j, "subnets")))
                json_object_del(j, "subnets");
        if (!r->libpod) {
                json_t *compat = json_pack("{s:s, s:s}", "Id", made.id, "Warning", "");
                json_decref(j);
                j = compat;
        }
        net_done(&made);
        return api_reply_json(c, r->libpod ? 200 : 201, j);
}

static int connect_or_disconnect(ApiConn *c, ApiRequest *r, bool connect) {
        json_auto_t *b = NULL;
        int e = api_body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        /* Docker's {"Container", "EndpointConfig"}: its addresses and MAC as libpod's keys */
        json_t *ep = r->libpod ? NULL : api_jget(b, "EndpointConfig");
        if (ep)
                (void) json_object_update_new(b, api_endpoint_options(ep));
        const char *net = network_name(c, r), *ref = api_jstr(b, "container");
        bool cni;
        if (!network_exists(&c->srv->store, net, &cni))
                return api_error(c, 404, "network not found", "unable to find network with name or ID %s: network not found", net);
        if (!ref)
                return api_error(c, 400, "bad request", "no container given");
        char id[CTR_ID_LEN + 1];
        RtError err = {};
        if (ctr_lookup(&c->srv->store, ref, id, &err) < 0)
                return api_no_such_container(c, ref);
        if (!connect) {
                if (ctr_network_disconnect(&c->srv->store, id, net, NULL, &err) < 0)
                        return api_rt_error(c, &err, 500, NULL);
                return api_reply_text(c, 200, "OK\n");
        }
        const char *ifname = api_jstr(b, "interface_name");
        if (ifname && !*ifname)
                ifname = NULL;
        const char *mac = api_jstr(b, "static_mac");
        json_t *ips = api_jget(b, "static_ips");
        const char *ip = NULL, *ip6 = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(ips, i, v) {
                const char *s = json_string_value(v);
                if (s && strchr(s, ':'))
                        ip6 = ip6 ?: s;
                else if (s)
                        ip = ip ?: s;
        }
        /* Podman: one interface per network and container, unless named (4.18) */
        NetConnect nc = { .network = net, .ifname = ifname, .mac = mac && *mac ? mac : NULL, .ip = ip, .ip6 = ip6,
                          .once = !ifname };
        if (ctr_network_connect(&c->srv->store, id, &nc, NULL, &err) < 0) {
                if (err.code == -EALREADY)
                        return api_error(c, 500, "network is already connected", "%s: network is already connected",
                                         err.msg);
                return api_rt_error(c, &err, 500, NULL);
        }
        return api_reply_text(c, 200, "OK\n");
}

int api_ep_network_connect(ApiConn *c, ApiRequest *r) {
        return connect_or_disconnect(c, r, true);
}

int api_ep_network_disconnect(ApiConn *c, ApiRequest *r) {
        return connect_or_disconnect(c, r, false);
}

int api_ep_network_delete(ApiConn *c, ApiRequest *r) {
        const char *name = network_name(c, r);
        const CtrStore *s = &c->srv->store;
        bool force = api_query_bool(r, "force", false), cni;
        if (!network_exists(s, name, &cni))
                return api_error(c, 404, "network not found", "unable to find network with name or ID %s: network not found", name);
        if (streq(name, s->default_network))
                return api_error(c, 500, "default network", "default network %s cannot be removed", name);
        /* force (4.20): Podman removes every container still attached */
        Container *cs = NULL;
        size_t n = 0;
        int users = 0;
        if (ctr_list(s, &cs, &n, NULL) == 0) {
                for (size_t i = 0; i < n; i++) {
                        NetAttachment *as = NULL;
                        size_t na = 0;
                        bool on = false;
                        if (net_attachments_load(s, cs[i].config.id, &as, &na, NULL) == 0)
                                for (size_t k = 0; k < na; k++)
                                        on |= streq(as[k].network, name);
                        free(as);
                        if (!on)
                                continue;
                        users++;
                        if (force)
                                (void) ctr_remove(s, cs[i].config.id, true, NULL);
                }
                ctr_list_free(cs, n);
        }
        if (users && !force)
                return api_error(c, 500, "network is being used",
                                 "\"%s\" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used",
                                 name);
        RtError err = {};
        if (cni) {
                /* Podman's CNI backend deletes the conflist it was given (LNST wrote it) */
                CniConfig cfg;
                _cleanup_(strv_freep) char **path = NULL;
                CniList l = {};
                if (net_cni_config(s, &cfg, &path) == 0 && cni_find(&cfg, name, &l, NULL, NULL, NULL) == 0) {
                        if (unlink(l.file) < 0 && errno != ENOENT)
                                (void) rt_err_set(&err, -errno, "remove %s", l.file);
                        cni_list_done(&l);
                }
                if (err.code)
                        return api_rt_error(c, &err, 500, NULL);
        } else if (ctr_network_remove(s, name, force, &err) < 0)
                return api_rt_error(c, &err, 500, err.code == -EBUSY ? "network is being used" : NULL);
        if (!r->libpod)
                return api_reply(c, 204, NULL, NULL, 0);
        return api_reply_json(c, 200, json_pack("[{s:s, s:n}]", "Name", name, "Err"));
}

