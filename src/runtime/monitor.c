/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor (DESIGN.md, process model): forked by start (setsid, so it outlives the
 * caller), it clones the container's PID 1 into new mount, pid, uts and ipc
 * namespaces (its cgroup namespace once it is in its cgroups), commits "running" once PID 1 is set up, relays and logs the command's
 * output, and records the end and tears the container's networks down. It holds the
 * starter's container lock until the start is on record or undone. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "sync.h"
#include "forkexec.h"
#include "fs.h"
#include "parse.h"
#include "log.h"
#include "netns.h"
#include "strv.h"
#include "sys.h"

/* ---- the monitor ---- */

typedef struct Monitor {
        const CtrStore *store;
        const CtrConfig *config;
        char ctrdir[PATH_MAX];
        int cli_fd;                  /* sync socket to the CLI */
        /* The container's lock, the starter's own open file (a flock belongs to it, not
         * to a process): held until the start is on record or undone, so that a starter
         * killed at any instant leaves the container locked until then, never half
         * started for another command to see. */
        int lock_fd;
        bool committed;              /* "running" is on record */
        CtrAttach attach;            /* the CLI's stdio when attached, else all -1 */
        CtrState prior;              /* the record before the commit */
        const SeccompProgram *seccomp;
        bool netns_from_cli;         /* the CLI wires the netns meanwhile and sends it when
                                      * done; else the monitor makes it */
        bool attached;
        int stdin_listen_fd;         /* CTR_STDIN_SOCKET: a client's stdin for an -i container
                                      * started without an attached CLI (the shim's attach) */
        int log_fd;
        uint64_t log_bytes;
        char partial[2][8192];       /* an unterminated line per stream, for the log */
        size_t partial_len[2];
} Monitor;

static void log_rotate_if_needed(Monitor *m) {
        if (m->log_bytes < CTR_LOG_MAX_BYTES)
                return;
        char p[PATH_MAX], old[PATH_MAX + 4];
        (void) snprintf(p, sizeof p, "%s/ctr.log", m->ctrdir);
        (void) snprintf(old, sizeof old, "%s.1", p);
        (void) rename(p, old);
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
                close(m->log_fd);
                m->log_fd = fd;
        }
        m->log_bytes = 0;
}

/* One log line in Podman's k8s-file format: "<RFC3339Nano> <stream> <F|P> <text>". */
static void log_line(Monitor *m, int stream, const char *text, size_t len, bool full) {
        if (m->log_fd == -1) {
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "%s/ctr.log", m->ctrdir);
                m->log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                struct stat lst;
                if (m->log_fd >= 0 && fstat(m->log_fd, &lst) == 0)
                        m->log_bytes = (uint64_t) lst.st_size;
                if (m->log_fd < 0)
                        m->log_fd = -2; /* do not try again for every line */
        }
        if (m->log_fd < 0)
                return;
        char head[64];
        int hl = ctr_log_line_head(head, now_realtime_ns(), stream, full);
        struct iovec iov[3] = { { head, (size_t) hl }, { (void *) text, len }, { (void *) "\n", 1 } };
        ssize_t n = writev(m->log_fd, iov, 3);
        if (n > 0)
                m->log_bytes += (uint64_t) n;
        log_rotate_if_needed(m);
}

static void log_output(Monitor *m, int stream, const char *buf, size_t len) {
        char *part = m->partial[stream];
        size_t *pl = &m->partial_len[stream];
        while (len > 0) {
                const char *nl = memchr(buf, '\n', len);
                size_t take = nl ? (size_t) (nl - buf) : len;
                if (*pl + take > sizeof m->partial[stream]) {
                        /* A very long line goes out in pieces marked partial. */
                        log_line(m, stream, part, *pl, false);
                        *pl = 0;
                        if (take > sizeof m->partial[stream]) {
                                log_line(m, stream, buf, take, !!nl);
                                buf += take + (nl ? 1 : 0);
                                len -= take + (nl ? 1 : 0);
                                continue;
                        }
                }
                memcpy(part + *pl, buf, take);
                *pl += take;
                if (nl) {
                        log_line(m, stream, part, *pl, true);
                        *pl = 0;
                        take++;
                }
                buf += take;
                len -= take;
        }
}

