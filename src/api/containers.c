/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers (spec 3): create from libpod's and Docker's bodies, inspect, list, start,
 * stop, kill, restart, wait, logs, top, resize, attach, delete. */
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


/* ---- containers (4.1 – 4.8) ---- */

int api_strv_from_map(json_t *m, char ***ret) {
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        const char *k;
        json_t *val;
        if (!v)
                return -ENOMEM;
        json_object_foreach(m, k, val) {
                if (!json_is_string(val))
                        return -EINVAL;
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", k, json_string_value(val)) < 0 || strv_push(&v, kv) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Docker's EndpointSettings (--ip, --ip6, --mac-address of run and network connect) as
 * libpod's per-network options (4.1). */
json_t *api_endpoint_options(json_t *ep) {
        json_t *o = json_object(), *ips = json_array();
        json_t *ipam = api_jget(ep, "IPAMConfig");
        const char *keys[] = { "IPv4Address", "IPv6Address" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *ip = api_jstr(ipam, keys[i]);
                if (ip && *ip)
                        json_array_append_new(ips, json_string(ip));
        }
        json_object_set_new(o, "static_ips", ips);
        const char *mac = api_jstr(ep, "MacAddress");
        if (mac && *mac)
                json_object_set_new(o, "static_mac", json_string(mac));
        return o;
}

/* Docker's ContainerConfig (compat create, 7.2) in libpod's SpecGenerator terms. */
static json_t *docker_to_spec(json_t *d, const ApiRequest *r) {
        json_t *b = json_object(), *v;
        _cleanup_free_ char *name = http_query_get(r->http.query, "name", 0);
        if (name && *name)
                json_object_set_new(b, "name", json_string(name));
        static const struct {
                const char *from, *to;
        } same[] = { { "Image", "image" }, { "Hostname", "hostname" }, { "Cmd", "command" }, { "Tty", "terminal" },
                     { "OpenStdin", "stdin" }, { "Labels", "labels" }, { "WorkingDir", "work_dir" },
                     { "User", "user" } };
        for (size_t i = 0; i < ELEMENTSOF(same); i++)
                if ((v = api_jget(d, same[i].from)))
                        json_object_set(b, same[i].to, v);
        if ((v = api_jget(d, "Entrypoint")))
                json_object_set_new(b, "entrypoint", json_is_string(v) ? json_pack("[O]", v) : json_incref(v));
        json_t *env = json_object();
        size_t i;
        json_array_foreach(api_jget(d, "Env"), i, v) {
                const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
                if (eq)
                        json_object_setn_new(env, kv, (size_t) (eq - kv), json_string(eq + 1));
        }
        json_object_set_new(b, "env", env);
        json_t *hc = api_jget(d, "HostConfig");
        if (api_jbool(hc, "Privileged"))
                json_object_set_new(b, "privileged", json_true());
        if (api_jbool(hc, "AutoRemove"))
                json_object_set_new(b, "remove", json_true());
        if ((v = api_jget(hc, "CapAdd")))
                json_object_set(b, "cap_add", v);
        /* limits, as libpod's resource_limits: PidsLimit, Memory, NanoCpus or CpuQuota/CpuPeriod */
        json_t *limits = json_object();
        if (json_is_integer(v = api_jget(hc, "PidsLimit")) && json_integer_value(v) != 0)
                json_object_set_new(limits, "pids", json_pack("{s:O}", "limit", v));
        if (json_is_integer(v = api_jget(hc, "Memory")) && json_integer_value(v) > 0)
                json_object_set_new(limits, "memory", json_pack("{s:O}", "limit", v));
        json_int_t nano = json_integer_value(api_jget(hc, "NanoCpus"));
        json_int_t quota = json_integer_value(api_jget(hc, "CpuQuota")), period = json_integer_value(api_jget(hc, "CpuPeriod"));
        if (nano > 0)
                json_object_set_new(limits, "cpu", json_pack("{s:I, s:I}", "quota", nano / 10000, "period", (json_int_t) 100000));
        else if (quota > 0)
                json_object_set_new(limits, "cpu", json_pack("{s:I, s:I}", "quota", quota, "period", period > 0 ? period : 100000));
        json_object_set_new(b, "resource_limits", limits);
        if ((v = api_jget(hc, "CapDrop")))
                json_object_set(b, "cap_drop", v);
        /* -v (Binds "SRC:DST[:ro]") and --mount (Mounts) as libpod's mounts (4.1) */
        json_t *mounts = json_array();
        size_t mi;
        json_array_foreach(api_jget(hc, "Binds"), mi, v) {
                const char *bind = json_string_value(v), *colon = bind ? strchr(bind, ':') : NULL;
                if (!colon) {
                        json_array_append_new(mounts, json_pack("{s:s}", "type", "invalid"));
                        continue;
                }
                const char *dst = colon + 1, *opts = strchr(dst, ':');
                json_t *m = json_pack("{s:s%, s:s%, s:s, s:[]}", "source", bind, (size_t) (colon - bind),
                                      "destination", dst, opts ? (size_t) (opts - dst) : strlen(dst), "type", "bind",
                                      "options");
                if (m && opts && strstr(opts + 1, "ro"))
                        json_array_append_new(json_object_get(m, "options"), json_string("ro"));
                json_array_append_new(mounts, m);
        }
        json_array_foreach(api_jget(hc, "Mounts"), mi, v) {
                const char *type = api_jstr(v, "Type");
                json_array_append_new(mounts, json_pack("{s:s, s:s?, s:s?, s:[]}", "type", type ? type : "", "source",
                                                        api_jstr(v, "Source"), "destination", api_jstr(v, "Target"), "options"));
                if (api_jbool(v, "ReadOnly"))
                        json_array_append_new(json_object_get(json_array_get(mounts, json_array_size(mounts) - 1), "options"),
                                              json_string("ro"));
        }
        if (json_array_size(mounts))
                json_object_set(b, "mounts", mounts);
        json_decref(mounts);
        /* [rows, cols]: the docker CLI's terminal, which it resizes to only after start */
        if ((v = api_jget(hc, "ConsoleSize")))
                json_object_set(b, "console_size", v);
        const char *mode = api_jstr(hc, "NetworkMode");
        json_t *nets = json_object();
        const char *key;
        /* "default" and "bridge" name the default network, which a container joins anyway */
        json_object_foreach(api_jget(api_jget(d, "NetworkingConfig"), "EndpointsConfig"), key, v) if (!streq(key, "default") && !streq(key, "bridge"))
                json_object_set_new(nets, key, api_endpoint_options(v));
        if (mode && (streq(mode, "none") || streq(mode, "host")))
                json_object_set_new(b, "netns", json_pack("{s:s}", "nsmode", mode));
        else if (mode && *mode && !streq(mode, "default") && !streq(mode, "bridge") && !json_object_get(nets, mode))
                json_object_set_new(nets, mode, json_object());
        if (json_object_size(nets))
                json_object_set_new(b, "Networks", nets);
        else
                json_decref(nets);
        return b;
}

/* libpod's resource_limits (the OCI spec's LinuxResources): pids.limit, memory.limit,
 * cpu.quota/period; a value out of range is a 400, answered here (< 0) */
static int api_resource_limits(ApiConn *c, json_t *rl, CtrSpec *spec) {
        json_t *pids = api_jget(api_jget(rl, "pids"), "limit"), *mem = api_jget(api_jget(rl, "memory"), "limit");
        json_t *quota = api_jget(api_jget(rl, "cpu"), "quota"), *period = api_jget(api_jget(rl, "cpu"), "period");
        if (json_is_integer(pids)) {
                json_int_t n = json_integer_value(pids);
                if (n < -1 || n > INT32_MAX)
                        return api_error(c, 400, "bad request", "pids limit %lld out of range", (long long) n), -1;
                spec->pids_limit = n <= 0 ? -1 : n;
        }
        if (json_is_integer(mem) && json_integer_value(mem) > 0) {
                if ((uint64_t) json_integer_value(mem) < CTR_MIN_MEMORY_LIMIT)
                        return api_error(c, 400, "bad request", "a memory limit is at least 6 MiB"), -1;
                spec->memory_limit = (uint64_t) json_integer_value(mem);
        }
        if (json_is_integer(quota) && json_integer_value(quota) > 0) {
                json_int_t p = json_is_integer(period) && json_integer_value(period) > 0 ? json_integer_value(period)
                                                                                         : 100000;
                /* as a quota per 100 ms, the period nsprov sets */
                spec->cpu_quota_us = (uint64_t) (json_integer_value(quota) * 100000 / p);
                if (spec->cpu_quota_us < 1000)
                        spec->cpu_quota_us = 1000;
        }
        return 0;
}

int api_ep_container_create(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int k = api_body_json(c, r, &b);
        if (k < 0)
                return c->keep_alive ? 0 : k;
        if (!r->libpod) {
                json_t *spec = docker_to_spec(b, r);
                json_decref(b);
                b = spec;
        }
        const char *image = api_jstr(b, "image");
        if (!image || !*image)
                return api_error(c, 400, "bad request", "create: no image given");
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, image, &img, NULL) < 0)
                return api_error(c, 404, "image not known", "no such image: %s: image not known", image);
        CtrSpec spec = { .image = img.name, .stop_timeout = -1,
                         .ready_default = strv_env_get(c->srv->ready_defaults, img.name) };
        spec.name = api_jstr(b, "name");
        if (spec.name && !*spec.name)
                spec.name = NULL;
        spec.hostname = api_jstr(b, "hostname");
        if (spec.hostname && !*spec.hostname)
                spec.hostname = NULL;
        spec.privileged = api_jbool(b, "privileged");
        if (api_resource_limits(c, api_jget(b, "resource_limits"), &spec) < 0)
                return 0; /* answered */
        spec.tty = api_jbool(b, "terminal");
        spec.interactive = api_jbool(b, "stdin");
        spec.rm = api_jbool(b, "remove");
        spec.workdir = api_jstr(b, "work_dir");
        spec.user = api_jstr(b, "user");
        if (spec.workdir && !*spec.workdir)
                spec.workdir = NULL;
        _cleanup_(strv_freep) char **command = NULL, **env = NULL, **labels = NULL, **cap_add = NULL,
                                   **cap_drop = NULL, **networks = NULL, **entry = NULL;
        /* borrowed from the body: the arrays only */
        _cleanup_free_ const char **ifn = NULL, **macs = NULL, **ip4s = NULL, **ip6s = NULL;
        json_t *v;
        if ((v = api_jget(b, "command")) && strv_from_json(v, CTR_MAX_ARGS, &command) < 0)
                goto bad;
        /* an entrypoint list: its first word is the entrypoint, the rest goes in front of
         * the command */
        if ((v = api_jget(b, "entrypoint")) && strv_from_json(v, CTR_MAX_ARGS, &entry) < 0)
                goto bad;
        if (entry) {
                spec.entrypoint = entry[0] ? entry[0] : "";
                if (entry[0] && entry[1]) {
                        _cleanup_(strv_freep) char **full = strv_copy(entry + 1);
                        for (char **a = command; a && *a; a++)
                                if (strv_push(&full, *a) < 0)
                                        goto bad;
                        strv_free(command);
                        command = TAKE_PTR(full);
                }
        }
        spec.command = command;
        if ((v = api_jget(b, "env")) && (!json_is_object(v) || api_strv_from_map(v, &env) < 0))
                goto bad;
        spec.env = env;
        if ((v = api_jget(b, "labels")) && (!json_is_object(v) || api_strv_from_map(v, &labels) < 0))
                goto bad;
        spec.labels = labels;
        if ((v = api_jget(b, "cap_add")) && strv_from_json(v, 64, &cap_add) < 0)
                goto bad;
        if ((v = api_jget(b, "cap_drop")) && strv_from_json(v, 64, &cap_drop) < 0)
                goto bad;
        spec.cap_add = cap_add;
        spec.cap_drop = cap_drop;
        if ((v = api_jget(b, "stop_timeout")) && json_is_integer(v))
                spec.stop_timeout = (int) json_integer_value(v);
        char sig[16] = "";
        if ((v = api_jget(b, "stop_signal")) && json_is_integer(v) && json_integer_value(v) > 0) {
                (void) snprintf(sig, sizeof sig, "%d", (int) json_integer_value(v));
                spec.stop_signal = sig;
        }
        /* bind mounts (-v, --mount type=bind); the rest is not nsprov's to make */
        if (json_array_size(api_jget(b, "volumes")) || json_array_size(api_jget(b, "image_volumes")) ||
            json_array_size(api_jget(b, "overlay_volumes"))) {
                image_done(&img);
                return api_error(c, 500, "not supported", "named volumes are not supported by nsprov: bind a host path");
        }
        BindMount binds[CTR_MAX_MOUNTS];
        size_t nb = 0, mi;
        json_array_foreach(api_jget(b, "mounts"), mi, v) {
                const char *type = api_jstr(v, "type"), *src = api_jstr(v, "source"), *dst = api_jstr(v, "destination");
                if (!type || !streq(type, "bind")) {
                        image_done(&img);
                        return api_error(c, 500, "not supported", "mount type \"%s\" is not supported by nsprov: bind a host path",
                                         type ? type : "");
                }
                if (!src || !dst || nb == CTR_MAX_MOUNTS)
                        goto bad;
                bool ro = false;
                size_t oi;
                json_t *o;
                json_array_foreach(api_jget(v, "options"), oi, o) ro |= json_is_string(o) && streq(json_string_value(o), "ro");
                binds[nb++] = (BindMount) { .source = (char *) src, .destination = (char *) dst, .readonly = ro };
        }
        spec.mounts = binds;
        spec.n_mounts = nb;
        /* networks (4.1): netns mode, then the Networks map or the legacy list */
        const char *nsmode = api_jstr(api_jget(b, "netns"), "nsmode");
        if (nsmode && streq(nsmode, "none")) {
                char *none[] = { (char *) "none", NULL };
                networks = strv_copy(none);
        } else if (nsmode && *nsmode && !streq(nsmode, "bridge") && !streq(nsmode, "private")) {
                image_done(&img);
                return api_error(c, 500, "not supported", "network mode \"%s\" is not supported by nsprov", nsmode);
        } else {
                json_t *nets = api_jget(b, "Networks");
                const char *key;
                json_t *val;
                /* per network: interface_name, static_mac, static_ips (4.1) */
                /* room for the legacy cni_networks names too: the arrays are parallel to all */
                size_t nn = (json_is_object(nets) ? json_object_size(nets) : 0) + json_array_size(api_jget(b, "cni_networks")),
                       at = 0;
                if (nn > 0 && (!(ifn = calloc(nn + 1, sizeof *ifn)) || !(macs = calloc(nn + 1, sizeof *macs)) ||
                               !(ip4s = calloc(nn + 1, sizeof *ip4s)) || !(ip6s = calloc(nn + 1, sizeof *ip6s))))
                        goto bad;
                if (json_is_object(nets))
                        json_object_foreach(nets, key, val) {
                                /* Podman's client names the default network "default" when
                                 * --ip or --mac-address come without --network */
                                (void) strv_push(&networks, streq(key, "default") ? c->srv->store.default_network : key);
                                const char *f = api_jstr(val, "interface_name"), *m = api_jstr(val, "static_mac");
                                ifn[at] = f && *f ? f : NULL;
                                macs[at] = m && *m ? m : NULL;
                                size_t x;
                                json_t *ipv;
                                json_array_foreach(api_jget(val, "static_ips"), x, ipv) {
                                        const char *ip = json_string_value(ipv);
                                        if (ip && strchr(ip, ':') && !ip6s[at])
                                                ip6s[at] = ip;
                                        else if (ip && !strchr(ip, ':') && !ip4s[at])
                                                ip4s[at] = ip;
                                }
                                at++;
                        }
                spec.net_ifnames = ifn;
                spec.net_macs = macs;
                spec.net_ips = ip4s;
                spec.net_ip6s = ip6s;
                size_t i;
                json_array_foreach(api_jget(b, "cni_networks"), i, val) if (json_is_string(val))(void) strv_push(&networks, json_string_value(val));
        }
        spec.networks = networks;

        char id[CTR_ID_LEN + 1];
        RtError e = {};
        k = ctr_create(&c->srv->store, &spec, id, &e);
        image_done(&img);
        if (k == -EEXIST)
                return api_error(c, r->libpod ? 500 : 409, "that name is already in use", "%s: that name is already in use", e.msg);
        if (k < 0)
                return api_rt_error(c, &e, 500, NULL);
        json_t *size = api_jget(b, "console_size");
        unsigned short rows = api_json_dimension(json_array_get(size, 0)), cols = api_json_dimension(json_array_get(size, 1));
        if (spec.tty && rows && cols)
                (void) ctr_resize_tty(&c->srv->store, id, rows, cols, NULL);
        return api_reply_json(c, 201, json_pack("{s:s, s:[]}", "Id", id, "Warnings"));
bad:
        image_done(&img);
        return api_error(c, 400, "bad request", "create: a field has the wrong type");
}

