/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state: the one owner of everything under --root and --runroot. Paths, container
 * records (config, state), names, locks, the ledger of kernel objects, the event log, the
 * container log's format. Daemonless: every CLI call and the API shim read and write the
 * same files under file locks, so a container made by one is seen by all. Nothing outside
 * this module builds a path under the root or runroot. */

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
/* the default root's; any other root's default bridge carries a hash of its root and the
 * default network's name, so two stores never share a bridge (with two IPAM files behind
 * it) */
#define CTR_DEFAULT_BRIDGE "nsprov0"
/* The shim's default network, as Podman's clients expect it (LNST reads
 * Networks["podman"]), and its bridge on the default root: not podman0, which Podman on
 * the same host may have */
#define CTR_PODMAN_NETWORK "podman"
#define CTR_PODMAN_BRIDGE "nspodman0"
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

/* ---- Containers' records ---- */

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
/* The name passwd gives uid; -ENOENT when it gives none. */
int ctr_user_name(const char *passwd, uid_t uid, char *buf, size_t size);

/* ---- Readiness (ready.c): what a started container must show before its start returns ---- */
#define CTR_READY_MAX 4096
#define CTR_READY_LABEL "io.nsprov.ready"
#define CTR_READY_TIMEOUT_LABEL "io.nsprov.ready-timeout"
#define CTR_READY_DEFAULT_TIMEOUT_MS 60000u
#define CTR_READY_MAX_TIMEOUT_MS (24u * 3600 * 1000)
typedef enum CtrReadyKind { CTR_READY_NONE, CTR_READY_TCP, CTR_READY_UNIX, CTR_READY_CMD } CtrReadyKind;
typedef struct CtrReady {
        CtrReadyKind kind;
        uint16_t port;   /* tcp */
        const char *arg; /* unix: the socket's path or @name; cmd: the shell command (into spec) */
} CtrReady;
/* "tcp:PORT", "unix:PATH", "cmd:COMMAND"; NULL, "" and "none" declare nothing. */
int ctr_ready_parse(const char *spec, CtrReady *ret, RtError *err);
int ctr_ready_check(const char *spec, RtError *err);
/* "a listener on TCP port 9999", for messages */
void ctr_ready_describe(const CtrReady *r, char *buf, size_t size);
/* Whether the text of /proc/PID/net/tcp (or tcp6) lists a listener on port. */
bool ctr_ready_tcp_listening(const char *table, uint16_t port);
/* Whether the text of /proc/PID/net/unix lists a listener bound to path. */
bool ctr_ready_unix_listening(const char *table, const char *path);

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
        char *ready;                /* NULL: nothing declared; else as ctr_ready_parse takes it */
        int ready_timeout_ms;       /* 0: CTR_READY_DEFAULT_TIMEOUT_MS */
        /* its cgroup's limits (cgroup.c) */
        int64_t pids_limit;         /* 0: CTR_DEFAULT_PIDS_LIMIT; -1: none */
        uint64_t memory_limit;      /* bytes; 0: none */
        uint64_t cpu_quota_us;      /* per 100 ms; 0: none */
} CtrConfig;

#define CTR_DEFAULT_PIDS_LIMIT 2048 /* Podman's */
#define CTR_MIN_MEMORY_LIMIT (6u << 20) /* Podman's: less and the container cannot start */

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
/* 64 lowercase hex digits: a container's or a network's id. */
int ctr_id_check(const char *id, RtError *err);
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
void ctr_done(Container *c);
void ctr_config_done(CtrConfig *k);
/* A deep copy: 0 or -ENOMEM (dst untouched). */
int ctr_config_copy(CtrConfig *dst, const CtrConfig *src);
/* Every container, state reconciled (a dead monitor means exited). */
int ctr_list(const CtrStore *s, Container **ret, size_t *ret_n, RtError *err);
void ctr_list_free(Container *cs, size_t n);

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

/* Reading a container's log, as `logs` and the API's logs do (state/logs.c): the rotated
 * file then the current one, the last tail lines (-1: all), then, with follow, each line
 * as the monitor appends it until the container no longer runs, or cancel_fd (-1: none)
 * hangs up (a client gone). emit gets every well-formed line; a negative return ends the
 * read with it. */
typedef int (*CtrLogEmit)(const CtrLogLine *line, void *userdata);
typedef struct CtrLogRead {
        long tail;
        bool follow;
        int cancel_fd;
} CtrLogRead;
int ctr_log_read(const CtrStore *s, const char *id, const CtrLogRead *o, CtrLogEmit emit, void *userdata,
                 RtError *err);
/* The head of a log line, "<RFC3339Nano> <stdout|stderr> <F|P> ", as the monitor writes
 * it; returns its length. */
int ctr_log_line_head(char buf[static 64], uint64_t ns, bool is_stderr, bool full);
/* One whole line of nsprov's own appended to a container's log (why a start failed), in
 * one write, as the monitor appends whole lines. Best effort. */
void ctr_log_note(const CtrStore *s, const char *id, const char *text);

/* The log file path of a container (and the rotated one, with ".1"). */
int ctr_log_path(const CtrStore *s, const char *id, char buf[static PATH_MAX]);

/* Signal names and numbers: "SIGTERM", "TERM", "15". */
int signal_from_string(const char *s);
const char *signal_to_string(int sig, char buf[static 16]);

void ctr_path(const CtrStore *s, const char *id, const char *file, char buf[static PATH_MAX]);

/* Where everything of the store lives: the only place that joins a path under the root or
 * the runroot. */
