/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's log as its readers see it, for both front ends: the rotated file then the
 * current one, the last lines asked for, then (following) each line as the monitor
 * appends it, woken by inotify, until the container no longer runs. The lines are the
 * container's output, outside input: parsed, a malformed one passed over, none longer
 * than a line buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "state.h"

enum { LOG_FILE_MAX = 64u << 20, LOG_LINE_MAX = 65536, LOG_FOLLOW_POLL_MS = 250 };

typedef struct LineSplitter {
        char line[LOG_LINE_MAX];
        size_t len;
        long skip; /* whole lines still to pass over (the tail) */
        CtrLogEmit emit;
        void *userdata;
} LineSplitter;

static int emit_line(LineSplitter *ls) {
        ls->line[ls->len] = '\0';
        size_t len = ls->len;
        ls->len = 0;
        if (ls->skip > 0) {
                ls->skip--;
                return 0;
        }
        CtrLogLine l;
        if (ctr_log_line_parse(ls->line, len, &l) < 0)
                return 0;
        return ls->emit(&l, ls->userdata);
}

/* Feeds bytes; each complete line goes out (a line past the buffer is cut there). */
static int feed(LineSplitter *ls, const char *buf, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || ls->len == sizeof ls->line - 1) {
                        int r = emit_line(ls);
                        if (r < 0)
                                return r;
                        if (buf[i] == '\n')
                                continue;
                }
                ls->line[ls->len++] = buf[i];
        }
        return 0;
}

static long count_lines(const char *t, size_t len) {
        long n = 0;
        for (size_t i = 0; i < len; i++)
                n += t[i] == '\n';
        return n;
}

/* Everything fd still has, fed. */
static int drain(int fd, LineSplitter *ls) {
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return 0;
                int r = feed(ls, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
}

static bool still_running(const CtrStore *s, const char *id) {
        Container c = {};
        if (ctr_load(s, id, &c, NULL) < 0)
                return false;
        (void) ctr_state_observe(&c);
        bool running = c.state.status == CTR_RUNNING;
        ctr_done(&c);
        return running;
}

/* The monitor rotated the log (renamed it, made a new one): the file at path is no
 * longer the one fd reads. */
static bool rotated(int fd, const char *path) {
        struct stat a, b;
        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}

int ctr_log_read(const CtrStore *s, const char *id, const CtrLogRead *o, CtrLogEmit emit, void *userdata,
                 RtError *err) {
        char path[PATH_MAX], old[PATH_MAX + 4];
        (void) ctr_log_path(s, id, path);
        (void) snprintf(old, sizeof old, "%s.1", path);
        _cleanup_free_ LineSplitter *ls = calloc(1, sizeof *ls);
        if (!ls)
                return rt_err_set(err, -ENOMEM, "read the log of %.12s", id);
        ls->emit = emit;
        ls->userdata = userdata;

        /* the watch before the read: a line written in between wakes the follow */
        _cleanup_close_ int ino = o->follow ? inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
        if (o->follow && (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY) < 0)) {
                /* a container that has not written yet has no log: made empty, to watch */
                _cleanup_close_ int made = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (ino < 0 || made < 0 || inotify_add_watch(ino, path, IN_MODIFY) < 0)
                        return rt_err_set(err, -errno, "follow %s", path);
        }
        _cleanup_free_ char *t_old = NULL, *t_cur = NULL;
        size_t l_old = 0, l_cur = 0;
        (void) read_file(old, LOG_FILE_MAX, &t_old, &l_old, NULL);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                struct stat st;
                if (fstat(fd, &st) == 0 && (uint64_t) st.st_size <= LOG_FILE_MAX &&
                    (t_cur = malloc((size_t) st.st_size + 1))) {
                        ssize_t n = pread(fd, t_cur, (size_t) st.st_size, 0);
                        l_cur = n > 0 ? (size_t) n : 0;
                        (void) lseek(fd, (off_t) l_cur, SEEK_SET);
                }
        }
        long total = count_lines(t_old, l_old) + count_lines(t_cur, l_cur);
        ls->skip = o->tail >= 0 && o->tail < total ? total - o->tail : 0;
        int r = 0;
        if (t_old && (r = feed(ls, t_old, l_old)) < 0)
                return r;
        /* a last line of the old file never runs on into the new one */
        ls->len = 0;
        if (t_cur && (r = feed(ls, t_cur, l_cur)) < 0)
                return r;
        if (!o->follow)
                return 0;
        if (fd < 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return rt_err_set(err, -errno, "follow %s", path);

        for (;;) {
                if ((r = drain(fd, ls)) < 0)
                        return r;
                if (rotated(fd, path)) {
                        safe_close(fd);
                        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                                return rt_err_set(err, -errno, "follow %s", path);
                        (void) inotify_add_watch(ino, path, IN_MODIFY);
                        ls->len = 0;
                        continue;
                }
                if (!still_running(s, id))
                        /* one last read: the monitor flushes before it records the end */
                        return drain(fd, ls);
                struct pollfd p[2] = { { .fd = ino, .events = POLLIN }, { .fd = o->cancel_fd, .events = 0 } };
                int n = poll(p, o->cancel_fd >= 0 ? 2 : 1, LOG_FOLLOW_POLL_MS);
                if (n > 0 && (p[1].revents & (POLLHUP | POLLERR)))
                        return 0; /* the reader has gone */
                char ev[4096];
                while (read(ino, ev, sizeof ev) > 0) {
                }
        }
}

int ctr_log_line_head(char buf[static 64], uint64_t ns, bool is_stderr, bool full) {
        char ts[40];
        return snprintf(buf, 64, "%s %s %c ", format_rfc3339(ns, ts), is_stderr ? "stderr" : "stdout",
                        full ? 'F' : 'P');
}

void ctr_log_note(const CtrStore *s, const char *id, const char *text) {
        char path[PATH_MAX], head[64];
        (void) ctr_log_path(s, id, path);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        int hl = ctr_log_line_head(head, now_realtime_ns(), true, true);
        struct iovec iov[3] = { { head, (size_t) hl }, { (void *) text, strlen(text) }, { (void *) "\n", 1 } };
        (void) writev(fd, iov, 3);
}
