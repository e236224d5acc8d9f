/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container runtime: images, containers, their monitors and state. Daemonless: every
 * CLI call (and later the API shim) reads and writes the same files under --root and
 * --runroot, under file locks, so a container made by one is seen by all. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "proc.h"

#define CTR_ID_LEN 64
#define CTR_SHORT_ID_LEN 12
#define CTR_NAME_MAX 64
#define CTR_HOSTNAME_MAX 64
#define CTR_MAX_ARGS 4096      /* argv entries of a command */
#define CTR_MAX_ENV 4096       /* env entries */
#define CTR_MAX_MOUNTS 256     /* bind mounts */
#define CTR_MAX_LABELS 256
#define CTR_MAX_STATE_FILE (4u << 20)
#define CTR_DEFAULT_STOP_TIMEOUT 10
#define CTR_LOG_MAX_BYTES (16u << 20) /* then the log rotates once */
#define CTR_HOST_IMAGE "host"

#define CTR_DEFAULT_NETWORK "nsprov"
#define CTR_DEFAULT_SUBNET "10.88.0.0/16"
#define CTR_DEFAULT_ROOT "/var/lib/nsprov"
#define CTR_DEFAULT_RUNROOT "/run/nsprov"
/* the default root's; any other root's default bridge carries a hash of its root, so two
 * stores never share a bridge (with two IPAM files behind it) */
#define CTR_DEFAULT_BRIDGE "nsprov0"
#define CTR_DEFAULT_CNI_CONFIG_DIR "/etc/cni/net.d"
#define CTR_DEFAULT_CNI_PATH "/usr/lib/cni:/opt/cni/bin"
#define CTR_DEFAULT_CNI_CACHE_DIR "/var/lib/cni"

typedef struct CtrStore {
        char root[PATH_MAX];
        char runroot[PATH_MAX];
        /* The caller has threads (the shim): a monitor is a fresh image of this binary
         * (`nsprov __monitor`), not a fork, which could inherit a lock another thread
         * held at that instant (AddressSanitizer's allocator's, say) and hang on it. */
        bool fresh_monitor;
        /* ...unless it made a spawner before its first thread (ctr_spawner_start): a
         * single-threaded process of its own that forks monitors without an exec. -1: none. */
        int spawner_fd;
        pid_t spawner_pid;
        /* The network a container joins when it names none (made on first use), as
         * Podman's "podman" network: NSPROV_DEFAULT_NETWORK ("none": no default),
         * NSPROV_DEFAULT_SUBNET, NSPROV_DEFAULT_BRIDGE. */
        char default_network[65];
        char default_subnet[64];
        char default_bridge[16];
        /* CNI networks (DESIGN.md): conflists, plugin dirs (':'-separated), libcni's
         * result cache root. NSPROV_CNI_CONFIG_DIR, NSPROV_CNI_PATH, NSPROV_CNI_CACHE_DIR,
         * which the CLI's --cni-* options set, so a monitor tearing a container down
         * later uses what its start used. */
        char cni_config_dir[1024];
        char cni_path[1024];
        char cni_cache_dir[1024];
        /* What a long-lived caller (serve) parsed of the state files, kept while they are
         * the same files (ctr_store_caches_open); NULL: every load parses. */
        struct CtrCaches *caches;
        /* Network namespaces made ahead for serve's starts (netns-pool.c); NULL: a start
         * makes its own. */
        struct NetnsPool *netns_pool;
} CtrStore;

int ctr_store_init(CtrStore *s, const char *root, const char *runroot, RtError *err);
int ctr_store_caches_open(CtrStore *s, RtError *err);
void ctr_store_caches_close(CtrStore *s);

typedef struct NetnsPool NetnsPool;
/* A thread that keeps target (1-4) unnamed network namespaces ready, making each once the
 * start or network create that took one has finished; what is in it when stopped (or
 * serve dies) the kernel frees. */
int netns_pool_start(size_t target, NetnsPool **ret, RtError *err);
/* A netns named name, with an fd to it: one made ahead when p (NULL: none) has one ready,
 * else a new one (-EEXIST: the name is taken). */
int netns_pool_make(NetnsPool *p, const char *name, int *ret_fd, RtError *err);
/* The operation that took one is over: time to make its successor. */
void netns_pool_refill(NetnsPool *p);
void netns_pool_stop(NetnsPool *p);

/* ---- Images ---- */

typedef struct ImageConfig {
        char **cmd;        /* NULL-terminated; NULL: none */
        char **entrypoint;
        char **env;
        char *workdir;
        char *stop_signal; /* "SIGTERM" or a number, as given */
} ImageConfig;

