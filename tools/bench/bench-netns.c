/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The netns/ benchmark of issue 2: N network namespaces, each wired to one bridge with a
 * veth pair (peer born in the netns, host end enslaved, both ends up), then all torn
 * down: once with netns/ and once with the equivalent `ip` commands, in the same run,
 * over several rounds. Prints medians and the ratio. Needs root; makes only objects
 * named with its own prefix and removes them on every path. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include "log.h"
#include "nl-internal.h"

extern char **environ;


/* Runs `ip ARGS...` the way a shell script would: fork+exec, wait. */
static int ip(const char *fmt, ...) {
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        char *argv[32];
        int argc = 0;
        argv[argc++] = (char *) "ip";
        for (char *save, *tok = strtok_r(line, " ", &save); tok && argc < 31;
             tok = strtok_r(NULL, " ", &save))
                argv[argc++] = tok;
        argv[argc] = NULL;
        pid_t pid;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1 /* O_WRONLY */, 0);
        int r = posix_spawnp(&pid, "ip", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        int st;
        if (waitpid(pid, &st, 0) < 0)
                return -errno;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

typedef struct Run {
        double *ns_ms;   /* per pair: the netns */
        double *wire_ms; /* per pair: veth + master + up, both ends */
        double *floor_ms; /* per pair: the kernel's part, the bare RTM_NEWLINK */
        double teardown_ms; /* all pairs, until the host side is empty */
        double delete_ms, kernel_ms, bridge_ms; /* its parts */
} Run;

static int run_netns(NlSock *host, const char *prefix, int count, Run *out, RtError *e) {
        char owner[64], br_owner[64], br[16];
        (void) snprintf(owner, sizeof owner, "bench-%s", prefix);
        (void) snprintf(br_owner, sizeof br_owner, "bench-%s-net", prefix);
        (void) snprintf(br, sizeof br, "%s-br", prefix);
        int bri, r = 0;
        int *fds = calloc((size_t) count, sizeof *fds);
        int made = 0;
        NetnsBridge b = { .ifname = br, .up = true, .owner = br_owner };
        r = netns_bridge_add(host, &b, &bri, e);
        if (r < 0) {
                free(fds);
                return r;
        }
        for (int i = 0; i < count && r >= 0; i++) {
                char ns[64], hif[16];
                (void) snprintf(ns, sizeof ns, "%s%s-%d", NETNS_NAME_PREFIX, prefix, i);
                (void) snprintf(hif, sizeof hif, "%s-%d", prefix, i);
                double t0 = bench_now_ms();
                r = netns_create(ns, &fds[i], e);
                if (r < 0)
                        break;
                made++;
                double t1 = bench_now_ms();
                NlSock *in = NULL;
                r = netns_sock_open(fds[i], &in, e);
                if (r < 0)
                        break;
                NetnsVeth v = { .ifname = hif, .peer_ifname = "eth0", .peer_netns_fd = fds[i],
                                .master_ifindex = bri, .up = true, .peer_up = true,
                                .peer_sk = in, .owner = owner };
                r = netns_veth_add(host, &v, NULL, NULL, e);
                netns_sock_free(in);
                double t2 = bench_now_ms();
                out->ns_ms[i] = t1 - t0;
                out->wire_ms[i] = t2 - t1;
        }

        /* Teardown the way nsprov does it: drop the namespaces and let the kernel take
         * their veths with them in one batch, remove the network's bridge without waiting
         * for that batch, and count it done when the host side is empty. */
        double t0 = bench_now_ms();
        for (int i = 0; i < made; i++) {
                char ns[64];
                (void) snprintf(ns, sizeof ns, "%s%s-%d", NETNS_NAME_PREFIX, prefix, i);
                fds[i] = safe_close(fds[i]);
                (void) netns_delete(ns, NULL);
        }
        double t1 = bench_now_ms();
        (void) netns_link_del(host, bri, NULL);
        double t2 = bench_now_ms();
        int q = netns_wait_owner_gone(host, owner, 10000, e);
        out->teardown_ms = bench_now_ms() - t0;
        out->delete_ms = t1 - t0;
        out->bridge_ms = t2 - t1;
        out->kernel_ms = bench_now_ms() - t2;
        if (r >= 0 && q < 0)
                r = q;
        free(fds);
        return r;
}

/* The same NEWLINK the library sends (peer born in the netns, master, up), alone: no mark,
 * no peer up, no socket in the netns. What the kernel itself costs here. */
static int run_floor(NlSock *host, const char *prefix, int count, Run *out, RtError *e) {
        char owner[64], br[16];
        (void) snprintf(owner, sizeof owner, "bench-%s-floor", prefix);
        (void) snprintf(br, sizeof br, "%s-fb", prefix);
        int bri, r, made = 0;
        int *fds = calloc((size_t) count, sizeof *fds);
        NetnsBridge b = { .ifname = br, .up = true, .owner = owner };
        r = netns_bridge_add(host, &b, &bri, e);
        for (int i = 0; i < count && r >= 0; i++) {
                char ns[64], hif[16], buf[NL_REQ_BUF_SIZE];
                (void) snprintf(ns, sizeof ns, "%s%s-f%d", NETNS_NAME_PREFIX, prefix, i);
                (void) snprintf(hif, sizeof hif, "%s-f%d", prefix, i);
                r = netns_create(ns, &fds[i], e);
                if (r < 0)
                        break;
                made++;
                NetnsVeth v = { .ifname = hif, .peer_ifname = "eth0", .peer_netns_fd = fds[i],
                                .master_ifindex = bri, .up = true, .owner = owner };
                double t0 = bench_now_ms();
                r = nl_transact(host, nl_build_veth(buf, &v), NULL, NULL, e, "floor veth");
                out->floor_ms[i] = bench_now_ms() - t0;
        }
        for (int i = 0; i < made; i++) {
                char ns[64], hif[16];
                (void) snprintf(ns, sizeof ns, "%s%s-f%d", NETNS_NAME_PREFIX, prefix, i);
                (void) snprintf(hif, sizeof hif, "%s-f%d", prefix, i);
                fds[i] = safe_close(fds[i]);
                (void) netns_delete(ns, NULL);
        }
        /* unmarked on purpose (the bare request): wait for them by name */
        for (int i = 0; i < made; i++) {
                char hif[16];
                int idx;
                (void) snprintf(hif, sizeof hif, "%s-f%d", prefix, i);
                for (int k = 0; k < 5000 && netns_link_index(host, hif, &idx, NULL) == 0; k++)
                        (void) usleep(1000);
        }
        if (bri > 0)
                (void) netns_link_del(host, bri, NULL);
        free(fds);
        return r;
}

static int run_ip(const char *prefix, int count, Run *out) {
        int r = 0, made = 0;
        if (ip("link add %s-br type bridge", prefix) < 0 || ip("link set %s-br up", prefix) < 0)
                return -EIO;
        for (int i = 0; i < count && r >= 0; i++) {
                double t0 = bench_now_ms();
                r = ip("netns add %s-%d", prefix, i);
                if (r < 0)
                        break;
                made++;
                double t1 = bench_now_ms();
                if ((r = ip("link add %s-%d type veth peer name eth0 netns %s-%d", prefix, i, prefix, i)) < 0 ||
                    (r = ip("link set %s-%d master %s-br", prefix, i, prefix)) < 0 ||
                    (r = ip("link set %s-%d up", prefix, i)) < 0 ||
                    (r = ip("-n %s-%d link set eth0 up", prefix, i)) < 0)
                        break;
                out->ns_ms[i] = t1 - t0;
                out->wire_ms[i] = bench_now_ms() - t1;
        }
        /* What a script does: delete each veth, then each netns. */
        double t0 = bench_now_ms();
        for (int i = 0; i < made; i++) {
                (void) ip("link del %s-%d", prefix, i);
                (void) ip("netns del %s-%d", prefix, i);
        }
        (void) ip("link del %s-br", prefix);
        out->teardown_ms = bench_now_ms() - t0;
        return r;
}

int main(int argc, char **argv) {
        int count = 100, rounds = 5;
        bool with_ip = true;
        static const struct option options[] = {
                { "count", required_argument, NULL, 'n' },
                { "rounds", required_argument, NULL, 'r' },
                { "no-ip", no_argument, NULL, 'I' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "n:r:h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        count = atoi(optarg);
                        break;
                case 'r':
                        rounds = atoi(optarg);
                        break;
                case 'I':
                        with_ip = false;
                        break;
                default:
                        printf("Usage: bench-netns [--count N] [--rounds R] [--no-ip]\n");
                        return c == 'h' ? 0 : 2;
                }
        if (count < 1 || count > 1000 || rounds < 1 || rounds > 100) {
                fprintf(stderr, "bench-netns: --count 1-1000, --rounds 1-100\n");
                return 2;
        }
        if (with_ip && ip("-V") < 0) {
                fprintf(stderr, "bench-netns: no `ip` command; use --no-ip\n");
                with_ip = false;
        }
        /* Ctrl-C must not strand 100 namespaces: hold signals until a round's teardown. */
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &block, NULL);

        char prefix[8];
        (void) snprintf(prefix, sizeof prefix, "nsb%04d", (int) (getpid() % 10000));
        RtError e = {};
        NlSock *host = NULL;
        if (netns_sock_open(-1, &host, &e) < 0) {
                fprintf(stderr, "bench-netns: %s\n", e.msg);
                return 1;
        }

        size_t total = (size_t) count * (size_t) rounds;
        double *n_ns = calloc(total, sizeof(double)), *n_wire = calloc(total, sizeof(double));
        double *i_ns = calloc(total, sizeof(double)), *i_wire = calloc(total, sizeof(double));
        double *n_floor = calloc(total, sizeof(double));
        double *n_down = calloc((size_t) rounds, sizeof(double)), *i_down = calloc((size_t) rounds, sizeof(double));
        double *n_del = calloc((size_t) rounds, sizeof(double)), *n_kern = calloc((size_t) rounds, sizeof(double));
        double *n_br = calloc((size_t) rounds, sizeof(double));
        int rc = 0;
        for (int k = 0; k < rounds && rc == 0; k++) {
                Run rn = { .ns_ms = n_ns + (size_t) k * count, .wire_ms = n_wire + (size_t) k * count,
                           .floor_ms = n_floor + (size_t) k * count };
                if (run_netns(host, prefix, count, &rn, &e) < 0 ||
                    run_floor(host, prefix, count, &rn, &e) < 0) {
                        fprintf(stderr, "bench-netns: netns/ round %d: %s\n", k, e.msg);
                        rc = 1;
                }
                n_down[k] = rn.teardown_ms;
                n_del[k] = rn.delete_ms;
                n_kern[k] = rn.kernel_ms;
                n_br[k] = rn.bridge_ms;
                if (with_ip && rc == 0) {
                        Run ri = { .ns_ms = i_ns + (size_t) k * count, .wire_ms = i_wire + (size_t) k * count };
                        if (run_ip(prefix, count, &ri) < 0) {
                                fprintf(stderr, "bench-netns: ip round %d failed\n", k);
                                rc = 1;
                        }
                        i_down[k] = ri.teardown_ms;
                }
                fprintf(stderr, "round %d/%d done\n", k + 1, rounds);
        }
        netns_sock_free(host);
        if (rc)
                return rc;

        double nw = bench_median(n_wire, total), nn = bench_median(n_ns, total), nd = bench_median(n_down, (size_t) rounds);
        double nf = bench_median(n_floor, total);
        printf("bench-netns: %d pairs x %d rounds, medians (ms)\n", count, rounds);
        printf("%-44s %10s %10s %8s\n", "", "netns/", with_ip ? "ip" : "", with_ip ? "ratio" : "");
        const struct {
                const char *what;
                double ours;
                double *ip_samples;
                size_t n;
        } rows[] = {
                { "wire one pair (veth, master, both up)", nw, i_wire, total },
                { "create one named netns", nn, i_ns, total },
                { "tear down all pairs (until host is empty)", nd, i_down, (size_t) rounds },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                printf("%-44s %10.3f", rows[i].what, rows[i].ours);
                if (with_ip) {
                        double ref = bench_median(rows[i].ip_samples, rows[i].n);
                        printf(" %10.3f %7.1fx", ref, ref / rows[i].ours);
                }
                putchar('\n');
        }
        printf("\nwhere the time goes (medians, ms):\n");
        printf("  kernel floor: the bare RTM_NEWLINK of one pair       %8.3f (netns/ adds %.3f: "
               "mark, peer up, netns socket)\n",
               nf, nw - nf);
        printf("  teardown: unmount+unlink of %d netns                 %8.3f\n", count,
               bench_median(n_del, (size_t) rounds));
        printf("  teardown: deleting the bridge (ports still leaving)  %8.3f\n",
               bench_median(n_br, (size_t) rounds));
        printf("  teardown: then waiting for the kernel's veth batch   %8.3f\n",
               bench_median(n_kern, (size_t) rounds));
        return 0;
}
