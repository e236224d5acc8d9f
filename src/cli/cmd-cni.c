/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `nsprov cni`: a cnitool equivalent (add, del, check, gc, status, version) over the CNI
 * executor, and `cni ls` of the networks the config dir defines. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cni.h"
#include "hash.h"
#include "log.h"
#include "parse.h"
#include "strv.h"

static void cni_list_donep(CniList *l) {
        cni_list_done(l);
}

int cli_cni_config(const GlobalOptions *g, CniConfig *ret, char ***ret_path) {
        return cni_config_init(ret, ret_path, g->cni_config_dir, g->cni_path, g->cni_cache_dir, g->runroot);
}

/* Prints the error for people (stderr) and for scripts (CNI error JSON on stdout); a
 * plugin's own failure exits 1 as cnitool does, ours 125. */
static int cni_failed(const CniError *ce, bool json_out) {
        log_error("%s", ce->e.msg);
        if (ce->secondary[0])
                log_error("rollback: %s", ce->secondary);
        if (json_out) {
                json_t *j = cni_error_json(ce);
                char *s = j ? json_dumps(j, JSON_INDENT(4)) : NULL;
                if (s)
                        printf("%s\n", s);
                free(s);
                json_decref(j);
        }
        return ce->origin == CNI_ORIGIN_PLUGIN ? 1 : EXIT_NSPROV;
}

static void print_diags(const CniDiag *d, size_t n) {
        for (size_t i = 0; i < n; i++)
                log_warning("skipped %s: %s", d[i].file, d[i].msg);
}

typedef struct AttachOptions {
        const char *network;
        char netns[PATH_MAX];
        const char *ifname;
        const char *container_id;
        char derived_id[32];
        char **args;
        json_t *cap_args;
        unsigned timeout_ms;
        bool no_rollback, no_validate, raw;
        bool strict; /* stop at the first config file that cannot be loaded, as libcni */
        json_t *valid; /* gc */
        bool json_errors;
} AttachOptions;

static void attach_options_done(AttachOptions *o) {
        strv_free(o->args);
        json_decref(o->cap_args);
        json_decref(o->valid);
}

/* NETNS: a path, or the name of one under /run/netns as `ip netns` makes them; "" or "-"
 * for none (a DEL still runs after the netns went: a plugin then releases what it can). */
