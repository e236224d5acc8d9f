/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "sys.h"

static int netns_path(const char *name, char buf[static PATH_MAX], RtError *err) {
        int r = netns_name_check(name, err);
        if (r < 0)
                return r;
        (void) snprintf(buf, PATH_MAX, "%s/%s", NETNS_RUN_DIR, name);
        return 0;
}

static _noreturn_ void die_wrong_netns(int r) {
        /* Nothing safe can follow: every socket and file opened from here on would land in
         * a namespace the caller never asked for. */
        (void) log_error_errno(r, "Cannot return to the original network namespace: %m. Aborting.");
        abort();
}

int netns_run_in(int netns_fd, NetnsFunc fn, void *userdata, RtError *err) {
        assert_return(netns_fd >= 0 && fn, -EINVAL);

        _cleanup_close_ int orig = sys_open("/proc/thread-self/ns/net", O_RDONLY, 0);
        if (orig < 0)
                return rt_err_set(err, orig, "open the current network namespace");
        int r = sys_setns(netns_fd, CLONE_NEWNET);
        if (r < 0)
                return rt_err_set(err, r, "enter network namespace");

        int q = fn(userdata, err);

        r = sys_setns(orig, CLONE_NEWNET);
        if (r < 0)
                die_wrong_netns(r);
        return q;
}

/* Mounts under /run/netns must propagate to other mount namespaces, so that deleting a
 * netns here also drops the mount that containers' mount namespaces copied, and the netns
 * is freed at once (what iproute2 does too). */
static int run_dir_make_shared(RtError *err) {
        static bool done;
        if (done)
                return 0;
        if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
                return rt_err_set(err, -errno, "create %s", NETNS_RUN_DIR);
        int r = sys_mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL);
        if (r == -EINVAL) {
                /* Not a mount point yet: make it one, then shared. */
                r = sys_mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL);
                if (r < 0)
                        return rt_err_set(err, r, "bind-mount %s on itself", NETNS_RUN_DIR);
                r = sys_mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL);
        }
        if (r < 0)
                return rt_err_set(err, r, "make %s a shared mount", NETNS_RUN_DIR);
        done = true;
        return 0;
}

