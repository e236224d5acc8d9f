/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a client asks of a running container from outside it: top, the processes, as
 * `nsprov top`, `podman top` and `docker top` show them (every process in its pid
 * namespace, with the pids and user names the container itself sees: its own
 * /etc/passwd, read inside its root); and the size of its terminal. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime-internal.h"
#include "fileio.h"
#include "fs.h"

enum { TOP_MAX_PROCESSES = 4096, TOP_PASSWD_MAX = 1 << 20 };

int ctr_open_in_root(pid_t init, const char *path, int flags) {
        char root[64];
        (void) snprintf(root, sizeof root, "/proc/%d/root", (int) init);
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        struct open_how how = { .flags = (uint64_t) flags | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* The container's /etc/passwd; NULL when it has none (or something else is there: a FIFO
 * gives nothing to read, as opened, and does not block us). */
static char *container_passwd(pid_t init) {
        int fd = ctr_open_in_root(init, "/etc/passwd", O_RDONLY | O_NONBLOCK);
        char *text = NULL;
        if (fd < 0 || read_full_fd(fd, TOP_PASSWD_MAX, &text, NULL) < 0)
                return NULL;
        return text;
}

/* The last field of a /proc/PID/status line such as "NSpid:\t812\t3": the innermost. */
static long last_number(const char *line) {
        const char *last = strrchr(line, '\t');
        return strtol(last ? last + 1 : strchr(line, ':') + 1, NULL, 10);
}

static int read_process(int pid, const char *passwd, CtrProcess *ret) {
        char p[64], *status = NULL;
        (void) snprintf(p, sizeof p, "/proc/%d/status", pid);
        if (read_file(p, 1 << 16, &status, NULL, NULL) < 0)
                return -ESRCH;
        *ret = (CtrProcess) { .pid = pid, .host_pid = pid, .ppid = 0 };
        long uid = -1;
        char comm[64] = "?";
        for (char *save, *l = strtok_r(status, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (startswith(l, "NSpid:"))
                        ret->pid = (pid_t) last_number(l);
                else if (startswith(l, "PPid:"))
                        ret->ppid = (pid_t) strtol(l + 5, NULL, 10);
                else if (startswith(l, "Uid:"))
                        uid = strtol(l + 4, NULL, 10);
                else if (startswith(l, "Name:"))
                        (void) snprintf(comm, sizeof comm, "%s", l + 5 + strspn(l + 5, "\t "));
        }
        free(status);
        ret->uid = (uid_t) uid;
        if (uid < 0 || ctr_user_name(passwd, (uid_t) uid, ret->user, sizeof ret->user) < 0)
                (void) snprintf(ret->user, sizeof ret->user, "%ld", uid);
        char *cmdline = NULL;
        size_t len = 0;
        (void) snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
        if (read_file(p, sizeof ret->command, &cmdline, &len, NULL) == 0 && len > 0) {
                for (size_t i = 0; i + 1 < len; i++)
                        if (cmdline[i] == '\0')
                                cmdline[i] = ' ';
                (void) snprintf(ret->command, sizeof ret->command, "%s", cmdline);
        } else
                (void) snprintf(ret->command, sizeof ret->command, "[%s]", comm);
        free(cmdline);
        return 0;
}

int ctr_top(const CtrStore *s, const char *id, CtrProcess **ret, size_t *ret_n, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = ctr_load(s, id, &c, err);
        if (r < 0)
                return r;
        (void) ctr_state_observe(&c);
        if (c.state.status != CTR_RUNNING)
                return rt_err_setx(err, -EINVAL, "container '%s' is not running", c.config.name);
        _cleanup_close_ int pidfd = proc_id_pidfd(&c.state.init);
        char p[64], want[64] = "", ns[64];
        (void) snprintf(p, sizeof p, "/proc/%d/ns/pid", (int) c.state.init.pid);
        ssize_t wn = pidfd >= 0 ? readlink(p, want, sizeof want - 1) : -1;
        if (wn <= 0)
                return rt_err_setx(err, -ESRCH, "container '%s': its PID 1 is gone", c.config.name);
        want[wn] = '\0';
        _cleanup_free_ char *passwd = container_passwd(c.state.init.pid);
        _cleanup_closedir_ DIR *d = opendir("/proc");
        if (!d)
                return rt_err_set(err, -errno, "open /proc");
        _cleanup_free_ CtrProcess *list = NULL;
        size_t n = 0, cap = 0;
        for (struct dirent *de; (de = readdir(d)) && n < TOP_MAX_PROCESSES;) {
                int pid = atoi(de->d_name);
                if (pid <= 0)
                        continue;
                (void) snprintf(p, sizeof p, "/proc/%d/ns/pid", pid);
                ssize_t k = readlink(p, ns, sizeof ns - 1);
                if (k <= 0)
                        continue;
                ns[k] = '\0';
                if (!streq(ns, want))
                        continue;
                if (n == cap) {
                        CtrProcess *more = realloc(list, (cap = cap ? 2 * cap : 16) * sizeof *list);
                        if (!more)
                                return rt_err_set(err, -ENOMEM, "top");
                        list = more;
                }
                if (read_process(pid, passwd, &list[n]) == 0)
                        n++;
        }
        /* the parents as the container numbers them: PID 1's is outside, 0, as ps inside
         * the container shows it */
        for (size_t i = 0; i < n; i++) {
                /* our init is a fork that never exec'd: its cmdline is its starter's */
                if (c.config.init && list[i].host_pid == c.state.init.pid)
                        (void) snprintf(list[i].command, sizeof list[i].command, "nsprov-init");
                pid_t host_parent = list[i].ppid;
                list[i].ppid = 0;
                for (size_t k = 0; k < n; k++)
                        if (list[k].host_pid == host_parent)
                                list[i].ppid = list[k].pid;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int ctr_resize_tty(const CtrStore *s, const char *id, unsigned short rows, unsigned short cols, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = ctr_load(s, id, &c, err);
        if (r < 0)
                return r;
        (void) ctr_state_observe(&c);
        if (!c.config.tty || !rows || !cols)
                return 0; /* nothing to size */
        if (c.state.status != CTR_RUNNING) {
                /* Podman's client sizes a terminal before it starts the container: kept
                 * for PID 1, which sizes the pty when it makes it */
                char p[PATH_MAX], text[32];
                ctr_path(s, c.config.id, CTR_TTYSIZE_FILE, p);
                int n = snprintf(text, sizeof text, "%u %u\n", (unsigned) rows, (unsigned) cols);
                return write_file_atomic(p, text, (size_t) n, 0600, 0, err);
        }
        _cleanup_close_ int pidfd = proc_id_pidfd(&c.state.init);
        if (pidfd < 0)
                return 0; /* gone meanwhile: nothing to size */
        /* PID 1 made the container's terminal first in its own devpts: pts/0, seen from
         * inside its root, and it must be a pty's slave */
        _cleanup_close_ int tty = ctr_open_in_root(c.state.init.pid, "/dev/pts/0", O_RDWR | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (tty < 0)
                return rt_err_set(err, tty, "open the terminal of container '%s'", c.config.name);
        if (fstat(tty, &st) < 0)
                return rt_err_set(err, -errno, "open the terminal of container '%s'", c.config.name);
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) < 136 || major(st.st_rdev) > 143)
                return rt_err_setx(err, -ENOTTY, "container '%s': /dev/pts/0 is not a terminal", c.config.name);
        struct winsize ws = { .ws_row = rows, .ws_col = cols };
        if (ioctl(tty, TIOCSWINSZ, &ws) < 0)
                return rt_err_set(err, -errno, "size the terminal of container '%s'", c.config.name);
        return 0;
}