typedef struct Image {
        char *name;
        char *rootfs; /* "host", or an absolute directory */
        ImageConfig config;
        uint64_t created_ns;
        bool builtin;
        bool stored; /* its rootfs is the store's own (an archive's, unpacked): removed with it */
} Image;

#define CTR_IMAGE_NAME_MAX 128

typedef struct ImageLoadResult {
        char name[CTR_IMAGE_NAME_MAX + 1];
        size_t layers;
        unsigned devices_skipped; /* device nodes in the layers, not created */
} ImageLoadResult;

/* Loads the image archive read from archive_fd (a file or a pipe): a docker-archive or an
 * OCI image layout, as `podman save` and `docker save` write them, compressed or not. Named
 * name, or after the archive's own reference ("localhost/lnst:latest" gives "lnst"). */
int ctr_image_load_archive(const CtrStore *s, int archive_fd, const char *name, ImageLoadResult *ret,
                           RtError *err);

int ctr_image_name_check(const char *name, RtError *err);
/* Name "host" gives the built-in image. */
int ctr_image_load(const CtrStore *s, const char *name, Image *ret, RtError *err);
/* A reference as Podman resolves one ("lnst", "localhost/lnst:latest", "docker.io/library/
 * fedora:41"): the name itself, then without the registry, a ":latest" tag meaning the
 * image itself, then the name a load of an archive so tagged gives. */
int ctr_image_resolve(const CtrStore *s, const char *ref, Image *ret, RtError *err);
int ctr_image_add(const CtrStore *s, const Image *img, RtError *err);
int ctr_image_remove(const CtrStore *s, const char *name, bool force, RtError *err);
/* All images, the built-in one first. */
int ctr_image_list(const CtrStore *s, Image **ret, size_t *ret_n, RtError *err);
void image_done(Image *img);
void image_list_free(Image *imgs, size_t n);

/* ---- Containers ---- */

typedef struct BindMount {
        char *source;
        char *destination;
        bool readonly;
} BindMount;

/* A user to run as: "name" or "uid", optionally ":group" or ":gid" (--user). */
#define CTR_USER_MAX_GROUPS 64
typedef struct CtrUser {
        uid_t uid;
        gid_t gid;
        gid_t groups[CTR_USER_MAX_GROUPS]; /* the primary first */
        size_t n_groups;
        char home[256];
} CtrUser;
/* Its syntax only (names of 1-32 of [A-Za-z0-9._-], ids below 2^32-1); NULL or "" is
 * the image's default, root. */
int ctr_user_check(const char *spec, RtError *err);
/* A non-empty spec resolved against the texts of a passwd and a group file (NULL: no
 * such file), as runc does: -ENOENT for a name neither lists. */
int ctr_user_resolve(const char *spec, const char *passwd, const char *group, CtrUser *ret,
                     RtError *err);

typedef struct CtrSpec {
        const char *name;     /* NULL: generated */
        const char *image;
        const char *hostname; /* NULL: the short id */
        char *const *command; /* args after the image; NULL: the image's Cmd */
        const char *entrypoint; /* NULL: the image's; "" clears it */
        char *const *env;     /* "K=V" */
        const char *workdir;
        const char *user;     /* NULL: root */
        char *const *cap_add; /* "CAP_NET_ADMIN" or "NET_ADMIN"; "ALL" */
        char *const *cap_drop;
        char *const *labels;  /* "K=V" */
        const BindMount *mounts;
        size_t n_mounts;
        char *const *networks; /* names to join, or {"none"}; NULL: the store's default network */
        /* per network, parallel to networks (NULL, or NULL entries: the defaults) */
        const char *const *net_ifnames;
        const char *const *net_macs;
        const char *const *net_ips, *const *net_ip6s;
        const char *stop_signal;
        int stop_timeout;     /* -1: the default */
        bool privileged, tty, interactive, rm;
        bool no_init;         /* --init=false: the command itself is PID 1 */
} CtrSpec;

typedef enum CtrStatus {
        CTR_CREATED,
        CTR_RUNNING,
        CTR_EXITED,
        _CTR_STATUS_MAX,
        _CTR_STATUS_INVALID = -EINVAL,
} CtrStatus;

const char *ctr_status_to_string(CtrStatus s);

