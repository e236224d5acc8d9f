/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsprov network create|ls|inspect|exists|rm|connect|disconnect */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "cli.h"
#include "hash.h"
#include "log.h"
#include "parse.h"
#include "strv.h"




static int network_create(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_SUBNET = 0x100, OPT_GW, OPT_RANGE, OPT_BRIDGE, OPT_MTU, OPT_INTERNAL, OPT_IPV6,
               OPT_DAD, OPT_IGNORE, OPT_DRIVER, OPT_NAT, OPT_HOST_BRIDGE, OPT_HELP };
        static const struct option options[] = {
                { "subnet", required_argument, NULL, OPT_SUBNET }, { "gateway", required_argument, NULL, OPT_GW },
                { "ip-range", required_argument, NULL, OPT_RANGE },
                { "bridge", required_argument, NULL, OPT_BRIDGE }, { "interface-name", required_argument, NULL, OPT_BRIDGE },
                { "mtu", required_argument, NULL, OPT_MTU },      { "internal", no_argument, NULL, OPT_INTERNAL },
                { "ipv6", no_argument, NULL, OPT_IPV6 },          { "ipv6-dad", no_argument, NULL, OPT_DAD },
                { "nat", no_argument, NULL, OPT_NAT },            { "host-bridge", no_argument, NULL, OPT_HOST_BRIDGE },
                { "label", required_argument, NULL, 'l' },        { "disable-dns", no_argument, NULL, OPT_IGNORE },
                { "driver", required_argument, NULL, OPT_DRIVER }, { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        _cleanup_(strv_freep) char **subnets = NULL, **labels = NULL;
        const char *gateways[NET_MAX_SUBNETS + 1] = {}, *ranges[NET_MAX_SUBNETS + 1] = {};
        NetCreate nc = {};
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "l:d:", options, NULL)) >= 0)
                switch (c) {
                case OPT_SUBNET:
                        if (strv_length(subnets) >= NET_MAX_SUBNETS)
                                return usage_error("network create ", "at most %d --subnet", NET_MAX_SUBNETS);
                        if (strv_push(&subnets, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_GW:
                        if (!subnets)
                                return usage_error("network create ", "--gateway follows the --subnet it belongs to");
                        gateways[strv_length(subnets) - 1] = optarg;
                        break;
                case OPT_RANGE:
                        if (!subnets)
                                return usage_error("network create ", "--ip-range follows the --subnet it belongs to");
                        ranges[strv_length(subnets) - 1] = optarg;
                        break;
                case OPT_BRIDGE: nc.bridge = optarg; break;
                case OPT_MTU: {
                        uint32_t m;
                        if (safe_atou32_range(optarg, 68, 65535, &m) < 0)
                                return usage_error("network create ", "--mtu takes 68-65535, not '%s'", optarg);
                        nc.mtu = m;
                        break;
                }
                case OPT_INTERNAL: nc.internal = true; break;
                case OPT_IPV6: nc.ipv6 = true; break;
                case OPT_DAD: nc.ipv6_dad = true; break;
                case OPT_NAT: nc.nat = true; break;
                case OPT_HOST_BRIDGE: nc.host_bridge = true; break;
                case 'l':
                        if (!strchr(optarg, '='))
                                return usage_error("network create ", "--label '%s' is not K=V", optarg);
                        if (strv_push(&labels, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_IGNORE: break; /* no DNS to disable */
                case 'd':
                case OPT_DRIVER:
                        if (!streq(optarg, "bridge"))
                                return usage_error("network create ", "driver '%s': only 'bridge' is native", optarg);
                        break;
                case OPT_HELP:
                        printf("Usage: nsprov network create [--subnet CIDR [--gateway IP] [--ip-range CIDR]]... [--internal]\n"
                               "                             [--bridge NAME] [--host-bridge] [--mtu N] [--ipv6] [--ipv6-dad]\n"
                               "                             [--nat] [-l K=V] NAME\n\n"
                               "Creates a bridge network. Without --subnet it is L2 only (no addresses: the\n"
                               "test sets its own, as LNST's networks do); with one, containers get addresses\n"
                               "from it (the gateway, the first host by default, lives on the bridge unless\n"
                               "--internal). IPv6 duplicate address detection is off on its links unless\n"
                               "--ipv6-dad. --nat turns on IPv4 forwarding and masquerades what leaves the\n"
                               "host from the subnet (nftables table ip nsprov-<id>).\n"
                               "A bridge the host has no address on (L2 only, or --internal) lives in a netns\n"
                               "of the network's own, nsprov-net-<name>-<id>, apart from the host's firewall\n"
                               "and tools (capture there: ip netns exec nsprov-net-... tcpdump -i BRIDGE);\n"
                               "--host-bridge keeps it on the host, as does --bridge naming a host bridge.\n");
                        return 0;
                default:
                        return usage_error("network create ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (argc - optind != 1)
                return usage_error("network create ", "name one network");
        nc.name = argv[optind];
        nc.subnets = (const char *const *) subnets;
        nc.gateways = gateways;
        nc.ranges = ranges;
        nc.n_subnets = strv_length(subnets);
        nc.labels = labels;
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        if (net_create(&s, &nc, NULL, &e) < 0)
                return cli_fail(&e);
        printf("%s\n", nc.name);
        return 0;
}

static int network_ls(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "format", required_argument, NULL, 'f' },
                                                  { "quiet", no_argument, NULL, 'q' },
                                                  { "help", no_argument, NULL, 'h' }, {} };
        OutputFormat fmt = OUTPUT_TABLE;
        bool quiet = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+q", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("network ls ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'q': quiet = true; break;
                case 'h':
                        printf("Usage: nsprov network ls [-q] [--format table|json]\n");
                        return 0;
                default:
                        return usage_error("network ls ", "unknown option '%s'", argv[optind - 1]);
                }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        Network *ns = NULL;
        size_t n = 0;
        if (net_list(&s, &ns, &n, &e) < 0)
                return cli_fail(&e);
        json_t *arr = fmt == OUTPUT_JSON ? json_array() : NULL;
        if (!arr && !quiet)
                printf("%-12s  %-24s  %-8s  %-15s  %s\n", "NETWORK ID", "NAME", "DRIVER", "BRIDGE", "SUBNETS");
        for (size_t i = 0; i < n; i++) {
                if (arr) {
                        json_array_append_new(arr, net_inspect_json(&s, &ns[i], true));
                        continue;
                }
                if (quiet) {
                        printf("%s\n", ns[i].name);
                        continue;
                }
                char subs[256] = "";
                for (size_t k = 0; k < ns[i].n_subnets; k++) {
                        char cb[NETNS_CIDR_STRLEN];
                        size_t l = strlen(subs);
                        (void) snprintf(subs + l, sizeof subs - l, "%s%s", k ? "," : "",
                                        netns_cidr_format(&ns[i].subnets[k].subnet, cb));
                }
                printf("%-12.12s  %-24s  %-8s  %-15s  %s\n", ns[i].id, ns[i].name, "bridge", ns[i].bridge,
                       *subs ? subs : "(L2 only)");
        }
        /* CNI networks beside them; a native one of the same name shadows its conflist */
        CniNetworkInfo *cn = NULL;
        size_t ncn = 0;
        if (net_cni_list(&s, &cn, &ncn, &e) < 0)
                log_warning("CNI networks not listed: %s", e.msg);
        for (size_t i = 0; i < ncn; i++) {
                bool shadowed = false;
                for (size_t k = 0; k < n; k++)
                        shadowed |= streq(ns[k].name, cn[i].name);
                if (shadowed)
                        continue;
                if (arr) {
                        json_array_append_new(arr, net_cni_inspect_json(&s, &cn[i]));
                        continue;
                }
                if (quiet) {
                        printf("%s\n", cn[i].name);
                        continue;
                }
                char id[65], plugins[256] = "";
                net_cni_id(cn[i].name, id);
                for (char **p = cn[i].plugins; p && *p; p++) {
                        size_t l = strlen(plugins);
                        (void) snprintf(plugins + l, sizeof plugins - l, "%s%s", p == cn[i].plugins ? "" : ",", *p);
                }
                printf("%-12.12s  %-24s  %-8s  %-15s  %s\n", id, cn[i].name, "cni", "-", plugins);
        }
        net_cni_list_free(cn, ncn);
        if (arr) {
                cli_print_json(arr);
        }
        net_list_free(ns, n);
        return 0;
}

/* A CNI network of the config dir by name, or -ENOENT. */
static int cni_network_load(const CtrStore *s, const char *name, CniNetworkInfo **ret, size_t *ret_n,
                            size_t *ret_index) {
        if (net_cni_list(s, ret, ret_n, NULL) < 0)
                return -ENOENT;
        for (size_t i = 0; i < *ret_n; i++)
                if (streq((*ret)[i].name, name)) {
                        *ret_index = i;
                        return 0;
                }
        net_cni_list_free(*ret, *ret_n);
        *ret = NULL;
        return -ENOENT;
}

static int network_inspect(int argc, char **argv, const GlobalOptions *g) {
        if (argc < 2 || streq(argv[1], "--help")) {
                printf("Usage: nsprov network inspect NETWORK...\n");
                return argc < 2 ? EXIT_NSPROV : 0;
        }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        json_t *arr = json_array();
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                RtError e = {};
                Network n = {};
                if (net_load(&s, argv[i], &n, &e) < 0) {
                        CniNetworkInfo *cn = NULL;
                        size_t ncn = 0, at = 0;
                        if (e.code == -ENOENT && cni_network_load(&s, argv[i], &cn, &ncn, &at) == 0) {
                                json_array_append_new(arr, net_cni_inspect_json(&s, &cn[at]));
                                net_cni_list_free(cn, ncn);
                                continue;
                        }
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                        continue;
                }
                json_array_append_new(arr, net_inspect_json(&s, &n, true));
                net_done(&n);
        }
        cli_print_json(arr);
        return rc;
}

static int network_exists(int argc, char **argv, const GlobalOptions *g) {
        if (argc != 2 || streq(argv[1], "--help")) {
                printf("Usage: nsprov network exists NETWORK\n\nExit status 0 if it exists, 1 if not.\n");
                return argc == 2 ? 0 : EXIT_NSPROV;
        }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        Network n = {};
        RtError e = {};
        r = net_load(&s, argv[1], &n, &e);
        net_done(&n);
        if (r == -ENOENT)
                return net_cni_exists(&s, argv[1], NULL) == 0 ? 0 : 1;
        return r < 0 ? cli_fail(&e) : 0;
}

typedef struct RemoveOutcome {
        const CtrStore *store;
        bool quiet_busy;
        bool failed;
        int status; /* Podman's: 1 a network named does not exist, 2 one is in use, else 125 */
} RemoveOutcome;

static void outcome_status(RemoveOutcome *out, int code) {
        out->failed = true;
        out->status = code == EXIT_NSPROV || out->status == EXIT_NSPROV ? EXIT_NSPROV : MAX(out->status, code);
}

static void report_removal(const char *name, int r, const RtError *e, void *userdata) {
        RemoveOutcome *out = userdata;
        if (r == 0)
                printf("%s\n", name);
        else if (r == -ENOENT && net_cni_exists(out->store, name, NULL) == 0) {
                /* nsprov never deletes a user's conflist from the command line */
                log_error("network '%s' is a CNI network of %s: remove its conflist to remove it", name,
                          out->store->cni_config_dir);
                outcome_status(out, EXIT_NSPROV);
        } else if (!(r == -EBUSY && out->quiet_busy)) {
                log_error("%s", e->msg);
                outcome_status(out, r == -ENOENT ? 1 : r == -EBUSY ? 2 : EXIT_NSPROV);
        }
}

static int network_rm(int argc, char **argv, const GlobalOptions *g) {
        bool force = false;
        int first = 1;
        if (argc > 1 && streq(argv[1], "--help")) {
                printf("Usage: nsprov network rm [-f] NETWORK...\n\n"
                       "Removes networks and their bridges; -f disconnects attached containers first.\n"
                       "Exits 1 when a network named does not exist, 2 when one is in use, 125 on other\n"
                       "errors, as Podman does.\n");
                return 0;
        }
        if (argc > 1 && (streq(argv[1], "-f") || streq(argv[1], "--force"))) {
                force = true;
                first = 2;
        }
        if (first >= argc)
                return usage_error("network rm ", "name at least one network");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RemoveOutcome out = { .store = &s, .quiet_busy = false };
        ctr_networks_remove(&s, argv + first, (size_t) (argc - first), force, report_removal, &out);
        return out.failed ? out.status : 0;
}

static int network_prune(int argc, char **argv, const GlobalOptions *g) {
        if (argc > 1 && streq(argv[1], "--help")) {
                printf("Usage: nsprov network prune [-f]\n\nRemoves every network no container is attached to.\n");
                return 0;
        }
        for (int i = 1; i < argc; i++)
                if (!streq(argv[i], "-f") && !streq(argv[i], "--force"))
                        return usage_error("network prune ", "unexpected argument '%s'", argv[i]);
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        /* A network in use is simply not pruned. */
        RemoveOutcome out = { .store = &s, .quiet_busy = true };
        if (ctr_networks_remove_all(&s, false, report_removal, &out, &e) < 0)
                return cli_fail(&e);
        return out.failed ? EXIT_NSPROV : 0;
}

static int network_connect(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_IP = 0x100, OPT_IP6, OPT_MAC, OPT_IF, OPT_ALIAS, OPT_HELP };
        static const struct option options[] = {
                { "ip", required_argument, NULL, OPT_IP },    { "ip6", required_argument, NULL, OPT_IP6 },
                { "mac-address", required_argument, NULL, OPT_MAC },
                { "interface-name", required_argument, NULL, OPT_IF },
                { "alias", required_argument, NULL, OPT_ALIAS }, { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        NetConnect nc = {};
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case OPT_IP: nc.ip = optarg; break;
                case OPT_IP6: nc.ip6 = optarg; break;
                case OPT_MAC: nc.mac = optarg; break;
                case OPT_IF: nc.ifname = optarg; break;
                case OPT_ALIAS: break; /* no DNS here: accepted, as harmless */
                case OPT_HELP:
                        printf("Usage: nsprov network connect [--ip IP] [--ip6 IP] [--mac-address MAC]\n"
                               "                              [--interface-name IF] NETWORK CONTAINER\n\n"
                               "Adds an interface (default: the next free ethN) to a container, at once when\n"
                               "it runs. A container may join one network several times.\n");
                        return 0;
                default:
                        return usage_error("network connect ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (argc - optind != 2)
                return usage_error("network connect ", "a NETWORK and a CONTAINER are needed");
        nc.network = argv[optind];
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        NetAttachment a;
        if (ctr_lookup(&s, argv[optind + 1], id, &e) < 0 || ctr_network_connect(&s, id, &nc, &a, &e) < 0)
                return cli_fail(&e);
        printf("%s\n", a.ifname);
        return 0;
}

static int network_disconnect(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_IF = 0x100, OPT_HELP };
        static const struct option options[] = { { "interface-name", required_argument, NULL, OPT_IF },
                                                  { "force", no_argument, NULL, 'f' },
                                                  { "help", no_argument, NULL, OPT_HELP }, {} };
        const char *ifname = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0)
                switch (c) {
                case OPT_IF: ifname = optarg; break;
                case 'f': break;
                case OPT_HELP:
                        printf("Usage: nsprov network disconnect [--interface-name IF] NETWORK CONTAINER\n");
                        return 0;
                default:
                        return usage_error("network disconnect ", "unknown option '%s'", argv[optind - 1]);
                }
        if (argc - optind != 2)
                return usage_error("network disconnect ", "a NETWORK and a CONTAINER are needed");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        if (ctr_lookup(&s, argv[optind + 1], id, &e) < 0 ||
            ctr_network_disconnect(&s, id, argv[optind], ifname, &e) < 0)
                return cli_fail(&e);
        return 0;
}

int verb_network(int argc, char **argv, const GlobalOptions *g) {
        static const Verb verbs[] = {
                { "create", "create a bridge network (L2 only, or with subnets)", network_create },
                { "ls", "list networks", network_ls },
                { "list", "list networks", network_ls },
                { "inspect", "show networks as JSON", network_inspect },
                { "exists", "exit 0 if a network exists, 1 if not", network_exists },
                { "rm", "remove networks", network_rm },
                { "prune", "remove networks no container uses", network_prune },
                { "connect", "add an interface on a network to a container", network_connect },
                { "disconnect", "remove a container's interface from a network", network_disconnect },
                {},
        };
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov network COMMAND\n\nCommands:\n");
                for (const Verb *v = verbs; v->name; v++)
                        printf("  %-10s %s\n", v->name, v->summary);
                return 0;
        }
        return dispatch_verb("network", verbs, argc - 1, argv + 1, g);
}
