/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container verbs, with Podman's names and flags: create, run, start, stop, kill,
 * restart, rm, ps, inspect, exec, logs, wait, top. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "runtime.h"
#include "fileio.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "strv.h"



/* ---- create / run ---- */

typedef struct CreateOpts {
        CtrSpec spec;
        char **env, **cap_add, **cap_drop, **labels, **command, **networks;
        BindMount *mounts;
        size_t n_mounts;
        bool detach;
} CreateOpts;

static void create_opts_done(CreateOpts *o) {
        strv_free(o->env);
        strv_free(o->cap_add);
        strv_free(o->cap_drop);
        strv_free(o->labels);
        strv_free(o->command);
        strv_free(o->networks);
        for (size_t i = 0; i < o->n_mounts; i++) {
                free(o->mounts[i].source);
                free(o->mounts[i].destination);
        }
        free(o->mounts);
}

static int add_mount(CreateOpts *o, const char *src, const char *dst, bool ro) {
        BindMount *n = realloc(o->mounts, (o->n_mounts + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        o->mounts = n;
        BindMount *b = &o->mounts[o->n_mounts];
        *b = (BindMount) { .source = strdup(src), .destination = strdup(dst), .readonly = ro };
        if (!b->source || !b->destination)
                return -ENOMEM;
        o->n_mounts++;
        return 0;
}

/* -v SRC:DST[:ro|rw] */
static int parse_volume(CreateOpts *o, const char *v) {
        _cleanup_free_ char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        char *dst = strchr(copy, ':');
        if (!dst)
                return usage_error("run ", "volume '%s' is not SRC:DST[:ro]", v);
        *dst++ = '\0';
        char *mode = strchr(dst, ':');
        bool ro = false;
        if (mode) {
                *mode++ = '\0';
                if (streq(mode, "ro"))
                        ro = true;
                else if (!streq(mode, "rw"))
                        return usage_error("run ", "volume '%s': unknown mode '%s' (ro, rw)", v, mode);
        }
        if (copy[0] != '/')
                return usage_error("run ", "volume '%s': only bind mounts of absolute host paths", v);
        return add_mount(o, copy, dst, ro) < 0 ? usage_error("run ", "out of memory") : 0;
}

/* --mount type=bind,source=S,target=T[,readonly] */
static int parse_mount(CreateOpts *o, const char *v) {
        _cleanup_free_ char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        const char *src = NULL, *dst = NULL, *type = "bind";
        bool ro = false;
        for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(tok, '=');
                if (eq)
                        *eq++ = '\0';
                if (streq(tok, "type") && eq)
                        type = eq;
                else if ((streq(tok, "source") || streq(tok, "src")) && eq)
                        src = eq;
                else if ((streq(tok, "target") || streq(tok, "destination") || streq(tok, "dst")) && eq)
                        dst = eq;
                else if (streq(tok, "readonly") || streq(tok, "ro"))
                        ro = !eq || streq(eq, "true") || streq(eq, "1");
                else
                        return usage_error("run ", "--mount '%s': unknown option '%s'", v, tok);
        }
        if (!streq(type, "bind"))
                return usage_error("run ", "--mount '%s': only type=bind is supported", v);
        if (!src || !dst)
                return usage_error("run ", "--mount '%s' needs source= and target=", v);
        return add_mount(o, src, dst, ro) < 0 ? usage_error("run ", "out of memory") : 0;
}

static int read_env_file(CreateOpts *o, const char *path) {
        RtError e = {};
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                (void) rt_err_set(&e, -errno, "env file '%s'", path);
                return cli_fail(&e);
        }
        char line[8192];
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\r\n")] = '\0';
                const char *l = line + strspn(line, " \t");
                if (!*l || *l == '#')
                        continue;
                if (!strchr(l, '=')) {
                        /* Podman's rule: a bare name takes the value from our environment. */
                        const char *v = getenv(l);
                        if (!v)
                                continue;
                        char kv[8192];
                        (void) snprintf(kv, sizeof kv, "%s=%s", l, v);
                        if (strv_push(&o->env, kv) < 0)
                                return EXIT_NSPROV;
                } else if (strv_push(&o->env, l) < 0)
                        return EXIT_NSPROV;
        }
        return 0;
}

