/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2's device rules (cgroup.c's BPF program) against the real kernel, as root:
 * on a cgroup2 tree of the test's own (/sys/fs/cgroup on a v2 host, the hybrid layout's
 * /sys/fs/cgroup/unified here), a child moved in may open the devices Podman allows and
 * make any node, and opens nothing else. The cgroup is removed whatever happens. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "syslib.h"

static char cg[PATH_MAX], scratch[PATH_MAX];

static const char *cgroup2_root(void) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        for (size_t i = 0; i < 2; i++) {
                struct statfs sf;
                if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                        return roots[i];
        }
        return NULL;
}

/* what a child in the cgroup gets opening a node it makes: 0 or an errno */
static int open_in_cgroup(char type, unsigned major, unsigned minor, int flags) {
        pid_t pid = fork();
        if (pid == 0) {
                char p[PATH_MAX + 32];
                (void) snprintf(p, sizeof p, "%s/cgroup.procs", cg);
                int fd = open(p, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(100);
                close(fd);
                (void) snprintf(p, sizeof p, "%s/node-%u-%u", scratch, major, minor);
                (void) unlink(p);
                if (mknod(p, (type == 'c' ? S_IFCHR : S_IFBLK) | 0600, makedev(major, minor)) < 0)
                        _exit(101);
                fd = open(p, flags | O_CLOEXEC);
                if (getenv("DEBUG_CG"))
                        fprintf(stderr, "open %s: %s\n", p, fd >= 0 ? "ok" : strerror(errno));
                _exit(fd >= 0 ? 0 : errno);
        }
        int status = 0;
        (void) waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

static void device_rules(void **state) {
        const char *root = cgroup2_root();
        if (!root)
                skip();
        RtError e = {};
        int r = ctr_cgroup_v2_devices(cg, &e);
        if (r < 0)
                fail_msg("%s", e.msg);
        assert_int_equal(open_in_cgroup('c', 1, 3, O_RDWR), 0);      /* null */
        assert_int_equal(open_in_cgroup('c', 1, 9, O_RDONLY), 0);    /* urandom */
        assert_int_equal(open_in_cgroup('c', 1, 7, O_RDWR), 0);      /* full */
        assert_int_equal(open_in_cgroup('c', 10, 237, O_RDONLY), EPERM); /* loop-control */
        assert_int_equal(open_in_cgroup('c', 1, 11, O_WRONLY), EPERM);   /* kmsg */
        assert_int_equal(open_in_cgroup('b', 7, 0, O_RDONLY), EPERM);    /* a disk: made, not opened */
}

static int setup(void **state) {
        const char *root = cgroup2_root();
        if (!root)
                return 0;
        (void) snprintf(cg, sizeof cg, "%s/nsprov-test-%d", root, (int) getpid());
        (void) snprintf(scratch, sizeof scratch, "/dev/shm/nsprov-test-%d", (int) getpid());
        if (mkdir(cg, 0755) < 0 || mkdir(scratch, 0700) < 0)
                return -1;
        return 0;
}

static int teardown(void **state) {
        if (scratch[0]) {
                char cmd[PATH_MAX + 16];
                (void) snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
                (void) !system(cmd);
        }
        if (cg[0])
                (void) rmdir(cg);
        return 0;
}

int main(void) {
        sys_require_root();
        const struct CMUnitTest tests[] = { cmocka_unit_test(device_rules) };
        return cmocka_run_group_tests(tests, setup, teardown);
}
