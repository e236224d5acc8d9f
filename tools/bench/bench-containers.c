/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container benchmark of issue 3, as a user would time it: whole processes.
 *   1. `nsprov run --rm --network none host true`
 *   2. the cycle create + start + stop + rm of a container that sleeps (under a shell
 *      that exits on SIGTERM, so that neither tool waits out a stop timeout)
 * each repeated, medians reported; side by side in the same run with Podman doing the
 * same on an image imported from the same busybox tree, when podman is installed (with a
 * private configuration, root and runroot, as ../shared/bench-notes.md describes); and
 * the monitor's resident memory; and the floor: the kernel work of the first with no tool
 * logic (floor_run). Needs root. Names carry a prefix of their own. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/mount.h>
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

/* ---- the floor: the kernel work of `run --rm --network none host true`, no tool logic ----
 * A process of its own (as the CLI is) makes the container's cgroups (pids, devices: the
 * rules nsprov writes), a dir for it, clones PID 1 into new mount, pid, uts, ipc and
 * network namespaces, names the netns (a bind mount), moves PID 1 into the cgroups; PID 1
 * brings lo up, builds the host image's root as nsprov does (the host's / read-only, tmpfs
 * /tmp, /var/tmp, /run, /etc as an overlay, proc, a /dev tmpfs with its nodes, devpts, shm,
 * mqueue, sysfs, the masked paths), pivots into it and execs true; then everything goes. */

static void die_floor(const char *what) {
        fprintf(stderr, "bench-containers floor: %s: %s\n", what, strerror(errno));
        _exit(1);
}

static void floor_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
        if (mount(src, dst, type, flags, data) < 0)
                die_floor(dst);
}

