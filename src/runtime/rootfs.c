/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's root filesystem, built inside its new mount namespace:
 *   host image:  the host's / bound read-only, private tmpfs on /tmp, /var/tmp and /run,
 *                an overlay on /etc whose upper dir holds the container's own hostname,
 *                hosts and resolv.conf (the host's /etc never changes);
 *   rootfs image: an overlay with the image as its lower dir, so the image stays pristine;
 * then /proc, /dev (own tmpfs with the standard nodes, or the host's when privileged),
 * /dev/pts, /dev/shm, /dev/mqueue, bind mounts, pivot_root into it, /sys (once in the
 * netns), and the masked /proc and /sys paths. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime-internal.h"
#include "fs.h"
#include "log.h"
#include "netns.h"
#include "sys.h"

/* The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, written into dir (the
 * upper layer of its /etc overlay). */
static int write_etc_files(const char *dir, const CtrConfig *c, RtError *err) {
        char text[1024], p[PATH_MAX];
        const struct {
                const char *name;
                const char *fmt;
        } files[] = {
                { "hostname", "%s\n" },
                { "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                           "127.0.1.1\t%s\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                (void) snprintf(text, sizeof text, files[i].fmt, c->hostname);
                (void) snprintf(p, sizeof p, "%s/%s", dir, files[i].name);
                /* fresh dirs nobody reads yet: plain writes */
                int r = write_file(p, text, strlen(text), 0644, false, err);
                if (r < 0)
                        return r;
        }
        /* The host's resolver, as Podman gives it; a lab host without one gets an empty
         * file rather than a failed start. */
        char *resolv = NULL;
        if (read_file("/etc/resolv.conf", 64 * 1024, &resolv, NULL, NULL) < 0)
                resolv = NULL;
        (void) snprintf(p, sizeof p, "%s/resolv.conf", dir);
        int r = write_file(p, resolv ? resolv : "", resolv ? strlen(resolv) : 0, 0644, false, err);
        free(resolv);
        return r;
}

int rootfs_prepare(const CtrStore *s, const CtrConfig *c, RtError *err) {
        char dir[PATH_MAX], p[PATH_MAX];
        ctr_path(s, c->id, NULL, dir);
        /* The host image keeps nothing on disk: its /etc layer is a tmpfs made inside the
         * container's mount namespace, gone with it. A rootfs image's writable layer lives
         * here, so it survives a restart as Podman's container layer does. */
        bool host = streq(c->rootfs, CTR_HOST_IMAGE);
        const char *subdirs[] = { "rootfs", "upper", "work", "upper/etc" };
        for (size_t i = 0; i < (host ? 1 : ELEMENTSOF(subdirs)); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", dir, subdirs[i]);
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return rt_err_set(err, -errno, "create %s", p);
        }
        if (host)
                return 0;
        (void) snprintf(p, sizeof p, "%s/upper/etc", dir);
        return write_etc_files(p, c, err);
}

static int mnt(const char *src, const char *dst, const char *type, unsigned long flags,
               const char *data, RtError *err) {
        int r = sys_mount(src, dst, type, flags, data);
        if (r < 0)
                return rt_err_set(err, r, "mount %s on %s", type ? type : (src ? src : "-"), dst);
        return 0;
}

/* Creates rootfs/rel as a directory when it is missing and the rootfs is writable. */
static void ensure_dir(const char *rootfs, const char *rel) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/%s", rootfs, rel);
        (void) mkdir(p, 0755);
}

static int setup_dev_tmpfs(const char *dev, RtError *err) {
        int r = mnt("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err);
        if (r < 0)
                return r;
        /* Nodes must be world-usable; a umask of 0 here saves a chmod per node. */
        mode_t old_umask = umask(0);
        static const struct {
                const char *name;
                unsigned maj, min;
        } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 },    { "full", 1, 7 },
                { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
        };
        char p[PATH_MAX];
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", dev, nodes[i].name);
                if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0) {
                        (void) umask(old_umask);
                        return rt_err_set(err, -errno, "create device node %s", p);
                }
        }
        (void) umask(old_umask);
        static const struct {
                const char *link, *target;
        } links[] = {
                { "fd", "/proc/self/fd" },     { "stdin", "/proc/self/fd/0" },
                { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
                { "ptmx", "pts/ptmx" },        { "core", "/proc/kcore" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", dev, links[i].link);
                if (symlink(links[i].target, p) < 0)
                        return rt_err_set(err, -errno, "create %s", p);
        }
        const char *dirs[] = { "pts", "shm", "mqueue" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", dev, dirs[i]);
                if (mkdir(p, 0755) < 0)
                        return rt_err_set(err, -errno, "create %s", p);
        }
        return 0;
}

static int setup_dev(const char *rootfs, bool privileged, RtError *err) {
        char dev[PATH_MAX], p[PATH_MAX];
        (void) snprintf(dev, sizeof dev, "%s/dev", rootfs);
        ensure_dir(rootfs, "dev");
        int r = privileged ? mnt("/dev", dev, NULL, MS_BIND | MS_REC, NULL, err)
                           : setup_dev_tmpfs(dev, err);
        if (r < 0)
                return r;
        /* Own pty, shm and mqueue instances even when privileged: the host's would leak
         * its terminals and shared memory into the lab. With the host's /dev bound in, a
         * missing mount point is skipped, never created: that /dev is the host's own. */
        (void) snprintf(p, sizeof p, "%s/pts", dev);
        r = mnt("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5", err);
        if (r < 0)
                return r;
        struct stat st;
        if (privileged) {
                char ptmx[PATH_MAX];
                (void) snprintf(ptmx, sizeof ptmx, "%s/ptmx", dev);
                (void) snprintf(p, sizeof p, "%s/pts/ptmx", dev);
                r = mnt(p, ptmx, NULL, MS_BIND, NULL, err);
                if (r < 0)
                        return r;
        }
        (void) snprintf(p, sizeof p, "%s/shm", dev);
        if (stat(p, &st) == 0) {
                r = mnt("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", err);
                if (r < 0)
                        return r;
        }
        (void) snprintf(p, sizeof p, "%s/mqueue", dev);
        if (stat(p, &st) < 0)
                return 0;
        return mnt("mqueue", p, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
}

/* Resolves dst inside the rootfs as if the rootfs were /, so a symlink in the image
 * cannot point the mount at the host (RESOLVE_IN_ROOT), and creates it when missing. */
static int open_mount_target(const char *rootfs, const char *dst, bool dir, RtError *err) {
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return rt_err_set(err, -errno, "open %s", rootfs);
        struct open_how how = { .flags = O_PATH | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int) syscall(SYS_openat2, rootfd, dst, &how, sizeof how);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT)
                return rt_err_set(err, -errno, "mount point %s", dst);
        /* Missing: create it (as a dir or an empty file, like the source), parent first. */
        char parent[PATH_MAX];
        (void) snprintf(parent, sizeof parent, "%s", dst);
        char *slash = strrchr(parent, '/');
        const char *leaf = slash ? slash + 1 : parent;
        if (slash)
                *slash = '\0';
        _cleanup_close_ int pfd = -1;
        if (slash && parent[0]) {
                pfd = open_mount_target(rootfs, parent, true, err);
                if (pfd < 0)
                        return pfd;
                char reopen[64];
                (void) snprintf(reopen, sizeof reopen, "/proc/self/fd/%d", pfd);
                int d = open(reopen, O_DIRECTORY | O_CLOEXEC);
                if (d < 0)
                        return rt_err_set(err, -errno, "open %s", parent);
                (void) close(pfd);
                pfd = d;
        } else
                pfd = open(rootfs, O_DIRECTORY | O_CLOEXEC);
        int r = dir ? mkdirat(pfd, leaf, 0755) : mknodat(pfd, leaf, S_IFREG | 0644, 0);
        if (r < 0 && errno != EEXIST)
                return rt_err_set(err, -errno, "create mount point %s (read-only image?)", dst);
        fd = (int) syscall(SYS_openat2, rootfd, dst, &how, sizeof how);
        if (fd < 0)
                return rt_err_set(err, -errno, "mount point %s", dst);
        return fd;
}

static int setup_bind_mounts(const char *rootfs, const CtrConfig *c, RtError *err) {
        for (size_t i = 0; i < c->n_mounts; i++) {
                const BindMount *m = &c->mounts[i];
                struct stat st;
                if (stat(m->source, &st) < 0)
                        return rt_err_set(err, -errno, "bind mount source %s", m->source);
                _cleanup_close_ int fd = open_mount_target(rootfs, m->destination,
                                                           S_ISDIR(st.st_mode), err);
                if (fd < 0)
                        return fd;
                char target[64];
                (void) snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
                int r = mnt(m->source, target, NULL, MS_BIND | MS_REC, NULL, err);
                if (r == 0 && m->readonly) {
                        /* The fd still names the dentry under the new mount; the remount
                         * must reach the mount itself, so resolve the path again. */
                        _cleanup_close_ int top = open_mount_target(rootfs, m->destination,
                                                                    S_ISDIR(st.st_mode), err);
                        if (top < 0)
                                return top;
                        /* read-only all the way down: a plain remount would leave the
                         * submounts of the source (a tmpfs under it) writable */
                        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                        if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                                r = rt_err_set(err, -errno, "make %s read-only", m->destination);
                }
                if (r < 0)
                        return rt_err_prefix(err, r, "bind mount %s:%s", m->source, m->destination);
        }
        return 0;
}

/* The OCI runtime spec's defaults for a container without privileges. A path this kernel
 * does not have is fine; failing to mask one it has is not. */
static int mask_paths(RtError *err) {
        static const char *const masked[] = {
                "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block",
                "/sys/devices/virtual/powercap", NULL,
        };
        static const char *const readonly[] = {
                "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                "/proc/sysrq-trigger", NULL,
        };
        struct stat st;
        int r;
        for (size_t i = 0; masked[i]; i++) {
                if (stat(masked[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        r = sys_mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, "size=0");
                else
                        r = sys_mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
                if (r < 0 && r != -ENOENT)
                        return rt_err_set(err, r, "mask %s", masked[i]);
        }
        for (size_t i = 0; readonly[i]; i++) {
                r = sys_mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
                if (r == -ENOENT)
                        continue;
                if (r == 0)
                        r = sys_mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
                if (r < 0)
                        return rt_err_set(err, r, "make %s read-only", readonly[i]);
        }
        return 0;
}

/* path covered inside rootfs (resolved there, its symlinks too): a dir by an empty tmpfs
 * (read-only unless writable), anything else by /dev/null. Not there: nothing to do. */
static int cover_in_root(const char *rootfs, const char *path, bool writable, RtError *err) {
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return rt_err_set(err, -errno, "open %s", rootfs);
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : rt_err_set(err, -errno, "hide %s", path);
        char target[64];
        (void) snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        int r = S_ISDIR(st.st_mode) ? mnt("tmpfs", target, "tmpfs",
                                          (writable ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                          writable ? "mode=700,size=65536k" : "mode=755,size=0", err)
                                    : mnt("/dev/null", target, NULL, MS_BIND, NULL, err);
        return r < 0 ? rt_err_prefix(err, r, "hide %s", path) : 0;
}

/* What the host image shows of the host that an unprivileged container has no business
 * reading, however root it is inside (README lists them): the homes, nsprov's own store,
 * and the dirs servers keep their state and sockets in (a read-only mount does not stop
 * a connect()); /etc's secrets go in its overlay (hide_etc_secrets). /run, /tmp and
 * /var/tmp are private already. rootfs: the container's root, not yet pivoted into. */
static int hide_host_secrets(const RootfsPlan *plan, const char *rootfs, RtError *err) {
        static const char *const hidden[] = {
                "/home", "/var/lib/nsprov", "/var/lib/containers", "/var/lib/docker", "/var/lib/sss",
                "/var/spool/cron",
        };
        int r;
        for (size_t i = 0; i < ELEMENTSOF(hidden); i++)
                if ((r = cover_in_root(rootfs, hidden[i], false, err)) < 0)
                        return r;
        /* root's home: empty and writable, as a fresh HOME */
        if ((r = cover_in_root(rootfs, "/root", true, err)) < 0)
                return r;
        const char *store_dirs[] = { plan->store ? plan->store->root : NULL, plan->store ? plan->store->runroot : NULL };
        for (size_t i = 0; i < ELEMENTSOF(store_dirs); i++)
                if (store_dirs[i] && store_dirs[i][0] == '/' && store_dirs[i][1] &&
                    (r = cover_in_root(rootfs, store_dirs[i], false, err)) < 0)
                        return r;
        return 0;
}

/* The secrets under /etc, emptied in the upper layer of the container's /etc overlay
 * (upper: its dir, before the overlay is mounted): an empty file there hides the host's,
 * and costs no mount. Owner and mode are the host's file's. */
static int hide_etc_secrets(const char *upper, RtError *err) {
        static const char *const files[] = {
                "shadow", "shadow-", "gshadow", "gshadow-", "security/opasswd", "containers/auth.json",
        };
        char names[24][64];
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                (void) snprintf(names[n++], sizeof names[0], "%s", files[i]);
        /* the SSH host keys (their .pub halves stay) */
        _cleanup_closedir_ DIR *d = opendir("/etc/ssh");
        struct dirent *de;
        while (d && (de = readdir(d)) && n < ELEMENTSOF(names)) {
                size_t l = strlen(de->d_name);
                if (startswith(de->d_name, "ssh_host_") && !(l > 4 && streq(de->d_name + l - 4, ".pub")) && l < 48)
                        (void) snprintf(names[n++], sizeof names[0], "ssh/%s", de->d_name);
        }
        for (size_t i = 0; i < n; i++) {
                char host[PATH_MAX], p[PATH_MAX];
                struct stat st, dst;
                (void) snprintf(host, sizeof host, "/etc/%s", names[i]);
                if (lstat(host, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                char *slash = strchr(names[i], '/');
                if (slash) {
                        *slash = '\0';
                        (void) snprintf(host, sizeof host, "/etc/%s", names[i]);
                        (void) snprintf(p, sizeof p, "%s/%s", upper, names[i]);
                        /* a dir in the upper layer is the merged dir's: the host's owner and mode */
                        if (stat(host, &dst) == 0 && mkdir(p, dst.st_mode & 07777) == 0)
                                (void) chown(p, dst.st_uid, dst.st_gid);
                        *slash = '/';
                }
                (void) snprintf(p, sizeof p, "%s/%s", upper, names[i]);
                _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
                if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0)
                        return rt_err_set(err, -errno, "hide /etc/%s", names[i]);
        }
        return 0;
}

static int setup_host_root(const RootfsPlan *plan, RtError *err) {
        const char *rootfs = plan->rootfs;
        char p[PATH_MAX], opts[3 * PATH_MAX];
        int r = mnt("/", rootfs, NULL, MS_BIND | MS_REC, NULL, err);
        if (r < 0)
                return r;
        /* Read-only all the way down, submounts included: a plain MS_RDONLY remount would
         * leave every submount of the host's / writable. */
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(AT_FDCWD, rootfs, AT_RECURSIVE, &attr, sizeof attr) < 0)
                return rt_err_set(err, -errno, "make the host root read-only");
        /* The host's /run is covered by a tmpfs of our own below, but its mounts would
         * live on beneath it: every other container's netns name among them. Each such
         * copy makes the unlink at that container's stop reach in here (an RCU grace
         * period for the unlinker, at every stop). Unmounting them costs a grace period
         * of our own; moved back onto the old root's /run (/run itself when it is a
         * mount, and the netns dir, a mount of its own), they go with it after the
         * pivot, in the one detach that pays for it anyway. */
        static const char *const host_mounts[] = { "/run", NETNS_RUN_DIR };
        for (size_t i = 0; i < ELEMENTSOF(host_mounts); i++) {
                /* the netns dir too after /run: a mount stacked beneath /run's stays */
                (void) snprintf(p, sizeof p, "%s%s", rootfs, host_mounts[i]);
                r = sys_mount(p, host_mounts[i], NULL, MS_MOVE, NULL);
                if (r < 0 && r != -EINVAL && r != -ENOENT)
                        return rt_err_set(err, r, "move the host's mounts under %s out of the root",
                                          host_mounts[i]);
        }
        const struct {
                const char *dir, *opts;
        } tmpfses[] = { { "tmp", "mode=1777" }, { "var/tmp", "mode=1777" }, { "run", "mode=755" } };
        for (size_t i = 0; i < ELEMENTSOF(tmpfses); i++) {
                (void) snprintf(p, sizeof p, "%s/%s", rootfs, tmpfses[i].dir);
                r = mnt("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, tmpfses[i].opts, err);
                if (r < 0)
                        return r;
        }
        /* /etc: the host's as the lower layer, and an upper layer on a small tmpfs mounted
         * first at the same place (the overlay then covers it; it keeps its own reference
         * to the layers). Nothing of it lands on the host's disk. */
        char etc[PATH_MAX];
        (void) snprintf(etc, sizeof etc, "%s/etc", rootfs);
        r = mnt("tmpfs", etc, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m", err);
        if (r < 0)
                return r;
        (void) snprintf(p, sizeof p, "%s/upper", etc);
        char work[PATH_MAX];
        (void) snprintf(work, sizeof work, "%s/work", etc);
        if (mkdir(p, 0755) < 0 || mkdir(work, 0755) < 0)
                return rt_err_set(err, -errno, "create the /etc layer");
        r = write_etc_files(p, plan->config, err);
        if (r == 0 && !plan->config->privileged)
                r = hide_etc_secrets(p, err);
        if (r < 0)
                return r;
        (void) snprintf(opts, sizeof opts, "lowerdir=/etc,upperdir=%s,workdir=%s", p, work);
        if ((r = mnt("overlay", etc, "overlay", 0, opts, err)) < 0)
                return r;
        return plan->config->privileged ? 0 : hide_host_secrets(plan, rootfs, err);
}

static int setup_image_root(const RootfsPlan *plan, RtError *err) {
        char opts[3 * PATH_MAX];
        (void) snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
                        plan->config->rootfs, plan->ctrdir, plan->ctrdir);
        int r = mnt("overlay", plan->rootfs, "overlay", 0, opts, err);
        if (r < 0)
                return rt_err_prefix(err, r, "image rootfs %s", plan->config->rootfs);
        ensure_dir(plan->rootfs, "proc");
        ensure_dir(plan->rootfs, "sys");
        ensure_dir(plan->rootfs, "tmp");
        return 0;
}

/* root: where the rootfs is now ("" once pivoted into it) */
static int join_netns_and_mount_sysfs(const RootfsPlan *plan, const char *root, RtError *err) {
        int r;
        if (plan->join_netns && (r = plan->join_netns(plan->userdata, err)) < 0)
                return r;
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/sys", root);
        return mnt("sysfs", p, "sysfs",
                   MS_NOSUID | MS_NODEV | MS_NOEXEC | (plan->config->privileged ? 0 : MS_RDONLY), NULL, err);
}

int rootfs_setup(const RootfsPlan *plan, RtError *err) {
        const CtrConfig *c = plan->config;
        char p[PATH_MAX];
        /* Nothing we mount from here may show up on the host. */
        int r = mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err);
        if (r < 0)
                return r;
        r = streq(c->rootfs, CTR_HOST_IMAGE) ? setup_host_root(plan, err) : setup_image_root(plan, err);
        if (r < 0)
                return r;

        (void) snprintf(p, sizeof p, "%s/proc", plan->rootfs);
        r = mnt("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
        if (r < 0)
                return r;
        /* /dev before the netns arrives: its caller is still wiring it meanwhile */
        r = setup_dev(plan->rootfs, c->privileged, err);
        if (r < 0)
                return r;
        /* sysfs shows the devices of the netns it is mounted from, so it waits for ours,
         * and goes on after pivot_root, so that the pivot is done meanwhile too; unless a
         * bind mount lands under /sys, which it would then cover. */
        bool binds_in_sys = false;
        for (size_t i = 0; i < c->n_mounts; i++)
                binds_in_sys |= streq(c->mounts[i].destination, "/sys") ||
                                startswith(c->mounts[i].destination, "/sys/");
        if (binds_in_sys && (r = join_netns_and_mount_sysfs(plan, plan->rootfs, err)) < 0)
                return r;
        r = setup_bind_mounts(plan->rootfs, c, err);
        if (r < 0)
                return r;

        if (chdir(plan->rootfs) < 0)
                return rt_err_set(err, -errno, "chdir %s", plan->rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return rt_err_set(err, -errno, "pivot_root into %s", plan->rootfs);
        /* The old root now sits on top of the new one at "."; detach it. */
        r = sys_umount2(".", MNT_DETACH);
        if (r < 0)
                return rt_err_set(err, r, "detach the old root");
        if (chdir("/") < 0)
                return rt_err_set(err, -errno, "chdir /");
        if (!binds_in_sys && (r = join_netns_and_mount_sysfs(plan, "", err)) < 0)
                return r;
        return c->privileged ? 0 : mask_paths(err);
}
