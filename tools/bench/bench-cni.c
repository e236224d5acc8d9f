/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CNI benchmark of issue 5: bridge + host-local ADD then DEL for N attachments (each
 * in a netns of its own), three ways in the same run, medians per operation:
 *   1. by hand, the floor: the bridge plugin exec'd directly with its env and stdin, as a
 *      script would (what the plugins themselves cost);
 *   2. `nsprov cni add|del`: the floor plus nsprov's own work (a process, loading the
 *      conflist, locks, the request, the result, the cache file);
 *   3. the same through the cni/ library inside one process (what `--network` and the
 *      API shim pay: no nsprov process of its own);
 *   4. Podman's CNI backend, when podman is installed: `podman network connect|disconnect`
 *      of the same conflist to a running container (private conf, root, runroot).
 * nsprov's overhead per operation is its median minus the floor's. Also: the VERSION
 * exec that validation needs, and ADD with the probe cache cold (every probe paid) and
 * warm. Needs root and containernetworking-plugins. Names carry the prefix nsb-cni. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench-podman.h"
#include "cni.h"

static const char *plugins_dir = "/usr/lib/cni";

static char conflist[1024];
static char plugin_conf[1024];
/* each attachment's ADD result, sent back as DEL's prevResult exactly as nsprov does */
static char results[1000][2048];

