/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create and run: Podman's flags turned into a container spec (and, for run, started and
 * attached, or detached with -d). */
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
        "  --ready tcp:PORT|unix:PATH|cmd:COMMAND|none\n"
        "                         a start returns once a listener is on PORT or PATH in the\n"
        "                         container, or COMMAND succeeds inside (default: the image's)\n"
        "  --ready-timeout DURATION  how long a start waits for it (default 60s)\n"
        "  --pids-limit N         at most N processes (default 2048; -1: no limit)\n"
        "  --memory SIZE          memory limit (512m, 2g; at least 6m)\n"
        "  --cpus N               CPU time limit, in CPUs (1.5)\n"
        "%s";

static int parse_create(int argc, char **argv, bool run, CreateOpts *o) {
        enum {
                OPT_NAME = 0x100, OPT_PRIV, OPT_ENVFILE, OPT_ENTRY, OPT_CAPADD, OPT_CAPDROP,
                OPT_INIT, OPT_RM, OPT_NET, OPT_STOPSIG, OPT_STOPTO, OPT_MOUNT, OPT_HELP, OPT_READY,
                OPT_READYTO, OPT_PIDS, OPT_MEMORY, OPT_CPUS,
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
                { "ready", required_argument, NULL, OPT_READY },
                { "ready-timeout", required_argument, NULL, OPT_READYTO },
                { "pids-limit", required_argument, NULL, OPT_PIDS },
                { "memory", required_argument, NULL, OPT_MEMORY },
                { "cpus", required_argument, NULL, OPT_CPUS },
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
                case OPT_READY: {
                        RtError e = {};
                        if (ctr_ready_check(optarg, &e) < 0)
                                return usage_error(cmd, "--ready: %s", e.msg);
                        sp->ready = optarg;
                        break;
                }
                case OPT_PIDS: {
                        int32_t n;
                        if (safe_atoi32(optarg, &n) < 0 || n < -1)
                                return usage_error(cmd, "--pids-limit takes a count, or -1 for none, not '%s'", optarg);
                        sp->pids_limit = n == 0 ? -1 : n; /* Podman: 0 is no limit too */
                        break;
                }
                case OPT_MEMORY:
                        if (ctr_parse_memory(optarg, &sp->memory_limit) < 0 || sp->memory_limit < CTR_MIN_MEMORY_LIMIT)
                                return usage_error(cmd, "--memory takes a size of at least 6m (512m, 2g), not '%s'", optarg);
                        break;
                case OPT_CPUS:
                        if (ctr_parse_cpus(optarg, &sp->cpu_quota_us) < 0)
                                return usage_error(cmd, "--cpus takes a number of CPUs (0.5, 2), not '%s'", optarg);
                        break;
                case OPT_READYTO: {
                        uint64_t ms;
                        if (parse_duration_ms(optarg, CTR_READY_MAX_TIMEOUT_MS, &ms) < 0 || ms == 0)
                                return usage_error(cmd, "--ready-timeout takes a duration up to 24h (60s, 1m30s, 500ms), not '%s'",
                                                   optarg);
                        sp->ready_timeout_ms = (int) ms;
                        break;
                }
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

int verb_create(int argc, char **argv, const GlobalOptions *g) {
        return verb_create_or_run(argc, argv, g, false);
}

int verb_run(int argc, char **argv, const GlobalOptions *g) {
        return verb_create_or_run(argc, argv, g, true);
}