static int floor_pid1(void *arg) {
        const char *root = arg;
        char p[1200], q[1200];
        char go;
        int sync_fd = 3;
        if (read(sync_fd, &go, 1) != 1) /* in its cgroups */
                _exit(1);
        struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP };
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                die_floor("lo up");
        close(s);
        floor_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
        (void) snprintf(p, sizeof p, "%s/rootfs", root);
        floor_mount("/", p, NULL, MS_BIND | MS_REC, NULL);
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        if (syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &ro, sizeof ro) < 0)
                die_floor("read-only");
        static const char *const tmpfses[] = { "tmp", "var/tmp", "run" };
        for (size_t i = 0; i < 3; i++) {
                (void) snprintf(q, sizeof q, "%s/%s", p, tmpfses[i]);
                floor_mount("tmpfs", q, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        }
        (void) snprintf(q, sizeof q, "%s/etc", p);
        floor_mount("tmpfs", q, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m");
        char upper[1300], work[1300], opts[4096];
        (void) snprintf(upper, sizeof upper, "%s/upper", q);
        (void) snprintf(work, sizeof work, "%s/work", q);
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0)
                die_floor("etc layer");
        (void) snprintf(opts, sizeof opts, "lowerdir=/etc,upperdir=%s,workdir=%s", upper, work);
        floor_mount("overlay", q, "overlay", 0, opts);
        (void) snprintf(q, sizeof q, "%s/proc", p);
        floor_mount("proc", q, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        (void) snprintf(q, sizeof q, "%s/dev", p);
        floor_mount("tmpfs", q, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
        static const struct { const char *name; unsigned maj, min; } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
        };
        for (size_t i = 0; i < 6; i++) {
                char n[1300];
                (void) snprintf(n, sizeof n, "%s/%s", q, nodes[i].name);
                if (mknod(n, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0)
                        die_floor(n);
        }
        static const char *const devdirs[] = { "pts", "shm", "mqueue" };
        for (size_t i = 0; i < 3; i++) {
                char n[1300];
                (void) snprintf(n, sizeof n, "%s/%s", q, devdirs[i]);
                if (mkdir(n, 0755) < 0)
                        die_floor(n);
        }
        char n[1300];
        (void) snprintf(n, sizeof n, "%s/pts", q);
        floor_mount("devpts", n, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        (void) snprintf(n, sizeof n, "%s/shm", q);
        floor_mount("shm", n, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
        (void) snprintf(n, sizeof n, "%s/mqueue", q);
        floor_mount("mqueue", n, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (chdir(p) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                die_floor("pivot_root");
        floor_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
        static const char *const masked[] = { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                              "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                                              "/sys/devices/virtual/powercap" };
        for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
                struct stat st;
                if (stat(masked[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        floor_mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, "size=0");
                else
                        floor_mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
        }
        static const char *const readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
        for (size_t i = 0; i < sizeof readonly / sizeof *readonly; i++) {
                if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) == 0)
                        (void) mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
        }
        execl("/bin/true", "true", (char *) NULL);
        die_floor("exec");
        return 1;
}

static void floor_write(const char *dir, const char *file, const char *value) {
        char p[1200];
        (void) snprintf(p, sizeof p, "%s/%s", dir, file);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                die_floor(p);
        close(fd);
}

static int floor_run(const char *dir) {
        char root[1100], cg[2][1200], ns[256], v[64];
        (void) snprintf(root, sizeof root, "%s/floor-XXXXXX", dir);
        if (!mkdtemp(root))
                die_floor("mkdtemp");
        char p[1200];
        (void) snprintf(p, sizeof p, "%s/rootfs", root);
        if (mkdir(p, 0755) < 0)
                die_floor(p);
        static const char *const ctrl[] = { "pids", "devices" };
        for (int i = 0; i < 2; i++) {
                (void) snprintf(p, sizeof p, "/sys/fs/cgroup/%s/nsprov", ctrl[i]);
                (void) mkdir(p, 0755);
                (void) snprintf(cg[i], sizeof cg[i], "%s/nsb-floor-%d", p, (int) getpid());
                if (mkdir(cg[i], 0755) < 0)
                        die_floor(cg[i]);
        }
        floor_write(cg[0], "pids.max", "2048");
        floor_write(cg[1], "devices.deny", "a");
        static const char *const rules[] = { "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                             "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
                                             "c 10:200 rwm" };
        (void) snprintf(p, sizeof p, "%s/devices.allow", cg[1]);
        int afd = open(p, O_WRONLY | O_CLOEXEC);
        for (size_t i = 0; afd >= 0 && i < sizeof rules / sizeof *rules; i++)
                if (write(afd, rules[i], strlen(rules[i])) < 0)
                        die_floor(p);
        if (afd >= 0)
                close(afd);
        int sp[2];
        if (pipe2(sp, 0) < 0 || dup2(sp[0], 3) < 0)
                die_floor("pipe");
        static char stack[256 * 1024];
        pid_t pid = clone(floor_pid1, stack + sizeof stack,
                          CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD, root);
        if (pid < 0)
                die_floor("clone");
        (void) snprintf(ns, sizeof ns, "/run/netns/nsb-floor-%d", (int) getpid());
        (void) mkdir("/run/netns", 0755);
        int nf = open(ns, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        (void) snprintf(p, sizeof p, "/proc/%d/ns/net", (int) pid);
        if (nf < 0 || mount(p, ns, NULL, MS_BIND, NULL) < 0)
                die_floor(ns);
        close(nf);
        (void) snprintf(v, sizeof v, "%d", (int) pid);
        for (int i = 0; i < 2; i++)
                floor_write(cg[i], "cgroup.procs", v);
        if (write(sp[1], "g", 1) != 1)
                die_floor("go");
        int status = 0;
        (void) waitpid(pid, &status, 0);
        if (umount2(ns, MNT_DETACH) < 0 || unlink(ns) < 0)
                die_floor("netns name");
        for (int i = 0; i < 2; i++)
                if (rmdir(cg[i]) < 0)
                        die_floor(cg[i]);
        (void) snprintf(p, sizeof p, "%s/rootfs", root);
        if (rmdir(p) < 0 || rmdir(root) < 0)
                die_floor(root);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
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
        if (argc == 3 && strcmp(argv[1], "--floor-run") == 0)
                return floor_run(argv[2]);
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

        double *runs[3], *cycles[3], *runs_bb[3], *floors = calloc((size_t) rounds, sizeof(double));
        char self[1024];
        ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
        self[sl > 0 ? sl : 0] = '\0';
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
                double t0 = bench_now_ms();
                (void) snprintf(full, sizeof full, "%s --floor-run %s", self, dir);
                failures += run(argv_of("%s", full), -1) != 0;
                floors[i] = bench_now_ms() - t0;
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
        double fl = bench_median(floors, rounds), ours = bench_median(runs[0], rounds);
        printf("%-52s %10.2f   (nsprov's run --rm of the host image: %.2fx the floor)\n",
               "floor: the same kernel work, no tool logic", fl, ours / fl);
        if (rss >= 0)
                printf("monitor RSS while a container runs: %ld KiB\n", rss);
        if (failures)
                printf("%d commands failed (see above)\n", failures);
        return failures ? 1 : 0;
}
