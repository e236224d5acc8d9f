/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs on existing containers, with Podman's names and flags: start, stop, kill,
 * restart, rm, ps, inspect, exec, logs, wait, top (create and run: cmd-run.c). */
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

/* Podman's statuses for rm: 1 when a container named does not exist (nothing said of it
 * with -f), 2 when one runs and -f was not given, 125 for anything else; the worst wins. */
static int rm_refs(CtrStore *s, char **refs, int n, const StopOpts *o) {
        int rc = 0;
        for (int i = 0; i < n; i++) {
                RtError e = {};
                char id[CTR_ID_LEN + 1];
                int r = ctr_lookup(s, refs[i], id, &e);
                if (r == -ENOENT && o->force)
                        continue;
                if (r == 0)
                        r = ctr_remove(s, id, o->force, &e);
                if (r < 0) {
                        log_error("%s", e.msg);
                        int code = r == -ENOENT ? 1 : r == -EBUSY ? 2 : EXIT_NSPROV;
                        rc = code == EXIT_NSPROV || rc == EXIT_NSPROV ? EXIT_NSPROV : MAX(rc, code);
                        continue;
                }
                printf("%s\n", refs[i]);
        }
        return rc;
}

static int verb_rm(int argc, char **argv, const GlobalOptions *g) {
        static const struct option options[] = { { "force", no_argument, NULL, 'f' },
                                                 { "all", no_argument, NULL, 'a' }, HELP_OPTION, {} };
        StopOpts o = {};
        int r = simple_opts(argc, argv, "rm ",
                            "Usage: nsprov rm [-f] [-a] CONTAINER...\n\nRemoves containers; -f stops running ones first (SIGKILL),\n"
                            "and passes over names that do not exist. Exits 1 when a container named does not\n"
                            "exist, 2 when one runs (without -f), 125 on other errors, as Podman does.\n",
                            "+fa", options, stop_opt, &o);
        if (r != 0)
                return r < 0 ? 0 : r;
        if (o.all)
                return act_on(g, argc, argv, "rm ", true, false, each_rm, &o);
        if (optind >= argc)
                return usage_error("rm ", "name at least one container (or -a)");
        CtrStore st;
        if ((r = cli_open_store(g, &st)) != 0)
                return r;
        return rm_refs(&st, argv + optind, argc - optind, &o);
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
