/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container benchmark of issue 3, as a user would time it: whole processes.
 *   1. `nsprov run --rm --network none host true`
 *   2. the cycle create + start + stop + rm of a container that sleeps (under a shell
 *      that exits on SIGTERM, so that neither tool waits out a stop timeout)
 * each repeated, medians reported; side by side in the same run with Podman doing the
 * same on an image imported from the same busybox tree, when podman is installed (with a
 * private configuration, root and runroot, as ../shared/bench-notes.md describes); and
 * the monitor's resident memory. Needs root. Names carry a prefix of their own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench-podman.h"

typedef struct Tool {
        const char *name;
        char prefix[2048]; /* the command and its global options */
        const char *image;
        bool podman;
} Tool;

static int timed(const Tool *t, double *out, const char *fmt, ...) {
        char rest[2048], full[4096];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(rest, sizeof rest, fmt, ap);
        va_end(ap);
        (void) snprintf(full, sizeof full, "%s %s", t->prefix, rest);
        double t0 = bench_now_ms();
        int r = run(argv_of("%s", full), -1);
        *out = bench_now_ms() - t0;
        if (r != 0)
                fprintf(stderr, "bench-containers: '%s' exited %d\n", full, r);
        return r;
}

static long rss_kib(pid_t pid) {
        char p[64], line[256];
        (void) snprintf(p, sizeof p, "/proc/%d/status", (int) pid);
        FILE *f = fopen(p, "re");
        long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        kib = strtol(line + 6, NULL, 10);
        if (f)
                fclose(f);
        return kib;
}

/* Podman beside us, never touching anyone's Podman state (bench-podman.h). */
static bool podman_setup(Tool *t, const char *dir, const char *bbtree) {
        t->podman = true;
        t->name = "podman";
        t->image = "localhost/nsprov-bench-bb";
        (void) snprintf(t->prefix, sizeof t->prefix, "podman --root %s/root --runroot %s/run", dir, dir);
        return bench_podman_setup(dir, "netavark", t->prefix, bbtree, t->image);
}

