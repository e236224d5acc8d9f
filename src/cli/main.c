/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "cli.h"
#include "runtime.h"
#include "log.h"

static const char *const default_root = CTR_DEFAULT_ROOT;
static const char *const default_runroot = CTR_DEFAULT_RUNROOT;
static const char *const default_cni_config_dir = "/etc/cni/net.d";
static const char *const default_cni_path = "/usr/lib/cni:/opt/cni/bin";
static const char *const default_cni_cache_dir = "/var/lib/cni";

static int verb_version(int argc, char **argv, const GlobalOptions *g);
static int verb_help(int argc, char **argv, const GlobalOptions *g);

static const Verb top_verbs[] = {
        { "image", "manage images (add, load, import, ls, inspect, exists, rm)", verb_image },
        { "network", "manage networks (create, ls, inspect, rm, connect, disconnect)", verb_network },
        { "lab", "labs as files (up, down, reset, ls, inspect, pool)", verb_lab },
        { "cni", "run CNI plugins from conflists (ls, add, del, check, gc, status, version)", verb_cni },
        { "system", "host-level: info, gc, reset, marked", verb_system },
        { "serve", "answer Podman's REST API on a unix socket (the shim)", verb_serve },
        { "version", "print nsprov's version", verb_version },
        { "help", "show this help, or a command's (help COMMAND)", verb_help },
        {},
};

int parse_output_format(const char *s, OutputFormat *ret) {
        if (streq(s, "table"))
                *ret = OUTPUT_TABLE;
        else if (streq(s, "json"))
                *ret = OUTPUT_JSON;
        else
                return -EINVAL;
        return 0;
}

int cli_open_store(const GlobalOptions *g, CtrStore *s) {
        RtError e = {};
        if (ctr_store_init(s, g->root, g->runroot, &e) < 0)
                return cli_fail(&e);
        return 0;
}

int cli_fail(const RtError *e) {
        log_error("%s", e->msg);
        return EXIT_NSPROV;
}

void cli_print_json(json_t *j) {
        json_dumpf(j, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(j);
}

int usage_error(const char *cmd, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "nsprov: %s\nTry 'nsprov %s--help'.\n", msg, cmd ? cmd : "");
        return EXIT_NSPROV;
}

int cli_oom(void) {
        log_error("Out of memory.");
        return EXIT_NSPROV;
}

static void print_verbs(FILE *f, const Verb *verbs) {
        for (const Verb *v = verbs; v->name; v++)
                if (v->summary) /* none: internal */
                        fprintf(f, "  %-10s %s\n", v->name, v->summary);
}

int dispatch_verb(const char *parent, const Verb *verbs, int argc, char **argv,
                  const GlobalOptions *g) {
        char cmd[64];
        (void) snprintf(cmd, sizeof cmd, "%s%s", parent ? parent : "", parent ? " " : "");
        if (argc < 1) {
                fprintf(stderr, "nsprov: '%s' needs a command:\n", parent ? parent : "nsprov");
                print_verbs(stderr, verbs);
                return EXIT_NSPROV;
        }
        for (const Verb *v = verbs; v->name; v++)
                if (streq(v->name, argv[0]))
                        return v->run(argc, argv, g);
        fprintf(stderr, "nsprov: unknown command '%s%s'. Commands:\n", cmd, argv[0]);
        print_verbs(stderr, verbs);
        return EXIT_NSPROV;
}

