/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle under the container's lock: start (the monitor forked, the networks wired
 * meanwhile, the start awaited), repair of what a dead monitor or a killed start left,
 * stop, kill, rm and wait. */
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

/* The container's netns, made at start (or taken from serve's pool); one of that name left
 * by a killed monitor is this container's own, and goes first. */
int ctr_netns_create(const CtrStore *s, const char *name, int *ret_fd, RtError *err) {
        int r = netns_pool_make(s->netns_pool, name, ret_fd, err);
        if (r == -EEXIST) {
                (void) netns_delete(name, NULL);
                r = netns_pool_make(s->netns_pool, name, ret_fd, err);
        }
        return r;
}


/* ---- start ---- */

static int signal_init(const CtrState *st, int sig);

static int start_locked(const CtrStore *s, Container *c, int lock_fd, const CtrAttach *attach,
                        int *ret_cli_fd, int *ret_exec_status, RtError *err) {
        CtrConfig *k = &c->config;
        char ns[128];
        ctr_netns_name(k->id, ns);
        _cleanup_(reap_childp) pid_t middle = -1;

        /* The monitor makes the netns and names it; written down first. */
        int r = ledger_record(s, k->id, LEDGER_NETNS, ns, err);
        if (r < 0)
                return r;
        /* With networks, the command must find its interfaces there when it starts: the
         * netns is made and wired here, while the monitor clones PID 1 and builds its
         * root (two cores, both busy), and handed over when wired. */
        _cleanup_close_ int netns_fd = -1;
        _cleanup_free_ NetAttachment *atts = NULL;
        /* Loaded here, in memory the monitor and PID 1 inherit: after pivot_root the
         * container cannot reach the host's cache file. */
        _cleanup_(seccomp_program_done) SeccompProgram prog = {};
        size_t n_atts = 0;
        if ((r = net_attachments_load(s, k->id, &atts, &n_atts, err)) < 0)
                goto fail;

        /* (a fresh-image monitor loads its own) */
        if (!k->privileged && !s->fresh_monitor && (r = seccomp_program_load(s, k->caps, &prog, err)) < 0)
                goto fail;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = rt_err_set(err, -errno, "socketpair");
                goto fail;
        }
        /* Forked twice: the monitor must not be our child, or a long-lived caller (serve)
         * collects a zombie per container; it is re-parented to the host's init or
         * subreaper, as conmon is. The middle process is reaped after the wiring. A
         * threaded caller's spawner forks it instead (it takes no attached stdio). */
        if (attach || s->spawner_fd < 0 || ctr_spawner_request(s, k->id, n_atts > 0, sp[1], lock_fd) < 0) {
                middle = fork();
                if (middle < 0) {
                        r = rt_err_set(err, -errno, "fork the monitor");
                        close(sp[0]);
                        close(sp[1]);
                        goto fail;
                }
                if (middle == 0) {
                        close(sp[0]);
                        ctr_monitor_middle(s, c, attach, sp[1], lock_fd, &prog, n_atts > 0);
                }
        }
        close(sp[1]);
        if (n_atts > 0) {
                r = ctr_netns_create(s, ns, &netns_fd, err);
                if (r < 0 || (r = net_wire(s, k, netns_fd, atts, n_atts, true, err)) < 0 ||
                    (r = net_attachments_save(s, k->id, atts, n_atts, err)) < 0) {
                        /* our end closed: the monitor kills PID 1 and goes */
                        sync_wait_gone(sp[0]);
                        goto fail;
                }
                /* A monitor that failed before has said why: read below. */
                (void) sync_send_fd(sp[0], SYNC_NETNS, SYNC_NETNS_LO_UP, netns_fd);
        }
        /* the monitor names PID 1 first; then PID 1 (or the monitor) says it started */
        SyncMsg msg = {};
        pid_t init_pid = 0, monitor_pid = 0;
        while ((r = sync_recv(sp[0], &msg, 120 * 1000)) == 1 && msg.type == SYNC_PID1) {
                init_pid = msg.pid;
                monitor_pid = msg.sender;
        }
        if (r <= 0 || msg.type != SYNC_STARTED) {
                if (r == 1 && msg.pid > 0 && ret_exec_status)
                        *ret_exec_status = msg.pid;
                if (r == 1)
                        r = rt_err_setx(err, msg.code < 0 ? msg.code : -EIO, "%s", msg.msg);
                else
                        r = rt_err_set(err, r < 0 ? r : -EIO, "the monitor ended during start");
                sync_wait_gone(sp[0]);
                goto fail;
        }

        if (!ret_cli_fd) {
                close(sp[0]);
                return 0;
        }
        /* On record already, by the monitor (monitor_commit); an attached caller keeps a
         * copy to pass signals on to PID 1 with. (PID 1's own record carries no pids: it
         * knows itself as 1) */
        pid_t init = init_pid ? init_pid : msg.pid;
        CtrState *st = &c->state;
        *st = (CtrState) { .status = CTR_RUNNING, .started_ns = now_realtime_ns() };
        (void) proc_id_of(monitor_pid ? monitor_pid : msg.sender, &st->monitor);
        (void) proc_id_of(init, &st->init);
        (void) snprintf(st->netns, sizeof st->netns, "%s/%s", NETNS_RUN_DIR, ns);
        *ret_cli_fd = sp[0];
        /* The monitor is not waited for: it lives on as the host init's. An attached
         * caller waits for its exit record instead. */
        return 0;
