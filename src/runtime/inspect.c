/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers and networks as JSON, in the shapes Podman's libpod API and CLI print them:
 * shared by `nsprov inspect` and the API shim, so both say the same thing. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "hash.h"
#include "strv.h"

json_t *ctr_labels_json(char *const *labels) {
        json_t *o = json_object();
        for (size_t i = 0; labels && labels[i]; i++) {
                const char *eq = strchr(labels[i], '=');
                char key[256];
                (void) snprintf(key, sizeof key, "%.*s", (int) (eq - labels[i]), labels[i]);
                json_object_set_new(o, key, json_string(eq + 1));
        }
        return o;
}

json_t *ctr_inspect_json(const CtrStore *s, const Container *c, InspectFormat fmt) {
        const CtrConfig *k = &c->config;
        const CtrState *st = &c->state;
        char created[40], started[40], finished[40], sig[16], logp[PATH_MAX];
        json_t *mounts = json_array();
        for (size_t i = 0; i < k->n_mounts; i++)
                json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
                                                        "Source", k->mounts[i].source, "Destination",
                                                        k->mounts[i].destination, "Driver", "", "RW",
                                                        !k->mounts[i].readonly, "Propagation", "rprivate"));
        (void) ctr_log_path(s, k->id, logp);
        bool running = st->status == CTR_RUNNING;
        json_t *args = json_array();
        for (size_t i = 1; k->argv[i]; i++)
                json_array_append_new(args, json_string(k->argv[i]));
        json_t *state = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s, s:i}",
                                  "Status", ctr_status_to_string(st->status), "Running", running,
                                  "Paused", 0, "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Pid",
                                  running ? (int) st->init.pid : 0, "ExitCode", st->exit_code, "Error",
                                  st->error, "StartedAt", format_rfc3339(st->started_ns, started),
                                  "FinishedAt", format_rfc3339(st->finished_ns, finished), "ConmonPid",
                                  running ? (int) st->monitor.pid : 0);
        /* v4 (what Podman 4 clients decode strictly): Entrypoint one string, StopSignal
         * a number; v5: a list and a name */
        json_t *config = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:s, s:b, s:b, s:i, s:o, s:b, s:b, s:b, s:b}",
                                   "Hostname", k->hostname, "Domainname", "", "Env", strv_to_json(k->env), "Cmd",
                                   strv_to_json(k->argv), "Image", k->image, "Labels",
                                   ctr_labels_json(k->labels), "WorkingDir", k->workdir ? k->workdir : "/",
                                   "Tty", k->tty, "OpenStdin", k->interactive, "StopTimeout", k->stop_timeout,
                                   "CreateCommand", json_array(), "AttachStdin", 0, "AttachStdout", 0,
                                   "AttachStderr", 0, "StdinOnce", 0);
        if (fmt == INSPECT_V4) {
                json_object_set_new(config, "Entrypoint", json_string(""));
                json_object_set_new(config, "StopSignal", json_integer(k->stop_signal));
        } else {
                json_object_set_new(config, "Entrypoint", json_array());
                json_object_set_new(config, "StopSignal", json_string(signal_to_string(k->stop_signal, sig)));
        }
        json_object_set_new(config, "User", json_string(k->user ? k->user : ""));
        /* nsprov's own, for who asks what a start awaits (clients pass over unknown keys) */
        if (k->ready) {
                json_object_set_new(config, "Ready", json_string(k->ready));
                json_object_set_new(config, "ReadyTimeoutMs",
                                    json_integer(k->ready_timeout_ms ? k->ready_timeout_ms
                                                                     : (json_int_t) CTR_READY_DEFAULT_TIMEOUT_MS));
        }
        /* the limits as Podman reports them: 0 for none, Podman's default pids limit */
        json_int_t pids = k->pids_limit < 0 ? 0 : k->pids_limit ? k->pids_limit : CTR_DEFAULT_PIDS_LIMIT;
        json_t *host = json_pack("{s:b, s:b, s:b, s:s, s:o, s:I, s:I, s:I, s:I, s:I}", "Privileged", k->privileged,
                                 "AutoRemove", k->rm, "Init", k->init, "NetworkMode", k->network,
                                 "Binds", json_array(), "PidsLimit", pids, "Memory", (json_int_t) k->memory_limit,
                                 "NanoCpus", (json_int_t) k->cpu_quota_us * 10000, "CpuQuota",
                                 (json_int_t) k->cpu_quota_us, "CpuPeriod",
                                 (json_int_t) (k->cpu_quota_us ? 100000 : 0));
        json_t *nets = json_object();
        char shortid[CTR_SHORT_ID_LEN + 1];
        (void) snprintf(shortid, sizeof shortid, "%s", k->id);
        NetAttachment *as = NULL;
        size_t na = 0;
        if (net_attachments_load(s, k->id, &as, &na, NULL) == 0)
                for (size_t i = 0; i < na; i++) {
                        char mac[NETNS_MAC_STRLEN], a4[INET6_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "",
                                                       g4[INET6_ADDRSTRLEN] = "", g6[INET6_ADDRSTRLEN] = "";
                        Network n = {};
                        bool have = net_load(s, as[i].network, &n, NULL) == 0;
                        if (as[i].addr4.ip.family)
                                netns_ip_format(&as[i].addr4.ip, a4);
                        if (as[i].addr6.ip.family)
                                netns_ip_format(&as[i].addr6.ip, a6);
                        if (as[i].gateway4.family)
                                netns_ip_format(&as[i].gateway4, g4);
                        if (as[i].gateway6.family)
                                netns_ip_format(&as[i].gateway6, g6);
                        /* Podman keys by network; a second interface on one network (which
                         * Podman never allowed) is keyed "<network>/<interface>". */
                        char key[NET_NAME_MAX + NETNS_IFNAME_MAX + 2];
                        (void) snprintf(key, sizeof key, "%s", as[i].network);
                        if (json_object_get(nets, key))
                                (void) snprintf(key, sizeof key, "%s/%s", as[i].network, as[i].ifname);
                        json_object_set_new(nets, key,
                                json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:n, s:n, s:n, s:[s]}",
                                          "EndpointID", "", "NetworkID", have ? n.name : as[i].network, "IPAddress", a4, "IPPrefixLen",
                                          as[i].addr4.ip.family ? as[i].addr4.prefixlen : 0, "Gateway", g4,
                                          "GlobalIPv6Address", a6, "GlobalIPv6PrefixLen",
                                          as[i].addr6.ip.family ? as[i].addr6.prefixlen : 0, "IPv6Gateway", g6,
                                          "MacAddress", netns_mac_format(&as[i].mac, mac), "InterfaceName",
                                          as[i].ifname, "DriverOpts", "IPAMConfig", "Links", "Aliases", shortid));
                        net_done(&n);
                }
        free(as);
        json_t *net = json_pack("{s:s, s:o, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:o}", "SandboxKey",
                                running ? st->netns : "", "Networks", nets, "EndpointID", "", "Gateway", "",
                                "IPPrefixLen", 0, "IPAddress", "", "IPv6Gateway", "", "GlobalIPv6PrefixLen", 0,
                                "GlobalIPv6Address", "", "MacAddress", "", "Ports", json_object());
        if (json_object_size(nets) == 1 && running) {
                /* Podman copies the only network's values to the top (4.2) */
                const char *key;
                json_t *only;
                json_object_foreach(nets, key, only) {
                        static const char *const copied[] = { "Gateway", "IPAddress", "IPPrefixLen", "MacAddress",
                                                              "IPv6Gateway", "GlobalIPv6Address",
                                                              "GlobalIPv6PrefixLen" };
                        for (size_t i = 0; i < sizeof copied / sizeof *copied; i++)
                                json_object_set(net, copied[i], json_object_get(only, copied[i]));
                }
        }
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, "
                         "s:o, s:o, s:o, s:s}",
                         "Id", k->id, "Created", format_rfc3339(k->created_ns, created), "Path",
                         k->argv[0], "Args", args, "State", state, "Image", k->image, "ImageName",
                         k->image, "Rootfs", streq(k->rootfs, CTR_HOST_IMAGE) ? "/" : k->rootfs,
                         "Name", k->name, "RestartCount", 0, "Driver", "overlay", "Mounts", mounts,
                         "NetworkSettings", net, "Config", config, "HostConfig", host,
                         "EffectiveCaps", strv_to_json(k->caps), "BoundingCaps",
                         strv_to_json(k->caps), "LogPath", logp);
}

