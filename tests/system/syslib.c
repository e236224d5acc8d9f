/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "syslib.h"

void sys_require_root(void) {
        if (geteuid() == 0)
                return;
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0) {
                printf("1..1\nnot ok 1 - root tests must run in CI, but we are not root\n");
                exit(1);
        }
        printf("1..0 # SKIP needs root (real kernel objects)\n");
        exit(0);
}

void test_prefix_new(char out[static TEST_PREFIX_LEN + 1]) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char r[4];
        if (getrandom(r, sizeof r, 0) != sizeof r) {
                unsigned v = (unsigned) getpid() * 2654435761u;
                memcpy(r, &v, sizeof r);
        }
        memcpy(out, "nst", 3);
        for (int i = 0; i < 4; i++)
                out[3 + i] = alphabet[r[i] % (sizeof alphabet - 1)];
        out[TEST_PREFIX_LEN] = '\0';
}

static int vrun(char **ret_out, const char *fmt, va_list ap) {
        char *cmd = NULL;
        if (vasprintf(&cmd, fmt, ap) < 0)
                return -1;
        FILE *p = popen(cmd, "re");
        free(cmd);
        if (!p)
                return -1;
        char *buf = NULL;
        if (read_full_stream(p, 16 << 20, &buf, NULL) < 0)
                buf = NULL;
        int st = pclose(p);
        if (ret_out)
                *ret_out = buf;
        else
                free(buf);
        return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int run_cmd(char **ret_out, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vrun(ret_out, fmt, ap);
        va_end(ap);
        return r;
}

json_t *run_json(const char *fmt, ...) {
        char *out = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vrun(&out, fmt, ap);
        va_end(ap);
        if (r != 0 || !out) {
                free(out);
                return NULL;
        }
        json_error_t je;
        json_t *j = json_loads(out, 0, &je);
        free(out);
        return j;
}

static void report_add(char *report, size_t size, const char *kind, const char *what) {
        size_t l = strlen(report);
        (void) snprintf(report + l, size - l, "%s%s %s", l ? "; " : "", kind, what);
}

static bool holds(const char *s, const char *prefix) {
        return s && strstr(s, prefix);
}

/* Host links named with the prefix or carrying it in their alias, as a JSON array of
 * names, read through `ip` so the check does not trust the code it checks. */
static json_t *prefixed_links(const char *prefix) {
        json_t *names = json_array();
        json_t *links = run_json("ip -j link show");
        size_t i;
        json_t *l;
        json_array_foreach(links, i, l) {
                const char *name = json_string_value(json_object_get(l, "ifname"));
                const char *alias = json_string_value(json_object_get(l, "ifalias"));
                if (name && (strncmp(name, prefix, strlen(prefix)) == 0 || holds(alias, prefix)))
                        json_array_append_new(names, json_string(name));
        }
        json_decref(links);
        return names;
}

int leak_scan(const char *prefix, char *report, size_t size) {
        int found = 0;
        report[0] = '\0';

        json_t *links = prefixed_links(prefix);
        size_t i;
        json_t *l;
        json_array_foreach(links, i, l) {
                report_add(report, size, "link", json_string_value(l));
                found++;
        }
        json_decref(links);

        DIR *d = opendir("/run/netns");
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (holds(de->d_name, prefix)) {
                        report_add(report, size, "netns", de->d_name);
                        found++;
                }
        if (d)
                closedir(d);

        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        while (f && fgets(line, sizeof line, f)) {
                char mp[4096];
                /* field 5 is the mount point */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && holds(mp, prefix)) {
                        report_add(report, size, "mount", mp);
                        found++;
                }
        }
        if (f)
                fclose(f);

        d = opendir("/proc");
        while (d && (de = readdir(d))) {
                int pid = atoi(de->d_name);
                if (pid <= 0 || pid == getpid())
                        continue;
                char path[64], cmdline[4096];
                (void) snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
                close(fd);
                if (n <= 0)
                        continue;
                for (ssize_t k = 0; k < n; k++)
                        if (cmdline[k] == '\0')
                                cmdline[k] = ' ';
                cmdline[n] = '\0';
                /* Our own helpers (this scan's popen'd `ip`) carry no prefix. */
                if (holds(cmdline, prefix)) {
                        char what[128];
                        (void) snprintf(what, sizeof what, "%d (%.80s)", pid, cmdline);
                        report_add(report, size, "process", what);
                        found++;
                }
        }
        if (d)
                closedir(d);
        return found;
}

void leak_sweep(const char *prefix) {
        json_t *links = prefixed_links(prefix);
        size_t i;
        json_t *l;
        json_array_foreach(links, i, l)
                (void) run_cmd(NULL, "ip link del '%s' 2>/dev/null", json_string_value(l));
        json_decref(links);

        DIR *d = opendir("/run/netns");
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (holds(de->d_name, prefix)) {
                        char path[512];
                        (void) snprintf(path, sizeof path, "/run/netns/%s", de->d_name);
                        (void) umount2(path, MNT_DETACH);
                        (void) unlink(path);
                }
        if (d)
                closedir(d);
}