static const char create_usage[] =
        "Usage: nsprov %s [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
        "%s\n\n"
        "Options:\n"
        "  --name NAME            container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64)\n"
        "  -h, --hostname NAME    hostname inside (default: the short id)\n"
        "  --privileged           all capabilities, no seccomp, host devices, writable /sys\n"
        "  -e, --env K=V          set an environment variable (repeatable)\n"
        "  --env-file FILE        read K=V lines from FILE\n"
        "  -w, --workdir DIR      working directory of the command\n"
        "  -u, --user USER[:GROUP]  run as this user (name or uid; the container's /etc/passwd)\n"
        "  --entrypoint CMD       replace the image's entrypoint (\"\" clears it)\n"
        "  --cap-add CAP          add a capability (repeatable; ALL)\n"
        "  --cap-drop CAP         drop a capability (repeatable; ALL)\n"
        "  --init[=true|false]    a tiny init as PID 1 that reaps zombies (default true)\n"
        "  -i, --interactive      keep stdin open\n"
        "  -t, --tty              allocate a pseudo-terminal\n"
        "  --rm                   remove the container when it exits\n"
        "  --network NAME|none    join a network (repeatable; default: none)\n"
        "  -l, --label K=V        set a label (repeatable)\n"
        "  --stop-signal SIG      signal that stops it (default SIGTERM)\n"
        "  --stop-timeout SEC     seconds before stop escalates to SIGKILL (default 10)\n"
        "  -v, --volume SRC:DST[:ro]   bind mount a host path\n"
        "  --mount type=bind,source=SRC,target=DST[,readonly]\n"
        "%s";