/* The containers with an interface on a network, keyed by id, as Podman lists them. */
json_t *net_containers_json(const CtrStore *s, const char *network) {
        json_t *containers = json_object();
        Container *cs = NULL;
        size_t nc = 0;
        if (ctr_list(s, &cs, &nc, NULL) == 0) {
                for (size_t i = 0; i < nc; i++) {
                        NetAttachment *as = NULL;
                        size_t na = 0;
                        if (net_attachments_load(s, cs[i].config.id, &as, &na, NULL) < 0)
                                continue;
                        json_t *ifs = json_array();
                        for (size_t k = 0; k < na; k++)
                                if (streq(as[k].network, network)) {
                                        char m[NETNS_MAC_STRLEN];
                                        json_array_append_new(ifs, json_pack("{s:s, s:s}", "name", as[k].ifname,
                                                                             "mac_address", netns_mac_format(&as[k].mac, m)));
                                }
                        if (json_array_size(ifs))
                                json_object_set_new(containers, cs[i].config.id,
                                                    json_pack("{s:s, s:o}", "name", cs[i].config.name,
                                                              "interfaces", ifs));
                        else
                                json_decref(ifs);
                        free(as);
                }
                ctr_list_free(cs, nc);
        }
        return containers;
}

/* A 64-hex id for a CNI network, stable for its name (CNI networks have none of their
 * own; Podman derives one from the name too). */
