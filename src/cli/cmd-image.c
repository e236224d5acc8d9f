/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nsprov image add|load|ls|inspect|exists|rm */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "runtime.h"
#include "log.h"
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