static int parse_create(int argc, char **argv, bool run, CreateOpts *o) {
        enum {
                OPT_NAME = 0x100, OPT_PRIV, OPT_ENVFILE, OPT_ENTRY, OPT_CAPADD, OPT_CAPDROP,
                OPT_INIT, OPT_RM, OPT_NET, OPT_STOPSIG, OPT_STOPTO, OPT_MOUNT, OPT_HELP,
        };
        static const struct option options[] = {
                { "name", required_argument, NULL, OPT_NAME },
                { "hostname", required_argument, NULL, 'h' },
                { "privileged", no_argument, NULL, OPT_PRIV },
                { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, OPT_ENVFILE },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "entrypoint", required_argument, NULL, OPT_ENTRY },
                { "cap-add", required_argument, NULL, OPT_CAPADD },
                { "cap-drop", required_argument, NULL, OPT_CAPDROP },
                { "init", optional_argument, NULL, OPT_INIT },
                { "detach", no_argument, NULL, 'd' },
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "rm", no_argument, NULL, OPT_RM },
                { "network", required_argument, NULL, OPT_NET },
                { "net", required_argument, NULL, OPT_NET },
                { "label", required_argument, NULL, 'l' },
                { "stop-signal", required_argument, NULL, OPT_STOPSIG },
                { "stop-timeout", required_argument, NULL, OPT_STOPTO },
                { "volume", required_argument, NULL, 'v' },
                { "mount", required_argument, NULL, OPT_MOUNT },
                { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        const char *cmd = run ? "run " : "create ";
        CtrSpec *sp = &o->spec;
        sp->stop_timeout = -1;
        int c, r;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h:e:w:u:ditl:v:", options, NULL)) >= 0) {
                switch (c) {
                case OPT_NAME: sp->name = optarg; break;
                case 'h': sp->hostname = optarg; break;
                case OPT_PRIV: sp->privileged = true; break;
                case 'e':
                        if (strchr(optarg, '='))
                                r = strv_push(&o->env, optarg);
                        else {
                                /* -e NAME passes our value of NAME, as Podman does */
                                const char *v = getenv(optarg);
                                char kv[8192];
                                (void) snprintf(kv, sizeof kv, "%s=%s", optarg, v ? v : "");
                                r = v ? strv_push(&o->env, kv) : 0;
                        }
                        if (r < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_ENVFILE:
                        if ((r = read_env_file(o, optarg)) != 0)
                                return r;
                        break;
                case 'w': sp->workdir = optarg; break;
                case 'u': sp->user = optarg; break;
                case OPT_ENTRY: sp->entrypoint = optarg; break;
                case OPT_CAPADD:
                        if (strv_push(&o->cap_add, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_CAPDROP:
                        if (strv_push(&o->cap_drop, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_INIT: {
                        bool b = true;
                        if (optarg && parse_boolean(optarg, &b) < 0)
                                return usage_error(cmd, "--init takes true or false, not '%s'", optarg);
                        sp->no_init = !b;
                        break;
                }
                case 'd': o->detach = true; break;
                case 'i': sp->interactive = true; break;
                case 't': sp->tty = true; break;
                case OPT_RM: sp->rm = true; break;
                case OPT_NET:
                        /* repeatable, and "a,b" as Podman takes it */
                        for (char *save, *copy = strdupa(optarg), *t = strtok_r(copy, ",", &save); t;
                             t = strtok_r(NULL, ",", &save))
                                if (strv_push(&o->networks, t) < 0)
                                        return EXIT_NSPROV;
                        break;
                case 'l':
                        if (strv_push(&o->labels, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_STOPSIG: sp->stop_signal = optarg; break;
                case OPT_STOPTO: {
                        uint32_t t;
                        if (safe_atou32_range(optarg, 0, 86400, &t) < 0)
                                return usage_error(cmd, "--stop-timeout takes seconds (0-86400), not '%s'", optarg);
                        sp->stop_timeout = (int) t;
                        break;
                }
                case 'v':
                        if ((r = parse_volume(o, optarg)) != 0)
                                return r;
                        break;
                case OPT_MOUNT:
                        if ((r = parse_mount(o, optarg)) != 0)
                                return r;
                        break;
                case OPT_HELP:
                        printf(create_usage, run ? "run" : "create",
                               run ? "Creates and starts a container, attached unless -d."
                                   : "Creates a container without starting it; prints its id.",
                               run ? "  -d, --detach           run in the background, print the id\n" : "");
                        return -1;
                default:
                        return usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        }
        if (!run && o->detach)
                return usage_error(cmd, "unknown option '-d'");
        if (optind >= argc)
                return usage_error(cmd, "an IMAGE is needed");
        sp->image = argv[optind++];
        for (int i = optind; i < argc; i++)
                if (strv_push(&o->command, argv[i]) < 0)
                        return EXIT_NSPROV;
        sp->command = o->command;
        sp->networks = o->networks;
        sp->env = o->env;
        sp->cap_add = o->cap_add;
        sp->cap_drop = o->cap_drop;
        sp->labels = o->labels;
        sp->mounts = o->mounts;
        sp->n_mounts = o->n_mounts;
        return 0;
}

static int verb_create_or_run(int argc, char **argv, const GlobalOptions *g, bool run) {
        _cleanup_(create_opts_done) CreateOpts o = {};
        int r = parse_create(argc, argv, run, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        if (ctr_create(&s, &o.spec, id, &e) < 0)
                return cli_fail(&e);
        if (!run) {
                printf("%s\n", id);
                return 0;
        }
        int exit_code = EXIT_NSPROV;
        CtrAttach at = { .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2 };
        /* A terminal attached to a pty goes raw while we relay it, as with ssh; Ctrl-C
         * then reaches the container's terminal, not us. */
        struct termios saved;
        bool raw = !o.detach && o.spec.tty && o.spec.interactive && isatty(0) && tcgetattr(0, &saved) == 0;
        if (raw) {
                struct termios t = saved;
                cfmakeraw(&t);
                (void) tcsetattr(0, TCSANOW, &t);
        }
        r = ctr_start(&s, id, o.detach ? NULL : &at, &exit_code, &e);
        if (raw)
                (void) tcsetattr(0, TCSANOW, &saved);
        if (r < 0) {
                log_error("%s", e.msg);
                /* The container stays, as Podman leaves it, unless it was --rm (gone with
                 * the failed start). Podman's run: 127 for a command not found, 126 for
                 * one not runnable. */
                return exit_code == EXIT_NOT_FOUND || exit_code == EXIT_CANNOT_INVOKE ? exit_code
                                                                                     : EXIT_NSPROV;
        }
        if (o.detach) {
                printf("%s\n", id);
                return 0;
        }
        return exit_code;
}

static int verb_create(int argc, char **argv, const GlobalOptions *g) {
        return verb_create_or_run(argc, argv, g, false);
}

static int verb_run(int argc, char **argv, const GlobalOptions *g) {
        return verb_create_or_run(argc, argv, g, true);
}

/* ---- verbs on existing containers ---- */

typedef int (*EachFunc)(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e);

/* Applies fn to each named container; prints each ref on success (as Podman does),
 * reports each failure, and fails if any did. */
static int for_each_ref(CtrStore *s, char **refs, int n, EachFunc fn, void *userdata, bool print) {
        int rc = 0;
        for (int i = 0; i < n; i++) {
                RtError e = {};
                char id[CTR_ID_LEN + 1];
                if (ctr_lookup(s, refs[i], id, &e) < 0 || fn(s, id, refs[i], userdata, &e) < 0) {
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                        continue;
                }
                if (print)
                        printf("%s\n", refs[i]);
        }
        return rc;
}

static int simple_opts(int argc, char **argv, const char *cmd, const char *usage,
                       const char *shortopts, const struct option *options,
                       int (*handle)(int c, const char *arg, void *userdata), void *userdata) {
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                if (c == 0x1ff) {
                        printf("%s", usage);
                        return -1;
                }
                int r = c == '?' || c == ':' ? usage_error(cmd, "unknown option or missing value: '%s'",
                                                           argv[optind - 1])
                                             : handle(c, optarg, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

#define HELP_OPTION { "help", no_argument, NULL, 0x1ff }

static int each_start(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e) {
        return ctr_start(s, id, NULL, NULL, e);
}

typedef struct StartOpts {
        bool attach;
} StartOpts;

static int start_opt(int c, const char *arg, void *userdata) {
        ((StartOpts *) userdata)->attach = true;
        return 0;
}

static int verb_start(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "attach", no_argument, NULL, 'a' }, HELP_OPTION, {} };
        StartOpts o = {};
        int r = simple_opts(argc, argv, "start ",
                            "Usage: nsprov start [-a] CONTAINER...\n\nStarts created or exited containers.\n"
                            "  -a, --attach   attach to its output and return its exit status\n",
                            "+a", options, start_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (optind >= argc)
                return usage_error("start ", "name at least one container");
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        if (o.attach) {
                if (argc - optind != 1)
                        return usage_error("start ", "--attach takes one container");
                RtError e = {};
                char id[CTR_ID_LEN + 1];
                int code = EXIT_NSPROV;
                CtrAttach at = { 0, 1, 2 };
                if (ctr_lookup(&s, argv[optind], id, &e) < 0 || ctr_start(&s, id, &at, &code, &e) < 0)
                        return cli_fail(&e);
                return code;
        }
        return for_each_ref(&s, argv + optind, argc - optind, each_start, NULL, true);
}

typedef struct StopOpts {
        int timeout;
        bool all;
        bool force;
        int signal;
} StopOpts;

static int stop_opt(int c, const char *arg, void *userdata) {
        StopOpts *o = userdata;
        uint32_t t;
        switch (c) {
        case 't':
                if (safe_atou32_range(arg, 0, 86400, &t) < 0)
                        return usage_error(NULL, "--time takes seconds (0-86400), not '%s'", arg);
                o->timeout = (int) t;
                return 0;
        case 'a':
                o->all = true;
                return 0;
        case 'f':
                o->force = true;
                return 0;
        case 's':
                o->signal = signal_from_string(arg);
                if (o->signal < 0)
                        return usage_error(NULL, "unknown signal '%s'", arg);
                return 0;
        }
        return usage_error(NULL, "unexpected option");
}

static int each_stop(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e) {
        return ctr_stop(s, id, ((StopOpts *) userdata)->timeout, e);
}

/* -a: every container, as refs (their ids). */
static char **all_refs(CtrStore *s, bool running_only, int *ret_n) {
        Container *cs = NULL;
        size_t n = 0;
        char **refs = NULL;
        *ret_n = 0;
        if (ctr_list(s, &cs, &n, NULL) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!running_only || cs[i].state.status == CTR_RUNNING)
                        if (strv_push(&refs, cs[i].config.id) == 0)
                                (*ret_n)++;
        ctr_list_free(cs, n);
        return refs;
}

/* The containers a verb acts on: those named after the options, or with all every one
 * (every running one when running_only). */
static int act_on(const GlobalOptions *g, int argc, char **argv, const char *cmd, bool all,
                  bool running_only, EachFunc fn, void *userdata) {
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        if (all) {
                int n;
                _cleanup_(strv_freep) char **refs = all_refs(&s, running_only, &n);
                return for_each_ref(&s, refs, n, fn, userdata, true);
        }
        if (optind >= argc)
                return usage_error(cmd, "name at least one container%s", running_only || all ? " (or -a)" : "");
        return for_each_ref(&s, argv + optind, argc - optind, fn, userdata, true);
}

static int verb_stop(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "time", required_argument, NULL, 't' },
                                                 { "timeout", required_argument, NULL, 't' },
                                                 { "all", no_argument, NULL, 'a' }, HELP_OPTION, {} };
        StopOpts o = { .timeout = -1 };
        int r = simple_opts(argc, argv, "stop ",
                            "Usage: nsprov stop [-t SECONDS] [-a] CONTAINER...\n\n"
                            "Sends the stop signal (SIGTERM unless set), then SIGKILL after the\n"
                            "timeout (the container's --stop-timeout, default 10 s).\n",
                            "+t:a", options, stop_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        return act_on(g, argc, argv, "stop ", o.all, true, each_stop, &o);
}

static int each_kill(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e) {
        return ctr_kill(s, id, ((StopOpts *) userdata)->signal, e);
}

static int verb_kill(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "signal", required_argument, NULL, 's' }, HELP_OPTION, {} };
        StopOpts o = { .signal = SIGKILL };
        int r = simple_opts(argc, argv, "kill ",
                            "Usage: nsprov kill [-s SIGNAL] CONTAINER...\n\nSends a signal (default SIGKILL) to the container's PID 1,\n"
                            "which passes it on to the command.\n",
                            "+s:", options, stop_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        return act_on(g, argc, argv, "kill ", false, false, each_kill, &o);
}

static int each_restart(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e) {
        return ctr_restart(s, id, ((StopOpts *) userdata)->timeout, e);
}

static int verb_restart(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "time", required_argument, NULL, 't' }, HELP_OPTION, {} };
        StopOpts o = { .timeout = -1 };
        int r = simple_opts(argc, argv, "restart ",
                            "Usage: nsprov restart [-t SECONDS] CONTAINER...\n\nStops, then starts again.\n",
                            "+t:", options, stop_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        return act_on(g, argc, argv, "restart ", false, false, each_restart, &o);
}

static int each_rm(CtrStore *s, const char *id, const char *ref, void *userdata, RtError *e) {
        return ctr_remove(s, id, ((StopOpts *) userdata)->force, e);
}

static int verb_rm(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' },
                                                 { "all", no_argument, NULL, 'a' }, HELP_OPTION, {} };
        StopOpts o = {};
        int r = simple_opts(argc, argv, "rm ",
                            "Usage: nsprov rm [-f] [-a] CONTAINER...\n\nRemoves containers; -f stops running ones first (SIGKILL).\n",
                            "+fa", options, stop_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        return act_on(g, argc, argv, "rm ", o.all, false, each_rm, &o);
}

/* ---- ps / inspect ---- */

static int verb_ps(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_FORMAT = 0x100, OPT_NOTRUNC };
        static const struct option options[] = { { "all", no_argument, NULL, 'a' },
                                                 { "quiet", no_argument, NULL, 'q' },
                                                 { "format", required_argument, NULL, OPT_FORMAT },
                                                 { "no-trunc", no_argument, NULL, OPT_NOTRUNC },
                                                 { "help", no_argument, NULL, 'h' }, {} };
        bool all = false, quiet = false, notrunc = false;
        OutputFormat fmt = OUTPUT_TABLE;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+aq", options, NULL)) >= 0)
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case OPT_NOTRUNC: notrunc = true; break;
                case OPT_FORMAT:
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("ps ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'h':
                        printf("Usage: nsprov ps [-a] [-q] [--no-trunc] [--format table|json]\n\n"
                               "Lists running containers; -a all of them.\n");
                        return 0;
                default:
                        return usage_error("ps ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error("ps ", "unexpected argument '%s'", argv[optind]);
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        Container *cs = NULL;
        size_t n = 0;
        if (ctr_list(&s, &cs, &n, &e) < 0)
                return cli_fail(&e);
        json_t *arr = fmt == OUTPUT_JSON ? json_array() : NULL;
        if (fmt == OUTPUT_TABLE && !quiet)
                printf("%-12s  %-12s  %-20s  %-16s  %-26s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
                       "CREATED", "STATUS", "NAMES");
        for (size_t i = 0; i < n; i++) {
                const Container *k = &cs[i];
                if (!all && k->state.status != CTR_RUNNING)
                        continue;
                if (arr) {
                        json_array_append_new(arr, ctr_ps_json(&s, k, true));
                        continue;
                }
                if (quiet) {
                        printf("%.*s\n", notrunc ? CTR_ID_LEN : CTR_SHORT_ID_LEN, k->config.id);
                        continue;
                }
                char cmd[256] = "", created[64], st[64];
                for (size_t a = 0; k->config.argv[a]; a++) {
                        size_t l = strlen(cmd);
                        (void) snprintf(cmd + l, sizeof cmd - l, "%s%s", a ? " " : "", k->config.argv[a]);
                }
                if (!notrunc && strlen(cmd) > 20)
                        memcpy(cmd + 17, "...", 4);
                ctr_human_duration(now_realtime_ns() - k->config.created_ns, created, sizeof created);
                strncat(created, " ago", sizeof created - strlen(created) - 1);
                ctr_status_text(k, st, sizeof st);
                printf("%-12.*s  %-12s  %-20s  %-16s  %-26s  %s\n", notrunc ? CTR_ID_LEN : CTR_SHORT_ID_LEN,
                       k->config.id, k->config.image, cmd, created, st, k->config.name);
        }
        if (arr) {
                cli_print_json(arr);
        }
        ctr_list_free(cs, n);
        return 0;
}

/* Go-template subset: "{{.A.B}}" paths into the JSON, "{{json .A}}" for JSON. */
static void print_template(const char *tmpl, json_t *j) {
        const char *p = tmpl;
        while (*p) {
                const char *open = strstr(p, "{{");
                const char *close = open ? strstr(open, "}}") : NULL;
                if (!open || !close) {
                        fputs(p, stdout);
                        break;
                }
                fwrite(p, 1, (size_t) (open - p), stdout);
                char expr[512];
                (void) snprintf(expr, sizeof expr, "%.*s", (int) (close - open - 2), open + 2);
                char *e = expr + strspn(expr, " ");
                bool as_json = false;
                if (startswith(e, "json ")) {
                        as_json = true;
                        e += 5;
                        e += strspn(e, " ");
                }
                e[strcspn(e, " ")] = '\0';
                json_t *v = j;
                for (char *save, *tok = strtok_r(e, ".", &save); v && tok; tok = strtok_r(NULL, ".", &save))
                        v = json_object_get(v, tok);
                if (!v || json_is_null(v))
                        fputs(as_json ? "null" : "<no value>", stdout);
                else if (json_is_string(v) && !as_json)
                        fputs(json_string_value(v), stdout);
                else {
                        char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                        if (d)
                                fputs(d, stdout);
                        free(d);
                }
                p = close + 2;
        }
        putchar('\n');
}

static int verb_inspect(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "format", required_argument, NULL, 'f' },
                                                 { "help", no_argument, NULL, 'h' }, {} };
        const char *format = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+f:", options, NULL)) >= 0)
                switch (c) {
                case 'f': format = optarg; break;
                case 'h':
                        printf("Usage: nsprov inspect [-f json|TEMPLATE] CONTAINER...\n\n"
                               "Prints containers as Podman's inspect does (JSON); a template such as\n"
                               "'{{.State.Pid}}' prints one field per container.\n");
                        return 0;
                default:
                        return usage_error("inspect ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind >= argc)
                return usage_error("inspect ", "name at least one container");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        json_t *arr = json_array();
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                RtError e = {};
                char id[CTR_ID_LEN + 1];
                Container k = {};
                if (ctr_lookup(&s, argv[i], id, &e) < 0 || ctr_load(&s, id, &k, &e) < 0) {
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                        continue;
                }
                (void) ctr_state_observe(&k);
                json_t *j = ctr_inspect_json(&s, &k, INSPECT_V5);
                ctr_done(&k);
                if (format && !streq(format, "json")) {
                        print_template(format, j);
                        json_decref(j);
                } else
                        json_array_append_new(arr, j);
        }
        if (!format || streq(format, "json")) {
                json_dumpf(arr, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                putchar('\n');
        }
        json_decref(arr);
        return rc;
}

/* ---- exec ---- */

static int verb_exec(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_PRIV = 0x100, OPT_HELP };
        static const struct option options[] = {
                { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
                { "env", required_argument, NULL, 'e' },   { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "privileged", no_argument, NULL, OPT_PRIV }, { "detach-keys", required_argument, NULL, 'K' },
                { "help", no_argument, NULL, OPT_HELP },   {},
        };
        CtrExec ex = {};
        _cleanup_(strv_freep) char **env = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+ite:w:u:", options, NULL)) >= 0)
                switch (c) {
                case 'i': ex.interactive = true; break;
                case 't': ex.tty = true; break;
                case 'e':
                        if (strv_push(&env, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case 'w': ex.workdir = optarg; break;
                case 'u': ex.user = optarg; break;
                case OPT_PRIV: ex.privileged = true; break;
                case 'K': break; /* Podman's detach keys: nothing to detach from here */
                case OPT_HELP:
                        printf("Usage: nsprov exec [-i] [-t] [-e K=V] [-w DIR] [-u USER[:GROUP]] [--privileged] CONTAINER COMMAND [ARG...]\n\n"
                               "Runs a command in a running container; exits with its status\n"
                               "(126: cannot be run, 127: not found, 125: nsprov failed).\n");
                        return 0;
                default:
                        return usage_error("exec ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (argc - optind < 2)
                return usage_error("exec ", "a CONTAINER and a COMMAND are needed");
        ex.env = env;
        ex.argv = argv + optind + 1;
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        int code = EXIT_NSPROV;
        if (ctr_lookup(&s, argv[optind], id, &e) < 0)
                return cli_fail(&e);
        r = ctr_exec(&s, id, &ex, &code, &e);
        if (r < 0)
                log_error("%s", e.msg);
        return code;
}

/* ---- logs ---- */

typedef struct LogsOpts {
        bool follow, timestamps;
        long tail; /* -1: all */
} LogsOpts;

static int print_log_line(const CtrLogLine *l, void *userdata) {
        const LogsOpts *o = userdata;
        FILE *out = l->is_stderr ? stderr : stdout;
        if (o->timestamps)
                fprintf(out, "%.*s ", (int) l->time_len, l->time);
        fwrite(l->text, 1, l->text_len, out);
        if (l->full)
                fputc('\n', out);
        /* a follower sees each line as it comes */
        if (o->follow)
                fflush(out);
        return 0;
}

static int verb_logs(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "follow", no_argument, NULL, 'f' },
                                                  { "timestamps", no_argument, NULL, 't' },
                                                  { "tail", required_argument, NULL, 'n' },
                                                  { "help", no_argument, NULL, 'h' }, {} };
        LogsOpts o = { .tail = -1 };
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+ftn:", options, NULL)) >= 0)
                switch (c) {
                case 'f': o.follow = true; break;
                case 't': o.timestamps = true; break;
                case 'n': {
                        int32_t t;
                        if (safe_atoi32(optarg, &t) < 0 || t < -1)
                                return usage_error("logs ", "--tail takes a number of lines, not '%s'", optarg);
                        o.tail = t;
                        break;
                }
                case 'h':
                        printf("Usage: nsprov logs [-f] [-t] [--tail N] CONTAINER\n\n"
                               "Prints what the container wrote to stdout and stderr.\n");
                        return 0;
                default:
                        return usage_error("logs ", "unknown option '%s'", argv[optind - 1]);
                }
        if (argc - optind != 1)
                return usage_error("logs ", "name one container");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        if (ctr_lookup(&s, argv[optind], id, &e) < 0)
                return cli_fail(&e);
        CtrLogRead read = { .tail = o.tail, .follow = o.follow, .cancel_fd = -1 };
        r = ctr_log_read(&s, id, &read, print_log_line, &o, &e);
        fflush(stdout);
        fflush(stderr);
        return r < 0 ? cli_fail(&e) : 0;
}

/* ---- wait ---- */

static int verb_wait(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "condition", required_argument, NULL, 'c' },
                                                  { "help", no_argument, NULL, 'h' }, {} };
        CtrWaitCondition cond = CTR_WAIT_STOPPED;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (streq(optarg, "running"))
                                cond = CTR_WAIT_RUNNING;
                        else if (streq(optarg, "stopped") || streq(optarg, "exited"))
                                cond = CTR_WAIT_STOPPED;
                        else
                                return usage_error("wait ", "unknown --condition '%s' (running, stopped, exited)", optarg);
                        break;
                case 'h':
                        printf("Usage: nsprov wait [--condition running|stopped|exited] CONTAINER...\n\n"
                               "Waits for each container; prints its exit code (or -1 for running).\n");
                        return 0;
                default:
                        return usage_error("wait ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind >= argc)
                return usage_error("wait ", "name at least one container");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                RtError e = {};
                char id[CTR_ID_LEN + 1];
                int code = -1;
                if (ctr_lookup(&s, argv[i], id, &e) < 0 || ctr_wait(&s, id, cond, 0, &code, &e) < 0) {
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                        continue;
                }
                printf("%d\n", cond == CTR_WAIT_RUNNING ? -1 : code);
        }
        return rc;
}

/* ---- top ---- */

static int verb_top(int argc, char **argv, const GlobalOptions *g) {
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov top CONTAINER\n\nLists the processes of a running container, with the\n"
                       "pids and user names it sees.\n");
                return 0;
        }
        if (argc != 2)
                return usage_error("top ", "name one container");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        char id[CTR_ID_LEN + 1];
        _cleanup_free_ CtrProcess *ps = NULL;
        size_t n = 0;
        if (ctr_lookup(&s, argv[1], id, &e) < 0 || ctr_top(&s, id, &ps, &n, &e) < 0)
                return cli_fail(&e);
        printf("%-10s %-8s %-8s %s\n", "USER", "PID", "PPID", "COMMAND");
        for (size_t i = 0; i < n; i++)
                printf("%-10s %-8d %-8d %s\n", ps[i].user, (int) ps[i].pid, (int) ps[i].ppid, ps[i].command);
        return 0;
}

/* Not for users: the server's way to make a container's monitor (CtrStore.fresh_monitor). */
static int verb_monitor(int argc, char **argv, const GlobalOptions *g) {
        int fd, lock_fd;
        if (argc != 5 || strlen(argv[1]) != CTR_ID_LEN || strspn(argv[1], "0123456789abcdef") != CTR_ID_LEN ||
            safe_atoi32(argv[2], &fd) < 0 || fd < 3 || safe_atoi32(argv[3], &lock_fd) < 0 || lock_fd < 3)
                return usage_error("__monitor ", "is the server's, not for use by hand");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        return ctr_monitor_main(&s, argv[1], fd, lock_fd, streq(argv[4], "1"));
}

const Verb container_verbs[] = {
        { "create", "create a container (not started)", verb_create },
        { "run", "create and start a container", verb_run },
        { "start", "start containers", verb_start },
        { "stop", "stop containers (SIGTERM, then SIGKILL)", verb_stop },
        { "kill", "send a signal to containers", verb_kill },
        { "restart", "stop and start containers", verb_restart },
        { "rm", "remove containers", verb_rm },
        { "ps", "list containers", verb_ps },
        { "inspect", "show containers' details as JSON", verb_inspect },
        { "exec", "run a command in a running container", verb_exec },
        { "logs", "show a container's output", verb_logs },
        { "wait", "wait for containers to stop; print exit codes", verb_wait },
        { "top", "list a container's processes", verb_top },
        { "__monitor", NULL, verb_monitor },
        {},
};
