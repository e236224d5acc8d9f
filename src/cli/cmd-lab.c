/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsprov lab: up, down, reset, ls, inspect and pool of labs described as YAML files. */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"
#include "cli.h"
#include "log.h"
#include "parse.h"
#include "strv.h"

/* --workers N and --keep-on-error, as up and reset take them; the rest positional */
typedef struct LabCliOptions {
        unsigned workers;
        bool keep_on_error;
        char **limit;
        const char *format;
} LabCliOptions;

static void lab_cli_options_done(LabCliOptions *o) {
        strv_free(o->limit);
}

/* the options of every lab verb; those a verb does not take (NULL in want) refused */
static int parse_lab_options(const char *verb, const char *usage, int argc, char **argv, const char *want,
                             LabCliOptions *o) {
        enum { OPT_WORKERS = 0x100, OPT_KEEP, OPT_LIMIT, OPT_FORMAT, OPT_HELP };
        static const struct option options[] = {
                { "workers", required_argument, NULL, OPT_WORKERS },
                { "keep-on-error", no_argument, NULL, OPT_KEEP },
                { "limit", required_argument, NULL, OPT_LIMIT },
                { "format", required_argument, NULL, OPT_FORMAT },
                { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        int c;
        optind = 0;
        opterr = 0;
        int idx;
        while ((c = getopt_long(argc, argv, "", options, &idx)) >= 0) {
                if (c >= OPT_WORKERS && c < OPT_HELP && !strstr(want ? want : "", options[c - OPT_WORKERS].name))
                        return usage_error(verb, "unknown option '--%s'", options[c - OPT_WORKERS].name);
                switch (c) {
                case OPT_WORKERS:
                        if (safe_atou32_range(optarg, 1, 64, &o->workers) < 0)
                                return usage_error(verb, "--workers takes 1-64, not '%s'", optarg);
                        break;
                case OPT_KEEP: o->keep_on_error = true; break;
                case OPT_LIMIT:
                        for (char *save, *copy = strdupa(optarg), *t = strtok_r(copy, ",", &save); t;
                             t = strtok_r(NULL, ",", &save))
                                if (strv_push(&o->limit, t) < 0)
                                        return EXIT_NSPROV;
                        break;
                case OPT_FORMAT: o->format = optarg; break;
                case OPT_HELP:
                        fputs(usage, stdout);
                        return -1;
                default:
                        return usage_error(verb, "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        }
        return 0;
}

/* A lab named, or the lab a file describes */
static int lab_name_of(const char *arg, char **ret) {
        struct stat st;
        if (strchr(arg, '/') || (stat(arg, &st) == 0 && S_ISREG(st.st_mode))) {
                Lab lab;
                RtError e = {};
                if (lab_load_file(arg, &lab, &e) < 0)
                        return cli_fail(&e);
                *ret = TAKE_PTR(lab.name);
                lab_done(&lab);
                return 0;
        }
        return (*ret = strdup(arg)) ? 0 : EXIT_NSPROV;
}

/* What the verbs on one lab share: their options, the lab named (or its file's) and
 * extra positional arguments after it, and the store. 0, -1 after --help, or an exit
 * status. */
static int lab_verb_begin(const char *verb, const char *usage, const char *want, int argc, char **argv,
                          int extra, const char *missing, const GlobalOptions *g, LabCliOptions *co, char **ret_name,
                          CtrStore *s) {
        int r = parse_lab_options(verb, usage, argc, argv, want, co);
        if (r != 0)
                return r;
        if (argc - optind != 1 + extra)
                return usage_error(verb, "%s", missing);
        if ((r = lab_name_of(argv[optind], ret_name)) != 0)
                return r;
        return cli_open_store(g, s);
}

static void print_table(const CtrStore *s, const char *name) {
        RtError e = {};
        json_t *j = lab_inspect_json(s, name, &e);
        if (!j)
                return;
        printf("%-24s %-8s %-18s %-24s %s\n", "AGENT", "NIC", "MAC", "NETWORK", "MANAGEMENT");
        size_t i, k;
        json_t *a, *nic;
        json_array_foreach(json_object_get(j, "Agents"), i, a) {
                const char *mgmt = json_string_value(json_object_get(a, "Management"));
                if (json_array_size(json_object_get(a, "Nics")) == 0)
                        printf("%-24s %-8s %-18s %-24s %s\n", json_string_value(json_object_get(a, "Name")), "-", "-", "-", mgmt);
                json_array_foreach(json_object_get(a, "Nics"), k, nic)
                        printf("%-24s %-8s %-18s %-24s %s\n", json_string_value(json_object_get(a, "Name")),
                               json_string_value(json_object_get(nic, "Name")), json_string_value(json_object_get(nic, "Mac")),
                               json_string_value(json_object_get(nic, "Network")), k ? "" : mgmt);
        }
        json_decref(j);
}

static int lab_up_verb(int argc, char **argv, const GlobalOptions *g) {
        static const char usage[] =
                "Usage: nsprov lab up FILE [--workers N] [--keep-on-error] [--limit AGENT,...]\n\n"
                "Makes the lab FILE describes: its networks, then its agents, started N at a time\n"
                "(default 4) and each awaited until ready. Up again brings the lab in line with\n"
                "the file and touches nothing else. A failure removes the whole lab unless --keep-on-error. --limit\n"
                "brings up those agents only (a group by its name, or one of it: worker3).\n"
                "The format: README.md, Labs as files.\n";
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        int r = parse_lab_options("lab up ", usage, argc, argv, "workers keep-on-error limit", &co);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (argc - optind != 1)
                return usage_error("lab up ", "name one lab file");
        _cleanup_(lab_done) Lab lab = {};
        RtError e = {};
        if (lab_load_file(argv[optind], &lab, &e) < 0)
                return cli_fail(&e);
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        LabUpOptions o = { .workers = co.workers, .keep_on_error = co.keep_on_error, .limit = co.limit,
                           .progress = isatty(STDERR_FILENO) ? stderr : NULL };
        if (lab_up(&s, &lab, &o, &e) < 0)
                return cli_fail(&e);
        print_table(&s, lab.name);
        return 0;
}

static int lab_down_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        int r = parse_lab_options("lab down ", "Usage: nsprov lab down NAME|FILE...\n\nRemoves every agent and network of the labs.\n",
                                  argc, argv, NULL, &co);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (optind >= argc)
                return usage_error("lab down ", "name a lab (or its file)");
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *name = NULL;
                if ((r = lab_name_of(argv[i], &name)) != 0) {
                        rc = r;
                        continue;
                }
                RtError e = {};
                int n = lab_down(&s, name, &e);
                if (n < 0)
                        rc = cli_fail(&e);
                else
                        printf("%s: removed %d object(s)\n", name, n);
        }
        return rc;
}

static int lab_reset_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        _cleanup_free_ char *name = NULL;
        CtrStore s;
        int r = lab_verb_begin("lab reset ",
                               "Usage: nsprov lab reset NAME|FILE [--workers N]\n\n"
                               "Restarts every agent of the lab (a fresh network namespace: addresses, routes\n"
                               "and links as the file made them, MACs kept), returning once each is ready.\n",
                               "workers", argc, argv, 0, "name one lab (or its file)", g, &co, &name, &s);
        if (r != 0)
                return r < 0 ? 0 : r;
        RtError e = {};
        return lab_reset(&s, name, co.workers, &e) < 0 ? cli_fail(&e) : 0;
}

static int lab_ls_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        int r = parse_lab_options("lab ls ", "Usage: nsprov lab ls\n\nThe labs of the store.\n", argc, argv, NULL, &co);
        if (r != 0)
                return r < 0 ? 0 : r;
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        _cleanup_(strv_freep) char **names = NULL;
        RtError e = {};
        if (lab_list(&s, &names, &e) < 0)
                return cli_fail(&e);
        printf("%-32s %s\n", "NAME", "AGENTS");
        for (char **n = names; n && *n; n++) {
                json_t *j = lab_inspect_json(&s, *n, NULL);
                printf("%-32s %zu\n", *n, j ? json_array_size(json_object_get(j, "Agents")) : 0);
                json_decref(j);
        }
        return 0;
}

static int lab_inspect_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        _cleanup_free_ char *name = NULL;
        CtrStore s;
        int r = lab_verb_begin("lab inspect ", "Usage: nsprov lab inspect NAME|FILE\n\nThe lab as JSON.\n", NULL, argc,
                               argv, 0, "name one lab (or its file)", g, &co, &name, &s);
        if (r != 0)
                return r < 0 ? 0 : r;
        RtError e = {};
        json_t *j = lab_inspect_json(&s, name, &e);
        if (!j)
                return cli_fail(&e);
        char *text = json_dumps(j, JSON_INDENT(4));
        json_decref(j);
        if (!text)
                return EXIT_NSPROV;
        printf("%s\n", text);
        free(text);
        return 0;
}