static void log_flush_partial(Monitor *m) {
        for (int s = 0; s < 2; s++)
                if (m->partial_len[s]) {
                        log_line(m, s, m->partial[s], m->partial_len[s], false);
                        m->partial_len[s] = 0;
                }
}

static void write_all_or_detach(int *fd, const char *buf, size_t len) {
        while (*fd >= 0 && len > 0) {
                ssize_t n = write(*fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* The attached CLI went away: keep logging, stop relaying. */
                        *fd = safe_close(*fd);
                        return;
                }
                buf += n;
                len -= (size_t) n;
        }
}

/* An --rm container goes; its exit code outlives it a while, for a client's wait after
 * it (Podman's remote run --rm, docker's condition=removed). Under its lock. */
void ctr_remove_with_exit_code(const CtrStore *s, const CtrConfig *c, int exit_code) {
        char p[PATH_MAX], code[16];
        store_path(s, STORE_EXITS, NULL, NULL, p);
        (void) mkdir(p, 0700);
        store_path(s, STORE_EXITS, c->id, NULL, p);
        int len = snprintf(code, sizeof code, "%d", exit_code);
        (void) write_file(p, code, (size_t) len, 0600, false, NULL);
        (void) ctr_destroy(s, c->id, c->name);
        ctr_event(s, "container", "remove", c->id, c->name, c->image, -1);
}

/* Records the end, tears down the netns, removes an --rm container. Under the container
 * lock, so a concurrent stop/rm/inspect sees before or after, never halfway. */
static void monitor_finish(Monitor *m, int exit_code) {
        const CtrConfig *c = m->config;
        char p[PATH_MAX];
        ctr_path(m->store, c->id, "lock", p);
        int lock = lock_file(p, true, NULL);

        ctr_event(m->store, "container", "died", c->id, c->name, c->image, exit_code);
        /* attachments first: CNI plugins DEL best while the netns is still there */
        net_release_container(m->store, c->id);
        char ns[128];
        ctr_netns_name(c->id, ns);
        (void) netns_delete(ns, NULL);
        (void) ledger_forget(m->store, c->id, LEDGER_NETNS);
        (void) ctr_cgroup_remove(m->store, c->id);
        if (c->rm)
                ctr_remove_with_exit_code(m->store, c, exit_code);
        else {
                CtrState st = {};
                if (ctr_state_read(m->store, c->id, &st, NULL) == 0) {
                        st.status = CTR_EXITED;
                        st.exit_code = exit_code;
                        st.finished_ns = now_realtime_ns();
                        st.netns[0] = '\0';
                        st.init = (ProcId) {};
                        /* a start right after must not take us for a live monitor */
                        st.monitor = (ProcId) {};
                        (void) ctr_state_write(m->store, c->id, &st, NULL);
                }
        }
        if (lock >= 0)
                close(lock);
}

/* Relays and logs output until the container has ended and its output is drained.
 * ctl_fd is the sync socket to PID 1, which reports the command's status before it exits;
 * *ret_reaped says whether PID 1 has been waited for already. */
