/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared inside src/ (the runtime's files) and with its tests; not a public header. */

#include "ctr.h"

void ctr_path(const CtrStore *s, const char *id, const char *file, char buf[static PATH_MAX]);

/* serve's parsed state files (filecache.h): container configs and states here, network
 * records and attachment lists of network.c (net_caches_open) */
typedef struct CtrCaches {
        struct FileCache *config, *state, *network, *attachments;
} CtrCaches;
/* a removed container's entries, dropped */
void ctr_caches_forget(const CtrStore *s, const char *id);
int net_caches_open(CtrCaches *c);
void net_caches_close(CtrCaches *c);
/* "ROWS COLS": the terminal size a client asked for before the start (ctr_resize_tty) */
#define CTR_TTYSIZE_FILE "ttysize"
/* path opened inside the root of the container whose PID 1 is init, as if that root were
 * / (a symlink there cannot reach the host's files); the fd (O_CLOEXEC added) or -errno.
 * The caller holds a pidfd of init, so the pid is that process. */
int ctr_open_in_root(pid_t init, const char *path, int flags);
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
/* The first word of a command looked up on the container's PATH, as execvp would:
 * 0, -ENOENT (127 to the user) or -EACCES (126). */
int ctr_find_executable(const char *name, char *const *env, char buf[static PATH_MAX]);
/* The netns name of a container ("nsprov-<id>"). */
void ctr_netns_name(const char *id, char buf[static 128]);

/* ---- The ledger: a host object outside our state dirs is written down in its
 * owner's state dir before it is made, and crossed out after it is gone. ---- */
typedef enum LedgerKind {
        LEDGER_NETNS,
        _LEDGER_KIND_MAX,
} LedgerKind;
int ledger_record(const CtrStore *s, const char *owner, LedgerKind kind, const char *object,
                  RtError *err);
int ledger_forget(const CtrStore *s, const char *owner, LedgerKind kind);
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
/* Removes what owner's ledger lists; returns how many objects went. Best effort. */
int ledger_undo(const CtrStore *s, const char *owner);
/* Everything of a container: its ledger's objects, its name (when it still points at
 * it) and its state dir. Best effort; returns how many objects went. */
int ctr_destroy(const CtrStore *s, const char *id, const char *name);
/* A creation takes well under this; a name or container dir left without a config and
 * with its lock free for longer was left by a create that was killed. */
#define CTR_CREATE_SECONDS 2
bool ctr_create_abandoned(const char *path);

/* ---- Inside the container (runs in the cloned child) ---- */
typedef struct RootfsPlan {
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
int seccomp_program_load(const CtrStore *s, SeccompProgram *ret, RtError *err);
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

/* image-archive.c: where an archive's unpacked rootfs lives in the store */
void ctr_image_stored_rootfs(const CtrStore *s, const char *name, char buf[static PATH_MAX]);
/* The parts of an image archive's load that read its input, for the tests and fuzz
 * targets. A member's or a layer entry's path made relative and plain ("./a//b" -> "a/b",
 * "" for the top): -EINVAL for any ".." component. */
int image_member_path(const char *raw, char out[static PATH_MAX]);
enum { WHITEOUT_NONE, WHITEOUT_ENTRY, WHITEOUT_OPAQUE };
/* A whiteout's kind, with the path it removes (an opaque one: the directory whose lower
 * contents go); -EINVAL for a malformed one. */
int image_whiteout(const char *clean, char target[static PATH_MAX]);
typedef struct ArchiveManifest {
        char *config;      /* member paths, clean */
        char **layers;     /* bottom first */
        char *reference;   /* "localhost/lnst:latest", or NULL */
} ArchiveManifest;
void archive_manifest_done(ArchiveManifest *m);
int image_docker_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err);
int image_oci_index_parse(const char *text, size_t len, char **ret_manifest, char **ret_reference, RtError *err);
int image_oci_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err);
int image_config_parse(const char *text, size_t len, ImageConfig *ret, RtError *err);
int image_name_from_reference(const char *ref, char out[static CTR_IMAGE_NAME_MAX + 1], RtError *err);
/* Reads an archive held in memory as a load reads one, checking every member's path and
 * the manifest or index it has, writing nothing. */
int image_archive_check_memory(const void *data, size_t size, RtError *err);