static void print_main_help(void) {
        printf("Usage: nsprov [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
               "\n"
               "Provisions LNST agent containers and lab networks on the Linux kernel.\n"
               "\n"
               "Commands:\n");
        print_verbs(stdout, container_verbs);
        print_verbs(stdout, top_verbs);
        printf("\n"
               "Global options:\n"
               "  --root DIR          persistent state: images, networks (default %s;\n"
               "                      env NSPROV_ROOT)\n"
               "  --runroot DIR       runtime state: containers, locks, logs (default %s;\n"
               "                      env NSPROV_RUNROOT)\n"
               "  --cni-config-dir DIR    CNI conflists (default %s;\n"
               "                      env NSPROV_CNI_CONFIG_DIR)\n"
               "  --cni-path DIRS     CNI plugin dirs, ':'-separated (default %s;\n"
               "                      env NSPROV_CNI_PATH)\n"
               "  --cni-cache-dir DIR     CNI result cache, libcni's layout (default %s;\n"
               "                      env NSPROV_CNI_CACHE_DIR)\n"
               "  --log-level LEVEL   error, warning, info or debug (env NSPROV_LOG_LEVEL)\n"
               "  --default-network NAME   joined when a container names no network (default\n"
               "                      nsprov, bridge nsprov0, made on first use; 'none': no\n"
               "                      default; env NSPROV_DEFAULT_NETWORK)\n"
               "  --default-subnet CIDR    its subnet (default 10.88.0.0/16; env NSPROV_DEFAULT_SUBNET)\n"
               "  --version           print the version and exit\n"
               "  -h, --help          show this help; 'nsprov COMMAND --help' for a command\n"
               "\n"
               "Exit status: 0 on success, 125 when nsprov itself fails.\n",
               default_root, default_runroot, default_cni_config_dir, default_cni_path,
               default_cni_cache_dir);
}

static int verb_version(int argc, char **argv, const GlobalOptions *g) {
        if (argc > 1) {
                if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
                        printf("Usage: nsprov version\n\nPrints nsprov's version.\n");
                        return 0;
                }
                return usage_error("version ", "'version' takes no arguments, got '%s'", argv[1]);
        }
        printf("nsprov version %s\n", NSPROV_VERSION);
        return 0;
}

static int verb_help(int argc, char **argv, const GlobalOptions *g) {
        if (argc < 2) {
                print_main_help();
                return 0;
        }
        char *sub[] = { argv[1], (char *) "--help", NULL };
        for (const Verb *v = container_verbs; v->name; v++)
                if (streq(v->name, argv[1]))
                        return v->run(2, sub, g);
        for (const Verb *v = top_verbs; v->name; v++)
                if (streq(v->name, argv[1]) && v->run != verb_help)
                        return v->run(2, sub, g);
        return usage_error(NULL, "unknown command '%s'", argv[1]);
}

/* The options' values before any flag: the environment's, else the built-in defaults. */
static GlobalOptions global_defaults(void) {
        return (GlobalOptions) {
                .root = getenv("NSPROV_ROOT") ?: default_root,
                .runroot = getenv("NSPROV_RUNROOT") ?: default_runroot,
                .cni_config_dir = getenv("NSPROV_CNI_CONFIG_DIR") ?: default_cni_config_dir,
                .cni_path = getenv("NSPROV_CNI_PATH") ?: default_cni_path,
                .cni_cache_dir = getenv("NSPROV_CNI_CACHE_DIR") ?: default_cni_cache_dir,
        };
}

void cli_podman_defaults(void) {
        /* Podman's default network, as Podman's clients expect it (LNST reads
         * Networks["podman"]) */
        if (!getenv("NSPROV_DEFAULT_NETWORK"))
                (void) setenv("NSPROV_DEFAULT_NETWORK", CTR_PODMAN_NETWORK, 1);
        /* not 10.88.0.0/16: on a host that also has Podman (or nsprov's own default
         * network) that is taken; the bridge is the store's to name (ctr_store_init) */
        if (!getenv("NSPROV_DEFAULT_SUBNET"))
                (void) setenv("NSPROV_DEFAULT_SUBNET", "10.90.0.0/16", 1);
}

/* A server at unix:///PATH that is nsprov's: its state dirs (from its info), so that
 * podman with --url or CONTAINER_HOST works on what that server works on. */