/* The bridge plugin by hand: its env, the request on stdin, stdout discarded. */
static int by_hand(const char *command, int i, double *ret_ms) {
        char netns[64], cid[64], env_cmd[64], env_cid[80], env_ns[96], req[2048];
        (void) snprintf(netns, sizeof netns, "/run/netns/nsb-cni-%d", i);
        (void) snprintf(cid, sizeof cid, "bench-%d", i);
        (void) snprintf(env_cmd, sizeof env_cmd, "CNI_COMMAND=%s", command);
        (void) snprintf(env_cid, sizeof env_cid, "CNI_CONTAINERID=%s", cid);
        (void) snprintf(env_ns, sizeof env_ns, "CNI_NETNS=%s", netns);
        char *envp[] = { env_cmd, env_cid, env_ns, (char *) "CNI_IFNAME=eth0", (char *) "CNI_ARGS=",
                         (char *) "CNI_PATH=/usr/lib/cni", (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        bool del = strcmp(command, "DEL") == 0;
        if (del && results[i][0])
                (void) snprintf(req, sizeof req, "{\"cniVersion\":\"1.0.0\",\"name\":\"nsbcni\",\"prevResult\":%s,%s",
                                results[i], plugin_conf + 1);
        else
                (void) snprintf(req, sizeof req, "{\"cniVersion\":\"1.0.0\",\"name\":\"nsbcni\",%s", plugin_conf + 1);
        int out[2];
        if (pipe(out) < 0)
                return -1;
        char path[256];
        (void) snprintf(path, sizeof path, "%s/bridge", plugins_dir);
        int in[2];
        if (pipe(in) < 0)
                return -1;
        double t0 = bench_now_ms();
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        char *argv[] = { path, NULL };
        pid_t pid;
        int r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        if (r == 0)
                (void) !write(in[1], req, strlen(req));
        close(in[1]);
        /* the result, compact enough to splice: the plugin prints it indented */
        char buf[8192];
        size_t len = 0;
        ssize_t got;
        while ((got = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
                len += (size_t) got;
        close(out[0]);
        buf[len] = 0;
        if (!del) {
                size_t o = 0;
                for (size_t j = 0; j < len && o < sizeof results[i] - 1; j++)
                        if (buf[j] != '\n' && buf[j] != ' ')
                                results[i][o++] = buf[j];
                results[i][o] = 0;
        }
        int st = -1;
        if (r == 0)
                (void) waitpid(pid, &st, 0);
        *ret_ms = bench_now_ms() - t0;
        if (r != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "bench-cni: bridge %s by hand for %d failed\n", command, i);
                return -1;
        }
        return 0;
}

/* cni/ in this process: load the conflist, then ADD or DEL, as the CLI does after exec. */
static int in_process(const char *dir, bool add, int i, double *out) {
        char conf[1200], cache[1200], state[1200], netns[64], cid[64];
        (void) snprintf(conf, sizeof conf, "%s/conf", dir);
        (void) snprintf(cache, sizeof cache, "%s/cache", dir);
        (void) snprintf(state, sizeof state, "%s/librun", dir);
        (void) snprintf(netns, sizeof netns, "/run/netns/nsb-cni-%d", i);
        (void) snprintf(cid, sizeof cid, "bench-%d", i);
        char *path[] = { (char *) plugins_dir, NULL };
        CniConfig cfg = { .conf_dir = conf, .path = path, .cache_dir = cache, .state_dir = state };
        CniRuntime rt = { .container_id = cid, .netns = netns, .ifname = "eth0" };
        double t0 = bench_now_ms();
        CniList l = {};
        CniError ce = {};
        int r = cni_find(&cfg, "nsbcni", &l, NULL, NULL, &ce);
        if (r == 0) {
                json_t *res = NULL;
                r = add ? cni_add(&cfg, &l, &rt, CNI_ADD_ROLLBACK, &res, &ce) : cni_del(&cfg, l.name, &l, &rt, false, &ce);
                json_decref(res);
        }
        cni_list_done(&l);
        *out = bench_now_ms() - t0;
        if (r < 0)
                fprintf(stderr, "bench-cni: in-process %s %d: %s\n", add ? "ADD" : "DEL", i, ce.e.msg);
        return r;
}

static int timed(double *out, const char *fmt, ...) {
        char full[4096];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(full, sizeof full, fmt, ap);
        va_end(ap);
        double t0 = bench_now_ms();
        int r = run(argv_of("%s", full), -1);
        *out = bench_now_ms() - t0;
        if (r != 0)
                fprintf(stderr, "bench-cni: '%s' exited %d\n", full, r);
        return r;
}

int main(int argc, char **argv) {
        int count = 100, rounds = 3;
        const char *nsprov = NULL;
        bool want_podman = true;
        static const struct option options[] = { { "count", required_argument, NULL, 'c' },
                                                  { "rounds", required_argument, NULL, 'r' },
                                                  { "nsprov", required_argument, NULL, 'n' },
                                                  { "no-podman", no_argument, NULL, 'P' },
                                                  { "help", no_argument, NULL, 'h' },
                                                  {} };
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'c': count = atoi(optarg); break;
                case 'r': rounds = atoi(optarg); break;
                case 'n': nsprov = optarg; break;
                case 'P': want_podman = false; break;
                default:
                        printf("Usage: bench-cni [--count N] [--rounds R] [--nsprov PATH] [--no-podman]\n");
                        return c == 'h' ? 0 : 2;
                }
        if (!nsprov || count < 3 || count > 1000 || rounds < 1 || rounds > 20) {
                fprintf(stderr, "bench-cni: --count 3-1000, --rounds 1-20, and an nsprov binary (--nsprov)\n");
                return 2;
        }
        char dir[] = "/tmp/nsb-cni-XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        char cmd[8192];
        (void) snprintf(cmd, sizeof cmd, "mkdir -p %s/conf %s/data %s/cache %s/run", dir, dir, dir, dir);
        if (system(cmd) != 0)
                return 1;
        (void) snprintf(plugin_conf, sizeof plugin_conf,
                        "{\"type\":\"bridge\",\"bridge\":\"nsbcni0\",\"isGateway\":true,\"ipMasq\":false,"
                        "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.214.0.0/16\",\"gateway\":\"10.214.0.1\","
                        "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"%s/data\"}}",
                        dir);
        (void) snprintf(conflist, sizeof conflist, "{\"cniVersion\":\"1.0.0\",\"name\":\"nsbcni\",\"plugins\":[%s]}",
                        plugin_conf);
        (void) snprintf(cmd, sizeof cmd, "%s/conf/nsbcni.conflist", dir);
        FILE *f = fopen(cmd, "we");
        if (!f)
                return 1;
        fputs(conflist, f);
        fclose(f);
        for (int i = 0; i < count; i++)
                if (run(argv_of("ip netns add nsb-cni-%d", i), -1) != 0) {
                        fprintf(stderr, "bench-cni: ip netns add nsb-cni-%d failed (root?)\n", i);
                        return 1;
                }
        char ns[2048];
        (void) snprintf(ns, sizeof ns, "%s --runroot %s/run --cni-config-dir %s/conf --cni-cache-dir %s/cache", nsprov,
                        dir, dir, dir);

        size_t total = (size_t) count * (size_t) rounds;
        double *hand_add = calloc(total, sizeof(double)), *hand_del = calloc(total, sizeof(double));
        double *ns_add = calloc(total, sizeof(double)), *ns_del = calloc(total, sizeof(double));
        double *version = calloc(total, sizeof(double));
        double *lib_add = calloc(total, sizeof(double)), *lib_del = calloc(total, sizeof(double));
        int failures = 0;
        size_t k = 0;
        for (int r = 0; r < rounds; r++)
                for (int i = 0; i < count; i++, k++) {
                        /* the same attachment each way, one after the other, so drift hits both */
                        failures += by_hand("ADD", i, &hand_add[k]) != 0;
                        failures += by_hand("DEL", i, &hand_del[k]) != 0;
                        failures += timed(&ns_add[k], "%s cni add nsbcni nsb-cni-%d --container-id bench-%d", ns, i, i) != 0;
                        failures += timed(&ns_del[k], "%s cni del nsbcni nsb-cni-%d --container-id bench-%d", ns, i, i) != 0;
                        failures += in_process(dir, true, i, &lib_add[k]) != 0;
                        failures += in_process(dir, false, i, &lib_del[k]) != 0;
                        char vcmd[256];
                        (void) snprintf(vcmd, sizeof vcmd, "env CNI_COMMAND=VERSION %s/bridge", plugins_dir);
                        failures += timed(&version[k], "%s", vcmd) != 0;
                }

        /* ADD with the VERSION probe cache cold: what every ADD would pay without it */
        int n_cold = count < 20 ? count : 20;
        double *cold = calloc((size_t) n_cold, sizeof(double));
        for (int i = 0; i < n_cold; i++) {
                (void) snprintf(cmd, sizeof cmd, "%s/run/cni-versions.json", dir);
                (void) unlink(cmd);
                failures += timed(&cold[i], "%s cni add nsbcni nsb-cni-%d --container-id bench-%d", ns, i, i) != 0;
                double ignored;
                failures += timed(&ignored, "%s cni del nsbcni nsb-cni-%d --container-id bench-%d", ns, i, i) != 0;
        }

        /* Podman's CNI backend: connect and disconnect of the same conflist */
        int n_pod = count < 30 ? count : 30;
        double *pod_add = calloc((size_t) n_pod, sizeof(double)), *pod_del = calloc((size_t) n_pod, sizeof(double));
        bool have_podman = false;
        char pod[2048] = "";
        if (want_podman) {
                char bb[1200];
                (void) snprintf(bb, sizeof bb, "%s/bb", dir);
                (void) snprintf(pod, sizeof pod, "podman --root %s/proot --runroot %s/prun", dir, dir);
                if (bench_busybox_tree(bb) == 0 &&
                    bench_podman_setup(dir, "cni", pod, bb, "localhost/nsprov-bench-cni")) {
                        /* the same conflist in Podman's network dir, and a container to connect */
                        (void) snprintf(cmd, sizeof cmd, "cp %s/conf/nsbcni.conflist %s/net/", dir, dir);
                        have_podman = system(cmd) == 0 &&
                                      run(argv_of("%s run -d --name nsb-cni-ctr --network none localhost/nsprov-bench-cni /bin/serve", pod), -1) == 0;
                        /* connect wants a container on a bridge network: give it one */
                        if (have_podman) {
                                (void) run(argv_of("%s rm -f -t0 nsb-cni-ctr", pod), -1);
                                (void) snprintf(cmd, sizeof cmd,
                                                "sed -e 's/nsbcni0/nsbcnib0/; s/\"nsbcni\"/\"nsbcnib\"/; s/10.214/10.215/g' "
                                                "%s/conf/nsbcni.conflist > %s/net/nsbcnib.conflist", dir, dir);
                                have_podman = system(cmd) == 0 &&
                                              run(argv_of("%s run -d --name nsb-cni-ctr --network nsbcnib localhost/nsprov-bench-cni /bin/serve", pod), -1) == 0;
                        }
                }
                if (!have_podman)
                        fprintf(stderr, "bench-cni: podman missing or failing; no Podman column\n");
        }
        for (int i = 0; have_podman && i < n_pod; i++) {
                failures += timed(&pod_add[i], "%s network connect nsbcni nsb-cni-ctr", pod) != 0;
                failures += timed(&pod_del[i], "%s network disconnect nsbcni nsb-cni-ctr", pod) != 0;
        }

        /* cleanup: our container, our netns, our bridges, our dir */
        if (have_podman)
                (void) run(argv_of("%s rm -f -t0 nsb-cni-ctr", pod), -1);
        for (int i = 0; i < count; i++)
                (void) run(argv_of("ip netns del nsb-cni-%d", i), -1);
        (void) run(argv_of("ip link del nsbcni0"), -1);
        (void) run(argv_of("ip link del nsbcnib0"), -1);
        if (have_podman) {
                (void) snprintf(cmd, sizeof cmd, "%s system reset -f >/dev/null 2>&1", pod);
                (void) system(cmd);
        }
        (void) snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void) system(cmd);

        double ha = bench_median(hand_add, total), hd = bench_median(hand_del, total);
        double na = bench_median(ns_add, total), nd = bench_median(ns_del, total);
        double v = bench_median(version, total), co = bench_median(cold, (size_t) n_cold);
        printf("bridge + host-local, %d attachments x %d rounds, medians in ms\n", count, rounds);
        printf("%-44s %9s %9s %9s\n", "", "by hand", "nsprov", "ratio");
        printf("%-44s %9.2f %9.2f %8.2fx  (nsprov's own: %.2f ms)\n", "ADD", ha, na, na / ha, na - ha);
        printf("%-44s %9.2f %9.2f %8.2fx  (nsprov's own: %.2f ms)\n", "DEL", hd, nd, nd / hd, nd - hd);
        double la = bench_median(lib_add, total), ld = bench_median(lib_del, total);
        printf("%-44s %9.2f %9.2f %8.2fx  (nsprov's own: %.2f ms)\n", "ADD, cni/ in-process", ha, la, la / ha, la - ha);
        printf("%-44s %9.2f %9.2f %8.2fx  (nsprov's own: %.2f ms)\n", "DEL, cni/ in-process", hd, ld, ld / hd, ld - hd);
        printf("%-44s %9.2f\n", "VERSION of bridge, exec'd by hand", v);
        printf("%-44s %9s %9.2f          (+%.2f ms over a warm ADD)\n", "ADD with the VERSION probe cache cold", "", co, co - na);
        if (have_podman) {
                double pa = bench_median(pod_add, (size_t) n_pod), pd = bench_median(pod_del, (size_t) n_pod);
                printf("%-44s %9s %9s %9s\n", "", "nsprov", "podman", "ratio");
                printf("%-44s %9.2f %9.2f %8.1fx\n", "ADD / podman network connect (CNI backend)", na, pa, pa / na);
                printf("%-44s %9.2f %9.2f %8.1fx\n", "DEL / podman network disconnect", nd, pd, pd / nd);
        }
        if (failures)
                printf("(%d operations failed; see above)\n", failures);
        return failures ? 1 : 0;
}
