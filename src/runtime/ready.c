/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A detached start returns once the container is ready, when it declares how to tell:
 * a listener on a TCP port or a unix socket, read from the kernel's socket tables of the
 * container's own netns (no route from the host needed, nothing the service sees), or a
 * command run inside until it succeeds. A container that ends while awaited fails the
 * start with its exit code; one not ready in time is stopped (an --rm one goes) with the
 * reason in its log. What declares nothing costs nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "fs.h"
#include "log.h"

enum {
        /* a socket table is cheap to read: first looks close together, then every 50 ms */
        PROBE_FIRST_MS = 2,
        PROBE_MAX_MS = 50,
        /* a command costs a process in the container: every 100 ms, at most 10 s each */
        PROBE_CMD_PERIOD_MS = 100,
        PROBE_CMD_MAX_MS = 10000,
        SOCKET_TABLE_MAX = 64 << 20,
        LAST_LINES = 5,
};

static bool table_lists(pid_t init, const char *table, const CtrReady *want) {
        char path[64];
        (void) snprintf(path, sizeof path, "/proc/%d/net/%s", (int) init, table);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (read_file(path, SOCKET_TABLE_MAX, &text, &len, NULL) < 0)
                return false;
        return want->kind == CTR_READY_TCP ? ctr_ready_tcp_listening(text, want->port)
                                           : ctr_ready_unix_listening(text, want->arg);
}

/* 1 ready, 0 not yet, < 0 the command could not be run in the container */
static int probe_command(const CtrStore *s, const char *id, const char *command, uint64_t deadline_ms) {
        char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) command, NULL };
        CtrExec ex = { .argv = argv };
        const int stdio[3] = { -1, -1, -1 };
        CtrExecChild child;
        int r = ctr_exec_spawn(s, id, &ex, stdio, NULL, &child, NULL);
        if (r < 0)
                return r;
        uint64_t now = now_monotonic_ms();
        uint64_t until = MIN(deadline_ms, now + PROBE_CMD_MAX_MS);
        _cleanup_close_ int pfd = pidfd_open(child.pid, 0);
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        if (pfd >= 0)
                while (poll(&p, 1, until > now ? (int) (until - now) : 0) < 0 && errno == EINTR)
                        now = now_monotonic_ms();
        int status = 0;
        if (waitpid(child.pid, &status, WNOHANG) == 0) {
                (void) kill(child.pid, SIGKILL);
                (void) waitpid(child.pid, &status, 0);
                return 0;
        }
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

typedef struct LastLines {
        char text[LAST_LINES][160];
        size_t n;
} LastLines;

static int keep_line(const CtrLogLine *l, void *userdata) {
        LastLines *ll = userdata;
        if (ll->n == LAST_LINES) {
                memmove(ll->text[0], ll->text[1], sizeof ll->text[0] * (LAST_LINES - 1));
                ll->n--;
        }
        (void) snprintf(ll->text[ll->n++], sizeof ll->text[0], "%.*s", (int) MIN(l->text_len, (size_t) 159), l->text);
        return 0;
}

/* "; its last lines: a | b" from the container's log, or nothing */
static void last_lines(const CtrStore *s, const char *id, char *buf, size_t size) {
        LastLines ll = {};
        CtrLogRead o = { .tail = LAST_LINES, .cancel_fd = -1 };
        buf[0] = '\0';
        if (ctr_log_read(s, id, &o, keep_line, &ll, NULL) < 0 || ll.n == 0)
                return;
        size_t used = (size_t) snprintf(buf, size, "; its last lines: ");
        for (size_t i = 0; i < ll.n && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%s", i ? " | " : "", ll.text[i]);
}

/* The container ended while awaited: its exit code once its monitor has recorded it. */
static int ended(const CtrStore *s, const CtrConfig *k, const CtrState *st, const char *what, RtError *err) {
        char lines[1024];
        last_lines(s, k->id, lines, sizeof lines);
        _cleanup_close_ int mfd = proc_id_pidfd(&st->monitor);
        struct pollfd p = { .fd = mfd, .events = POLLIN };
        if (mfd >= 0)
                (void) poll(&p, 1, 10 * 1000);
        CtrState now = {};
        int code = -1;
        if (ctr_state_read(s, k->id, &now, NULL) == 0 && now.status == CTR_EXITED)
                code = now.exit_code;
        else if (ctr_removed_exit_code(s, k->id, &code) < 0)
                code = -1;
        if (code < 0)
                return rt_err_setx(err, -ECHILD, "container '%s' ended before it was ready (it waited for %s)%s",
                                   k->name, what, lines);
        return rt_err_setx(err, -ECHILD, "container '%s' exited with code %d before it was ready (it waited for %s)%s",
                           k->name, code, what, lines);
}

int ctr_await_ready(const CtrStore *s, const CtrConfig *k, RtError *err) {
        CtrReady want;
        int r = ctr_ready_parse(k->ready, &want, err);
        if (r < 0 || want.kind == CTR_READY_NONE)
                return r;
        char what[256];
        ctr_ready_describe(&want, what, sizeof what);
        CtrState st = {};
        if ((r = ctr_state_read(s, k->id, &st, err)) < 0)
                return r;
        _cleanup_close_ int init = proc_id_pidfd(&st.init);
        if (st.status != CTR_RUNNING || init < 0)
                return ended(s, k, &st, what, err);

        uint64_t timeout = k->ready_timeout_ms > 0 ? (uint64_t) k->ready_timeout_ms : CTR_READY_DEFAULT_TIMEOUT_MS;
        uint64_t start = now_monotonic_ms(), deadline = start + timeout;
        int pause_ms = PROBE_FIRST_MS;
        for (;;) {
                int ready;
                if (want.kind == CTR_READY_CMD)
                        ready = probe_command(s, k->id, want.arg, deadline);
                else
                        ready = table_lists(st.init.pid, "tcp", &want) ||
                                (want.kind == CTR_READY_TCP && table_lists(st.init.pid, "tcp6", &want)) ||
                                (want.kind == CTR_READY_UNIX && table_lists(st.init.pid, "unix", &want));
                /* a table read is PID 1's only while PID 1 lives: asked after */
                struct pollfd p = { .fd = init, .events = POLLIN };
                bool gone = poll(&p, 1, 0) > 0;
                if (ready > 0 && !gone) {
                        log_debug("container %s ready after %" PRIu64 " ms", k->name, now_monotonic_ms() - start);
                        return 0;
                }
                if (gone)
                        return ended(s, k, &st, what, err);
                uint64_t now = now_monotonic_ms();
                if (now >= deadline)
                        break;
                int wait_ms = want.kind == CTR_READY_CMD ? PROBE_CMD_PERIOD_MS : pause_ms;
                pause_ms = MIN(pause_ms * 2, PROBE_MAX_MS);
                if (poll(&p, 1, (int) MIN((uint64_t) wait_ms, deadline - now)) > 0)
                        return ended(s, k, &st, what, err);
        }

        char lines[1024], note[512];
        last_lines(s, k->id, lines, sizeof lines);
        (void) snprintf(note, sizeof note, "nsprov: not ready after %.1f s (waited for %s): stopped",
                        (double) timeout / 1000, what);
        ctr_log_note(s, k->id, note);
        RtError stop_err = {};
        if (ctr_stop(s, k->id, -1, &stop_err) < 0)
                log_warning("%s", stop_err.msg);
        return rt_err_setx(err, -ETIMEDOUT, "container '%s' not ready after %.1f s: it waited for %s%s; stopped",
                           k->name, (double) timeout / 1000, what, lines);
}