static int monitor_loop(Monitor *m, pid_t child, int out_fd, int err_fd, int in_fd, int sigfd,
                        int ctl_fd, bool *ret_reaped) {
        char buf[16384];
        int exit_code = -1;
        bool child_done = false, reaped = false;
        /* After PID 1 is gone, the pid namespace is gone and every writer with it; the
         * pipes reach EOF soon. The bound is for a pipe some process outside still
         * holds (a leaked fd): we do not wait on it forever. */
        uint64_t drain_deadline = 0;

        while (out_fd >= 0 || err_fd >= 0 || !child_done) {
                struct pollfd p[6] = {
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = out_fd, .events = POLLIN },
                        { .fd = err_fd, .events = POLLIN },
                        { .fd = in_fd >= 0 ? m->attach.stdin_fd : -1, .events = POLLIN },
                        { .fd = ctl_fd, .events = POLLIN },
                        { .fd = in_fd >= 0 && m->attach.stdin_fd < 0 ? m->stdin_listen_fd : -1, .events = POLLIN },
                };
                int timeout = -1;
                if (child_done) {
                        uint64_t now = now_monotonic_ms();
                        if (now >= drain_deadline)
                                break;
                        timeout = (int) (drain_deadline - now);
                }
                int n = poll(p, 6, timeout);
                if (n < 0 && errno != EINTR)
                        break;
                if (n <= 0)
                        continue;
                if (p[5].fd >= 0 && (p[5].revents & POLLIN)) {
                        /* one stdin at a time, and only root's (the socket is 0600 in a 0700
                         * dir already) */
                        int client = accept4(p[5].fd, NULL, NULL, SOCK_CLOEXEC);
                        struct ucred cred;
                        socklen_t len = sizeof cred;
                        if (client >= 0 && getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
                            cred.uid == 0)
                                m->attach.stdin_fd = client;
                        else if (client >= 0)
                                close(client);
                }
                if (ctl_fd >= 0 && (p[4].revents & (POLLIN | POLLHUP | POLLERR))) {
                        SyncMsg msg = {};
                        int r = sync_recv(ctl_fd, &msg, 0);
                        if (r == 1 && msg.type == SYNC_EXITED && !child_done) {
                                exit_code = msg.code;
                                child_done = true;
                                drain_deadline = now_monotonic_ms() + 2000;
                        }
                        if (r != 1)
                                ctl_fd = safe_close(ctl_fd);
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        (void) !read(sigfd, &si, sizeof si);
                        int st;
                        pid_t w;
                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                if (w == child) {
                                        if (!child_done) {
                                                exit_code = WIFEXITED(st) ? WEXITSTATUS(st)
                                                                          : 128 + WTERMSIG(st);
                                                child_done = true;
                                                drain_deadline = now_monotonic_ms() + 2000;
                                        }
                                        reaped = true;
                                }
                }
                for (int s = 0; s < 2; s++) {
                        int *fd = s ? &err_fd : &out_fd;
                        if (*fd < 0 || !(p[1 + s].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        ssize_t got = read(*fd, buf, sizeof buf);
                        if (got <= 0) {
                                /* EOF, or EIO from a pty whose last slave closed */
                                if (got == 0 || errno != EINTR)
                                        *fd = safe_close(*fd);
                                continue;
                        }
                        log_output(m, s, buf, (size_t) got);
                        write_all_or_detach(s ? &m->attach.stderr_fd : &m->attach.stdout_fd, buf,
                                            (size_t) got);
                }
                if (in_fd >= 0 && m->attach.stdin_fd >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t got = read(m->attach.stdin_fd, buf, sizeof buf);
                        int target = in_fd;
                        if (got <= 0) {
                                /* stdin EOF: the command sees EOF too (a pty gets ^D) */
                                if (m->config->tty)
                                        (void) !write(target, "\x04", 1);
                                else
                                        in_fd = safe_close(in_fd);
                                m->attach.stdin_fd = safe_close(m->attach.stdin_fd);
                                if (m->config->tty)
                                        in_fd = -1;
                        } else
                                write_all_or_detach(&target, buf, (size_t) got);
                }
        }
        log_flush_partial(m);
        if (ctl_fd >= 0)
                close(ctl_fd);
        if (!child_done) {
                int st;
                if (waitpid(child, &st, 0) == child)
                        exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                reaped = true;
        }
        *ret_reaped = reaped;
        return exit_code;
}

static int stdin_socket_listen(const char *ctrdir);

/* The stdin socket goes with the start it was made for when that fails, and with the
 * container's end: a client attaching later must not find a dead one there. */
static void stdin_socket_remove(Monitor *m) {
        if (m->stdin_listen_fd < 0)
                return;
        m->stdin_listen_fd = safe_close(m->stdin_listen_fd);
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/%s", m->ctrdir, CTR_STDIN_SOCKET);
        (void) unlink(p);
}

/* The starter has gone (killed): its end of the sync socket closed. A starter that failed
 * shuts down only its writing half, and still reads. */
static bool starter_gone(const Monitor *m) {
        struct pollfd p = { .fd = m->cli_fd, .events = POLLIN };
        return m->cli_fd < 0 || (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)));
}