typedef enum StoreDir {
        STORE_RUN,        /* the runroot itself */
        STORE_CONTAINERS, /* runroot/containers: a dir per container (ctr_path) */
        STORE_NAMES,      /* runroot/names: a file per container name, holding its id */
        STORE_EXITS,      /* runroot/exits: the exit codes of --rm containers, a while */
        STORE_IPAM,       /* runroot/ipam: <network>.json and .lock */
        STORE_NETWORKS,   /* root/networks: <network>.json */
        STORE_IMAGES,     /* root/images: <image>.json, <image>.rootfs, staging */
        _STORE_DIR_MAX,
} StoreDir;
/* dir/<name><suffix> (name NULL: the dir itself). */
void store_path(const CtrStore *s, StoreDir dir, const char *name, const char *suffix, char buf[static PATH_MAX]);
/* Calls fn with the name of each entry of dir that ends in suffix (stripped; NULL: every
 * entry but dot files), at most NAME_MAX long; sums what fn returns. A dir not there yet
 * has no entries. */
int store_each(const CtrStore *s, StoreDir dir, const char *suffix,
               int (*fn)(const CtrStore *s, const char *name, void *userdata), void *userdata);
/* The records of dir as an array of size-byte slots, each filled by load from an entry's
 * name (a record load refuses, half made or gone meanwhile, is passed over; done frees a
 * slot), sorted by cmp when given. */
int store_list(const CtrStore *s, StoreDir dir, const char *suffix, size_t size,
               int (*load)(const CtrStore *s, const char *name, void *slot), void (*done)(void *slot),
               int (*cmp)(const void *a, const void *b), void **ret, size_t *ret_n, RtError *err);

/* serve's parsed state files (filecache.h): container configs and states, and the network
 * records and attachment lists that the network module opens (net_caches_open) */
typedef struct CtrCaches {
        struct FileCache *config, *state, *network, *attachments;
} CtrCaches;
/* a removed container's entries, dropped */
void ctr_caches_forget(const CtrStore *s, const char *id);
/* "ROWS COLS": the terminal size a client asked for before the start (ctr_resize_tty) */
#define CTR_TTYSIZE_FILE "ttysize"
/* the monitor's socket for a client's stdin (an -i container started without a caller
 * attached to it) */
#define CTR_STDIN_SOCKET "stdin.sock"

int ctr_config_write(const CtrStore *s, const CtrConfig *c, RtError *err);
int ctr_state_write(const CtrStore *s, const char *id, const CtrState *st, RtError *err);
int ctr_state_read(const CtrStore *s, const char *id, CtrState *ret, RtError *err);
/* The parsers behind the readers, for the fuzz targets: a config fills ret->…, to be
 * freed with ctr_done on a Container holding it. */
int ctr_config_parse(const char *text, size_t len, CtrConfig *ret, RtError *err);
int ctr_state_parse(const char *text, size_t len, CtrState *ret, RtError *err);
/* The netns name of a container ("nsprov-<id>"). */
void ctr_netns_name(const char *id, char buf[static 128]);

/* ---- The ledger: a host object outside our state dirs is written down in its
 * owner's state dir before it is made, and crossed out after it is gone. ---- */
typedef enum LedgerKind {
        LEDGER_NETNS,
        LEDGER_CGROUP, /* its cgroup dirs, under the container's id in every hierarchy */
        _LEDGER_KIND_MAX,
} LedgerKind;
int ledger_record(const CtrStore *s, const char *owner, LedgerKind kind, const char *object,
                  RtError *err);
int ledger_forget(const CtrStore *s, const char *owner, LedgerKind kind);
/* Whether owner's ledger lists an object of that kind (a stopped container's netns that
 * is still listed: a start killed halfway left it). */
bool ledger_recorded(const CtrStore *s, const char *owner, LedgerKind kind);
/* Attachments, several per owner, one line "<network> <ifname>" each: CNI attachments
 * (an ADD is written down before it runs) and the veths of a hot plug (written down
 * before the link is made, crossed out once the container's attachment list has it). */
typedef enum LedgerList {
        LEDGER_LIST_CNI,
        LEDGER_LIST_LINKS,
        _LEDGER_LIST_MAX,
} LedgerList;
int ledger_list_add(const CtrStore *s, const char *owner, LedgerList list, const char *network,
                    const char *ifname, RtError *err);
int ledger_list_remove(const CtrStore *s, const char *owner, LedgerList list, const char *network,
                       const char *ifname);
/* Calls fn for each entry of owner's list; returns how many there were. */
int ledger_list_each(const CtrStore *s, const char *owner, LedgerList list,
                     int (*fn)(const char *network, const char *ifname, void *userdata), void *userdata);
void ledger_list_forget(const CtrStore *s, const char *owner, LedgerList list);
/* Whether owner's list has no entry (without reading it). */
bool ledger_list_empty(const CtrStore *s, const char *owner, LedgerList list);
/* Removes the netns owner's ledger lists (the CNI attachments are the network module's
 * to undo: net_cni_undo); returns how many objects went. Best effort. */
int ledger_undo_netns(const CtrStore *s, const char *owner);
/* A container's records gone: its name (when it still points at it) and its state dir,
 * ledger included (what the ledger lists must have gone before: ctr_destroy). Returns how
 * many went. */
int ctr_records_remove(const CtrStore *s, const char *id, const char *name);
/* A creation takes well under this; a name or container dir left without a config and
 * with its lock free for longer was left by a create that was killed. */
#define CTR_CREATE_SECONDS 2
bool ctr_create_abandoned(const char *path);