int api_ep_container_json(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        json_t *j = ctr_inspect_json(&c->srv->store, &k, !r->libpod || api_major_version(r) >= 5 ? INSPECT_V5 : INSPECT_V4);
        if (!r->libpod) {
                /* compat (Docker) names carry a slash */
                char name[CTR_NAME_MAX + 2];
                (void) snprintf(name, sizeof name, "/%s", k.config.name);
                json_object_set_new(j, "Name", json_string(name));
                char iid[65], sha[72];
                net_cni_id(k.config.image, iid);
                (void) snprintf(sha, sizeof sha, "sha256:%s", iid);
                json_object_set_new(j, "Image", json_string(sha));
        }
        return api_reply_json(c, 200, j);
}

int api_ep_container_exists(ApiConn *c, ApiRequest *r) {
        char id[CTR_ID_LEN + 1];
        if (ctr_lookup(&c->srv->store, r->segs[1], id, NULL) < 0)
                return api_error(c, 404, "no such container", "no such container");
        return api_reply(c, 204, NULL, NULL, 0);
}

/* filters: {"name":["x"]} (libpod) or {"name":{"x":true}} (docker): any value matches */
bool api_filter_match(json_t *filters, const char *key, const char *value, bool prefix) {
        json_t *f = json_object_get(filters, key);
        if (!f)
                return true;
        size_t i;
        json_t *v;
        const char *k;
        bool any = false;
        if (json_is_array(f))
                json_array_foreach(f, i, v) {
                        const char *s = json_string_value(v);
                        any |= s && (prefix ? strncmp(value, s, strlen(s)) == 0 : strstr(value, s) != NULL);
                }
        else if (json_is_object(f))
                json_object_foreach(f, k, v) any |= prefix ? strncmp(value, k, strlen(k)) == 0 : strstr(value, k) != NULL;
        return any;
}