fail:
        net_release_container(s, k->id);
        (void) netns_delete(ns, NULL);
        (void) ledger_forget(s, k->id, LEDGER_NETNS);
        /* PID 1 is gone (the monitor ended it before it told us): its cgroups are empty */
        (void) ctr_cgroup_remove(s, k->id);
        /* The container stays as it was (created or exited), with the reason kept. */
        (void) snprintf(c->state.error, sizeof c->state.error, "%s", err ? err->msg : "");
        (void) ctr_state_write(s, k->id, &c->state, NULL);
        return r;
}

int ctr_start(const CtrStore *s, const char *id, const CtrAttach *attach, int *ret_exit_code,
              RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        _cleanup_close_ int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        _cleanup_(ctr_done) Container c = {};
        int r = ctr_load(s, id, &c, err);
        if (r < 0)
                return r;
        ctr_repair(s, &c);
        if (c.state.status == CTR_RUNNING)
                return attach ? rt_err_setx(err, -EALREADY, "container '%s' is already running",
                                            c.config.name)
                              : 0;
        /* never a second PID 1 beside a monitor that still lives */
        if (proc_id_alive(&c.state.monitor))
                return rt_err_setx(err, -EBUSY, "container '%s': its monitor (pid %d) still runs",
                                   c.config.name, (int) c.state.monitor.pid);
        int cli_fd = -1, exec_status = 0;
        r = start_locked(s, &c, lock, attach, attach ? &cli_fd : NULL, &exec_status, err);
        /* now, not while it ran: the next one is made while the host is between starts */
        netns_pool_refill(s->netns_pool);
        if (r < 0) {
                /* --rm: gone after a failed start too, as Docker's daemon does it (docker
                 * run --rm waits for the removal) */
                int code = exec_status == 126 || exec_status == 127 ? exec_status : 125;
                if (c.config.rm)
                        ctr_remove_with_exit_code(s, &c.config, code);
                if (ret_exit_code && exec_status)
                        *ret_exit_code = exec_status;
                return rt_err_prefix(err, r, "start container '%s'", c.config.name);
        }
        ctr_event(s, "container", "start", c.config.id, c.config.name, c.config.image, -1);
        lock = safe_close(lock);
        if (!attach)
                return ctr_await_ready(s, &c.config, err);

        /* Attached: the monitor relays the output; we wait for its exit record, and pass
         * the signals a user sends us on to the container, as Podman's --sig-proxy does. */
        static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(proxied); i++)
                sigaddset(&set, proxied[i]);
        (void) sigprocmask(SIG_BLOCK, &set, &old);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        SyncMsg msg = {};
        for (;;) {
                struct pollfd pf[2] = { { .fd = cli_fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                struct signalfd_siginfo si;
                while (sfd >= 0 && read(sfd, &si, sizeof si) == sizeof si)
                        (void) signal_init(&c.state, (int) si.ssi_signo);
                if (pf[0].revents) {
                        r = sync_recv(cli_fd, &msg, 0);
                        break;
                }
        }
        if (sfd >= 0)
                close(sfd);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        close(cli_fd);
        /* Not waited for: after its exit record the monitor only reaps PID 1 while the
         * kernel tears the namespaces down; that need not delay the caller. */
        if (r == 1 && msg.type == SYNC_EXITED) {
                if (ret_exit_code)
                        *ret_exit_code = msg.code;
                return 0;
        }
        /* The monitor died without a word: the exit code is in the state, if anywhere. */
        CtrState st = {};
        if (ctr_state_read(s, id, &st, NULL) == 0 && st.status == CTR_EXITED) {
                if (ret_exit_code)
                        *ret_exit_code = st.exit_code;
                return 0;
        }
        return rt_err_setx(err, -EIO, "container '%s': its monitor ended without an exit status",
                           c.config.name);
}

void ctr_repair(const CtrStore *s, Container *c) {
        CtrState *st = &c->state;
        ProcId init = st->init;
        bool monitor_died = ctr_state_observe(c);
        if (!monitor_died && (st->status == CTR_RUNNING || !ledger_recorded(s, c->config.id, LEDGER_NETNS)))
                return;
        /* PID 1 outliving its monitor would be a container nobody watches */
        if (monitor_died && proc_id_alive(&init)) {
                int pfd = proc_id_pidfd(&init);
                if (pfd >= 0) {
                        (void) pidfd_send_signal(pfd, SIGKILL, NULL, 0);
                        close(pfd);
                }
        }
        net_release_container(s, c->config.id);
        (void) ctr_undo_ledger(s, c->config.id);
        char ns[128];
        ctr_netns_name(c->config.id, ns);
        (void) netns_delete(ns, NULL);
        if (!monitor_died)
                return; /* the record itself was right: not started */
        st->init = (ProcId) {};
        st->monitor = (ProcId) {};
        if (c->config.rm) {
                (void) ctr_destroy(s, c->config.id, c->config.name);
                return;
        }
        (void) ctr_state_write(s, c->config.id, st, NULL);
}

/* Waits until the process has gone (at once when it is already), at most timeout_ms (0:
 * for ever). A monitor gone has recorded its container's exit. */
static int wait_gone(const ProcId *proc, uint64_t timeout_ms) {
        int pfd = proc_id_pidfd(proc);
        if (pfd < 0)
                return 0;
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, timeout_ms ? (int) timeout_ms : -1);
        while (n < 0 && errno == EINTR);
        close(pfd);
        return n > 0 ? 0 : -ETIMEDOUT;
}