static int resolve_netns(const char *arg, char buf[static PATH_MAX]) {
        if (!*arg || streq(arg, "-")) {
                buf[0] = 0;
                return 0;
        }
        if (!strchr(arg, '/')) {
                if (streq(arg, ".") || streq(arg, ".."))
                        return -EINVAL;
                return snprintf(buf, PATH_MAX, "/run/netns/%s", arg) >= PATH_MAX ? -ENAMETOOLONG : 0;
        }
        if (arg[0] == '/')
                return snprintf(buf, PATH_MAX, "%s", arg) >= PATH_MAX ? -ENAMETOOLONG : 0;
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
                return -errno;
        return snprintf(buf, PATH_MAX, "%s/%s", cwd, arg) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int parse_attach(const char *verb, int argc, char **argv, bool want_netns, AttachOptions *o) {
        enum { OPT_IFNAME = 0x100, OPT_ARGS, OPT_CAP_ARGS, OPT_CID, OPT_TIMEOUT, OPT_NO_ROLLBACK,
               OPT_NO_VALIDATE, OPT_RAW, OPT_VALID, OPT_JSON_ERRORS, OPT_STRICT };
        static const struct option options[] = {
                { "ifname", required_argument, NULL, OPT_IFNAME },
                { "args", required_argument, NULL, OPT_ARGS },
                { "cap-args", required_argument, NULL, OPT_CAP_ARGS },
                { "container-id", required_argument, NULL, OPT_CID },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
                { "no-validate", no_argument, NULL, OPT_NO_VALIDATE },
                { "raw", no_argument, NULL, OPT_RAW },
                { "valid", required_argument, NULL, OPT_VALID },
                { "json-errors", no_argument, NULL, OPT_JSON_ERRORS },
                { "strict", no_argument, NULL, OPT_STRICT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char cmd[32];
        (void) snprintf(cmd, sizeof cmd, "cni %s ", verb);
        o->ifname = "eth0";
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case OPT_IFNAME: o->ifname = optarg; break;
                case OPT_CID: o->container_id = optarg; break;
                case OPT_ARGS: {
                        CniError ce = {};
                        strv_free(o->args);
                        o->args = NULL;
                        if (cni_args_parse(optarg, &o->args, &ce) < 0)
                                return usage_error(cmd, "--args: %s", ce.e.msg);
                        break;
                }
                case OPT_CAP_ARGS: {
                        json_error_t je;
                        json_decref(o->cap_args);
                        o->cap_args = json_loads(optarg, JSON_REJECT_DUPLICATES, &je);
                        if (!json_is_object(o->cap_args))
                                return usage_error(cmd, "--cap-args: a JSON object is needed (%s)",
                                                   o->cap_args ? "not an object" : je.text);
                        break;
                }
                case OPT_TIMEOUT: {
                        uint32_t s;
                        if (safe_atou32_range(optarg, 1, 24 * 3600, &s) < 0)
                                return usage_error(cmd, "--timeout: seconds between 1 and 86400, got '%s'", optarg);
                        o->timeout_ms = s * 1000;
                        break;
                }
                case OPT_NO_ROLLBACK: o->no_rollback = true; break;
                case OPT_NO_VALIDATE: o->no_validate = true; break;
                case OPT_RAW: o->raw = o->no_rollback = o->no_validate = true; break;
                case OPT_JSON_ERRORS: o->json_errors = true; break;
                case OPT_STRICT: o->strict = true; break;
                case OPT_VALID: {
                        /* CONTAINERID/IFNAME: neither may hold a '/' */
                        const char *slash = strchr(optarg, '/');
                        if (!slash || slash == optarg || !slash[1])
                                return usage_error(cmd, "--valid wants CONTAINERID/IFNAME, got '%s'", optarg);
                        if (!o->valid)
                                o->valid = json_array();
                        (void) json_array_append_new(o->valid,
                                                     json_pack("{s:s%, s:s}", "containerID", optarg,
                                                               (size_t) (slash - optarg), "ifname", slash + 1));
                        break;
                }
                case 'h': return -1;
                default: return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
                }
        int need = want_netns ? 2 : 1;
        if (argc - optind != need)
                return usage_error(cmd, "needs %s", want_netns ? "NETWORK and NETNS" : "NETWORK");
        o->network = argv[optind];
        if (want_netns) {
                int r = resolve_netns(argv[optind + 1], o->netns);
                if (r < 0)
                        return usage_error(cmd, "bad NETNS '%s': %s", argv[optind + 1], strerror(-r));
        }
        if (!o->container_id) {
                /* the same netns gives the same id, so add and del agree without --container-id */
                if (!o->netns[0])
                        return usage_error(cmd, "--container-id is needed when there is no NETNS");
                (void) snprintf(o->derived_id, sizeof o->derived_id, "nsprov-%016llx",
                                (unsigned long long) fnv1a(FNV1A_OFFSET, o->netns, strlen(o->netns)));
                o->container_id = o->derived_id;
        }
        return 0;
}

/* The global dirs, and the verb's own --timeout and --strict. */
static int verb_config(const GlobalOptions *g, const AttachOptions *o, CniConfig *cfg, char ***path) {
        int r = cli_cni_config(g, cfg, path);
        cfg->timeout_ms = o->timeout_ms;
        cfg->strict = o->strict;
        return r;
}

static void usage_attach(const char *verb) {
        printf("Usage: nsprov cni %s NETWORK NETNS [OPTIONS]\n"
               "\n"
               "NETNS is a path, or a name under /run/netns%s.\n"
               "\n"
               "Options:\n"
               "  --ifname NAME         interface in the netns (default eth0)\n"
               "  --args 'K=V;K2=V2'    CNI_ARGS\n"
               "  --cap-args JSON       capability args (runtimeConfig), e.g. '{\"mac\":\"...\"}'\n"
               "  --container-id ID     default: derived from the NETNS path\n"
               "  --timeout SECONDS     per plugin run (default 60)\n"
               "  --json-errors         also print a failure as CNI error JSON on stdout\n"
               "  --strict              fail at the first config file that cannot be loaded\n"
               "                        (libcni's way), not only when NETWORK's is broken\n",
               verb, streq(verb, "del") ? "; '' or - when it is gone" : "");
        if (streq(verb, "add"))
                printf("  --no-rollback         leave a failed ADD as it is (no DEL of the list)\n"
                       "  --no-validate         no VERSION check of the plugins first\n"
                       "  --raw                 both, and no already-attached refusal\n"
                       "\nPrints the result of the plugin chain.\n");
}

static int load_network(const CniConfig *cfg, const char *name, CniList *ret, CniError *ce) {
        CniDiag *d = NULL;
        size_t nd = 0;
        int r = cni_find(cfg, name, ret, &d, &nd, ce);
        if (r < 0)
                print_diags(d, nd);
        cni_diags_free(d, nd);
        return r;
}

static int cni_attach_verb(const char *verb, int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(attach_options_done) AttachOptions o = {};
        int r = parse_attach(verb, argc, argv, true, &o);
        if (r == -1) {
                usage_attach(verb);
                return 0;
        }
        if (r != 0)
                return r;
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (verb_config(g, &o, &cfg, &path) < 0)
                return cli_oom();
        CniRuntime rt = { .container_id = o.container_id, .netns = o.netns, .ifname = o.ifname, .args = o.args,
                          .cap_args = o.cap_args };
        CniError ce = {};
        _cleanup_(cni_list_donep) CniList list = {};
        r = load_network(&cfg, o.network, &list, &ce);
        bool found = r == 0;
        if (!found && !(streq(verb, "del") && ce.category == CNI_ERR_NOT_FOUND))
                return cni_failed(&ce, o.json_errors);

        if (streq(verb, "add")) {
                json_t *result = NULL;
                CniAddFlags f = (o.no_rollback ? 0 : CNI_ADD_ROLLBACK) | (o.no_validate ? CNI_ADD_SKIP_VALIDATE : 0) |
                                (o.raw ? CNI_ADD_SKIP_ATTACHED : 0);
                if (cni_add(&cfg, &list, &rt, f, &result, &ce) < 0)
                        return cni_failed(&ce, o.json_errors);
                char *s = json_dumps(result, JSON_INDENT(4));
                printf("%s\n", s ?: "{}");
                free(s);
                json_decref(result);
                return 0;
        }
        if (streq(verb, "del")) {
                /* a network whose file is gone is taken down from its cached config */
                rt.netns = o.netns[0] ? o.netns : NULL;
                if (cni_del(&cfg, o.network, found ? &list : NULL, &rt, false, &ce) < 0)
                        return cni_failed(&ce, o.json_errors);
                return 0;
        }
        if (cni_check(&cfg, &list, &rt, &ce) < 0)
                return cni_failed(&ce, o.json_errors);
        return 0;
}

static int cni_add_verb(int argc, char **argv, const GlobalOptions *g) {
        return cni_attach_verb("add", argc, argv, g);
}
static int cni_del_verb(int argc, char **argv, const GlobalOptions *g) {
        return cni_attach_verb("del", argc, argv, g);
}
static int cni_check_verb(int argc, char **argv, const GlobalOptions *g) {
        return cni_attach_verb("check", argc, argv, g);
}

static int cni_net_verb(const char *verb, int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(attach_options_done) AttachOptions o = { .container_id = "-" };
        int r = parse_attach(verb, argc, argv, false, &o);
        if (r == -1) {
                printf("Usage: nsprov cni %s NETWORK%s\n", verb,
                       streq(verb, "gc") ? " [--valid CONTAINERID/IFNAME]...\n\n"
                                           "DELs every cached attachment of NETWORK not named valid, then runs the\n"
                                           "plugins' GC (lists of version 1.1.0 and later)."
                                         : "\n\nRuns the plugins' STATUS (lists of version 1.1.0 and later).");
                return 0;
        }
        if (r != 0)
                return r;
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (verb_config(g, &o, &cfg, &path) < 0)
                return cli_oom();
        CniError ce = {};
        _cleanup_(cni_list_donep) CniList list = {};
        if (load_network(&cfg, o.network, &list, &ce) < 0)
                return cni_failed(&ce, o.json_errors);
        r = streq(verb, "gc") ? cni_gc(&cfg, &list, o.valid, &ce) : cni_status(&cfg, &list, &ce);
        return r < 0 ? cni_failed(&ce, o.json_errors) : 0;
}

static int cni_gc_verb(int argc, char **argv, const GlobalOptions *g) {
        return cni_net_verb("gc", argc, argv, g);
}
static int cni_status_verb(int argc, char **argv, const GlobalOptions *g) {
        return cni_net_verb("status", argc, argv, g);
}

/* VERSION of plugin types, or of every plugin of a network and whether they can serve
 * its version. */
static int cni_version_verb(int argc, char **argv, const GlobalOptions *g) {
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("Usage: nsprov cni version NETWORK|TYPE...\n\n"
                       "The CNI versions each plugin supports; for a network, each of its plugins\n"
                       "and whether all of them support the network's version.\n");
                return argc < 2 ? EXIT_NSPROV : 0;
        }
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (cli_cni_config(g, &cfg, &path) < 0)
                return cli_oom();
        int rc = 0;
        json_t *out = json_object();
        for (int i = 1; i < argc; i++) {
                CniError ce = {};
                _cleanup_(cni_list_donep) CniList list = {};
                if (cni_find(&cfg, argv[i], &list, NULL, NULL, &ce) == 0) {
                        json_t *plugins = json_array();
                        for (size_t k = 0; k < list.n_plugins; k++) {
                                _cleanup_(strv_freep) char **v = NULL;
                                CniError pe = {};
                                json_t *p = json_pack("{s:s}", "type", list.plugins[k].type);
                                if (cni_version_probe(&cfg, list.plugins[k].type, &v, &pe) < 0)
                                        (void) json_object_set_new(p, "error", json_string(pe.e.msg));
                                else
                                        (void) json_object_set_new(p, "supportedVersions", strv_to_json(v));
                                (void) json_array_append_new(plugins, p);
                        }
                        CniError ve = {};
                        bool ok = cni_validate(&cfg, &list, NULL, &ve) == 0;
                        json_t *n = json_pack("{s:s, s:s, s:o, s:b}", "file", list.file, "cniVersion", list.version,
                                              "plugins", plugins, "valid", ok);
                        if (!ok) {
                                (void) json_object_set_new(n, "error", json_string(ve.e.msg));
                                rc = EXIT_NSPROV;
                        }
                        (void) json_object_set_new(out, argv[i], n);
                        continue;
                }
                _cleanup_(strv_freep) char **v = NULL;
                if (cni_version_probe(&cfg, argv[i], &v, &ce) < 0) {
                        log_error("%s", ce.e.msg);
                        rc = ce.origin == CNI_ORIGIN_PLUGIN ? 1 : EXIT_NSPROV;
                        continue;
                }
                (void) json_object_set_new(out, argv[i], json_pack("{s:o}", "supportedVersions", strv_to_json(v)));
        }
        cli_print_json(out);
        return rc;
}

static int cni_ls_verb(int argc, char **argv, const GlobalOptions *g) {
        OutputFormat fmt = OUTPUT_TABLE;
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("cni ls ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'h':
                        printf("Usage: nsprov cni ls [--format table|json]\n\n"
                               "The networks of the CNI config dir: name, version, plugins, file; files\n"
                               "that cannot be used are listed with the reason.\n");
                        return 0;
                default: return usage_error("cni ls ", "unknown option '%s'", argv[optind - 1]);
                }
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (cli_cni_config(g, &cfg, &path) < 0)
                return cli_oom();
        CniList *lists = NULL;
        size_t n = 0, nd = 0;
        CniDiag *d = NULL;
        CniError ce = {};
        if (cni_list_all(&cfg, &lists, &n, &d, &nd, &ce) < 0)
                return cni_failed(&ce, false);
        if (fmt == OUTPUT_JSON) {
                json_t *nets = json_array(), *diags = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_t *types = json_array();
                        for (size_t k = 0; k < lists[i].n_plugins; k++)
                                (void) json_array_append_new(types, json_string(lists[i].plugins[k].type));
                        (void) json_array_append_new(nets, json_pack("{s:s, s:s, s:s, s:o}", "name", lists[i].name,
                                                                     "cniVersion", lists[i].version, "file",
                                                                     lists[i].file, "plugins", types));
                }
                for (size_t i = 0; i < nd; i++)
                        (void) json_array_append_new(diags, json_pack("{s:s, s:s}", "file", d[i].file, "error", d[i].msg));
                cli_print_json(json_pack("{s:o, s:o}", "networks", nets, "diagnostics", diags));
        } else {
                printf("%-24s  %-8s  %-32s  %s\n", "NAME", "VERSION", "PLUGINS", "FILE");
                for (size_t i = 0; i < n; i++) {
                        char types[256] = "";
                        for (size_t k = 0; k < lists[i].n_plugins; k++) {
                                size_t l = strlen(types);
                                (void) snprintf(types + l, sizeof types - l, "%s%s", k ? "," : "",
                                                lists[i].plugins[k].type);
                        }
                        printf("%-24s  %-8s  %-32s  %s\n", lists[i].name, *lists[i].version ? lists[i].version : "-",
                               types, lists[i].file);
                }
                print_diags(d, nd);
        }
        cni_lists_free(lists, n);
        cni_diags_free(d, nd);
        return 0;
}

static const Verb cni_verbs[] = {
        { "ls", "the networks of the CNI config dir", cni_ls_verb },
        { "add", "ADD a netns to a network (prints the result)", cni_add_verb },
        { "del", "DEL an attachment", cni_del_verb },
        { "check", "CHECK an attachment", cni_check_verb },
        { "gc", "DEL stale cached attachments, then the plugins' GC", cni_gc_verb },
        { "status", "the plugins' STATUS", cni_status_verb },
        { "version", "the CNI versions of plugins", cni_version_verb },
        {},
};

int verb_cni(int argc, char **argv, const GlobalOptions *g) {
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov cni COMMAND\n\n"
                       "Runs CNI plugins straight from conflists (--cni-config-dir, --cni-path,\n"
                       "--cni-cache-dir), as cnitool does.\n\nCommands:\n");
                for (const Verb *v = cni_verbs; v->name; v++)
                        printf("  %-10s %s\n", v->name, v->summary);
                return 0;
        }
        return dispatch_verb("cni", cni_verbs, argc - 1, argv + 1, g);
}