static int server_state_dirs(const char *url, char root[static PATH_MAX], char runroot[static PATH_MAX]) {
        const char *path = startswith(url, "unix://");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!path || strlen(path) >= sizeof sa.sun_path) {
                fprintf(stderr, "Error: '%s': only unix:///PATH servers are nsprov's own\n", url);
                return -EINVAL;
        }
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                fprintf(stderr, "Error: unable to connect to Podman socket %s: %m\n", url);
                return -errno;
        }
        static const char req[] = "GET /v" API_LIBPOD_VERSION "/libpod/info HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
        if (write(fd, req, sizeof req - 1) != (ssize_t) sizeof req - 1)
                return -EIO;
        _cleanup_free_ char *buf = malloc(1 << 20);
        size_t len = 0;
        ssize_t n;
        while (buf && len < (1 << 20) - 1 && (n = read(fd, buf + len, (1 << 20) - 1 - len)) > 0)
                len += (size_t) n;
        if (!buf)
                return -ENOMEM;
        buf[len] = 0;
        const char *body = strstr(buf, "\r\n\r\n");
        json_t *j = body ? json_loads(body + 4, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
        const char *rt = json_string_value(json_object_get(json_object_get(json_object_get(j, "host"), "ociRuntime"), "name"));
        const char *gr = json_string_value(json_object_get(json_object_get(j, "store"), "graphRoot"));
        const char *rr = json_string_value(json_object_get(json_object_get(j, "store"), "runRoot"));
        int r = 0;
        if (!rt || !streq(rt, "nsprov") || !gr || !rr) {
                fprintf(stderr, "Error: %s is not an nsprov server; this podman is nsprov's: use Podman's own "
                                "client there\n", url);
                r = -EPROTO;
        } else {
                (void) snprintf(root, PATH_MAX, "%s", gr);
                (void) snprintf(runroot, PATH_MAX, "%s", rr);
        }
        json_decref(j);
        return r;
}