void net_cni_id(const char *name, char buf[static 65]) {
        uint64_t h = FNV1A_OFFSET;
        for (int i = 0; i < 4; i++) {
                h = fnv1a(h, name, strlen(name));
                (void) snprintf(buf + 16 * i, 17, "%016llx", (unsigned long long) h);
        }
}

/* A CNI network in the shape of a native one, its conflist's facts under "cni". */
json_t *net_cni_inspect_json(const CtrStore *s, const CniNetworkInfo *n) {
        char id[65];
        net_cni_id(n->name, id);
        json_t *plugins = json_array();
        for (char **p = n->plugins; p && *p; p++)
                json_array_append_new(plugins, json_string(*p));
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:[], s:b, s:b, s:b, s:{}, s:{s:s}, s:o, s:{s:s, s:s, s:o}}",
                         "name", n->name, "id", id, "driver", "cni", "network_interface", "", "created", "",
                         "subnets", "ipv6_enabled", 0, "internal", 0, "dns_enabled", 0, "labels",
                         "ipam_options", "driver", "cni", "containers", net_containers_json(s, n->name), "cni",
                         "cniVersion", n->version, "file", n->file, "plugins", plugins);
}

/* The network as Podman 4's libpod answers for it, with the attached containers unless
 * the caller knows there are none (a network just made: the scan reads every container). */
json_t *net_inspect_json(const CtrStore *s, const Network *n, bool with_containers) {
        char created[40];
        json_t *subnets = json_array();
        for (size_t i = 0; i < n->n_subnets; i++) {
                char c[NETNS_CIDR_STRLEN], g[INET6_ADDRSTRLEN];
                json_t *o = json_pack("{s:s}", "subnet", netns_cidr_format(&n->subnets[i].subnet, c));
                if (n->subnets[i].gateway.family)
                        json_object_set_new(o, "gateway", json_string(netns_ip_format(&n->subnets[i].gateway, g)));
                json_array_append_new(subnets, o);
        }
        json_t *labels = json_object();
        for (size_t i = 0; n->labels && n->labels[i]; i++) {
                const char *eq = strchr(n->labels[i], '=');
                if (!eq)
                        continue;
                char key[256];
                (void) snprintf(key, sizeof key, "%.*s", (int) (eq - n->labels[i]), n->labels[i]);
                json_object_set_new(labels, key, json_string(eq + 1));
        }
        json_t *containers = with_containers ? net_containers_json(s, n->name) : json_object();
        char ns[NETNS_NAME_MAX + 1], ns_path[PATH_MAX];
        net_bridge_netns_name(n, ns);
        (void) snprintf(ns_path, sizeof ns_path, "%s/%s", NETNS_RUN_DIR, ns);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:o, s:{s:s}, s:o}", "name",
                         n->name, "id", n->id, "driver", "bridge", "network_interface", n->bridge,
                         "bridge_netns", n->own_netns ? ns_path : "", "created", format_rfc3339(n->created_ns, created), "subnets", subnets,
                         "ipv6_enabled", n->ipv6, "internal", n->internal || n->n_subnets == 0,
                         "dns_enabled", 0, "nat", n->nat, "labels", labels, "ipam_options", "driver",
                         n->n_subnets ? "host-local" : "none", "containers", containers);
}