/* What a start that will not happen made, undone: the addresses and CNI attachments taken
 * for it, its netns, and the record put back as it was with the reason. The starter does
 * this itself when it lives to hear of the failure; this is for the starter gone, or a
 * "running" on record already. Under the container's lock (m->lock_fd). */
static void monitor_undo(Monitor *m, bool starter_left, const char *why) {
        const CtrConfig *c = m->config;
        if (starter_left) {
                char ns[128];
                net_release_container(m->store, c->id);
                (void) ctr_undo_ledger(m->store, c->id);
                ctr_netns_name(c->id, ns);
                (void) netns_delete(ns, NULL);
        }
        CtrState st = m->prior;
        (void) snprintf(st.error, sizeof st.error, "%s", why ? why : "start undone");
        (void) ctr_state_write(m->store, c->id, &st, NULL);
        if (starter_left && c->rm)
                ctr_remove_with_exit_code(m->store, c, 125);
}

/* The start failed: PID 1 goes (when there is one), and what was made for it, and the
 * starter hears why, unless it is the one that told us (tell false). */
static _noreturn_ void monitor_abort(Monitor *m, pid_t child, bool tell, int code, pid_t pid,
                                     const char *msg) {
        if (child > 0) {
                (void) kill(child, SIGKILL);
                (void) waitpid(child, NULL, 0);
        }
        stdin_socket_remove(m);
        bool left = starter_gone(m);
        if (left || m->committed)
                monitor_undo(m, left, left ? "the caller went before the container started" : msg);
        if (tell && !left)
                sync_send(m->cli_fd, SYNC_ERROR, code, pid, msg);
        _exit(1);
}

/* "running" on record, with both pids: written by the monitor, which alone knows both
 * and outlives any caller. The record as it was (m->prior, as the starter read it under
 * the lock) is put back should the command still fail to exec. */
static int monitor_commit(Monitor *m, pid_t child, RtError *err) {
        const CtrConfig *c = m->config;
        char ns[128];
        ctr_netns_name(c->id, ns);
        CtrState st = { .status = CTR_RUNNING, .started_ns = now_realtime_ns() };
        (void) proc_id_of(getpid(), &st.monitor);
        (void) proc_id_of(child, &st.init);
        (void) snprintf(st.netns, sizeof st.netns, "%s/%s", NETNS_RUN_DIR, ns);
        int r = ctr_state_write(m->store, c->id, &st, err);
        if (r < 0)
                return r;
        m->committed = true;
        return 0;
}