static const Verb *find_verb(const Verb *verbs, const char *name) {
        for (const Verb *v = verbs; v->name; v++)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

/* nsprov invoked as `podman` (a symlink): the subset of Podman's CLI that tools shell out
 * to (LNST runs `podman exec -it NAME ip -j a`), over nsprov's own state, with the
 * defaults `nsprov serve` uses, so it sees what a tool made through the socket. */
static int podman_main(int argc, char **argv) {
        GlobalOptions g = global_defaults();
        g.as_podman = true;
        cli_podman_defaults();
        log_set_ident("podman");
        const char *url = NULL;
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *val = NULL;
                static const char *const with_value[] = { "--root", "--runroot", "--log-level", "--url", "--connection",
                                                          "-c", "--host", "-H" };
                for (size_t k = 0; k < ELEMENTSOF(with_value); k++) {
                        const char *rest = startswith(a, with_value[k]);
                        if (rest && *rest == '=')
                                val = rest + 1;
                        else if (rest && !*rest) {
                                if (i + 1 >= argc) {
                                        fprintf(stderr, "Error: flag needs an argument: %s\n", a);
                                        return EXIT_NSPROV;
                                }
                                val = argv[++i];
                        }
                        if (val) {
                                a = with_value[k];
                                break;
                        }
                }
                if (streq(a, "--root"))
                        g.root = val;
                else if (streq(a, "--runroot"))
                        g.runroot = val;
                else if (streq(a, "--log-level")) {
                        LogLevel l = log_level_from_string(val);
                        if (l >= 0)
                                log_set_level(l);
                } else if (streq(a, "--url") || streq(a, "--host") || streq(a, "-H"))
                        url = val;
                else if (streq(a, "--remote") || streq(a, "-r"))
                        url = url ?: getenv("CONTAINER_HOST") ?: "unix:///run/podman/podman.sock";
                else if (streq(a, "--connection") || streq(a, "-c")) {
                        fprintf(stderr, "Error: this podman is nsprov's: named connections (%s) are not supported; "
                                        "give --url unix:///PATH\n", a);
                        return EXIT_NSPROV;
                } else if (streq(a, "--version") || streq(a, "-v")) {
                        printf("podman version %s (nsprov %s)\n", API_LIBPOD_VERSION, NSPROV_VERSION);
                        return 0;
                } else {
                        fprintf(stderr, "Error: unknown flag: %s\n", a);
                        return EXIT_NSPROV;
                }
        }
        /* a server named (--url, CONTAINER_HOST): work on the state it works on */
        if (!url && getenv("CONTAINER_HOST") && *getenv("CONTAINER_HOST"))
                url = getenv("CONTAINER_HOST");
        static char server_root[PATH_MAX], server_runroot[PATH_MAX];
        if (url) {
                if (server_state_dirs(url, server_root, server_runroot) < 0)
                        return EXIT_NSPROV;
                g.root = server_root;
                g.runroot = server_runroot;
        }
        if (i >= argc) {
                fprintf(stderr, "Error: missing command 'podman COMMAND'\n"
                                "Commands (nsprov's podman): exec, ps, inspect, start, stop, rm, logs, network ls|inspect|rm,\n"
                                "image exists|load|import|pull, load, import, pull, version, info\n");
                return EXIT_NSPROV;
        }
        const char *cmd = argv[i];
        char **sub = argv + i;
        int subc = argc - i;
        static const char *const direct[] = { "exec", "ps", "inspect", "start", "stop", "rm", "logs" };
        for (size_t k = 0; k < ELEMENTSOF(direct); k++)
                if (streq(cmd, direct[k]))
                        return find_verb(container_verbs, cmd)->run(subc, sub, &g);
        /* what a host without Podman gets the agent image with (container_files/agent) */
        if (streq(cmd, "load") || streq(cmd, "import") || streq(cmd, "pull")) {
                char **as_image = calloc((size_t) subc + 2, sizeof *as_image);
                if (!as_image)
                        return EXIT_NSPROV;
                as_image[0] = (char *) "image";
                memcpy(as_image + 1, sub, (size_t) subc * sizeof *sub);
                int r = verb_image(subc + 1, as_image, &g);
                free(as_image);
                return r;
        }
        if (streq(cmd, "version")) {
                printf("Client:       Podman Engine (nsprov)\nVersion:      %s\nAPI Version:  %s\nnsprov:       %s\n",
                       API_LIBPOD_VERSION, API_LIBPOD_VERSION, NSPROV_VERSION);
                return 0;
        }
        if (streq(cmd, "info")) {
                char *info[] = { (char *) "system", (char *) "info", NULL };
                return verb_system(2, info, &g);
        }
        if ((streq(cmd, "network") || streq(cmd, "image")) && subc >= 2) {
                static const char *const net_ok[] = { "ls", "list", "inspect", "rm", "exists" };
                static const char *const img_ok[] = { "exists", "load", "import", "pull" };
                bool net = streq(cmd, "network");
                const char *const *ok = net ? net_ok : img_ok;
                size_t n = net ? ELEMENTSOF(net_ok) : ELEMENTSOF(img_ok);
                for (size_t k = 0; k < n; k++)
                        if (streq(sub[1], ok[k]))
                                return (net ? verb_network : verb_image)(subc, sub, &g);
                fprintf(stderr, "Error: 'podman %s %s' is not supported by nsprov's podman command\n", cmd, sub[1]);
                return EXIT_NSPROV;
        }
        fprintf(stderr, "Error: 'podman %s' is not supported by nsprov's podman command "
                        "(exec, ps, inspect, start, stop, rm, logs, network ls|inspect|rm, image exists|load|import|pull, "
                        "load, import, pull, version, info)\n",
                cmd);
        return EXIT_NSPROV;
}