/* ---- ps rows ---- */

void ctr_human_duration(uint64_t ns, char *buf, size_t size) {
        uint64_t s = ns / 1000000000ull;
        if (s < 1)
                (void) snprintf(buf, size, "Less than a second");
        else if (s < 60)
                (void) snprintf(buf, size, "%llu second%s", (unsigned long long) s, s == 1 ? "" : "s");
        else if (s < 3600)
                (void) snprintf(buf, size, "%llu minute%s", (unsigned long long) (s / 60), s / 60 == 1 ? "" : "s");
        else if (s < 86400)
                (void) snprintf(buf, size, "%llu hour%s", (unsigned long long) (s / 3600), s / 3600 == 1 ? "" : "s");
        else
                (void) snprintf(buf, size, "%llu day%s", (unsigned long long) (s / 86400), s / 86400 == 1 ? "" : "s");
}

void ctr_status_text(const Container *c, char *buf, size_t size) {
        char d[64];
        uint64_t now = now_realtime_ns();
        switch (c->state.status) {
        case CTR_RUNNING:
                ctr_human_duration(now - c->state.started_ns, d, sizeof d);
                (void) snprintf(buf, size, "Up %s", d);
                break;
        case CTR_EXITED:
                ctr_human_duration(now - c->state.finished_ns, d, sizeof d);
                (void) snprintf(buf, size, "Exited (%d) %s ago", c->state.exit_code, d);
                break;
        default:
                (void) snprintf(buf, size, "Created");
        }
}

/* Podman's zero time, 0001-01-01T00:00:00Z, as Unix seconds: what libpod lists for a
 * start or an exit that has not happened */
#define ZERO_TIME_UNIX (-62135596800LL)

json_t *ctr_ps_json(const CtrStore *s, const Container *k, bool status_text) {
        char st[64] = "";
        if (status_text)
                ctr_status_text(k, st, sizeof st);
        char created[40];
        json_t *nets = json_array();
        NetAttachment *as = NULL;
        size_t na = 0;
        if (net_attachments_load(s, k->config.id, &as, &na, NULL) == 0)
                for (size_t i = 0; i < na; i++) {
                        bool dup = false;
                        for (size_t j = 0; j < i; j++)
                                dup |= streq(as[j].network, as[i].network);
                        if (!dup)
                                json_array_append_new(nets, json_string(as[i].network));
                }
        free(as);
        bool running = k->state.status == CTR_RUNNING, exited = k->state.status == CTR_EXITED;
        json_int_t started = k->state.started_ns ? (json_int_t) (k->state.started_ns / 1000000000ull) : ZERO_TIME_UNIX;
        json_int_t ended = exited && k->state.finished_ns ? (json_int_t) (k->state.finished_ns / 1000000000ull)
                                                          : ZERO_TIME_UNIX;
        char iid[65];
        net_cni_id(k->config.image, iid);
        return json_pack("{s:b, s:o, s:s, s:s, s:b, s:I, s:i, s:s, s:s, s:s, s:b, s:o, s:[], s:[s], s:{}, s:o,"
                         " s:i, s:s, s:s, s:n, s:n, s:I, s:s, s:s}",
                         "AutoRemove", k->config.rm, "Command", strv_to_json(k->config.argv), "Created",
                         format_rfc3339(k->config.created_ns, created), "CreatedAt", "", "Exited", exited,
                         "ExitedAt", ended, "ExitCode", k->state.exit_code, "Id", k->config.id, "Image",
                         k->config.image, "ImageID", iid, "IsInfra", 0, "Labels", ctr_labels_json(k->config.labels),
                         "Mounts", "Names", k->config.name, "Namespaces", "Networks", nets, "Pid",
                         running ? (int) k->state.init.pid : 0, "Pod", "", "PodName", "", "Ports", "Size",
                         "StartedAt", started, "State", ctr_status_to_string(k->state.status), "Status", st);
}

