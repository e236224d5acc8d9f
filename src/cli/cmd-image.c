/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsprov image add|load|import|pull|ls|inspect|exists|rm */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "runtime.h"
#include "log.h"
#include "parse.h"
#include "registry.h"
#include "strv.h"


/* A command as a JSON array ('["/bin/sh","-c","x"]') or words split on spaces. */
static int parse_command(const char *what, const char *v, char ***ret) {
        if (v[0] == '[') {
                json_error_t je;
                json_t *j = json_loads(v, JSON_REJECT_DUPLICATES, &je);
                int r = j ? strv_from_json(j, CTR_MAX_ARGS, ret) : -EINVAL;
                json_decref(j);
                if (r < 0)
                        return usage_error("image add ", "%s '%s' is not a JSON array of strings", what, v);
                return 0;
        }
        _cleanup_free_ char *copy = strdup(v);
        for (char *save, *w = copy ? strtok_r(copy, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save))
                if (strv_push(ret, w) < 0)
                        return EXIT_NSPROV;
        /* An empty list is meaningful ("no entrypoint"), not missing. */
        if (!*ret && !(*ret = calloc(1, sizeof(char *))))
                return EXIT_NSPROV;
        return 0;
}

static int image_add(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_ROOTFS = 0x100, OPT_CMD, OPT_ENTRY, OPT_ENV, OPT_WD, OPT_SIG, OPT_READY, OPT_HELP };
        static const struct option options[] = {
                { "rootfs", required_argument, NULL, OPT_ROOTFS }, { "cmd", required_argument, NULL, OPT_CMD },
                { "entrypoint", required_argument, NULL, OPT_ENTRY }, { "env", required_argument, NULL, OPT_ENV },
                { "workdir", required_argument, NULL, OPT_WD }, { "stop-signal", required_argument, NULL, OPT_SIG },
                { "ready", required_argument, NULL, OPT_READY }, { "help", no_argument, NULL, OPT_HELP }, {},
        };
        Image img = {};
        int c, r = 0;
        optind = 0;
        opterr = 0;
        while (r == 0 && (c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case OPT_ROOTFS: free(img.rootfs); img.rootfs = strdup(optarg); break;
                case OPT_CMD: strv_free(img.config.cmd); img.config.cmd = NULL; r = parse_command("--cmd", optarg, &img.config.cmd); break;
                case OPT_ENTRY: strv_free(img.config.entrypoint); img.config.entrypoint = NULL; r = parse_command("--entrypoint", optarg, &img.config.entrypoint); break;
                case OPT_ENV:
                        if (!strchr(optarg, '='))
                                r = usage_error("image add ", "--env '%s' is not K=V", optarg);
                        else if (strv_push(&img.config.env, optarg) < 0)
                                r = EXIT_NSPROV;
                        break;
                case OPT_WD: free(img.config.workdir); img.config.workdir = strdup(optarg); break;
                case OPT_SIG: free(img.config.stop_signal); img.config.stop_signal = strdup(optarg); break;
                case OPT_READY: free(img.config.ready); img.config.ready = strdup(optarg); break;
                case OPT_HELP:
                        printf("Usage: nsprov image add NAME --rootfs DIR|host [--cmd CMD] [--entrypoint CMD]\n"
                               "                        [--env K=V]... [--workdir DIR] [--stop-signal SIG]\n"
                               "                        [--ready tcp:PORT|unix:PATH|cmd:COMMAND]\n\n"
                               "Registers a root filesystem directory (debootstrap output, a busybox tree)\n"
                               "as an image; '--rootfs host' names the host's root with its own config.\n"
                               "CMD is a JSON array or words separated by spaces. --ready: a start of its\n"
                               "containers returns once they are ready (see run --help).\n");
                        image_done(&img);
                        return 0;
                default:
                        r = usage_error("image add ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (r == 0 && argc - optind != 1)
                r = usage_error("image add ", "name one image");
        if (r == 0 && !img.rootfs)
                r = usage_error("image add ", "--rootfs DIR (or host) is needed");
        CtrStore s;
        if (r == 0)
                r = cli_open_store(g, &s);
        if (r == 0) {
                RtError e = {};
                img.name = strdup(argv[optind]);
                /* A relative rootfs is taken from where the user stands. */
                if (img.rootfs[0] != '/' && !streq(img.rootfs, CTR_HOST_IMAGE)) {
                        char *abs = realpath(img.rootfs, NULL);
                        if (abs) {
                                free(img.rootfs);
                                img.rootfs = abs;
                        }
                }
                if (ctr_image_add(&s, &img, &e) < 0) {
                        log_error("%s", e.msg);
                        r = EXIT_NSPROV;
                } else
                        printf("%s\n", img.name);
        }
        image_done(&img);
        return r;
}

/* FILE opened into *ret_fd, or standard input for "-" or none (*ret_fd stays -1) when it
 * is not a terminal: 0, or the exit status. */
static int open_input(const char *verb, const char *input, const char *hint, int *ret_fd) {
        if (input && !streq(input, "-")) {
                if ((*ret_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
                        log_error("%s%s: %m", verb, input);
                        return EXIT_NSPROV;
                }
                return 0;
        }
        return isatty(STDIN_FILENO) ? usage_error(verb, "%s", hint) : 0;
}

static void report_devices_skipped(const ImageLoadResult *res) {
        if (res->devices_skipped)
                log_warning("image '%s': %u device node(s) not created (a container's /dev is its own)", res->name,
                            res->devices_skipped);
}

static int image_load(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_NAME = 0x100, OPT_READY, OPT_HELP };
        static const struct option options[] = {
                { "input", required_argument, NULL, 'i' }, { "name", required_argument, NULL, OPT_NAME },
                { "ready", required_argument, NULL, OPT_READY }, { "help", no_argument, NULL, OPT_HELP }, {},
        };
        const char *input = NULL, *name = NULL, *ready = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "i:", options, NULL)) >= 0)
                switch (c) {
                case 'i': input = optarg; break;
                case OPT_NAME: name = optarg; break;
                case OPT_READY: ready = optarg; break;
                case OPT_HELP:
                        printf("Usage: nsprov image load [-i] FILE [--name NAME] [--ready SPEC]\n\n"
                               "Loads an image archive, as `podman save` or `docker save` write them\n"
                               "(docker-archive or OCI layout, compressed or not; '-' or none: standard\n"
                               "input). The image is named NAME, or after the archive's own name\n"
                               "(\"localhost/lnst:latest\" loads as \"lnst\"); its layers are unpacked\n"
                               "into the store and removed with it. --ready declares its containers'\n"
                               "readiness (tcp:PORT, unix:PATH, cmd:COMMAND; see run --help) over the\n"
                               "archive's label io.nsprov.ready.\n");
                        return 0;
                default:
                        return usage_error("image load ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (optind < argc && !input)
                input = argv[optind++];
        if (optind < argc)
                return usage_error("image load ", "load one archive");
        _cleanup_close_ int fd = -1;
        int r = open_input("image load ", input, "name an archive (-i FILE), or pipe one in", &fd);
        if (r != 0)
                return r;
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        RtError e = {};
        ImageLoadResult res;
        const ImageLoadOptions lo = { .name = name, .ready = ready };
        if (ctr_image_load_archive(&s, fd >= 0 ? fd : STDIN_FILENO, &lo, &res, &e) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        report_devices_skipped(&res);
        if (g->as_podman)
                printf("Loaded image: localhost/%s:latest\n", res.name);
        else
                printf("%s\n", res.name);
        return 0;
}

static int image_import(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_READY = 0x100, OPT_HELP };
        static const struct option options[] = {
                { "change", required_argument, NULL, 'c' }, { "ready", required_argument, NULL, OPT_READY },
                { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, OPT_HELP }, {},
        };
        _cleanup_(strv_freep) char **changes = NULL;
        const char *ready = NULL;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "c:q", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (strv_push(&changes, optarg) < 0)
                                return EXIT_NSPROV;
                        break;
                case OPT_READY: ready = optarg; break;
                case 'q': break; /* nothing is printed but the name */
                case OPT_HELP:
                        printf("Usage: nsprov image import FILE|- NAME [--change INSTRUCTION]... [--ready SPEC]\n\n"
                               "Makes an image of a root filesystem tarball (compressed or not; '-': standard\n"
                               "input), as `podman import` does. NAME may be a reference\n"
                               "(\"localhost/lnst:latest\" names \"lnst\"). --change takes Dockerfile\n"
                               "instructions: CMD and ENTRYPOINT (a JSON array or a shell line), ENV K=V,\n"
                               "WORKDIR, STOPSIGNAL, LABEL io.nsprov.ready=SPEC. --ready declares its\n"
                               "containers' readiness (see run --help).\n");
                        return 0;
                default:
                        return usage_error("image import ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (argc - optind != 2)
                return usage_error("image import ", "give a tarball (or -) and a name");
        const char *input = argv[optind], *name = argv[optind + 1];
        _cleanup_close_ int fd = -1;
        int r = open_input("image import ", input, "pipe a tarball in, or name one", &fd);
        if (r != 0)
                return r;
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        RtError e = {};
        ImageLoadResult res;
        const ImageImportOptions io = { .name = name, .changes = changes, .ready = ready };
        if (ctr_image_import(&s, fd >= 0 ? fd : STDIN_FILENO, &io, &res, &e) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        report_devices_skipped(&res);
        printf("%s\n", res.name);
        return 0;
}

/* ---- pull ---- */

typedef struct PullBar {
        bool on; /* a terminal, and not -q */
        bool open_line;
} PullBar;

static void human_size(uint64_t n, char out[static 16]) {
        if (n < 1024)
                (void) snprintf(out, 16, "%" PRIu64 "B", n);
        else if (n < (1u << 20))
                (void) snprintf(out, 16, "%.1fKiB", (double) n / 1024);
        else if (n < (1ull << 30))
                (void) snprintf(out, 16, "%.1fMiB", (double) n / (1 << 20));
        else
                (void) snprintf(out, 16, "%.2fGiB", (double) n / (1 << 30));
}

/* Podman's lines, a layer's bar redrawn in place */
static void pull_progress(void *userdata, const PullEvent *ev) {
        PullBar *bar = userdata;
        if (!bar->on)
                return;
        char done[16], total[16];
        switch (ev->kind) {
        case PULL_EVENT_TRYING:
                fprintf(stderr, "Trying to pull %s...\n", ev->text);
                break;
        case PULL_EVENT_RESOLVED:
                fprintf(stderr, "Getting image source signatures\n");
                break;
        case PULL_EVENT_BLOB_EXISTS:
                fprintf(stderr, "Copying blob %.12s skipped: already exists\n", ev->text + 7);
                break;
        case PULL_EVENT_BLOB:
        case PULL_EVENT_BLOB_DONE: {
                human_size(ev->done, done);
                human_size(ev->total, total);
                unsigned width = 30, fill = ev->total ? (unsigned) (ev->done * width / ev->total) : width;
                char gauge[32];
                for (unsigned i = 0; i < width; i++)
                        gauge[i] = i < fill ? '=' : i == fill ? '>' : ' ';
                gauge[width] = '\0';
                fprintf(stderr, "\rCopying blob %.12s [%s] %s / %s%s", ev->text + 7, gauge, done, total,
                        ev->kind == PULL_EVENT_BLOB_DONE ? "\n" : "");
                bar->open_line = ev->kind == PULL_EVENT_BLOB;
                break;
        }
        case PULL_EVENT_RETRY:
                fprintf(stderr, "%sRetrying (%" PRIu64 "/%" PRIu64 ") after: %s\n", bar->open_line ? "\n" : "",
                        ev->done, ev->total, ev->text);
                bar->open_line = false;
                break;
        case PULL_EVENT_UNPACKING:
                fprintf(stderr, "Writing image %s\n", ev->text);
                break;
        }
        fflush(stderr);
}

static int parse_platform_option(const char *opt, const char *value, Platform *p) {
        if (streq(opt, "--platform")) {
                RtError e = {};
                return platform_parse(value, p, &e) < 0 ? usage_error("image pull ", "%s", e.msg) : 0;
        }
        if (!*p->os)
                platform_host(p);
        char *field = streq(opt, "--os") ? p->os : streq(opt, "--arch") ? p->arch : p->variant;
        Platform check;
        char text[128];
        (void) snprintf(text, sizeof text, "linux/%s", value);
        if (strlen(value) >= sizeof p->os || platform_parse(text, &check, NULL) < 0)
                return usage_error("image pull ", "%s '%s': use [a-z0-9._-]", opt, value);
        (void) snprintf(field, sizeof p->os, "%s", value);
        return 0;
}

static int image_pull(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_TLS = 0x100, OPT_AUTHFILE, OPT_CREDS, OPT_PLATFORM, OPT_ARCH, OPT_OS, OPT_VARIANT, OPT_NAME,
               OPT_READY, OPT_RETRY, OPT_RETRY_DELAY, OPT_HELP };
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' }, { "tls-verify", optional_argument, NULL, OPT_TLS },
                { "authfile", required_argument, NULL, OPT_AUTHFILE }, { "creds", required_argument, NULL, OPT_CREDS },
                { "platform", required_argument, NULL, OPT_PLATFORM }, { "arch", required_argument, NULL, OPT_ARCH },
                { "os", required_argument, NULL, OPT_OS }, { "variant", required_argument, NULL, OPT_VARIANT },
                { "name", required_argument, NULL, OPT_NAME }, { "ready", required_argument, NULL, OPT_READY },
                { "retry", required_argument, NULL, OPT_RETRY },
                { "retry-delay", required_argument, NULL, OPT_RETRY_DELAY }, { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        PullOptions o = PULL_OPTIONS_INIT;
        bool quiet = false;
        _cleanup_free_ char *user = NULL;
        int c, r = 0;
        optind = 0;
        opterr = 0;
        while (r == 0 && (c = getopt_long(argc, argv, "q", options, NULL)) >= 0)
                switch (c) {
                case 'q': quiet = true; break;
                case OPT_TLS: {
                        bool b = true;
                        if (optarg && parse_boolean(optarg, &b) < 0)
                                r = usage_error("image pull ", "--tls-verify='%s' is not a boolean", optarg);
                        o.tls_verify = b;
                        break;
                }
                case OPT_AUTHFILE: o.authfile = optarg; break;
                case OPT_CREDS: {
                        const char *colon = strchr(optarg, ':');
                        free(user);
                        user = colon ? strndup(optarg, (size_t) (colon - optarg)) : NULL;
                        if (!colon || !*user)
                                r = usage_error("image pull ", "--creds takes USER:PASSWORD");
                        o.username = user;
                        o.password = colon ? colon + 1 : NULL;
                        break;
                }
                case OPT_PLATFORM: r = parse_platform_option("--platform", optarg, &o.platform); break;
                case OPT_ARCH: r = parse_platform_option("--arch", optarg, &o.platform); break;
                case OPT_OS: r = parse_platform_option("--os", optarg, &o.platform); break;
                case OPT_VARIANT: r = parse_platform_option("--variant", optarg, &o.platform); break;
                case OPT_NAME: o.name = optarg; break;
                case OPT_READY: o.ready = optarg; break;
                case OPT_RETRY: {
                        uint32_t n;
                        if (safe_atou32_range(optarg, 0, 100, &n) < 0)
                                r = usage_error("image pull ", "--retry '%s': a count of 0-100", optarg);
                        o.retries = n;
                        break;
                }
                case OPT_RETRY_DELAY:
                        if (parse_duration_ms(optarg, 3600000, &o.retry_delay_ms) < 0)
                                r = usage_error("image pull ", "--retry-delay '%s': a duration (500ms, 2s)", optarg);
                        break;
                case OPT_HELP:
                        printf("Usage: nsprov image pull [OPTIONS] REFERENCE\n\n"
                               "Pulls an image from a registry (the Distribution v2 API, as `podman pull`):\n"
                               "docker.io/library/busybox:1.36, 127.0.0.1:5000/lnst@sha256:..., or a short\n"
                               "name that registries.conf resolves (its aliases, then its\n"
                               "unqualified-search-registries; CONTAINERS_REGISTRIES_CONF names another file).\n"
                               "The image is named after the reference (\"busybox:1.36\" gives busybox-1.36)\n"
                               "unless --name says otherwise; pulled again, an image that changed is replaced.\n"
                               "Prints the image's name.\n\n"
                               "  -q, --quiet              no progress (none is shown off a terminal either)\n"
                               "  --tls-verify=false       no TLS verification, and plain HTTP for a registry\n"
                               "                           without TLS (a local one)\n"
                               "  --authfile FILE          credentials from FILE (else REGISTRY_AUTH_FILE,\n"
                               "                           $XDG_RUNTIME_DIR/containers/auth.json,\n"
                               "                           ~/.config/containers/auth.json, ~/.docker/config.json)\n"
                               "  --creds USER:PASSWORD    these credentials instead\n"
                               "  --platform OS/ARCH[/VARIANT], --os, --arch, --variant\n"
                               "                           another platform's image (default: this host's)\n"
                               "  --name NAME              the image's name in the store\n"
                               "  --ready SPEC             its containers' readiness (see run --help)\n"
                               "  --retry N                tries again N times (default 3) on network errors\n"
                               "  --retry-delay DURATION   first wait between tries (default 1s), doubling\n");
                        return 0;
                default:
                        return usage_error("image pull ", "unknown option or missing value: '%s'", argv[optind - 1]);
                }
        if (r != 0)
                return r;
        if (argc - optind != 1)
                return usage_error("image pull ", "give one image reference");
        CtrStore s;
        if ((r = cli_open_store(g, &s)) != 0)
                return r;
        PullBar bar = { .on = !quiet && isatty(STDERR_FILENO) };
        o.progress = pull_progress;
        o.userdata = &bar;
        RtError e = {};
        PullResult res;
        r = ctr_image_pull(&s, argv[optind], &o, &res, &e);
        if (bar.open_line)
                fputc('\n', stderr);
        if (r < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        printf("%s\n", res.load.name);
        return 0;
}

static json_t *image_json(const Image *i) {
        char created[40];
        return json_pack("{s:s, s:[s], s:s, s:s, s:{s:o, s:o, s:o, s:s?, s:s?, s:s?}, s:b, s:b}", "Id", i->name,
                         "Names", i->name, "Rootfs", i->rootfs, "Created",
                         format_rfc3339(i->created_ns, created), "Config", "Cmd",
                         i->config.cmd ? strv_to_json(i->config.cmd) : json_null(), "Entrypoint",
                         i->config.entrypoint ? strv_to_json(i->config.entrypoint) : json_null(), "Env",
                         strv_to_json(i->config.env), "WorkingDir", i->config.workdir, "StopSignal",
                         i->config.stop_signal, "Ready", i->config.ready, "BuiltIn", i->builtin, "Loaded",
                         i->stored);
}

static int image_ls(int argc, char **argv, const GlobalOptions *g) {
        OutputFormat fmt = OUTPUT_TABLE;
        static const struct option options[] = { { "format", required_argument, NULL, 'f' },
                                                  { "help", no_argument, NULL, 'h' }, {} };
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &fmt) < 0)
                                return usage_error("image ls ", "unknown --format '%s' (table, json)", optarg);
                        break;
                case 'h':
                        printf("Usage: nsprov image ls [--format table|json]\n");
                        return 0;
                default:
                        return usage_error("image ls ", "unknown option '%s'", argv[optind - 1]);
                }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        RtError e = {};
        Image *imgs = NULL;
        size_t n = 0;
        if (ctr_image_list(&s, &imgs, &n, &e) < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        if (fmt == OUTPUT_JSON) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, image_json(&imgs[i]));
                cli_print_json(a);
        } else {
                printf("%-24s %-40s %s\n", "NAME", "ROOTFS", "COMMAND");
                for (size_t i = 0; i < n; i++) {
                        char cmd[128] = "";
                        for (size_t k = 0; imgs[i].config.cmd && imgs[i].config.cmd[k]; k++) {
                                size_t l = strlen(cmd);
                                (void) snprintf(cmd + l, sizeof cmd - l, "%s%s", k ? " " : "", imgs[i].config.cmd[k]);
                        }
                        printf("%-24s %-40s %s\n", imgs[i].name,
                               imgs[i].builtin ? "host (built in, read-only)" : imgs[i].rootfs, cmd);
                }
        }
        image_list_free(imgs, n);
        return 0;
}