/* Waits until the container has ended and its monitor has recorded it and torn down what
 * it had (netns, addresses), at most timeout_ms. The monitor does that under the
 * container's lock, which it mostly holds by the time PID 1 is gone (PID 1 tells it the
 * exit first, then goes through the kernel's slow namespace teardown): the lock is then
 * the end of the bookkeeping, a few hundred µs before the monitor's own exit would be
 * seen. Should we get the lock first (PID 1 killed, say), the state still says running
 * and the monitor's exit is waited for, as it always was. */
static int wait_stopped(const CtrStore *s, const char *id, const CtrState *st, uint64_t timeout_ms) {
        uint64_t deadline = now_monotonic_ms() + timeout_ms;
        if (wait_gone(&st->init, timeout_ms) < 0)
                return -ETIMEDOUT;
        char path[PATH_MAX];
        ctr_path(s, id, "lock", path);
        int lock = lock_file(path, true, NULL);
        if (lock >= 0) {
                CtrState now = {};
                int r = ctr_state_read(s, id, &now, NULL);
                close(lock);
                /* exited, or an --rm container gone with its dir */
                if ((r == 0 && now.status != CTR_RUNNING) || r == -ENOENT)
                        return 0;
        }
        uint64_t t = now_monotonic_ms();
        return wait_gone(&st->monitor, t < deadline ? deadline - t : 1);
}

static int signal_init(const CtrState *st, int sig) {
        int pfd = proc_id_pidfd(&st->init);
        if (pfd < 0)
                return pfd;
        int r = pidfd_send_signal(pfd, sig, NULL, 0) < 0 ? -errno : 0;
        close(pfd);
        return r;
}

