/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PID 1's side of a start: in the new namespaces it joins the container's netns, builds
 * the root filesystem, drops privileges, checks the command, waits until the monitor has
 * put "running" on record, then, as a tiny init, starts the command, reaps zombies and
 * forwards signals (or execs the command as PID 1 with --init=false). Setup failures go
 * back to the monitor as {code, message} records, so the caller sees "exec 'foo': No such
 * file or directory", never a bare exit status. */
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

/* ---- inside the container ---- */


int ctr_find_executable(const char *name, char *const *env, char buf[static PATH_MAX]) {
        if (strchr(name, '/')) {
                (void) snprintf(buf, PATH_MAX, "%s", name);
                return access(buf, X_OK) == 0 ? 0 : -errno;
        }
        const char *path = strv_env_get(env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        int last = -ENOENT;
        for (const char *p = path; *p;) {
                const char *colon = strchr(p, ':');
                size_t l = colon ? (size_t) (colon - p) : strlen(p);
                (void) snprintf(buf, PATH_MAX, "%.*s/%s", (int) l, l ? p : ".", name);
                if (access(buf, X_OK) == 0)
                        return 0;
                if (errno == EACCES)
                        last = -EACCES;
                p += l + (colon ? 1 : 0);
                if (!colon)
                        break;
        }
        return last;
}

/* After fork, before exec: the command's stdio, terminal, workdir, then exec. Any
 * failure goes to status_fd as an errno and the process ends. */
static _noreturn_ void exec_command(const ChildArgs *a, int status_fd) {
        sigset_t none;
        sigemptyset(&none);
        /* Only an ignored signal survives exec; the rest reset themselves. These are the
         * ones a caller (a server ignores SIGPIPE) may have ignored. */
        static const int reset[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(reset); i++)
                (void) signal(reset[i], SIG_DFL);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) setsid();
        if (a->tty && ioctl(a->stdout_fd, TIOCSCTTY, 0) < 0)
                goto fail;
        if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0)
                goto fail;
        const char *wd = a->config->workdir ? a->config->workdir : "/";
        if (chdir(wd) < 0)
                goto fail;
        char exe[PATH_MAX];
        int r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        execve(exe, a->config->argv, a->config->env);
fail:;
        int e = errno;
        (void) !write(status_fd, &e, sizeof e);
        _exit(e == ENOENT ? 127 : 126);
}

static void describe_exec_error(const CtrConfig *c, int e, char *buf, size_t size) {
        if (e == ENOENT)
                (void) snprintf(buf, size, "exec '%s': executable file not found in $PATH: "
                                "No such file or directory", c->argv[0]);
        else
                (void) snprintf(buf, size, "exec '%s': %s", c->argv[0], strerror(e));
}

/* PID 1: forks the command, reaps everything, forwards signals, exits with the
 * command's status (128+N when a signal N ended it). */
/* Without a terminal the command starts through posix_spawn: glibc's vfork-style clone
 * skips copying our page tables, and an exec failure comes back as its return value. A
 * terminal needs TIOCSCTTY in the child, which posix_spawn cannot do: fork then. */
static int spawn_command(const ChildArgs *a, const char *exe, pid_t *ret_pid) {
        int r;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        static const int reset[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD };
        for (size_t i = 0; i < ELEMENTSOF(reset); i++)
                sigaddset(&dfl, reset[i]);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stdin_fd, 0);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stdout_fd, 1);
        (void) posix_spawn_file_actions_adddup2(&fa, a->stderr_fd, 2);
        (void) posix_spawn_file_actions_addchdir_np(&fa, a->config->workdir ? a->config->workdir : "/");
        (void) posix_spawnattr_setsigmask(&at, &none);
        (void) posix_spawnattr_setsigdefault(&at, &dfl);
        (void) posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                      POSIX_SPAWN_SETSIGDEF);
        r = posix_spawn(ret_pid, exe, &fa, &at, a->config->argv, a->config->env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        return r;
}

static void command_child(void *userdata, int status_fd) {
        exec_command(userdata, status_fd);
}

static int fork_command(const ChildArgs *a, pid_t *ret_pid) {
        ForkStatus fs;
        int r = fork_status_start(command_child, (void *) a, /* borrow_memory= */ false, &fs);
        if (r < 0)
                return -r;
        int e = 0;
        if (fork_status_wait(&fs, &e, sizeof e) == sizeof e)
                return e;
        *ret_pid = fs.pid;
        return 0;
}

/* Everything that can keep the command from running is checked before it may run: its
 * workdir (where PID 1 now stands, so that a relative command resolves as it will), and
 * the executable on its PATH, into exe. A failure ends PID 1 with the status Podman gives
 * it (126, or 127 when the command is not found). */
