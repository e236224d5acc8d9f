/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the runtime's files and their tests; not a public header. */

#include "runtime.h"

/* path opened inside the root of the container whose PID 1 is init, as if that root were
 * / (a symlink there cannot reach the host's files); the fd (O_CLOEXEC added) or -errno.
 * The caller holds a pidfd of init, so the pid is that process. */
int ctr_open_in_root(pid_t init, const char *path, int flags);
/* What the container's ledger lists (CNI attachments, its netns) undone; returns how many
 * objects went. */
int ctr_undo_ledger(const CtrStore *s, const char *id);
/* The first word of a command looked up on the container's PATH, as execvp would:
 * 0, -ENOENT (127 to the user) or -EACCES (126). */
int ctr_find_executable(const char *name, char *const *env, char buf[static PATH_MAX]);

/* ---- Inside the container (runs in the cloned child) ---- */
typedef struct RootfsPlan {
        const CtrStore *store; /* its root and runroot are hidden from unprivileged containers */
        const CtrConfig *config;
        const char *ctrdir;   /* runroot/containers/<id> */
        const char *rootfs;   /* where to build it: ctrdir/rootfs */
        /* Called just before /sys is mounted, which shows the devices of the caller's
         * netns: the container's netns must be joined by then. */
        int (*join_netns)(void *userdata, RtError *err);
        void *userdata;
} RootfsPlan;
/* Builds the container's root filesystem in the current (new) mount namespace and
 * pivots into it. */
int rootfs_setup(const RootfsPlan *plan, RtError *err);
/* The default seccomp filter, compiled once and kept under the runroot. */
struct sock_filter;
typedef struct SeccompProgram {
        struct sock_filter *filter;
        unsigned short len;
} SeccompProgram;
/* for a container with caps (what the filter allows depends on some) */
int seccomp_program_load(const CtrStore *s, char *const *caps, SeccompProgram *ret, RtError *err);
void seccomp_program_done(SeccompProgram *p);
/* The user (NULL: stay root), then capabilities, no_new_privs and the default seccomp
 * filter for an unprivileged container. A user other than root keeps no capabilities
 * (the bounding set stays the container's), as with Podman. */
int security_apply(const CtrConfig *c, const CtrUser *user, const SeccompProgram *prog, RtError *err);
/* --user in the current root's /etc/passwd and /etc/group; then switching to it. */
int ctr_user_lookup(const char *spec, CtrUser *ret, RtError *err);
/* The env of a command run as u: env itself when it sets HOME, else a new copy with u's
 * HOME (NULL: out of memory). */
char **ctr_user_env(char **env, const CtrUser *u);
int ctr_user_apply(const CtrUser *u, RtError *err);
/* The default capability set, Podman's: names in CAP_X form. */
extern const char *const ctr_default_caps[];
int caps_resolve(char *const *add, char *const *drop, bool privileged, char ***ret, RtError *err);
/* The container's files under ctrdir (etc files for hostname, hosts, resolv.conf). */
int rootfs_prepare(const CtrStore *s, const CtrConfig *c, RtError *err);


/* ---- cgroup.c: a container's cgroups ---- */
/* /sys/fs/cgroup is cgroup v2 (else v1, or the hybrid layout) */
bool ctr_cgroup_v2(void);
/* Made for k (in the ledger first), its limits set, pid moved in. */
int ctr_cgroup_setup(const CtrStore *s, const CtrConfig *k, pid_t pid, RtError *err);
/* What the ledger lists for id removed (processes left in there killed first); how many
 * dirs went, or -errno (the ledger then keeps it for gc). */
int ctr_cgroup_remove(const CtrStore *s, const char *id);
/* The cgroup.procs files of id's cgroups (for an exec to move itself in: writing "0");
 * how many, at most max */
#define CTR_CGROUP_MAX_DIRS 5
size_t ctr_cgroup_procs_files(const char *id, char out[][PATH_MAX], size_t max);
/* cgroup v2's device rules for an unprivileged container, attached to a cgroup dir */
int ctr_cgroup_v2_devices(const char *dir, RtError *err);

/* ---- Between the runtime's process files: create, init, monitor, spawner, lifecycle ---- */
struct SeccompProgram;
typedef struct ChildArgs ChildArgs;
struct ChildArgs {
        const CtrStore *store;
        const CtrConfig *config;
        const char *ctrdir;
        int sync_fd;       /* to the monitor */
        /* the monitor's starter (the CLI, the shim), told SYNC_STARTED by PID 1 itself:
         * a hop less on every start's path; -1 when nobody waits */
        int starter_fd;
        int stdin_fd, stdout_fd, stderr_fd; /* the command's, in the host's view */
        bool tty;
        const SeccompProgram *seccomp;
};
/* PID 1 from its first instruction in the new namespaces (init.c). */
_noreturn_ void ctr_init_main(ChildArgs *a);
/* The middle process of start's double fork (monitor.c). */
_noreturn_ void ctr_monitor_middle(const CtrStore *s, const Container *c, const CtrAttach *attach, int sync_fd,
                                   int lock_fd, const SeccompProgram *prog, bool netns_from_cli);
/* A monitor for container id, in this process (detach: forked once more first). */
int ctr_monitor_run(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli,
                    bool detach);
/* Hands the monitor's making to serve's spawner; -errno when it cannot take it (it has
 * gone: the caller forks one itself). */
int ctr_spawner_request(const CtrStore *s, const char *id, bool netns_from_cli, int sync_fd, int lock_fd);
/* The container's netns, made at start (or taken from serve's pool), named. */
int ctr_netns_create(const CtrStore *s, const char *name, int *ret_fd, RtError *err);
/* An --rm container goes; its exit code outlives it a while, for a client's wait. Under
 * its lock. */
void ctr_remove_with_exit_code(const CtrStore *s, const CtrConfig *c, int exit_code);