static int load_reconciled(const CtrStore *s, const char *id, Container *c, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, id, c, err);
        if (r == 0)
                ctr_repair(s, c);
        close(lock);
        return r;
}

int ctr_stop(const CtrStore *s, const char *id, int timeout, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return 0;
        if (timeout < 0)
                timeout = c.config.stop_timeout;
        /* No lock while waiting: the monitor takes it to record the exit. */
        if (timeout > 0 && signal_init(&c.state, c.config.stop_signal) == 0 &&
            wait_stopped(s, c.config.id, &c.state, (uint64_t) timeout * 1000) == 0)
                return 0;
        (void) signal_init(&c.state, SIGKILL);
        if (wait_stopped(s, c.config.id, &c.state, 10 * 1000) < 0)
                return rt_err_setx(err, -ETIMEDOUT,
                                   "container '%s' did not end 10 s after SIGKILL", c.config.name);
        return 0;
}

int ctr_kill(const CtrStore *s, const char *id, int sig, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return rt_err_setx(err, -EINVAL, "container '%s' is not running", c.config.name);
        r = signal_init(&c.state, sig);
        if (r < 0)
                return rt_err_set(err, r, "signal container '%s'", c.config.name);
        return 0;
}

int ctr_remove(const CtrStore *s, const char *id, bool force, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        int r = load_reconciled(s, id, &c, err);
        if (r < 0)
                return r;
        char dir[PATH_MAX];
        ctr_path(s, id, NULL, dir);
        /* An --rm container whose monitor had died is removed by the reconcile itself. */
        if (access(dir, F_OK) < 0)
                return 0;
        if (c.state.status == CTR_RUNNING) {
                if (!force)
                        return rt_err_setx(err, -EBUSY,
                                           "container '%s' is running: stop it first or use --force",
                                           c.config.name);
                (void) signal_init(&c.state, SIGKILL);
                if (wait_gone(&c.state.monitor, 10 * 1000) < 0)
                        return rt_err_setx(err, -ETIMEDOUT, "container '%s' did not end after SIGKILL",
                                           c.config.name);
        }
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        _cleanup_close_ int lock = lock_file(p, true, NULL);
        /* an --rm container killed above is removed by its monitor meanwhile */
        if (lock == -ENOENT)
                return 0;
        if (lock < 0)
                return rt_err_set(err, lock, "lock container '%s'", c.config.name);
        (void) ctr_destroy(s, c.config.id, c.config.name);
        ctr_event(s, "container", "remove", c.config.id, c.config.name, c.config.image, -1);
        return 0;
}

int ctr_wait(const CtrStore *s, const char *id, CtrWaitCondition cond, uint64_t timeout_ms,
             int *ret_exit_code, RtError *err) {
        uint64_t deadline = timeout_ms ? now_monotonic_ms() + timeout_ms : 0;
        for (;;) {
                _cleanup_(ctr_done) Container c = {};
                int r = load_reconciled(s, id, &c, err);
                if (r < 0)
                        return r;
                CtrStatus st = c.state.status;
                if (cond == CTR_WAIT_RUNNING && st == CTR_RUNNING)
                        return 0;
                if (cond == CTR_WAIT_STOPPED && st == CTR_EXITED) {
                        if (ret_exit_code)
                                *ret_exit_code = c.state.exit_code;
                        return 0;
                }
                uint64_t now = now_monotonic_ms();
                if (deadline && now >= deadline)
                        return rt_err_setx(err, -ETIMEDOUT, "container '%s': timed out waiting",
                                           c.config.name);
                if (st == CTR_RUNNING) {
                        /* the monitor's end is the container's end, recorded */
                        (void) wait_gone(&c.state.monitor, deadline ? deadline - now : 0);
                        continue;
                }
                /* Created (or exited, waiting for running): nothing to block on until
                 * someone starts it; look again shortly. */
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                (void) nanosleep(&ts, NULL);
        }
}

int ctr_restart(const CtrStore *s, const char *id, int timeout, RtError *err) {
        int r = ctr_stop(s, id, timeout, err);
        return r < 0 ? r : ctr_start(s, id, NULL, NULL, err);
}