static void command_check(const ChildArgs *a, char exe[static PATH_MAX]) {
        char msg[512];
        if (chdir(a->config->workdir ? a->config->workdir : "/") < 0) {
                (void) snprintf(msg, sizeof msg, "workdir '%s' does not exist in the container",
                                a->config->workdir);
                sync_send(a->sync_fd, SYNC_ERROR, -ENOENT, 126, msg);
                _exit(126);
        }
        int r = ctr_find_executable(a->config->argv[0], a->config->env, exe);
        if (r < 0) {
                describe_exec_error(a->config, -r, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, r, r == -ENOENT ? 127 : 126, msg);
                _exit(r == -ENOENT ? 127 : 126);
        }
}

/* The command runs only once the monitor has recorded the container as running: a caller
 * killed before that leaves no command that no record shows. The monitor sends GO as soon
 * as the record is written, mostly long before we get here: then it waits in the socket
 * and costs no wakeup. Anything but GO (the monitor undoing the start, or gone) ends PID 1
 * before the command ever ran. */
static void await_commit(const ChildArgs *a) {
        SyncMsg m = {};
        if (sync_recv(a->sync_fd, &m, 120 * 1000) != 1 || m.type != SYNC_GO)
                _exit(125);
}

/* The monitor moves us into the container's cgroup while we build the root; once it says
 * so, our cgroup namespace is made there (/proc/self/cgroup says "/"), while we still may.
 * Anything else: the monitor is undoing the start, or gone. */
static int enter_cgroup_namespace(const ChildArgs *a, RtError *err) {
        SyncMsg m = {};
        if (sync_recv(a->sync_fd, &m, 120 * 1000) != 1 || m.type != SYNC_CGROUP)
                _exit(125);
        return unshare(CLONE_NEWCGROUP) < 0 ? rt_err_set(err, -errno, "make the cgroup namespace") : 0;
}

/* PID 1: starts the command, reaps everything, forwards signals, exits with the
 * command's status (128+N when a signal N ended it). */
static _noreturn_ void run_init(const ChildArgs *a) {
        sigset_t all;
        sigfillset(&all);
        (void) sigprocmask(SIG_BLOCK, &all, NULL);

        pid_t cmd = -1;
        char exe[PATH_MAX];
        command_check(a, exe);
        await_commit(a);
        int e = a->tty ? fork_command(a, &cmd) : spawn_command(a, exe, &cmd);
        close(a->stdin_fd);
        close(a->stdout_fd);
        if (a->stderr_fd != a->stdout_fd)
                close(a->stderr_fd);
        if (e != 0) {
                char msg[512];
                describe_exec_error(a->config, e, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, -e, e == ENOENT ? 127 : 126, msg);
                _exit(e == ENOENT ? 127 : 126);
        }
        if (a->starter_fd >= 0) {
                sync_send(a->starter_fd, SYNC_STARTED, 0, 0, NULL);
                /* not ours to hold: the starter reads the monitor's end of life from it */
                close(a->starter_fd);
        }
        sync_send(a->sync_fd, SYNC_STARTED, 0, 0, NULL);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(cmd, sig);
                        continue;
                }
                int st;
                pid_t p;
                while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                        if (p == cmd) {
                                int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                                /* Told before we exit: the kernel's teardown of our
                                 * namespaces then overlaps the monitor's bookkeeping. */
                                sync_send(a->sync_fd, SYNC_EXITED, code, 0, NULL);
                                _exit(code);
                        }
        }
}

/* The monitor makes and names the netns while we build the root (two cores, both busy),
 * and hands it over as an fd; a command can then never end before its netns has a name. */
static int join_container_netns(void *userdata, RtError *err) {
        ChildArgs *a = userdata;
        SyncMsg msg = {};
        int fd = -1;
        int r = sync_recv_fd(a->sync_fd, &msg, &fd, 60 * 1000);
        if (r != 1 || msg.type != SYNC_NETNS || fd < 0) {
                if (fd >= 0)
                        close(fd);
                return rt_err_setx(err, -EIO, "the monitor gave no network namespace");
        }
        r = sys_setns(fd, CLONE_NEWNET);
        close(fd);
        if (r < 0)
                return rt_err_set(err, r, "join the network namespace");
        if (msg.code == SYNC_NETNS_LO_UP)
                return 0; /* by its wiring, which had a socket in there already */
        /* A fresh netns has only lo, at index 1, and it is down. */
        _cleanup_(netns_sock_freep) NlSock *sk = NULL;
        if ((r = netns_sock_open(-1, &sk, err)) < 0 || (r = netns_link_set_up(sk, 1, true, err)) < 0)
                return r;
        return 0;
}

/* PID 1 is a copy of the monitor, its caller's environment in its memory: /proc/1/environ
 * would show it to the container, and a ptrace of PID 1 would reach the monitor's socket.
 * Not dumpable (/proc/1's files become the host's root's, ptrace needs CAP_SYS_PTRACE),
 * and that environment blanked: the command gets the container's, from its config. */
static void hide_from_container(void) {
        extern char **environ;
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        for (char **e = environ; e && *e; e++)
                memset(*e, 0, strlen(*e));
}

