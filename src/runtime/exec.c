/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: a command inside a running container, as one process and the caller's own
 * child. The calling thread points its children's pid namespace at the container's
 * (setns of CLONE_NEWPID changes only pid_for_children, and only the thread's), forks,
 * and points it back; the child, born inside the pid namespace, joins the rest at once
 * through a pidfd of PID 1 (setns with a pidfd, Linux 5.8), applies the container's
 * limits and execs. With a terminal, the pty is the container's own (from its devpts),
 * and the caller relays the master. No helper process and no second fork: the shim runs
 * an exec session in its own connection thread. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "forkexec.h"
#include "fs.h"
#include "log.h"
#include "strv.h"

typedef struct ExecPlan {
        CtrConfig cfg; /* the container's, with argv, env, caps replaced for this exec */
        SeccompProgram seccomp;
        bool tty, interactive;
        int status_fd; /* an ExecFailure goes here; EOF at exec means it worked */
        /* the container's cgroups, joined first: its limits hold for what it execs too */
        char cgroup_procs[CTR_CGROUP_MAX_DIRS][PATH_MAX];
        size_t n_cgroups;
} ExecPlan;

/* Why the child did not exec: the command's own errno (setup empty), or a step before
 * it that says what went wrong (the user lookup: 126, as Podman's). */
typedef struct ExecFailure {
        int errno_value;
        char setup[256];
} ExecFailure;

/* In the child of a fork from a process that may have other threads: besides syscalls,
 * only what glibc keeps usable after fork (malloc, which libcap's capset needs). */
static _noreturn_ void exec_child(const ExecPlan *p, int pidfd, const int stdio[3], int slave) {
        int e = 0;
        for (size_t i = 0; i < p->n_cgroups; i++) {
                int fd = open(p->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        goto fail;
                close(fd);
        }
        if (setns(pidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP) < 0)
                goto fail;
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (slave >= 0) {
                (void) setsid();
                if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 ||
                    dup2(slave, 2) < 0)
                        goto fail;
        } else {
                /* stdio[i] may sit at any number, 0-2 included: all moved above 2 first */
                int moved[3];
                for (int i = 0; i < 3; i++) {
                        moved[i] = stdio[i] >= 0 ? fcntl(stdio[i], F_DUPFD_CLOEXEC, 3)
                                                 : open("/dev/null", (i ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
                        if (moved[i] < 0)
                                goto fail;
                }
                for (int i = 0; i < 3; i++)
                        if (dup2(moved[i], i) < 0)
                                goto fail;
        }
        /* whatever else the caller has open (the shim: its clients' sockets) stays out */
        (void) syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        RtError err = {};
        CtrUser user, *as_user = NULL;
        char **env = p->cfg.env;
        if (p->cfg.user && *p->cfg.user) {
                if (ctr_user_lookup(p->cfg.user, &user, &err) < 0) {
                        ExecFailure f = { .errno_value = -err.code };
                        (void) snprintf(f.setup, sizeof f.setup, "%s", err.msg);
                        (void) !write(p->status_fd, &f, sizeof f);
                        _exit(126);
                }
                as_user = &user;
                /* (a copy when it changes: the plan's env is the caller's until exec) */
                if (!(env = ctr_user_env(env, &user))) {
                        e = ENOMEM;
                        goto fail_e;
                }
        }
        if (security_apply(&p->cfg, as_user, &p->seccomp, &err) < 0) {
                e = -err.code;
                goto fail_e;
        }
        if (chdir(p->cfg.workdir ? p->cfg.workdir : "/") < 0)
                goto fail;
        char exe[PATH_MAX];
        int r = ctr_find_executable(p->cfg.argv[0], env, exe);
        if (r < 0) {
                e = -r;
                goto fail_e;
        }
        execve(exe, p->cfg.argv, env);
fail:
        e = errno;
fail_e:;
        ExecFailure f = { .errno_value = e };
        (void) !write(p->status_fd, &f, sizeof f);
        _exit(e == ENOENT ? 127 : 126);
}

typedef struct ExecChildArgs {
        ExecPlan *plan;
        int pidfd;
        const int *stdio;
        int slave;
} ExecChildArgs;

static void exec_child_start(void *userdata, int status_fd) {
        ExecChildArgs *x = userdata;
        x->plan->status_fd = status_fd;
        exec_child(x->plan, x->pidfd, x->stdio, x->slave);
}

/* Copies between our stdio and the pty master until the command is gone. */
static void relay(int master, bool interactive) {
        char buf[16384];
        bool in_open = interactive;
        for (;;) {
                struct pollfd p[2] = { { .fd = master, .events = POLLIN },
                                       { .fd = in_open ? 0 : -1, .events = POLLIN } };
                int n = poll(p, 2, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t got = read(master, buf, sizeof buf);
                        if (got <= 0) /* EIO: every slave is closed, the command is done */
                                break;
                        for (ssize_t off = 0; off < got;) {
                                ssize_t w = write(1, buf + off, (size_t) (got - off));
                                if (w <= 0)
                                        break;
                                off += w;
                        }
                }
                if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t got = read(0, buf, sizeof buf);
                        if (got <= 0)
                                in_open = false;
                        else
                                (void) !write(master, buf, (size_t) got);
                }
        }
}

/* The pty of an exec with a terminal, from the container's own devpts (its /dev/ptmx,
 * resolved inside its root: a symlink there cannot reach the host's files), so `tty`
 * inside names a device the container can see, as Podman's do. */
static int open_container_pty(pid_t init, const struct winsize *ws, int *ret_master, int *ret_slave,
                              RtError *err) {
        _cleanup_close_ int master = ctr_open_in_root(init, "/dev/ptmx", O_RDWR | O_NOCTTY);
        struct stat st;
        if (master < 0)
                return rt_err_set(err, master, "open the container's /dev/ptmx");
        if (fstat(master, &st) < 0)
                return rt_err_set(err, -errno, "open the container's /dev/ptmx");
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
                return rt_err_setx(err, -ENOTTY, "the container's /dev/ptmx is not a pty multiplexer");
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return rt_err_set(err, -errno, "unlock the pty");
        int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return rt_err_set(err, -errno, "open the pty");
        if (ws && ws->ws_row && ws->ws_col)
                (void) ioctl(master, TIOCSWINSZ, ws);
        *ret_master = master;
        master = -1;
        *ret_slave = slave;
        return 0;
}

/* The command's own settings: the container's, with this exec's argv, env and workdir
 * over them, and every capability for --privileged. */
static int exec_plan(const CtrStore *s, const Container *c, const CtrExec *ex, ExecPlan *plan,
                     char ***argv, char ***env, char ***caps, RtError *err) {
        *plan = (ExecPlan) { .cfg = c->config, .tty = ex->tty, .interactive = ex->interactive };
        plan->n_cgroups = ctr_cgroup_procs_files(c->config.id, plan->cgroup_procs, CTR_CGROUP_MAX_DIRS);
        *argv = strv_copy(ex->argv);
        *env = strv_copy(c->config.env);
        if (!*argv || (c->config.env && !*env))
                return rt_err_set(err, -ENOMEM, "exec");
        for (size_t i = 0; ex->env && ex->env[i]; i++) {
                if (!strchr(ex->env[i], '='))
                        return rt_err_setx(err, -EINVAL, "env '%.80s' is not KEY=VALUE", ex->env[i]);
                if (strv_env_set(env, ex->env[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "exec");
        }
        if (ex->tty && !strv_env_get(*env, "TERM") && strv_env_set(env, "TERM=xterm") < 0)
                return rt_err_set(err, -ENOMEM, "exec");
        plan->cfg.argv = *argv;
        plan->cfg.env = *env;
        if (ex->workdir) {
                if (ex->workdir[0] != '/')
                        return rt_err_setx(err, -EINVAL, "workdir '%s' must be absolute", ex->workdir);
                plan->cfg.workdir = (char *) ex->workdir;
        }
        if (ex->user && *ex->user) {
                int r = ctr_user_check(ex->user, err);
                if (r < 0)
                        return r;
                plan->cfg.user = (char *) ex->user;
        }
        if (ex->privileged && !c->config.privileged) {
                int r = caps_resolve(NULL, NULL, true, caps, err);
                if (r < 0)
                        return r;
                plan->cfg.caps = *caps;
                plan->cfg.privileged = true;
        }
        if (!plan->cfg.privileged)
                return seccomp_program_load(s, plan->cfg.caps, &plan->seccomp, err);
        return 0;
}

int ctr_exec_spawn(const CtrStore *s, const char *id, const CtrExec *ex, const int stdio[3],
                   const struct winsize *ws, CtrExecChild *ret, RtError *err) {
        assert_return(s && id && ex && ex->argv && ex->argv[0] && stdio && ret, -EINVAL);
        *ret = (CtrExecChild) { .pid = -1, .pty_master = -1 };
        _cleanup_(ctr_done) Container c = {};
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, id, &c, err);
        if (r == 0)
                ctr_repair(s, &c);
        close(lock);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return rt_err_setx(err, -ESRCH, "cannot exec in container '%s': it is not running (%s)",
                                   c.config.name, ctr_status_to_string(c.state.status));
        if (strv_length(ex->argv) > CTR_MAX_ARGS || strv_length(ex->env) > CTR_MAX_ENV)
                return rt_err_setx(err, -E2BIG, "exec: too many arguments or env entries");

        _cleanup_close_ int pidfd = proc_id_pidfd(&c.state.init);
        if (pidfd < 0)
                return rt_err_setx(err, -ESRCH, "cannot exec in container '%s': its PID 1 is gone",
                                   c.config.name);
        ExecPlan plan;
        _cleanup_(strv_freep) char **argv = NULL, **env = NULL, **caps = NULL;
        r = exec_plan(s, &c, ex, &plan, &argv, &env, &caps, err);
        if (r < 0) {
                seccomp_program_done(&plan.seccomp);
                return r;
        }
        _cleanup_close_ int master = -1, slave = -1, own_pidns = -1;
        if (ex->tty && (r = open_container_pty(c.state.init.pid, ws, &master, &slave, err)) < 0)
                goto out;
        own_pidns = open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0) {
                r = rt_err_set(err, -errno, "exec: open our pid namespace");
                goto out;
        }
        if (setns(pidfd, CLONE_NEWPID) < 0) {
                r = rt_err_set(err, -errno, "join the pid namespace of container '%s'", c.config.name);
                goto out;
        }
        /* Privileged and as root, the child makes only syscalls before its exec (no user
         * lookup, no libcap, nothing allocated): it may borrow our memory while this thread
         * waits (vfork): no copy of the server's page tables, and none of the copy-on-write
         * faults that follow a fork in the server's threads and in the child (exec start
         * in the shim went from 3.7 to 2.9 ms). */
        bool borrow_memory = plan.cfg.privileged && !(plan.cfg.user && *plan.cfg.user);
        ExecChildArgs xa = { .plan = &plan, .pidfd = pidfd, .stdio = stdio, .slave = slave };
        ForkStatus fs;
        int fork_r = fork_status_start(exec_child_start, &xa, borrow_memory, &fs);
        /* Back at once, whatever happened: this thread forks the host's processes too. A
         * thread that cannot come back must not go on (the shim's connection thread). */
        if (setns(own_pidns, CLONE_NEWPID) < 0)
                abort();
        if (fork_r < 0) {
                r = rt_err_set(err, fork_r, "fork");
                goto out;
        }
        pid_t child = fs.pid;
        ExecFailure f = {};
        if (fork_status_wait(&fs, &f, sizeof f) == sizeof f) {
                int e = f.errno_value > 0 ? f.errno_value : EIO;
                f.setup[sizeof f.setup - 1] = '\0';
                ret->cannot_run = e == ENOENT && !f.setup[0] ? 127 : 126;
                if (f.setup[0])
                        r = rt_err_setx(err, -e, "exec in container '%s': %s", c.config.name, f.setup);
                else if (e == ENOENT)
                        r = rt_err_setx(err, -ENOENT,
                                        "exec '%s' in container '%s': executable file not found in $PATH",
                                        ex->argv[0], c.config.name);
                else
                        r = rt_err_set(err, -e, "exec '%s' in container '%s'", ex->argv[0],
                                       c.config.name);
                goto out;
        }
        ret->pid = child;
        ret->pty_master = master;
        master = -1;
        r = 0;
out:
        seccomp_program_done(&plan.seccomp);
        return r;
}

int ctr_exec(const CtrStore *s, const char *id, const CtrExec *ex, int *ret_exit_code,
             RtError *err) {
        struct winsize ws, *size = ex->tty && ioctl(1, TIOCGWINSZ, &ws) == 0 ? &ws : NULL;
        int stdio[3] = { ex->interactive ? 0 : -1, 1, 2 };
        CtrExecChild child;
        int r = ctr_exec_spawn(s, id, ex, stdio, size, &child, err);
        if (r < 0) {
                if (child.cannot_run && ret_exit_code)
                        *ret_exit_code = child.cannot_run;
                return r;
        }
        _cleanup_close_ int master = child.pty_master;
        if (master >= 0) {
                /* Our terminal goes raw while the pty relays it, as ssh does, and comes
                 * back after; Ctrl-C at it goes to the command through the pty, not to us. */
                struct termios saved;
                bool raw = ex->interactive && isatty(0) && tcgetattr(0, &saved) == 0;
                if (raw) {
                        struct termios t = saved;
                        cfmakeraw(&t);
                        (void) tcsetattr(0, TCSANOW, &t);
                }
                (void) signal(SIGINT, SIG_IGN);
                (void) signal(SIGQUIT, SIG_IGN);
                relay(master, ex->interactive);
                if (raw)
                        (void) tcsetattr(0, TCSANOW, &saved);
        }
        int st;
        while (waitpid(child.pid, &st, 0) < 0)
                if (errno != EINTR)
                        return rt_err_set(err, -errno, "wait for the exec");
        if (ret_exit_code)
                *ret_exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}