static _noreturn_ void monitor_main(Monitor *m) {
        (void) setsid();
        /* it lives as long as the container: the caller's cwd must not stay busy */
        (void) !chdir("/");
        (void) prctl(PR_SET_NAME, "nsprov-monitor");
        /* a client that went (an attached CLI, an API stdin) is an EPIPE to handle */
        (void) signal(SIGPIPE, SIG_IGN);
        int *keep[] = { &m->cli_fd, &m->attach.stdin_fd, &m->attach.stdout_fd,
                        &m->attach.stderr_fd, &m->lock_fd };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* Our own stdio must not keep the caller's pipes open: `$(nsprov run -d …)` would
         * wait for an EOF that never comes. */
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3; fd++)
                (void) dup2(devnull, fd);
        if (devnull > 2)
                close(devnull);

        m->log_fd = -1; /* opened on the first output: most short commands print nothing */

        /* The command's stdio: a pty, or pipes; stdin a pipe only when interactive. */
        int c_in = -1, c_out = -1, c_err = -1, m_out = -1, m_err = -1, m_in = -1;
        RtError e = {};
        int r = 0;
        if (m->config->tty) {
                /* made by PID 1 in the container's devpts, received below */
        } else {
                int po[2], pe[2], pi[2];
                if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
                        r = rt_err_set(&e, -errno, "pipe");
                else {
                        c_out = po[1], m_out = po[0];
                        c_err = pe[1], m_err = pe[0];
                }
                if (r == 0 && m->config->interactive) {
                        if (pipe2(pi, O_CLOEXEC) < 0)
                                r = rt_err_set(&e, -errno, "pipe");
                        else
                                c_in = pi[0], m_in = pi[1];
                } else if (r == 0)
                        c_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        int sp[2] = { -1, -1 };
        if (r == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                r = rt_err_set(&e, -errno, "socketpair");
        if (r < 0)
                monitor_abort(m, -1, true, r, 0, e.msg);

        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &chld, NULL);
        int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        /* before the starter can hear of the start (from PID 1): it hands the client's
         * stdin over right after */
        if (m->config->interactive && !m->attached)
                m->stdin_listen_fd = stdin_socket_listen(m->ctrdir);

        pid_t child = (pid_t) syscall(SYS_clone,
                                      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD,
                                      NULL, NULL, NULL, NULL);
        if (child < 0) {
                (void) rt_err_set(&e, -errno, "clone the container's namespaces");
                monitor_abort(m, -1, true, e.code, 0, e.msg);
        }
        if (child == 0) {
                close(sp[0]);
                ChildArgs a = { .store = m->store, .config = m->config, .ctrdir = m->ctrdir,
                                .sync_fd = sp[1], .starter_fd = m->cli_fd, .stdin_fd = c_in,
                                .stdout_fd = c_out, .stderr_fd = c_err >= 0 ? c_err : c_out,
                                .tty = m->config->tty, .seccomp = m->seccomp };
                ctr_init_main(&a);
        }
        close(sp[1]);
        sync_send(m->cli_fd, SYNC_PID1, 0, child, NULL);
        /* The netns is made here (or by the wiring caller), in parallel with PID 1
         * building its root, named, and handed over. */
        char ns[128];
        ctr_netns_name(m->config->id, ns);
        int netns_fd = -1, netns_code = 0;
        r = 0;
        if (m->netns_from_cli) {
                /* EOF or anything else: the CLI could not wire it, and says why itself */
                SyncMsg from_cli = {};
                int q = sync_recv_fd(m->cli_fd, &from_cli, &netns_fd, 120 * 1000);
                if (q != 1 || from_cli.type != SYNC_NETNS || netns_fd < 0) {
                        if (netns_fd >= 0)
                                close(netns_fd);
                        monitor_abort(m, child, false, 0, 0, NULL);
                }
                netns_code = from_cli.code;
        } else {
                r = ctr_netns_create(m->store, ns, &netns_fd, &e);
        }
        if (r == 0) {
                /* A failed send means PID 1 is gone already; its own error record,
                 * read below, says why. */
                (void) sync_send_fd(sp[0], SYNC_NETNS, netns_code, netns_fd);
                close(netns_fd);
        }
        if (r < 0)
                monitor_abort(m, child, true, r, 0, e.msg);
        if (c_in >= 0 && c_in != c_out)
                close(c_in);
        if (c_err >= 0 && c_err != c_out)
                close(c_err);
        if (c_out >= 0)
                close(c_out);
        /* A starter killed by now will never hear of the start: undone, PID 1 goes before
         * its command ran. Killed after this: the container runs, on record, as it asked. */
        /* its cgroup now, while PID 1 finishes its root: PID 1 waits for CGROUP before it
         * drops its privileges, then makes its cgroup namespace, rooted there */
        if ((r = ctr_cgroup_setup(m->store, m->config, child, &e)) < 0)
                monitor_abort(m, child, true, r, 0, e.msg);
        if (starter_gone(m))
                monitor_abort(m, child, false, 0, 0, NULL);
        /* "running" on record now, while PID 1 still builds its root (two cores, both
         * busy): off the start's path. PID 1 execs the command only once it reads GO,
         * sent now and waiting for it in the socket; should its setup fail, the undo puts
         * the record back as it was. */
        (void) sync_send(sp[0], SYNC_CGROUP, 0, 0, NULL);
        if ((r = monitor_commit(m, child, &e)) < 0)
                monitor_abort(m, child, true, r, 0, e.msg);
        (void) sync_send(sp[0], SYNC_GO, 0, 0, NULL);

        SyncMsg msg = {};
        if (m->config->tty) {
                int master = -1;
                r = sync_recv_fd(sp[0], &msg, &master, 60 * 1000);
                if (r == 1 && msg.type == SYNC_PTY && master >= 0) {
                        m_out = master;
                        m_in = m->config->interactive ? master : -1;
                        struct winsize ws;
                        if (m->attach.stdout_fd >= 0 && ioctl(m->attach.stdout_fd, TIOCGWINSZ, &ws) == 0)
                                (void) ioctl(master, TIOCSWINSZ, &ws);
                }
        }
        if (!m->config->tty || (r == 1 && msg.type == SYNC_PTY))
                r = sync_recv(sp[0], &msg, 60 * 1000);
        if (r == 1 && msg.type != SYNC_ERROR && msg.type != SYNC_STARTED)
                r = -EBADMSG;
        if (r < 0 || (r == 1 && msg.type == SYNC_ERROR)) {
                if (r < 0)
                        (void) snprintf(msg.msg, sizeof msg.msg, "container setup did not answer: %s",
                                        strerror(-r));
                monitor_abort(m, child, true, r < 0 ? r : msg.code, r < 0 ? 0 : msg.pid, msg.msg);
        }
        /* r == 0 (EOF: the command exec'd as PID 1: we tell the starter) or SYNC_STARTED
         * (nsprov-init told the starter itself) */
        if (r == 0)
                sync_send(m->cli_fd, SYNC_STARTED, 0, child, NULL);
        if (!m->attached)
                m->cli_fd = safe_close(m->cli_fd);
        /* on record and running: the lock is the starter's alone again, and ours to take
         * anew when the container ends (monitor_finish) */
        m->lock_fd = safe_close(m->lock_fd);

        bool reaped;
        int code = monitor_loop(m, child, m_out, m_err, m_in, sigfd, r == 1 ? sp[0] : safe_close(sp[0]),
                                &reaped);
        m->attach.stdout_fd = safe_close(m->attach.stdout_fd);
        m->attach.stderr_fd = safe_close(m->attach.stderr_fd);
        m->attach.stdin_fd = safe_close(m->attach.stdin_fd);
        stdin_socket_remove(m);
        monitor_finish(m, code);
        if (m->cli_fd >= 0)
                sync_send(m->cli_fd, SYNC_EXITED, code, 0, NULL);
        /* Only now: PID 1 may still be in the kernel's namespace teardown. */
        if (!reaped)
                (void) waitpid(child, NULL, 0);
        _exit(0);
}