_noreturn_ void ctr_init_main(ChildArgs *a) {
        RtError e = {};
        int r;
        hide_from_container();
        bool shared_err = a->stderr_fd == a->stdout_fd, shared_in = a->stdin_fd == a->stdout_fd;
        int *keep[] = { &a->sync_fd, &a->stdin_fd, &a->stdout_fd, &a->stderr_fd, &a->starter_fd };
        fds_keep_only(keep, ELEMENTSOF(keep));
        /* a pty is one fd for all three: keep exec_command's TIOCSCTTY on the same one */
        if (shared_err) {
                close(a->stderr_fd);
                a->stderr_fd = a->stdout_fd;
        }
        if (shared_in) {
                close(a->stdin_fd);
                a->stdin_fd = a->stdout_fd;
        }
        /* Dies with its monitor: a container nobody watches is a leak. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "nsprov-init");
        if (getppid() == 1)
                _exit(125);

        if (sethostname(a->config->hostname, strlen(a->config->hostname)) < 0) {
                r = rt_err_set(&e, -errno, "set hostname");
                goto fail;
        }
        /* read while the container dir is in reach: after the pivot it is not */
        struct winsize ws = {};
        if (a->tty) {
                char p[PATH_MAX], *text = NULL;
                unsigned rows = 0, cols = 0;
                (void) snprintf(p, sizeof p, "%s/%s", a->ctrdir, CTR_TTYSIZE_FILE);
                if (read_file(p, 64, &text, NULL, NULL) == 0 && sscanf(text, "%u %u", &rows, &cols) == 2 &&
                    rows > 0 && rows <= USHRT_MAX && cols > 0 && cols <= USHRT_MAX)
                        ws = (struct winsize) { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
                free(text);
        }
        char rootfs[PATH_MAX];
        (void) snprintf(rootfs, sizeof rootfs, "%s/rootfs", a->ctrdir);
        RootfsPlan plan = { .store = a->store, .config = a->config, .ctrdir = a->ctrdir, .rootfs = rootfs,
                            .join_netns = join_container_netns, .userdata = a };
        if ((r = rootfs_setup(&plan, &e)) < 0)
                goto fail;
        /* where it cannot be made (the host image is read-only), the check below says so */
        if (a->config->create_workdir && a->config->workdir)
                (void) mkdir_p(a->config->workdir, 0755, NULL);
        if (a->tty) {
                /* The pty comes from the container's own devpts, so `tty` inside names a
                 * device it can see; the master goes to the monitor. */
                int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || unlockpt(master) < 0) {
                        r = rt_err_set(&e, -errno, "allocate a terminal");
                        goto fail;
                }
                int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0) {
                        r = rt_err_set(&e, -errno, "open the terminal");
                        goto fail;
                }
                /* before the command can ask; an attached CLI's own size follows */
                if (ws.ws_row)
                        (void) ioctl(master, TIOCSWINSZ, &ws);
                r = sync_send_fd(a->sync_fd, SYNC_PTY, 0, master);
                close(master);
                if (r < 0) {
                        (void) rt_err_set(&e, r, "pass the terminal to the monitor");
                        goto fail;
                }
                a->stdin_fd = a->stdout_fd = a->stderr_fd = slave;
        }
        /* --user: looked up in the container's own files, now that we are in its root */
        CtrUser user, *as_user = NULL;
        CtrConfig with_home;
        if (a->config->user && *a->config->user) {
                if ((r = ctr_user_lookup(a->config->user, &user, &e)) < 0) {
                        /* the command cannot be invoked as asked: 126, as Podman says */
                        sync_send(a->sync_fd, SYNC_ERROR, r, 126, e.msg);
                        _exit(126);
                }
                as_user = &user;
                with_home = *a->config;
                if (!(with_home.env = ctr_user_env(a->config->env, &user))) {
                        r = rt_err_set(&e, -ENOMEM, "env");
                        goto fail;
                }
                a->config = &with_home;
        }
        if ((r = enter_cgroup_namespace(a, &e)) < 0 || (r = security_apply(a->config, as_user, a->seccomp, &e)) < 0)
                goto fail;

        if (a->config->init)
                run_init(a);

        /* --init=false: the command itself becomes PID 1. The sync socket closes on
         * exec (O_CLOEXEC), which tells the monitor it worked; a failure is sent as a
         * record like any other. */
        {
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) setsid();
                if (a->tty && ioctl(a->stdout_fd, TIOCSCTTY, 0) < 0) {
                        r = rt_err_set(&e, -errno, "set the controlling terminal");
                        goto fail;
                }
                if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0) {
                        r = rt_err_set(&e, -errno, "set up stdio");
                        goto fail;
                }
                char exe[PATH_MAX];
                command_check(a, exe);
                await_commit(a);
                execve(exe, a->config->argv, a->config->env);
                r = -errno;
                char msg[512];
                describe_exec_error(a->config, -r, msg, sizeof msg);
                sync_send(a->sync_fd, SYNC_ERROR, r, r == -ENOENT ? 127 : 126, msg);
                _exit(r == -ENOENT ? 127 : 126);
        }
fail:
        sync_send(a->sync_fd, SYNC_ERROR, r, 0, e.msg);
        _exit(125);
}