typedef struct CtrConfig {
        char id[CTR_ID_LEN + 1];
        char name[CTR_NAME_MAX + 1];
        char *image;
        char *rootfs; /* "host" or the image's directory */
        char hostname[CTR_HOSTNAME_MAX + 1];
        char **argv;  /* entrypoint + command, resolved at create */
        char **env;
        char *workdir;
        bool create_workdir; /* the image's WorkingDir, made when missing (Podman does); a
                              * --workdir given must exist */
        char *user;   /* NULL: root; resolved in the container at each start and exec */
        char **caps;  /* the effective set, resolved at create; all when privileged */
        char **labels;
        BindMount *mounts;
        size_t n_mounts;
        char *network;
        int stop_signal;
        int stop_timeout;
        bool privileged, tty, interactive, rm, init;
        uint64_t created_ns;
} CtrConfig;

typedef struct CtrState {
        CtrStatus status;
        ProcId monitor;
        ProcId init;     /* PID 1 of the container, as the host sees it */
        int exit_code;
        uint64_t started_ns;
        uint64_t finished_ns;
        char error[512]; /* why the last start failed */
        char netns[128]; /* bind-mount path, "" when not running */
} CtrState;

typedef struct Container {
        CtrConfig config;
        CtrState state;
} Container;

int ctr_name_check(const char *name, RtError *err);
/* A full id, a unique id prefix (at least 3 chars) or a name. */
int ctr_lookup(const CtrStore *s, const char *ref, char ret_id[static CTR_ID_LEN + 1], RtError *err);
int ctr_load(const CtrStore *s, const char *id, Container *ret, RtError *err);
/* For readers (ps, inspect, the API's GETs), which never write: a record that says
 * running while its monitor is gone (killed, host crash) reads as exited, 137, with the
 * reason. Returns whether it did. */
bool ctr_state_observe(Container *c);
/* Under the container's lock (start, stop, rm, connect, gc): the records brought in line
 * with the processes. A container whose monitor is gone is recorded as exited and what
 * the monitor would have torn down is; what a start killed halfway left (its ledger) goes. */
void ctr_repair(const CtrStore *s, Container *c);
void ctr_done(Container *c);
void ctr_config_done(CtrConfig *k);
/* A deep copy: 0 or -ENOMEM (dst untouched). */
int ctr_config_copy(CtrConfig *dst, const CtrConfig *src);
/* Every container, state reconciled (a dead monitor means exited). */
int ctr_list(const CtrStore *s, Container **ret, size_t *ret_n, RtError *err);
void ctr_list_free(Container *cs, size_t n);

int ctr_create(const CtrStore *s, const CtrSpec *spec, char ret_id[static CTR_ID_LEN + 1],
               RtError *err);

/* Where an attached run sends the container's output and gets its input from. */
typedef struct CtrAttach {
        int stdin_fd;  /* -1: none */
        int stdout_fd;
        int stderr_fd;
} CtrAttach;

/* Starts the container's monitor and init. With attach, returns once the container has
 * exited, its exit status in *ret_exit_code. When the command could not be run (126) or
 * found (127), the error comes with that status in *ret_exit_code. */
int ctr_start(const CtrStore *s, const char *id, const CtrAttach *attach, int *ret_exit_code,
              RtError *err);
/* SIGTERM (or the configured signal), then SIGKILL after timeout seconds (-1: the
 * container's stop timeout). Stopping a stopped container is not an error. */
int ctr_stop(const CtrStore *s, const char *id, int timeout, RtError *err);
int ctr_kill(const CtrStore *s, const char *id, int sig, RtError *err);
/* Without force, a running container is -EBUSY. */
int ctr_remove(const CtrStore *s, const char *id, bool force, RtError *err);

typedef enum CtrWaitCondition {
        CTR_WAIT_STOPPED, /* "stopped" / "exited": the default */
        CTR_WAIT_RUNNING,
} CtrWaitCondition;

/* timeout_ms 0: forever. Returns the exit code for CTR_WAIT_STOPPED. */
int ctr_wait(const CtrStore *s, const char *id, CtrWaitCondition cond, uint64_t timeout_ms,
             int *ret_exit_code, RtError *err);

typedef struct CtrExec {
        char *const *argv;
        char *const *env; /* added to the container's */
        const char *workdir;
        const char *user; /* NULL: the container's */
        bool tty, interactive, privileged;
} CtrExec;

/* `nsprov __monitor ID FD LOCKFD NETNS`: a container's monitor as a fresh image of the
 * binary (CtrStore.fresh_monitor); FD is its sync socket to the starter, LOCKFD the
 * starter's container lock, held until the start is on record. Returns only on failure. */
int ctr_monitor_main(const CtrStore *s, const char *id, int sync_fd, int lock_fd, bool netns_from_cli);
/* For a caller about to become threaded (the shim): forks, while it has one thread, the
 * process its monitors are then forked from (`nsprov-spawner`), which ends with the caller
 * (at ctr_spawner_stop, or by PDEATHSIG). */