/* ---- stdin for a container started without an attached caller ---- */

/* A unix socket path too long for sun_path (a deep runroot) is reached through an fd of
 * its directory: /proc/self/fd/N/NAME. */
static int stdin_socket_address(const char *ctrdir, struct sockaddr_un *sa, int *ret_dirfd) {
        *ret_dirfd = open(ctrdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*ret_dirfd < 0)
                return -errno;
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        (void) snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *ret_dirfd, CTR_STDIN_SOCKET);
        return 0;
}

/* The monitor's end: listening, 0600, for the shim's attach to hand it a client's stdin. */
static int stdin_socket_listen(const char *ctrdir) {
        struct sockaddr_un sa;
        _cleanup_close_ int dirfd = -1;
        if (stdin_socket_address(ctrdir, &sa, &dirfd) < 0)
                return -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -1;
        (void) unlinkat(dirfd, CTR_STDIN_SOCKET, 0);
        mode_t old = umask(0077);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 2) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int ctr_stdin_connect(const CtrStore *s, const char *id, RtError *err) {
        char dir[PATH_MAX];
        ctr_path(s, id, NULL, dir);
        struct sockaddr_un sa;
        _cleanup_close_ int dirfd = -1;
        int r = stdin_socket_address(dir, &sa, &dirfd);
        if (r < 0)
                return rt_err_set(err, r, "open container %s", id);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rt_err_set(err, -errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return rt_err_set(err, r, "connect to the stdin of container %s", id);
        }
        return fd;
}