int main(int argc, char **argv) {
        int rounds = 30;
        const char *nsprov = "build/src/nsprov", *baseline = NULL;
        bool want_podman = true, tmpfs_runroot = false;
        static const struct option options[] = { { "rounds", required_argument, NULL, 'r' },
                                                 { "no-podman", no_argument, NULL, 'P' },
                                                 { "tmpfs-runroot", no_argument, NULL, 'T' },
                                                 { "nsprov", required_argument, NULL, 'n' },
                                                 { "baseline", required_argument, NULL, 'b' },
                                                 { "help", no_argument, NULL, 'h' }, {} };
        int c;
        while ((c = getopt_long(argc, argv, "r:n:h", options, NULL)) >= 0)
                switch (c) {
                case 'r': rounds = atoi(optarg); break;
                case 'n': nsprov = optarg; break;
                case 'b': baseline = optarg; break;
                case 'P': want_podman = false; break;
                case 'T': tmpfs_runroot = true; break;
                default:
                        printf("Usage: bench-containers [--rounds N] [--nsprov PATH] [--baseline PATH] [--no-podman]\n"
                               "                        [--tmpfs-runroot]\n"
                               "  --baseline PATH  another nsprov binary (an older build) in the same rounds, its own store\n"
                               "  --tmpfs-runroot  nsprov's runroot on a tmpfs, as /run is on most hosts\n");
                        return c == 'h' ? 0 : 2;
                }
        if (rounds < 3 || rounds > 1000 || access(nsprov, X_OK) < 0 || (baseline && access(baseline, X_OK) < 0)) {
                fprintf(stderr, "bench-containers: --rounds 3-1000, and an nsprov binary (--nsprov)\n");
                return 2;
        }
        char dir[] = "/tmp/nsb-bench-XXXXXX";
        if (!mkdtemp(dir))
                return 1;

        /* a busybox tree for the rootfs image (and Podman's import) */
        char bb[1200], cmd[4096];
        (void) snprintf(bb, sizeof bb, "%s/bb", dir);
        if (bench_busybox_tree(bb) != 0) {
                fprintf(stderr, "bench-containers: needs busybox (busybox-static)\n");
                return 1;
        }

        /* nsprov, then the baseline nsprov (when asked), then Podman (when installed) */
        Tool tools[3] = { { .name = "nsprov", .image = "host" } };
        int n_tools = 1;
        for (int k = 0; k < (baseline ? 2 : 1); k++) {
                const char *tag = k ? "base" : "ns";
                if (tmpfs_runroot) {
                        char rr[1200];
                        (void) snprintf(rr, sizeof rr, "%s/%srun", dir, tag);
                        if (mkdir(rr, 0700) < 0 || mount("nsb-runroot", rr, "tmpfs", 0, "mode=700") < 0) {
                                perror("tmpfs runroot");
                                return 1;
                        }
                }
                tools[k] = (Tool) { .name = k ? "baseline" : "nsprov", .image = "host" };
                (void) snprintf(tools[k].prefix, sizeof tools[k].prefix, "%s --root %s/%sroot --runroot %s/%srun",
                                k ? baseline : nsprov, dir, tag, dir, tag);
                n_tools = k + 1;
        }
        bool have_podman = want_podman && podman_setup(&tools[n_tools], dir, bb);
        if (have_podman)
                n_tools++;
        else if (want_podman)
                fprintf(stderr, "bench-containers: podman not installed; nsprov alone\n");

        double *runs[3], *cycles[3], *runs_bb[3];
        for (int k = 0; k < 3; k++) {
                runs[k] = calloc((size_t) rounds, sizeof(double));
                runs_bb[k] = calloc((size_t) rounds, sizeof(double));
                cycles[k] = calloc((size_t) rounds, sizeof(double));
        }
        char full[4096];
        for (int k = 0; k < n_tools; k++)
                if (!tools[k].podman) {
                        (void) snprintf(full, sizeof full, "%s image add nsb-bb --rootfs %s", tools[k].prefix, bb);
                        (void) run(argv_of("%s", full), -1);
                }
        int failures = 0;
        for (int i = 0; i < rounds; i++) {
                /* interleaved, so both see the same machine weather */
                for (int k = 0; k < n_tools; k++) {
                        Tool *t = &tools[k];
                        const char *bbimg = t->podman ? t->image : "nsb-bb";
                        failures += timed(t, &runs[k][i], "run --rm --network none %s true",
                                          t->podman ? t->image : "host") != 0;
                        failures += timed(t, &runs_bb[k][i], "run --rm --network none %s true", bbimg) != 0;
                        double a, b, s2, d;
                        failures += timed(t, &a, "create --network none --name nsb-c %s /bin/serve", bbimg) != 0;
                        failures += timed(t, &b, "start nsb-c") != 0;
                        failures += timed(t, &s2, "stop nsb-c") != 0;
                        failures += timed(t, &d, "rm nsb-c") != 0;
                        cycles[k][i] = a + b + s2 + d;
                }
        }

        /* the monitor's memory, while a container runs */
        long rss = -1;
        (void) snprintf(full, sizeof full, "%s run -d --name nsb-m host sleep infinity", tools[0].prefix);
        if (run(argv_of("%s", full), -1) == 0) {
                char out[256] = "";
                int p[2];
                if (pipe(p) == 0) {
                        (void) snprintf(full, sizeof full, "%s inspect -f {{.State.ConmonPid}} nsb-m", tools[0].prefix);
                        (void) run(argv_of("%s", full), p[1]);
                        close(p[1]);
                        (void) !read(p[0], out, sizeof out - 1);
                        close(p[0]);
                }
                rss = rss_kib((pid_t) atoi(out));
                (void) snprintf(full, sizeof full, "%s rm -f nsb-m", tools[0].prefix);
                (void) run(argv_of("%s", full), -1);
        }
        for (int k = 0; k < n_tools; k++) {
                if (tools[k].podman) {
                        (void) snprintf(full, sizeof full, "%s rm -af", tools[k].prefix);
                        (void) run(argv_of("%s", full), -1);
                }
                (void) snprintf(full, sizeof full, "%s system reset %s", tools[k].prefix,
                                tools[k].podman ? "-f" : "--force");
                (void) run(argv_of("%s", full), -1);
        }
        /* Podman's storage driver leaves its overlay mount under its root: unmount
         * whatever is still mounted below our dir before removing it. */
        FILE *mi = fopen("/proc/self/mountinfo", "re");
        char line[4096], mp[4096];
        while (mi && fgets(line, sizeof line, mi))
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, dir, strlen(dir)) == 0)
                        (void) umount2(mp, MNT_DETACH);
        if (mi)
                fclose(mi);
        (void) snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void) system(cmd);

        printf("bench-containers: %d rounds, medians (ms), whole processes; nsprov runroot on %s\n",
               rounds, tmpfs_runroot ? "tmpfs" : "the disk");
        printf("%-52s %10s", "", "nsprov");
        for (int k = 1; k < n_tools; k++)
                printf(" %10s %8s", tools[k].name, "ratio");
        putchar('\n');
        struct {
                const char *what;
                double **v;
        } rows[] = {
                { "run --rm --network none IMAGE true (host / podman's)", runs },
                { "run --rm --network none busybox-image true", runs_bb },
                { "create+start+stop+rm, busybox image, `sleep` under sh", cycles },
        };
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
                double ours = bench_median(rows[r].v[0], rounds);
                printf("%-52s %10.2f", rows[r].what, ours);
                /* each reference over ours: above 1 is nsprov faster */
                for (int k = 1; k < n_tools; k++) {
                        double ref = bench_median(rows[r].v[k], rounds);
                        printf(" %10.2f %7.2fx", ref, ref / ours);
                }
                putchar('\n');
        }
        if (rss >= 0)
                printf("monitor RSS while a container runs: %ld KiB\n", rss);
        if (failures)
                printf("%d commands failed (see above)\n", failures);
        return failures ? 1 : 0;
}