static bool label_match(json_t *filters, char *const *labels) {
        json_t *f = json_object_get(filters, "label");
        if (!f)
                return true;
        size_t i;
        json_t *v;
        json_array_foreach(f, i, v) {
                const char *want = json_string_value(v);
                if (!want)
                        continue;
                bool found = false;
                for (char *const *l = labels; l && *l; l++)
                        found |= streq(*l, want) || (!strchr(want, '=') && startswith(*l, want) && (*l)[strlen(want)] == '=');
                if (!found)
                        return false;
        }
        return true;
}

/* docker ps's entry (7.2): names with a slash, the command one string, times in seconds */
static json_t *compat_ps_entry(const CtrStore *s, const Container *k) {
        char iid[65], sha[72], name[CTR_NAME_MAX + 2], cmd[1024] = "", status[64];
        net_cni_id(k->config.image, iid);
        (void) snprintf(sha, sizeof sha, "sha256:%s", iid);
        (void) snprintf(name, sizeof name, "/%s", k->config.name);
        for (char **a = k->config.argv; a && *a; a++) {
                size_t l = strlen(cmd);
                (void) snprintf(cmd + l, sizeof cmd - l, "%s%s", a == k->config.argv ? "" : " ", *a);
        }
        if (k->state.status == CTR_RUNNING)
                (void) snprintf(status, sizeof status, "Up");
        else if (k->state.status == CTR_EXITED)
                (void) snprintf(status, sizeof status, "Exited (%d)", k->state.exit_code);
        else
                (void) snprintf(status, sizeof status, "Created");
        json_t *insp = ctr_inspect_json(s, k, INSPECT_V5);
        json_t *nets = json_incref(json_object_get(json_object_get(insp, "NetworkSettings"), "Networks"));
        json_decref(insp);
        return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:o, s:s, s:s, s:{s:s}, s:{s:o}, s:[]}", "Id",
                         k->config.id, "Names", name, "Image", k->config.image, "ImageID", sha, "Command", cmd,
                         "Created", (json_int_t) (k->config.created_ns / 1000000000ull), "Ports", "Labels",
                         ctr_labels_json(k->config.labels), "State", ctr_status_to_string(k->state.status), "Status",
                         status, "HostConfig", "NetworkMode", k->config.network, "NetworkSettings", "Networks",
                         nets ? nets : json_object(), "Mounts");
}