int ctr_spawner_start(CtrStore *s, RtError *err);
void ctr_spawner_stop(CtrStore *s);
/* Runs a command inside a running container with the caller's stdio; returns its exit
 * status in *ret_exit_code, also when it could not be run (126; 127: not found), which
 * the error then tells. */
int ctr_exec(const CtrStore *s, const char *id, const CtrExec *ex, int *ret_exit_code,
             RtError *err);
/* Starts it as the caller's child, for a caller that relays its stdio itself (the shim):
 * stdio[i] becomes the command's fd i (-1: /dev/null); with ex->tty it gets a pty of the
 * container's instead, whose master comes back in pty_master, sized to ws when given.
 * Returns once the command is exec'd; the caller reaps pid. When the command itself
 * could not be run, cannot_run says so as its exit status (127 not found, 126 other)
 * beside the error. -ESRCH: the container is not running. Safe in a threaded process. */
typedef struct CtrExecChild {
        pid_t pid;
        int pty_master;
        int cannot_run;
} CtrExecChild;
struct winsize;
int ctr_exec_spawn(const CtrStore *s, const char *id, const CtrExec *ex, const int stdio[3],
                   const struct winsize *ws, CtrExecChild *ret, RtError *err);

/* The processes of a running container (src/top.c): pids as it sees them, user names from
 * its own /etc/passwd (the uid when it has none). */
typedef struct CtrProcess {
        pid_t pid, ppid, host_pid;
        uid_t uid;
        char user[33];
        char command[512];
} CtrProcess;
int ctr_top(const CtrStore *s, const char *id, CtrProcess **ret, size_t *ret_n, RtError *err);
/* A connection whose bytes become the stdin of a running -i container that no caller
 * attached to at start (its EOF, the command's); one at a time. Returns the fd. */
int ctr_stdin_connect(const CtrStore *s, const char *id, RtError *err);
/* The window size of the container's own terminal (run -t); nothing for one without. */
int ctr_resize_tty(const CtrStore *s, const char *id, unsigned short rows, unsigned short cols, RtError *err);
/* The name passwd gives uid; -ENOENT when it gives none. */
int ctr_user_name(const char *passwd, uid_t uid, char *buf, size_t size);

/* ---- As JSON (src/inspect.c) ---- */
typedef enum InspectFormat {
        INSPECT_V4, /* Podman 4: Config.Entrypoint a string, Config.StopSignal a number */
        INSPECT_V5, /* Podman 5: a list and a name */
} InspectFormat;
struct json_t;
/* libpod's InspectContainerData, the fields Podman's clients read, with their Go types. */
struct json_t *ctr_inspect_json(const CtrStore *s, const Container *c, InspectFormat fmt);
struct json_t *ctr_labels_json(char *const *labels);

/* ---- The event log (src/events.c): Podman's event shape, one line each ---- */
void ctr_event_path(const CtrStore *s, char buf[static PATH_MAX]);
/* type "container" or "network"; exit_code < 0: none. Best effort. */
void ctr_event(const CtrStore *s, const char *type, const char *action, const char *id, const char *name,
               const char *image, int exit_code);

/* The exit code of an --rm container that is gone (kept a few minutes); -ENOENT. */
int ctr_removed_exit_code(const CtrStore *s, const char *id, int *ret);

/* One line of a container log as the monitor writes it, "<RFC3339Nano> <stdout|stderr>
 * <F|P> <text>" (Podman's k8s-file), without its newline; P: the text goes on in the
 * next line. -EBADMSG for anything else. The spans point into line. */
typedef struct CtrLogLine {
        const char *time;
        size_t time_len;
        bool is_stderr;
        bool full;
        const char *text;
        size_t text_len;
} CtrLogLine;
int ctr_log_line_parse(const char *line, size_t len, CtrLogLine *ret);

/* The log file path of a container (and the rotated one, with ".1"). */
int ctr_log_path(const CtrStore *s, const char *id, char buf[static PATH_MAX]);

/* Removes what belongs to no live container: state of dead ones, their netns, ledger
 * entries, marked links. Returns how many objects it removed. */
int ctr_gc(const CtrStore *s, RtError *err);
/* Stops and removes every container of this store. */
int ctr_reset(const CtrStore *s, RtError *err);

/* Signal names and numbers: "SIGTERM", "TERM", "15". */
int signal_from_string(const char *s);
const char *signal_to_string(int sig, char buf[static 16]);