int netns_create(const char *name, int *ret_fd, RtError *err) {
        char path[PATH_MAX];
        int r = netns_path(name, path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        if ((r = netns_create_unnamed(&fd, err)) < 0 || (r = netns_name(name, fd, err)) < 0)
                return r == -EEXIST ? r : rt_err_prefix(err, r, "create network namespace '%s'", name);
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int netns_create_unnamed(int *ret_fd, RtError *err) {
        assert_return(ret_fd, -EINVAL);
        _cleanup_close_ int orig = sys_open("/proc/thread-self/ns/net", O_RDONLY, 0);
        if (orig < 0)
                return rt_err_set(err, orig, "open the current network namespace");
        /* unshare() moves only this thread; it comes back below whatever happens. */
        int r = sys_unshare(CLONE_NEWNET);
        if (r < 0)
                return rt_err_set(err, r, "unshare a new network namespace");
        int fd = sys_open("/proc/thread-self/ns/net", O_RDONLY, 0);
        int q = sys_setns(orig, CLONE_NEWNET);
        if (q < 0)
                die_wrong_netns(q);
        if (fd < 0)
                return rt_err_set(err, fd, "open the new network namespace");
        *ret_fd = fd;
        return 0;
}

int netns_name(const char *name, int netns_fd, RtError *err) {
        char path[PATH_MAX], source[64];
        assert_return(netns_fd >= 0, -EINVAL);
        int r = netns_path(name, path, err);
        if (r < 0 || (r = run_dir_make_shared(err)) < 0)
                return r;
        int fd = sys_open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
        if (fd == -EEXIST)
                return rt_err_setx(err, -EEXIST, "network namespace '%s' already exists", name);
        if (fd < 0)
                return rt_err_set(err, fd, "create %s", path);
        (void) safe_close(fd);
        (void) snprintf(source, sizeof source, "/proc/self/fd/%d", netns_fd);
        r = sys_mount(source, path, "none", MS_BIND, NULL);
        if (r < 0) {
                (void) unlink(path);
                return rt_err_set(err, r, "name network namespace '%s'", name);
        }
        return 0;
}

int netns_open(const char *name_or_path, int *ret_fd, RtError *err) {
        char path[PATH_MAX];
        assert_return(name_or_path && ret_fd, -EINVAL);
        if (strchr(name_or_path, '/')) {
                if (strlen(name_or_path) >= PATH_MAX)
                        return rt_err_setx(err, -ENAMETOOLONG, "network namespace path too long");
                (void) snprintf(path, sizeof path, "%s", name_or_path);
        } else {
                int r = netns_path(name_or_path, path, err);
                if (r < 0)
                        return r;
        }
        int fd = sys_open(path, O_RDONLY, 0);
        if (fd == -ENOENT)
                return rt_err_setx(err, -ENOENT, "network namespace '%s' does not exist",
                                   name_or_path);
        if (fd < 0)
                return rt_err_set(err, fd, "open network namespace '%s'", name_or_path);
        /* A plain file at that path (a netns whose mount is gone) would make setns fail
         * with a confusing EINVAL later; say what it is now. */
        _cleanup_close_ int owned = fd;
        if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
                return rt_err_setx(err, -EINVAL, "'%s' is not a network namespace (not mounted?)",
                                   name_or_path);
        *ret_fd = TAKE_FD(owned);
        return 0;
}

int netns_open_pid(pid_t pid, int *ret_fd, RtError *err) {
        assert_return(pid > 0 && ret_fd, -EINVAL);
        char path[64];
        (void) snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        int fd = sys_open(path, O_RDONLY, 0);
        if (fd == -ENOENT)
                return rt_err_setx(err, -ESRCH, "no process %d", (int) pid);
        if (fd < 0)
                return rt_err_set(err, fd, "open network namespace of process %d", (int) pid);
        *ret_fd = fd;
        return 0;
}

bool netns_exists(const char *name) {
        char path[PATH_MAX];
        if (netns_path(name, path, NULL) < 0)
                return false;
        return access(path, F_OK) == 0;
}

int netns_delete(const char *name, RtError *err) {
        char path[PATH_MAX];
        int r = netns_path(name, path, err);
        if (r < 0)
                return r;
        /* MNT_DETACH: a process still inside keeps the netns alive, but the name goes. */
        r = sys_umount2(path, MNT_DETACH);
        if (r < 0 && r != -EINVAL && r != -ENOENT)
                return rt_err_set(err, r, "unmount network namespace '%s'", name);
        if (unlink(path) < 0) {
                if (errno == ENOENT)
                        return rt_err_setx(err, -ENOENT, "network namespace '%s' does not exist",
                                           name);
                return rt_err_set(err, -errno, "remove %s", path);
        }
        return 0;
}

static int sysctl_path(const char *key, char buf[static PATH_MAX], RtError *err) {
        int r = netns_sysctl_key_check(key, err);
        if (r < 0)
                return r;
        int n = snprintf(buf, PATH_MAX, "/proc/sys/%s", key);
        /* The dotted form maps dots to slashes; the slashed form keeps dots, for interface
         * names such as eth0.5. */
        if (!strchr(key, '/'))
                for (char *p = buf + strlen("/proc/sys/"); p < buf + n; p++)
                        if (*p == '.')
                                *p = '/';
        return 0;
}

typedef struct SysctlArgs {
        const char *path;
        int flags;
        int fd;
} SysctlArgs;

/* /proc/sys/net resolves to the namespace of whoever opens it, and an open fd keeps it:
 * only the open has to happen inside. */
static int sysctl_open_cb(void *userdata, RtError *err) {
        SysctlArgs *a = userdata;
        a->fd = sys_open(a->path, a->flags, 0);
        if (a->fd < 0)
                return rt_err_set(err, a->fd, "open %s", a->path);
        return 0;
}

static int sysctl_open(int netns_fd, const char *key, int flags, int *ret_fd, RtError *err) {
        char path[PATH_MAX];
        int r = sysctl_path(key, path, err);
        if (r < 0)
                return r;
        SysctlArgs a = { .path = path, .flags = flags, .fd = -1 };
        r = netns_fd >= 0 ? netns_run_in(netns_fd, sysctl_open_cb, &a, err) : sysctl_open_cb(&a, err);
        if (r == -ENOENT)
                return rt_err_setx(err, r, "sysctl '%s' does not exist", key);
        if (r < 0)
                return r;
        *ret_fd = a.fd;
        return 0;
}

int netns_sysctl_write(int netns_fd, const char *key, const char *value, RtError *err) {
        assert_return(value, -EINVAL);
        _cleanup_close_ int fd = -1;
        int r = sysctl_open(netns_fd, key, O_WRONLY, &fd, err);
        if (r < 0)
                return r;
        size_t l = strlen(value);
        ssize_t n = write(fd, value, l);
        if (n < 0)
                return rt_err_set(err, -errno, "write '%s' to sysctl '%s'", value, key);
        if ((size_t) n != l)
                return rt_err_setx(err, -EIO, "short write to sysctl '%s'", key);
        return 0;
}

int netns_sysctl_read(int netns_fd, const char *key, char *buf, size_t size, RtError *err) {
        assert_return(buf && size > 0, -EINVAL);
        _cleanup_close_ int fd = -1;
        int r = sysctl_open(netns_fd, key, O_RDONLY, &fd, err);
        if (r < 0)
                return r;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return rt_err_set(err, -errno, "read sysctl '%s'", key);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return 0;
}