int api_ep_containers_list(ApiConn *c, ApiRequest *r) {
        bool all = api_query_bool(r, "all", false);
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        if (!json_is_object(filters))
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters': \"%s\"", ftext);
        Container *cs = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_list(&c->srv->store, &cs, &n, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                const Container *k = &cs[i];
                bool status_filtered = json_object_get(filters, "status") != NULL;
                if (!all && !status_filtered && k->state.status != CTR_RUNNING)
                        continue;
                if (!api_filter_match(filters, "name", k->config.name, false) ||
                    !api_filter_match(filters, "id", k->config.id, true) ||
                    !api_filter_match(filters, "status", ctr_status_to_string(k->state.status), true) ||
                    !label_match(filters, k->config.labels))
                        continue;
                json_array_append_new(arr, r->libpod ? ctr_ps_json(&c->srv->store, k, false) : compat_ps_entry(&c->srv->store, k));
        }
        ctr_list_free(cs, n);
        return api_reply_json(c, 200, arr);
}

int api_ep_container_start(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status == CTR_RUNNING)
                return api_reply(c, 304, NULL, NULL, 0);
        RtError e = {};
        /* synchronous (4.5): the netns is wired and the address taken when this returns */
        if (ctr_start(&c->srv->store, k.config.id, NULL, NULL, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_ep_container_stop(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status != CTR_RUNNING)
                return api_reply(c, 304, NULL, NULL, 0);
        _cleanup_free_ char *t = http_query_get(r->http.query, r->libpod ? "timeout" : "t", 0);
        int timeout = t && *t ? atoi(t) : -1;
        RtError e = {};
        if (ctr_stop(&c->srv->store, k.config.id, timeout, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

/* containers/{n}/top: Titles and Processes, as podman top and docker top print them
 * (ps_args are not ps's here: the columns are fixed). */
int api_ep_container_top(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 409, "container state improper",
                                 "top can only be used on running containers: container %s is %s", k.config.id,
                                 ctr_status_to_string(k.state.status));
        _cleanup_free_ CtrProcess *ps = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_top(&c->srv->store, k.config.id, &ps, &n, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
                char pid[16], ppid[16];
                (void) snprintf(pid, sizeof pid, "%d", (int) ps[i].pid);
                (void) snprintf(ppid, sizeof ppid, "%d", (int) ps[i].ppid);
                json_array_append_new(rows, json_pack("[s, s, s, s]", ps[i].user, pid, ppid, ps[i].command));
        }
        return api_reply_json(c, 200, json_pack("{s:[s, s, s, s], s:o}", "Titles", "USER", "PID", "PPID", "COMMAND",
                                                "Processes", rows));
}

/* containers/{n}/resize (7.1): libpod says 201, Docker 200 */
int api_ep_container_resize(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        RtError e = {};
        if (ctr_resize_tty(&c->srv->store, k.config.id, api_query_dimension(r, "h"), api_query_dimension(r, "w"), &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        return api_reply(c, r->libpod ? 201 : 200, NULL, NULL, 0);
}

int api_ep_container_kill(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        _cleanup_free_ char *sig = http_query_get(r->http.query, "signal", 0);
        int s = sig && *sig ? signal_from_string(sig) : SIGKILL;
        if (s < 0)
                return api_error(c, 400, "bad request", "failed to parse query parameter 'signal': \"%s\"", sig);
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 409, "container state improper", "can only kill running containers. %s is in state %s: container state improper",
                                 k.config.id, ctr_status_to_string(k.state.status));
        RtError e = {};
        if (ctr_kill(&c->srv->store, k.config.id, s, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_ep_container_restart(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        _cleanup_free_ char *t = http_query_get(r->http.query, r->libpod ? "timeout" : "t", 0);
        RtError e = {};
        if (ctr_restart(&c->srv->store, k.config.id, t && *t ? atoi(t) : -1, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_ep_container_delete(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return api_query_bool(r, "ignore", false) ? api_reply_json(c, 200, json_array()) : reply;
        bool force = api_query_bool(r, "force", false);
        if (k.state.status == CTR_RUNNING && !force)
                return api_error(c, 500, "container state improper",
                                 "cannot remove container %s as it is running - running or paused containers cannot be "
                                 "removed without force: container state improper",
                                 k.config.id);
        RtError e = {};
        if (ctr_remove(&c->srv->store, k.config.id, force, &e) < 0 && e.code != -ENOENT)
                return api_rt_error(c, &e, 500, NULL);
        api_sessions_drop_container(c->srv, k.config.id);
        if (!r->libpod)
                return api_reply(c, 204, NULL, NULL, 0);
        return api_reply_json(c, 200, json_pack("[{s:s, s:s}]", "Id", k.config.id, "RawInput", r->segs[1]));
}

/* Docker's wait (6): the headers at once (the docker CLI starts the container only once
 * it has them), the body when the condition holds, chunked. */
static int compat_wait(ApiConn *c, ApiRequest *r, const Container *k) {
        _cleanup_free_ char *cond = http_query_get(r->http.query, "condition", 0);
        const char *want = cond && *cond ? cond : "not-running";
        if (!streq(want, "not-running") && !streq(want, "next-exit") && !streq(want, "removed"))
                return api_error(c, 400, "bad request", "invalid condition \"%s\"", want);
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n,
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        uint64_t since = now_realtime_ns();
        int code = -1;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k->config.id, sizeof id);
        for (;;) {
                _cleanup_(ctr_done) Container now = {};
                bool gone = ctr_load(&c->srv->store, id, &now, NULL) < 0;
                if (!gone)
                        (void) ctr_state_observe(&now);
                if (gone) {
                        int recorded;
                        code = ctr_removed_exit_code(&c->srv->store, id, &recorded) == 0 ? recorded : code;
                        break;
                }
                code = now.state.exit_code;
                if (streq(want, "not-running") && now.state.status != CTR_RUNNING)
                        break;
                if (streq(want, "next-exit") && now.state.status == CTR_EXITED && now.state.finished_ns >= since)
                        break;
                struct pollfd pfd = { c->fd, 0, 0 }; /* a half-close is no goodbye: only a hang-up */
                if (poll(&pfd, 1, 50) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        return -ECONNRESET;
        }
        char body[96], chunk[160];
        int bl = snprintf(body, sizeof body, "{\"StatusCode\":%d,\"Error\":null}\n", code);
        int cl = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n0\r\n\r\n", bl, body);
        (void) api_write_all(c->fd, chunk, (size_t) cl);
        return -ECONNRESET;
}

/* wait (4.6): held open, polled at the interval, given up when the client goes. */
static int reply_removed_exit(ApiConn *c, ApiRequest *r, const char *id) {
        int code;
        if (ctr_removed_exit_code(&c->srv->store, id, &code) < 0)
                return api_no_such_container(c, r->segs[1]);
        char body[32];
        (void) snprintf(body, sizeof body, "%d\n", code);
        return api_reply_text(c, 200, body);
}

int api_ep_container_wait(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        char probe[CTR_ID_LEN + 1];
        int code;
        /* an --rm container already gone: its recorded exit code */
        if (ctr_lookup(&c->srv->store, r->segs[1], probe, NULL) < 0 &&
            ctr_removed_exit_code(&c->srv->store, r->segs[1], &code) == 0) {
                if (!r->libpod)
                        return api_reply_json(c, 200, json_pack("{s:i, s:n}", "StatusCode", code, "Error"));
                return reply_removed_exit(c, r, r->segs[1]);
        }
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (!r->libpod)
                return compat_wait(c, r, &k);
        bool want[_CTR_STATUS_MAX] = {};
        bool any = false;
        for (unsigned i = 0;; i++) {
                _cleanup_free_ char *cond = http_query_get(r->http.query, "condition", i);
                if (!cond)
                        break;
                any = true;
                if (streq(cond, "running"))
                        want[CTR_RUNNING] = true;
                else if (streq(cond, "created") || streq(cond, "configured"))
                        want[CTR_CREATED] = true;
                else if (streq(cond, "stopped") || streq(cond, "exited") || streq(cond, "not-running"))
                        want[CTR_EXITED] = true;
                else if (!streq(cond, "paused") && !streq(cond, "removing") && !streq(cond, "stopping") &&
                         !streq(cond, "next-exit") && !streq(cond, "healthy") && !streq(cond, "unhealthy"))
                        return api_error(c, 400, "bad request", "invalid condition \"%s\"", cond);
        }
        if (!any)
                want[CTR_EXITED] = true;
        _cleanup_free_ char *interval = http_query_get(r->http.query, "interval", 0);
        int step_ms = 100;
        if (interval && strstr(interval, "ms"))
                step_ms = atoi(interval) > 0 && atoi(interval) < step_ms ? atoi(interval) : step_ms;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k.config.id, sizeof id);
        for (;;) {
                _cleanup_(ctr_done) Container now = {};
                if (ctr_load(&c->srv->store, id, &now, NULL) < 0)
                        return reply_removed_exit(c, r, id);
                (void) ctr_state_observe(&now);
                if (want[now.state.status]) {
                        char body[32];
                        (void) snprintf(body, sizeof body, "%d\n", now.state.status == CTR_EXITED ? now.state.exit_code : -1);
                        return api_reply_text(c, 200, body);
                }
                /* a client that went away ends the wait */
                struct pollfd pfd = { c->fd, 0, 0 }; /* a half-close is no goodbye: only a hang-up */
                if (poll(&pfd, 1, step_ms) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        return -ECONNRESET;
        }
}

/* logs (7.1): the k8s-file lines as stdout/stderr frames (frames.c), a body that ends
 * when the connection closes; follow reads on until the container has stopped. */
typedef struct LogsReply {
        int fd;
        bool want_out, want_err, stamps;
} LogsReply;

static int frame_log_line(const CtrLogLine *l, void *userdata) {
        const LogsReply *lr = userdata;
        return api_log_frame_line(lr->fd, l, lr->want_out, lr->want_err, lr->stamps);
}

int api_ep_container_logs(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        bool follow = api_query_bool(r, "follow", false), stamps = api_query_bool(r, "timestamps", false);
        bool want_out = api_query_bool(r, "stdout", true), want_err = api_query_bool(r, "stderr", true);
        _cleanup_free_ char *tail = http_query_get(r->http.query, "tail", 0);
        long tail_n = tail && *tail && !streq(tail, "all") ? atol(tail) : -1;
        if (api_stream_head(c, "application/octet-stream") < 0)
                return -ECONNRESET;
        LogsReply lr = { .fd = c->fd, .want_out = want_out, .want_err = want_err, .stamps = stamps };
        CtrLogRead read = { .tail = tail_n, .follow = follow, .cancel_fd = c->fd };
        RtError e = {};
        if (ctr_log_read(&c->srv->store, k.config.id, &read, frame_log_line, &lr, &e) < 0 && e.code != -EPIPE)
                log_debug("logs of '%s': %s", k.config.name, e.msg);
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
}

/* attach (7.1), as `podman run` without -d uses it: hijacked before the start, then the
 * container's output from its log as it is written (frames, or raw bytes with a tty),
 * until the container has run and ended. inotify opens the log the moment the monitor
 * makes it, so an --rm container's output is held by our fd before its dir goes. Stdin
 * is not forwarded. */
int api_ep_container_attach(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (api_load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        bool want_out = api_query_bool(r, "stdout", true), want_err = api_query_bool(r, "stderr", true);
        char path[PATH_MAX], dir[PATH_MAX];
        (void) ctr_log_path(&c->srv->store, k.config.id, path);
        (void) snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        _cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino >= 0)
                (void) inotify_add_watch(ino, dir, IN_CREATE | IN_MODIFY | IN_DELETE_SELF);
        _cleanup_close_ int log = open(path, O_RDONLY | O_CLOEXEC);
        if (log >= 0)
                (void) lseek(log, 0, SEEK_END); /* what was before the attach is logs' business */
        bool upgrade = r->http.upgrade[0];
        char head[512];
        int n = upgrade ? snprintf(head, sizeof head,
                                   "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                   "Connection: Upgrade\r\nUpgrade: %s\r\n\r\n",
                                   r->http.upgrade)
                        : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        uint64_t since = now_realtime_ns();
        bool ran = k.state.status == CTR_RUNNING;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k.config.id, sizeof id);
        _cleanup_free_ char *pending = NULL;
        size_t plen = 0;
        /* stdin (an -i container): held until the container runs, then handed to its
         * monitor; the client's half-close is its EOF */
        enum { STDIN_HELD_MAX = 1 << 20 };
        bool in_open = api_query_bool(r, "stdin", false) && k.config.interactive, in_eof_sent = false;
        _cleanup_close_ int mon = -1;
        _cleanup_free_ char *inbuf = in_open ? malloc(STDIN_HELD_MAX) : NULL;
        size_t inlen = 0;
        if (in_open && !inbuf)
                return -ENOMEM;
        if (in_open && c->len) {
                size_t take = c->len < STDIN_HELD_MAX ? c->len : STDIN_HELD_MAX;
                memcpy(inbuf, c->buf, take);
                inlen = take;
        }
        c->len = 0;
        bool in_wanted = in_open;
        for (bool last = false;;) {
                if (log < 0)
                        log = open(path, O_RDONLY | O_CLOEXEC);
                for (;;) {
                        char buf[16384];
                        ssize_t got = log >= 0 ? read(log, buf, sizeof buf) : 0;
                        if (got <= 0)
                                break;
                        char *p2 = realloc(pending, plen + (size_t) got + 1);
                        if (!p2)
                                return -ENOMEM;
                        pending = p2;
                        memcpy(pending + plen, buf, (size_t) got);
                        plen += (size_t) got;
                }
                if (plen) {
                        int used = api_log_frames(c->fd, pending, plen, want_out, want_err, false, 0);
                        if (used < 0)
                                return -ECONNRESET;
                        memmove(pending, pending + used, plen - (size_t) used);
                        plen -= (size_t) used;
                }
                if (last)
                        break;
                _cleanup_(ctr_done) Container now = {};
                bool gone = ctr_load(&c->srv->store, id, &now, NULL) < 0;
                if (!gone) {
                        (void) ctr_state_observe(&now);
                        ran |= now.state.status == CTR_RUNNING;
                }
                if (gone || (now.state.status == CTR_EXITED && (ran || now.state.finished_ns >= since))) {
                        last = true; /* one more read drains what the end wrote */
                        continue;
                }
                if (in_wanted && mon < 0 && !gone && now.state.status == CTR_RUNNING &&
                    (mon = ctr_stdin_connect(&c->srv->store, id, NULL)) < 0)
                        in_wanted = false; /* its monitor takes none: what comes is dropped */
                if (mon >= 0 && inlen) {
                        if (api_write_all(mon, inbuf, inlen) < 0)
                                mon = safe_close(mon), in_wanted = false;
                        inlen = 0;
                }
                if (mon >= 0 && !in_open && !inlen && !in_eof_sent) {
                        (void) shutdown(mon, SHUT_WR);
                        in_eof_sent = true;
                }
                /* the client half-closes when it has no stdin to send (docker does):
                 * only a hang-up ends the stream */
                bool read_in = in_open && inlen < STDIN_HELD_MAX;
                struct pollfd p[2] = { { c->fd, read_in ? POLLIN : 0, 0 }, { ino, POLLIN, 0 } };
                if (poll(p, ino >= 0 ? 2 : 1, 50) > 0) {
                        if (read_in && (p[0].revents & (POLLIN | POLLHUP))) {
                                ssize_t got = recv(c->fd, inbuf + inlen, STDIN_HELD_MAX - inlen, MSG_DONTWAIT);
                                if (got > 0)
                                        inlen = in_wanted ? inlen + (size_t) got : 0;
                                else if (got == 0)
                                        in_open = false; /* stdin's EOF, not a hang-up */
                                else if (errno != EAGAIN && errno != EINTR)
                                        return -ECONNRESET;
                        } else if (p[0].revents & (POLLHUP | POLLERR))
                                return -ECONNRESET;
                        char ev[4096];
                        while (ino >= 0 && read(ino, ev, sizeof ev) > 0)
                                ;
                }
        }
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
}
