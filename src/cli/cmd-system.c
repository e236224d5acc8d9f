/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <linux/magic.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include <netlink/version.h>

#include "cli.h"
#include "runtime.h"
#include "log.h"
#include "netns.h"


static const char *cgroup_layout(void) {
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) < 0)
                return "none";
        if (fs.f_type == CGROUP2_SUPER_MAGIC)
                return "v2";
        /* systemd's "hybrid": v1 controllers with a v2 tree beside them, as these lab hosts
         * have; a runtime must not assume it can put processes in the v2 tree. */
        if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                return "v1-hybrid";
        return "v1";
}

static bool has_cap(cap_t caps, cap_value_t c) {
        cap_flag_value_t v = CAP_CLEAR;
        return caps && cap_get_flag(caps, c, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

static int system_info(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        OutputFormat fmt = OUTPUT_TABLE;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+hf:", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("system info ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'h':
                        printf("Usage: nsprov system info [--format table|json]\n\n"
                               "Shows nsprov's version, state directories and what this host offers.\n");
                        return 0;
                default:
                        return usage_error("system info ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error("system info ", "unexpected argument '%s'", argv[optind]);

        struct utsname u;
        (void) uname(&u);
        cap_t caps = cap_get_proc();
        const struct scmp_version *sv = seccomp_version();
        char seccomp_v[32];
        (void) snprintf(seccomp_v, sizeof seccomp_v, "%u.%u.%u", sv ? sv->major : 0,
                        sv ? sv->minor : 0, sv ? sv->micro : 0);
        const struct { const char *name; cap_value_t cap; } wanted[] = {
                { "CAP_SYS_ADMIN", CAP_SYS_ADMIN },
                { "CAP_NET_ADMIN", CAP_NET_ADMIN },
                { "CAP_SYS_RESOURCE", CAP_SYS_RESOURCE },
        };

        _cleanup_(json_decrefp) json_t *j = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "version", NSPROV_VERSION,
                "root", g->root, "runroot", g->runroot, "kernel", u.release, "cgroups",
                cgroup_layout(), "netnsDir", NETNS_RUN_DIR, "libraries", "libnl", LIBNL_VERSION,
                "jansson", JANSSON_VERSION, "libseccomp", seccomp_v);
        json_t *cj = json_object();
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
                json_object_set_new(cj, wanted[i].name, json_boolean(has_cap(caps, wanted[i].cap)));
        json_object_set_new(j, "capabilities", cj);
        if (caps)
                cap_free(caps);

        if (fmt == OUTPUT_JSON) {
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                return 0;
        }
        printf("version:      %s\nroot:         %s\nrunroot:      %s\nkernel:       %s\n"
               "cgroups:      %s\nnetns dir:    %s\nlibraries:    libnl %s, jansson %s, libseccomp %s\n"
               "capabilities:",
               NSPROV_VERSION, g->root, g->runroot, u.release, cgroup_layout(), NETNS_RUN_DIR,
               LIBNL_VERSION, JANSSON_VERSION, seccomp_v);
        const char *key;
        json_t *v;
        json_object_foreach(cj, key, v) printf(" %s%s", json_is_true(v) ? "" : "no ", key);
        putchar('\n');
        return 0;
}

static int system_marked(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "owner", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        OutputFormat fmt = OUTPUT_TABLE;
        const char *owner = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+hf:o:", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("system marked ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'o':
                        owner = optarg;
                        break;
                case 'h':
                        printf("Usage: nsprov system marked [--owner OWNER] [--format table|json]\n\n"
                               "Lists the kernel objects in the host's network namespace that carry\n"
                               "nsprov's mark: links whose alias is '%s<owner>' and network\n"
                               "namespaces named '%s*' under %s. They are what nsprov made;\n"
                               "anything else on the host is never touched.\n",
                               NETNS_MARK_PREFIX, NETNS_NAME_PREFIX, NETNS_RUN_DIR);
                        return 0;
                default:
                        return usage_error("system marked ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error("system marked ", "unexpected argument '%s'", argv[optind]);

        RtError e = {};
        if (owner && netns_owner_check(owner, &e) < 0)
                return usage_error("system marked ", "%s", e.msg);

        _cleanup_(netns_sock_freep) NlSock *sk = NULL;
        _cleanup_(netns_marked_done) NetnsMarked m = {};
        int r = netns_sock_open(-1, &sk, &e);
        if (r >= 0)
                r = netns_find_marked(sk, NULL, owner, &m, &e);
        if (r < 0) {
                log_error("Failed to list marked objects: %s", e.msg);
                return EXIT_NSPROV;
        }

        char mac[NETNS_MAC_STRLEN];
        if (fmt == OUTPUT_JSON) {
                _cleanup_(json_decrefp) json_t *links = json_array(), *nss = json_array();
                for (size_t i = 0; i < m.links.n; i++) {
                        const NetnsLink *l = &m.links.links[i];
                        json_array_append_new(
                                links, json_pack("{s:s, s:i, s:s, s:s, s:s}", "name", l->name,
                                                 "ifindex", l->ifindex, "kind", l->kind, "owner",
                                                 netns_link_owner(l), "mac",
                                                 l->has_mac ? netns_mac_format(&l->mac, mac) : ""));
                }
                for (size_t i = 0; i < m.n_netns; i++)
                        json_array_append_new(nss, json_string(m.netns[i]));
                _cleanup_(json_decrefp) json_t *j =
                        json_pack("{s:O, s:O}", "links", links, "netns", nss);
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                return 0;
        }
        printf("%-6s %-16s %-8s %s\n", "TYPE", "NAME", "KIND", "OWNER");
        for (size_t i = 0; i < m.links.n; i++) {
                const NetnsLink *l = &m.links.links[i];
                printf("%-6s %-16s %-8s %s\n", "link", l->name, *l->kind ? l->kind : "-",
                       netns_link_owner(l));
        }
        for (size_t i = 0; i < m.n_netns; i++)
                printf("%-6s %-16s %-8s %s\n", "netns", m.netns[i], "-",
                       m.netns[i] + strlen(NETNS_NAME_PREFIX));
        return 0;
}

static int system_gc(int argc, char **argv, const GlobalOptions *g) {
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov system gc\n\n"
                       "Removes what belongs to no live container: the state, network namespaces\n"
                       "and marked links of containers whose monitor is gone (a kill -9, a crash),\n"
                       "and anything a create or remove left halfway. It removes only what this\n"
                       "store's ledger lists; nothing is ever removed by a name pattern.\n");
                return 0;
        }
        if (argc > 1)
                return usage_error("system gc ", "unexpected argument '%s'", argv[1]);
        CtrStore s;
        RtError e = {};
        int r;
        if ((r = ctr_store_init(&s, g->root, g->runroot, &e)) < 0 || (r = ctr_gc(&s, &e)) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        printf("removed %d object(s)\n", r);
        return 0;
}

typedef struct ResetCount {
        int removed;
        int failed;
} ResetCount;

static void count_network(const char *name, int r, const RtError *e, void *userdata) {
        ResetCount *c = userdata;
        if (r == 0)
                c->removed++;
        else {
                log_warning("reset: %s", e->msg);
                c->failed++;
        }
}

static int system_reset(int argc, char **argv, const GlobalOptions *g) {
        bool force = argc > 1 && (streq(argv[1], "-f") || streq(argv[1], "--force"));
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov system reset --force\n\n"
                       "Stops and removes every container and every network of this store (as\n"
                       "Podman's reset does), then runs gc. Images stay.\n");
                return 0;
        }
        if (!force)
                return usage_error("system reset ",
                                   "this removes every container and network: confirm with --force");
        CtrStore s;
        RtError e = {};
        int r;
        if ((r = ctr_store_init(&s, g->root, g->runroot, &e)) < 0 || (r = ctr_reset(&s, &e)) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        int containers = r;
        ResetCount nets = {};
        if (ctr_networks_remove_all(&s, true, count_network, &nets, &e) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        printf("removed %d container(s) and %d network(s)\n", containers, nets.removed);
        return nets.failed ? EXIT_NSPROV : 0;
}

int verb_system(int argc, char **argv, const GlobalOptions *g) {
        static const Verb verbs[] = {
                { "info", "show version, state directories and host facts", system_info },
                { "gc", "remove what belongs to no live container", system_gc },
                { "reset", "remove every container and network, and their state", system_reset },
                { "marked", "list kernel objects carrying nsprov's mark", system_marked },
                {},
        };
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov system COMMAND\n\nCommands:\n");
                for (const Verb *v = verbs; v->name; v++)
                        printf("  %-10s %s\n", v->name, v->summary);
                return 0;
        }
        return dispatch_verb("system", verbs, argc - 1, argv + 1, g);
}
