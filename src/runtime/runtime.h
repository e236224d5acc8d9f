/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container runtime: create, the monitor, PID 1, exec, the lifecycle (start, stop,
 * kill, rm, wait), connect and disconnect, gc; and the JSON views of containers and
 * networks the front ends print. The front ends (cli/, api/) call this and nothing below
 * it that this does not name. */

#include "image.h"
#include "network.h"
#include "state.h"

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
        /* Readiness: ready (or the label io.nsprov.ready) first, then the image's, then
         * ready_default (serve --ready IMAGE=...); "none" declares none. ready_timeout_ms
         * 0: the label io.nsprov.ready-timeout, else 60 s. */
        const char *ready;
        const char *ready_default;
        int ready_timeout_ms;
        /* cgroup limits: as CtrConfig has them (0: the defaults) */
        int64_t pids_limit;
        uint64_t memory_limit;
        uint64_t cpu_quota_us;
} CtrSpec;

/* "512m", "1g", "1048576", "64k" (Podman's --memory): bytes; -EINVAL, -ERANGE */
int ctr_parse_memory(const char *s, uint64_t *ret);
/* "1.5" CPUs as microseconds of CPU per 100 ms (150000); -EINVAL, -ERANGE */
int ctr_parse_cpus(const char *s, uint64_t *ret);

/* Under the container's lock (start, stop, rm, connect, gc): the records brought in line
 * with the processes. A container whose monitor is gone is recorded as exited and what
 * the monitor would have torn down is; what a start killed halfway left (its ledger) goes. */
void ctr_repair(const CtrStore *s, Container *c);
/* Everything of a container: its ledger's objects, its name (when it still points at
 * it) and its state dir. Best effort; returns how many objects went. */
int ctr_destroy(const CtrStore *s, const char *id, const char *name);

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
/* Waits until a running container is ready as its config declares (at once when it
 * declares nothing): -ECHILD when it ends meanwhile (its exit code said), -ETIMEDOUT past
 * its bound (then stopped, the reason in its log). A detached start calls it. */
int ctr_await_ready(const CtrStore *s, const CtrConfig *k, RtError *err);
int ctr_stop(const CtrStore *s, const char *id, int timeout, RtError *err);
int ctr_kill(const CtrStore *s, const char *id, int sig, RtError *err);
/* stop (timeout as ctr_stop's), then start: a stopped container is just started. */
int ctr_restart(const CtrStore *s, const char *id, int timeout, RtError *err);
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
/* ---- As JSON (src/inspect.c) ---- */
typedef enum InspectFormat {
        INSPECT_V4, /* Podman 4: Config.Entrypoint a string, Config.StopSignal a number */
        INSPECT_V5, /* Podman 5: a list and a name */
} InspectFormat;
struct json_t;
/* libpod's InspectContainerData, the fields Podman's clients read, with their Go types. */
struct json_t *ctr_inspect_json(const CtrStore *s, const Container *c, InspectFormat fmt);
struct json_t *ctr_labels_json(char *const *labels);
/* A ps row: libpod's ListContainer, what the API lists and `ps --format json` prints, as
 * Podman's; status_text fills Status with what the table shows (the API leaves it ""). */
struct json_t *ctr_ps_json(const CtrStore *s, const Container *c, bool status_text);
/* "Up 5 minutes", "Exited (0) 3 seconds ago", "Created". */
void ctr_status_text(const Container *c, char *buf, size_t size);
/* "Less than a second", "5 minutes", "2 days". */
void ctr_human_duration(uint64_t ns, char *buf, size_t size);
/* libpod's network shape */
struct json_t *net_inspect_json(const CtrStore *s, const Network *n, bool with_containers);
/* The containers with an interface on a network, keyed by id. */
struct json_t *net_containers_json(const CtrStore *s, const char *network);
/* A CNI network for `nsprov network inspect` (driver "cni", its conflist's facts). */
struct json_t *net_cni_inspect_json(const CtrStore *s, const CniNetworkInfo *n);


/* Removes what belongs to no live container: state of dead ones, their netns, ledger
 * entries, marked links. Returns how many objects it removed. */
int ctr_gc(const CtrStore *s, RtError *err);
/* Stops and removes every container of this store. */
int ctr_reset(const CtrStore *s, RtError *err);


/* ---- Networks of containers (runtime/connect.c): the network module's work, under the
 * container's lock, the records repaired first ---- */
/* Adds an attachment to a container (created, exited or running: a running one is wired
 * at once). */
int ctr_network_connect(const CtrStore *s, const char *ctr_id, const NetConnect *nc,
                        NetAttachment *ret, RtError *err);
/* ifname NULL: the container's only interface on that network. */
int ctr_network_disconnect(const CtrStore *s, const char *ctr_id, const char *network,
                           const char *ifname, RtError *err);
/* Network removal as both front ends mean it: with force, the containers' interfaces on it
 * are disconnected first; without, a network in use is -EBUSY. */
int ctr_network_remove(const CtrStore *s, const char *name, bool force, RtError *err);
void ctr_networks_remove(const CtrStore *s, char *const *names, size_t n, bool force,
                         NetRemoveReport report, void *userdata);
int ctr_networks_remove_all(const CtrStore *s, bool force, NetRemoveReport report, void *userdata,
                            RtError *err);