int main(int argc, char **argv) {
        const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
        if (argc > 0 && streq(base ? base + 1 : argv[0], "podman")) {
                log_parse_environment();
                return podman_main(argc, argv);
        }
        enum { OPT_ROOT = 0x100, OPT_RUNROOT, OPT_LOG_LEVEL, OPT_VERSION, OPT_DEFNET, OPT_DEFSUBNET,
               OPT_CNI_CONFIG_DIR, OPT_CNI_PATH, OPT_CNI_CACHE_DIR };
        static const struct option options[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "default-network", required_argument, NULL, OPT_DEFNET },
                { "default-subnet", required_argument, NULL, OPT_DEFSUBNET },
                { "runroot", required_argument, NULL, OPT_RUNROOT },
                { "cni-config-dir", required_argument, NULL, OPT_CNI_CONFIG_DIR },
                { "cni-path", required_argument, NULL, OPT_CNI_PATH },
                { "cni-cache-dir", required_argument, NULL, OPT_CNI_CACHE_DIR },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        GlobalOptions g = global_defaults();

        log_parse_environment();
        /* getopt prints its own complaint; ours follows with the exit code Podman uses. */
        opterr = 0;
        int c;
        /* '+': stop at the command, whose own options are its business. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOT:
                        if (!*optarg)
                                return usage_error(NULL, "--root needs a directory");
                        g.root = optarg;
                        break;
                case OPT_RUNROOT:
                        if (!*optarg)
                                return usage_error(NULL, "--runroot needs a directory");
                        g.runroot = optarg;
                        break;
                case OPT_CNI_CONFIG_DIR:
                case OPT_CNI_PATH:
                case OPT_CNI_CACHE_DIR:
                        if (!*optarg)
                                return usage_error(NULL, "%s needs a value", argv[optind - 1]);
                        if (c == OPT_CNI_CONFIG_DIR)
                                g.cni_config_dir = optarg;
                        else if (c == OPT_CNI_PATH)
                                g.cni_path = optarg;
                        else
                                g.cni_cache_dir = optarg;
                        /* the store (and a monitor it forks) reads them there */
                        (void) setenv(c == OPT_CNI_CONFIG_DIR ? "NSPROV_CNI_CONFIG_DIR"
                                      : c == OPT_CNI_PATH     ? "NSPROV_CNI_PATH"
                                                              : "NSPROV_CNI_CACHE_DIR",
                                      optarg, 1);
                        break;
                case OPT_LOG_LEVEL: {
                        LogLevel l = log_level_from_string(optarg);
                        if (l < 0)
                                return usage_error(NULL,
                                                   "invalid --log-level '%s' (error, warning, info, debug)",
                                                   optarg);
                        log_set_level(l);
                        break;
                }
                /* the store reads them from the environment, where a service or a test
                 * would set them too */
                case OPT_DEFNET:
                        (void) setenv("NSPROV_DEFAULT_NETWORK", optarg, 1);
                        break;
                case OPT_DEFSUBNET:
                        (void) setenv("NSPROV_DEFAULT_SUBNET", optarg, 1);
                        break;
                case OPT_VERSION:
                        printf("nsprov version %s\n", NSPROV_VERSION);
                        return 0;
                case 'h':
                        print_main_help();
                        return 0;
                case '?':
                        if (optopt)
                                return usage_error(NULL, "option '-%c' needs an argument or is unknown", optopt);
                        return usage_error(NULL, "unknown or incomplete option '%s'", argv[optind - 1]);
                default:
                        return usage_error(NULL, "unexpected option");
                }
        }
        if (optind >= argc) {
                print_main_help();
                return EXIT_NSPROV;
        }
        for (const Verb *v = container_verbs; v->name; v++)
                if (streq(v->name, argv[optind]))
                        return v->run(argc - optind, argv + optind, &g);
        return dispatch_verb(NULL, top_verbs, argc - optind, argv + optind, &g);
}