static int lab_pool_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = {};
        _cleanup_free_ char *name = NULL;
        CtrStore s;
        int r = lab_verb_begin("lab pool ",
                               "Usage: nsprov lab pool NAME|FILE DIR\n\n"
                               "Writes LNST's pool files for the lab into DIR, one agentmachine XML per agent:\n"
                               "its management address, its agent port, and per NIC its name, network and MAC.\n"
                               "Then: lnst-ctl --pools DIR (or Controller(pools=[DIR])) runs recipes on the lab.\n",
                               NULL, argc, argv, 1, "name a lab (or its file) and a directory", g, &co, &name, &s);
        if (r != 0)
                return r < 0 ? 0 : r;
        RtError e = {};
        int n = lab_pool(&s, name, argv[optind + 1], &e);
        if (n < 0)
                return cli_fail(&e);
        printf("%s: %d agent file(s) in %s\n", name, n, argv[optind + 1]);
        return 0;
}

static int lab_graph_verb(int argc, char **argv, const GlobalOptions *g) {
        _cleanup_(lab_cli_options_done) LabCliOptions co = { .format = "dot" };
        _cleanup_free_ char *name = NULL;
        CtrStore s;
        int r = lab_verb_begin("lab graph ",
                               "Usage: nsprov lab graph NAME|FILE [--format dot|svg|mermaid]\n\n"
                               "The lab as a picture: agents, their NICs with MACs, the networks, and the\n"
                               "management network apart. svg through Graphviz's dot.\n",
                               "format", argc, argv, 0, "name one lab (or its file)", g, &co, &name, &s);
        if (r != 0)
                return r < 0 ? 0 : r;
        bool svg = streq(co.format, "svg");
        FILE *dot = NULL;
        if (svg) {
                if (system("command -v dot >/dev/null 2>&1") != 0) {
                        log_error("lab graph --format svg needs Graphviz's dot: install the package graphviz");
                        return EXIT_NSPROV;
                }
                (void) fflush(stdout);
                if (!(dot = popen("dot -Tsvg", "w")))
                        return log_error_errno(-errno, "run dot: %m"), EXIT_NSPROV;
        }
        RtError e = {};
        r = lab_graph(&s, name, svg ? "dot" : co.format, dot ? dot : stdout, &e);
        if (dot && pclose(dot) != 0 && r == 0)
                return log_error("dot failed"), EXIT_NSPROV;
        return r < 0 ? cli_fail(&e) : 0;
}

int verb_lab(int argc, char **argv, const GlobalOptions *g) {
        static const Verb verbs[] = {
                { "up", "make a lab from its file (networks, agents started and ready)", lab_up_verb },
                { "down", "remove a lab's agents and networks", lab_down_verb },
                { "reset", "return every agent of a lab to its just-up state", lab_reset_verb },
                { "ls", "list labs", lab_ls_verb },
                { "inspect", "show a lab as JSON", lab_inspect_verb },
                { "pool", "write LNST's pool files for a lab", lab_pool_verb },
                { "graph", "draw a lab (dot, svg, mermaid)", lab_graph_verb },
                {},
        };
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                printf("Usage: nsprov lab COMMAND\n\nCommands:\n");
                for (const Verb *v = verbs; v->name; v++)
                        printf("  %-10s %s\n", v->name, v->summary);
                return argc < 2 ? EXIT_NSPROV : 0;
        }
        return dispatch_verb("lab", verbs, argc - 1, argv + 1, g);
}
