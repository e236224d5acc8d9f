/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: a command inside a running container. We join all of its namespaces at once
 * through a pidfd of its PID 1 (setns with a pidfd, Linux 5.8), fork once more so the
 * command is inside its pid namespace, apply the container's limits, and exec. With a
 * terminal, the pty is the container's own (its /dev/ptmx), and we relay it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "fs.h"
#include "log.h"
#include "strv.h"

typedef struct ExecPlan {
        CtrConfig cfg; /* the container's, with argv, env, caps replaced for this exec */
        SeccompProgram seccomp;
        bool tty, interactive;
        int status_fd; /* errno of a failed exec goes here */
} ExecPlan;

static _noreturn_ void exec_child(const ExecPlan *p, int slave) {
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        int e = 0;
        if (slave >= 0) {
                (void) setsid();
                if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 ||
                    dup2(slave, 2) < 0)
                        goto fail;
        } else if (!p->interactive) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        (void) dup2(null, 0);
        }
        RtError err = {};
        if (security_apply(&p->cfg, &p->seccomp, &err) < 0) {
                e = -err.code;
                goto fail_e;
        }
        if (chdir(p->cfg.workdir ? p->cfg.workdir : "/") < 0)
                goto fail;
        char exe[PATH_MAX];
        int r = ctr_find_executable(p->cfg.argv[0], p->cfg.env, exe);
        if (r < 0) {
                e = -r;
                goto fail_e;
        }
        execve(exe, p->cfg.argv, p->cfg.env);
fail:
        e = errno;
fail_e:
        (void) !write(p->status_fd, &e, sizeof e);
        _exit(e == ENOENT ? 127 : 126);
}

/* Copies between our stdio and the pty master until the command is gone. */
static void relay(int master, bool interactive, pid_t child) {
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
        (void) child;
}

/* Runs in the first child, already inside the container's namespaces. */
static _noreturn_ void exec_joined(const ExecPlan *p) {
        int master = -1, slave = -1;
        if (p->tty) {
                /* The container's ptmx: the pty lives in its devpts, as Podman's do. */
                master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                        goto fail;
                slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0)
                        goto fail;
                struct winsize ws;
                if (ioctl(1, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(master, TIOCSWINSZ, &ws);
        }
        pid_t child = fork();
        if (child < 0)
                goto fail;
        if (child == 0) {
                if (master >= 0)
                        close(master);
                exec_child(p, slave);
        }
        if (slave >= 0)
                close(slave);
        close(p->status_fd);
        /* Ctrl-C at our terminal goes to the command through its pty, not to us. */
        if (master >= 0) {
                (void) signal(SIGINT, SIG_IGN);
                (void) signal(SIGQUIT, SIG_IGN);
                relay(master, p->interactive, child);
        }
        int st;
        while (waitpid(child, &st, 0) < 0)
                if (errno != EINTR)
                        _exit(125);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
fail:;
        int e = errno;
        (void) !write(p->status_fd, &e, sizeof e);
        _exit(125);
}

int ctr_exec(const CtrStore *s, const char *id, const CtrExec *ex, int *ret_exit_code,
             RtError *err) {
        assert_return(s && id && ex && ex->argv && ex->argv[0], -EINVAL);
        _cleanup_(ctr_done) Container c = {};
        char p[PATH_MAX];
        ctr_path(s, id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, id, &c, err);
        if (r == 0)
                ctr_reconcile(s, &c);
        close(lock);
        if (r < 0)
                return r;
        if (c.state.status != CTR_RUNNING)
                return rt_err_setx(err, -EINVAL, "container '%s' is not running; it is %s",
                                   c.config.name, ctr_status_to_string(c.state.status));
        if (strv_length(ex->argv) > CTR_MAX_ARGS || strv_length(ex->env) > CTR_MAX_ENV)
                return rt_err_setx(err, -E2BIG, "exec: too many arguments or env entries");

        _cleanup_close_ int pidfd = proc_id_pidfd(&c.state.init);
        if (pidfd < 0)
                return rt_err_set(err, pidfd, "container '%s': its PID 1 is gone", c.config.name);

        ExecPlan plan = { .cfg = c.config, .tty = ex->tty, .interactive = ex->interactive };
        _cleanup_(strv_freep) char **argv = strv_copy(ex->argv);
        _cleanup_(strv_freep) char **env = strv_copy(c.config.env);
        _cleanup_(strv_freep) char **caps = NULL;
        if (!argv || (c.config.env && !env))
                return rt_err_set(err, -ENOMEM, "exec");
        for (size_t i = 0; ex->env && ex->env[i]; i++) {
                if (!strchr(ex->env[i], '='))
                        return rt_err_setx(err, -EINVAL, "env '%.80s' is not KEY=VALUE", ex->env[i]);
                if (strv_env_set(&env, ex->env[i]) < 0)
                        return rt_err_set(err, -ENOMEM, "exec");
        }
        if (ex->tty && !strv_env_get(env, "TERM") && strv_env_set(&env, "TERM=xterm") < 0)
                return rt_err_set(err, -ENOMEM, "exec");
        plan.cfg.argv = argv;
        plan.cfg.env = env;
        if (ex->workdir) {
                if (ex->workdir[0] != '/')
                        return rt_err_setx(err, -EINVAL, "workdir '%s' must be absolute", ex->workdir);
                plan.cfg.workdir = (char *) ex->workdir;
        }
        if (ex->privileged && !c.config.privileged) {
                r = caps_resolve(NULL, NULL, true, &caps, err);
                if (r < 0)
                        return r;
                plan.cfg.caps = caps;
                plan.cfg.privileged = true;
        }

        if (!plan.cfg.privileged && (r = seccomp_program_load(s, &plan.seccomp, err)) < 0)
                return r;
        int status[2];
        if (pipe2(status, O_CLOEXEC) < 0) {
                seccomp_program_done(&plan.seccomp);
                return rt_err_set(err, -errno, "pipe");
        }
        plan.status_fd = status[1];

        /* Our terminal goes raw while a pty relays it, as ssh does, and comes back after. */
        struct termios saved;
        bool raw = ex->tty && ex->interactive && isatty(0) && tcgetattr(0, &saved) == 0;
        if (raw) {
                struct termios t = saved;
                cfmakeraw(&t);
                (void) tcsetattr(0, TCSANOW, &t);
        }

        pid_t child = fork();
        if (child < 0) {
                r = rt_err_set(err, -errno, "fork");
                goto out;
        }
        if (child == 0) {
                close(status[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (setns(pidfd, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |
                                         CLONE_NEWIPC | CLONE_NEWCGROUP) < 0) {
                        int e = errno;
                        (void) !write(status[1], &e, sizeof e);
                        _exit(125);
                }
                exec_joined(&plan);
        }
        close(status[1]);
        status[1] = -1;
        int e = 0;
        ssize_t n;
        do
                n = read(status[0], &e, sizeof e);
        while (n < 0 && errno == EINTR);
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        if (n == sizeof e) {
                if (e == ENOENT)
                        r = rt_err_setx(err, -ENOENT,
                                        "exec '%s' in container '%s': executable file not found in $PATH",
                                        ex->argv[0], c.config.name);
                else
                        r = rt_err_set(err, -e, "exec '%s' in container '%s'", ex->argv[0],
                                       c.config.name);
                goto out;
        }
        if (ret_exit_code)
                *ret_exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        r = 0;
out:
        seccomp_program_done(&plan.seccomp);
        if (raw)
                (void) tcsetattr(0, TCSANOW, &saved);
        close(status[0]);
        if (status[1] >= 0)
                close(status[1]);
        return r;
}
