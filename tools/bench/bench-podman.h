/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the benchmarks that run whole commands share: running a command line, a busybox
 * tree for images, and Podman set up beside nsprov the way ../shared/bench-notes.md says
 * (a private containers.conf, root, runroot and network config dir), so that a benchmark
 * never touches anyone's Podman state. */

#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* Runs argv (NULL-terminated) with stdout to out_fd (-1: /dev/null); returns the exit
 * status, or -1. */
static inline int run(char *const argv[], int out_fd) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (out_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        else
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -1;
        int st;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Builds argv from a printf format, split on spaces (no argument has spaces here). */
static inline char **argv_of(const char *fmt, ...) {
        static char line[4096];
        static char *argv[64];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        int n = 0;
        for (char *save, *t = strtok_r(line, " ", &save); t && n < 63; t = strtok_r(NULL, " ", &save))
                argv[n++] = t;
        argv[n] = NULL;
        return argv;
}

/* A busybox tree at dir: sh, true, sleep, and `serve`, a PID 1 that exits on SIGTERM
 * (else every Podman stop waits its whole timeout, bench-notes.md). */
static inline int bench_busybox_tree(const char *dir) {
        char cmd[4096];
        (void) snprintf(cmd, sizeof cmd,
                        "mkdir -p %s/bin && cp \"$(command -v busybox)\" %s/bin/busybox && "
                        "for c in sh true sleep; do ln -s busybox %s/bin/$c; done && "
                        "printf '#!/bin/sh\\ntrap \"exit 0\" TERM\\nsleep 100000 &\\nwait\\n' > %s/bin/serve && "
                        "chmod 755 %s/bin/serve",
                        dir, dir, dir, dir, dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Writes Podman's private containers.conf under dir (network backend netavark or cni,
 * network configs in dir/net), points CONTAINERS_CONF at it, and imports the busybox
 * tree as image with `<prefix> import`. false when podman is missing or fails. */
static inline bool bench_podman_setup(const char *dir, const char *backend, const char *prefix,
                                      const char *bbtree, const char *image) {
        if (run(argv_of("podman --version"), -1) != 0)
                return false;
        char conf[1024];
        (void) snprintf(conf, sizeof conf, "%s/containers.conf", dir);
        FILE *f = fopen(conf, "we");
        if (!f)
                return false;
        fprintf(f, "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n"
                   "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nruntime = \"runc\"\n"
                   "[network]\nnetwork_backend = \"%s\"\nnetwork_config_dir = \"%s/net\"\n"
                   "cni_plugin_dirs = [\"/usr/lib/cni\"]\n",
                backend, dir);
        fclose(f);
        (void) setenv("CONTAINERS_CONF", conf, 1);
        char tar[1024], cmd[4096];
        (void) snprintf(tar, sizeof tar, "%s/bb.tar", dir);
        (void) snprintf(cmd, sizeof cmd, "mkdir -p %s/net && tar -C %s -cf %s .", dir, bbtree, tar);
        if (system(cmd) != 0)
                return false;
        char full[4096];
        (void) snprintf(full, sizeof full, "%s import %s %s", prefix, tar, image);
        return run(argv_of("%s", full), -1) == 0;
}