static int image_inspect(int argc, char **argv, const GlobalOptions *g) {
        if (argc < 2 || streq(argv[1], "--help")) {
                printf("Usage: nsprov image inspect IMAGE...\n");
                return argc < 2 ? EXIT_NSPROV : 0;
        }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        json_t *a = json_array();
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                RtError e = {};
                Image img = {};
                if (ctr_image_resolve(&s, argv[i], &img, &e) < 0) {
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                        continue;
                }
                json_array_append_new(a, image_json(&img));
                image_done(&img);
        }
        cli_print_json(a);
        return rc;
}

static int image_exists(int argc, char **argv, const GlobalOptions *g) {
        if (argc != 2 || streq(argv[1], "--help")) {
                printf("Usage: nsprov image exists IMAGE\n\nExit status 0 if it exists, 1 if not.\n");
                return argc == 2 ? 0 : EXIT_NSPROV;
        }
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        Image img = {};
        RtError e = {};
        r = ctr_image_resolve(&s, argv[1], &img, &e);
        image_done(&img);
        if (r == -ENOENT)
                return 1;
        if (r < 0) {
                log_error("%s", e.msg);
                return EXIT_NSPROV;
        }
        return 0;
}

static int image_rm(int argc, char **argv, const GlobalOptions *g) {
        bool force = false;
        int first = 1;
        if (argc > 1 && streq(argv[1], "--help")) {
                printf("Usage: nsprov image rm [-f] IMAGE...\n\nRemoves image records; a registered rootfs directory stays, a loaded\n"
                       "image's unpacked layers go with it. -f: even while containers use a\n"
                       "registered one.\n");
                return 0;
        }
        if (argc > 1 && (streq(argv[1], "-f") || streq(argv[1], "--force"))) {
                force = true;
                first = 2;
        }
        if (first >= argc)
                return usage_error("image rm ", "name at least one image");
        CtrStore s;
        int r = cli_open_store(g, &s);
        if (r != 0)
                return r;
        int rc = 0;
        for (int i = first; i < argc; i++) {
                RtError e = {};
                if (ctr_image_remove(&s, argv[i], force, &e) < 0) {
                        log_error("%s", e.msg);
                        rc = EXIT_NSPROV;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}

int verb_image(int argc, char **argv, const GlobalOptions *g) {
        static const Verb verbs[] = {
                { "add", "register a rootfs directory (or the host) as an image", image_add },
                { "load", "load an image archive (podman save, docker save)", image_load },
                { "import", "make an image of a rootfs tarball (podman import)", image_import },
                { "pull", "pull an image from a registry (podman pull)", image_pull },
                { "ls", "list images", image_ls },
                { "list", "list images", image_ls },
                { "inspect", "show images as JSON", image_inspect },
                { "exists", "exit 0 if an image exists, 1 if not", image_exists },
                { "rm", "remove image records", image_rm },
                {},
        };
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: nsprov image COMMAND\n\nCommands:\n");
                for (const Verb *v = verbs; v->name; v++)
                        printf("  %-10s %s\n", v->name, v->summary);
                return 0;
        }
        return dispatch_verb("image", verbs, argc - 1, argv + 1, g);
}