/* Detached: forked once more, the parent gone (the exec'd monitor of a server without its
 * spawner, whose parent the server reaps); else the caller is the spawner's child already. */
int ctr_monitor_run(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli,
                       bool detach) {
        (void) fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
        (void) fcntl(lock_fd, F_SETFD, FD_CLOEXEC);
        static Container c; /* the monitor's for its whole life */
        RtError e = {};
        static SeccompProgram prog;
        int r = ctr_load(s, id, &c, &e);
        if (r == 0 && !c.config.privileged)
                r = seccomp_program_load(s, c.config.caps, &prog, &e);
        if (r < 0) {
                sync_send(sync_fd, SYNC_ERROR, r, 0, e.msg);
                return EXIT_FAILURE;
        }
        pid_t mon = detach ? fork() : 0;
        if (mon < 0) {
                sync_send(sync_fd, SYNC_ERROR, -errno, 0, "fork the monitor");
                return EXIT_FAILURE;
        }
        if (mon > 0)
                _exit(0);
        Monitor m = { .store = s, .config = &c.config, .prior = c.state, .cli_fd = sync_fd, .lock_fd = lock_fd,
                      .attach = { -1, -1, -1 }, .stdin_listen_fd = -1, .log_fd = -1, .seccomp = &prog,
                      .netns_from_cli = netns_from_cli };
        ctr_path(s, c.config.id, NULL, m.ctrdir);
        monitor_main(&m);
}

int ctr_monitor_main(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli) {
        /* the monitor is not the server's child */
        return ctr_monitor_run(s, id, sync_fd, lock_fd, netns_from_cli, true);
}


/* The middle process of start's double fork: execs a fresh-image monitor for a threaded
 * caller without a spawner, or forks the monitor and goes. */
_noreturn_ void ctr_monitor_middle(const CtrStore *s, const Container *c, const CtrAttach *attach,
                                   int sync_fd, int lock_fd, const SeccompProgram *prog, bool netns_from_cli) {
        const CtrConfig *k = &c->config;
        if (s->fresh_monitor) {
                /* only async-signal-safe calls here: we are a fork of a threaded process */
                char fd[16], lfd[16], *argv[] = { (char *) "nsprov", (char *) "--root", (char *) s->root,
                                                  (char *) "--runroot", (char *) s->runroot,
                                                  (char *) "__monitor", (char *) k->id, fd, lfd,
                                                  (char *) (netns_from_cli ? "1" : "0"), NULL };
                /* without O_CLOEXEC */
                int keep = fcntl(sync_fd, F_DUPFD, 3), keep_lock = fcntl(lock_fd, F_DUPFD, 3);
                (void) snprintf(fd, sizeof fd, "%d", keep);
                (void) snprintf(lfd, sizeof lfd, "%d", keep_lock);
                if (keep >= 0 && keep_lock >= 0)
                        execv("/proc/self/exe", argv);
                sync_send(sync_fd, SYNC_ERROR, -errno, 0, "exec the monitor");
                _exit(1);
        }
        pid_t mon = fork();
        if (mon != 0) {
                if (mon < 0)
                        sync_send(sync_fd, SYNC_ERROR, -errno, 0, "fork the monitor");
                _exit(0);
        }
        Monitor m = { .store = s, .config = k, .prior = c->state, .cli_fd = sync_fd, .lock_fd = lock_fd,
                      .stdin_listen_fd = -1,
                      .attach = { -1, -1, -1 }, .log_fd = -1, .seccomp = prog,
                      .netns_from_cli = netns_from_cli };
        ctr_path(s, k->id, NULL, m.ctrdir);
        if (attach) {
                m.attached = true;
                m.attach.stdin_fd = k->interactive && attach->stdin_fd >= 0
                                            ? fcntl(attach->stdin_fd, F_DUPFD_CLOEXEC, 3)
                                            : -1;
                m.attach.stdout_fd = fcntl(attach->stdout_fd, F_DUPFD_CLOEXEC, 3);
                m.attach.stderr_fd = fcntl(attach->stderr_fd, F_DUPFD_CLOEXEC, 3);
        }
        monitor_main(&m);
}

