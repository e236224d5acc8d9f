/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The CNI executor: conflists loaded as libcni loads them, plugins run per the CNI spec
 * (ADD/DEL/CHECK/GC/STATUS/VERSION, results 0.1.0 … 1.1.0), results cached in libcni's
 * cniCacheV1 layout so Podman's CNI backend and cnitool read what we write and the other
 * way round. Rule IDs (L-xx, I-xx, O-xx, R-xx, C-xx, V-xx) are those of
 * shared/cni-checklist.md. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CNI_VERSION_MAX "1.1.0"

enum {
        CNI_MAX_CONF_BYTES = 1 << 20,     /* one conflist file */
        CNI_MAX_STDOUT = 16 << 20,        /* one plugin's stdout */
        CNI_MAX_STDERR_KEPT = 64 << 10,   /* what of its stderr we keep */
        CNI_MAX_PLUGINS = 64,             /* per list */
        CNI_MAX_FILES = 4096,             /* per config dir */
        CNI_MAX_ARGS = 64,                /* CNI_ARGS pairs */
        CNI_TIMEOUT_MS_DEFAULT = 60 * 1000,  /* libcni has none: a hung plugin would hang us */
        CNI_VERSION_TIMEOUT_MS = 10 * 1000,
        CNI_KILL_GRACE_MS = 2000,         /* SIGTERM, then SIGKILL to the group */
        CNI_EOF_GRACE_MS = 1000,          /* pipe EOF after the plugin exited */
};

/* Where things are (the global --cni-* options). */
typedef struct CniConfig {
        const char *conf_dir;  /* default /etc/cni/net.d */
        char **path;           /* plugin dirs, default /usr/lib/cni /opt/cni/bin */
        const char *cache_dir; /* libcni's root, default /var/lib/cni */
        /* nsprov's own: per-container and per-network locks, the VERSION probe
         * cache. NULL: neither. */
        const char *state_dir;
        unsigned timeout_ms;   /* 0: CNI_TIMEOUT_MS_DEFAULT */
        bool strict;           /* stop at the first unparsable file, as libcni */
} CniConfig;

/* Who failed and how: the category is what a caller acts on. */
typedef enum CniOrigin {
        CNI_ORIGIN_RUNTIME,
        CNI_ORIGIN_PLUGIN,
} CniOrigin;

typedef enum CniCategory {
        CNI_ERR_NONE,
        CNI_ERR_CONFIG,           /* the conflist (L-xx) */
        CNI_ERR_NOT_FOUND,        /* a network or a plugin binary */
        CNI_ERR_INVALID,          /* an identifier, an argument (CNI_ARGS K=V;K=V) */
        CNI_ERR_VERSION,          /* a version not usable */
        CNI_ERR_PLUGIN,           /* the plugin said so: its code, msg, details */
        CNI_ERR_OUTPUT,           /* unparsable output or result */
        CNI_ERR_SIGNAL,           /* killed by a signal */
        CNI_ERR_TIMEOUT,          /* the plugin ran past its bound and was killed */
        CNI_ERR_EXEC,             /* execve failed */
        CNI_ERR_ALREADY_ATTACHED, /* an ADD twice for one (id, ifname) with no DEL between */
        CNI_ERR_NOT_ATTACHED,     /* a CHECK or DEL of nothing ADDed (no cache entry) */
        CNI_ERR_CACHE,            /* result cache I/O */
        CNI_ERR_SYSTEM,           /* our own errno failure */
} CniCategory;

typedef struct CniError {
        RtError e;          /* the rendered text, libcni's wording for plugin errors */
        CniOrigin origin;
        CniCategory category;
        unsigned code;      /* the CNI code; 0: none */
        char plugin[64];    /* type of the plugin involved, "" when none */
        int index;          /* its position in the list, -1 when none */
        const char *command;
        char msg[256];
        char details[512];
        int exit_status;    /* -1: not exited normally */
        int signal;         /* 0: none */
        char stderr_text[512];
        char secondary[256]; /* e.g. the rollback DEL's own failure */
} CniError;

/* "d1:d2" (CNI_PATH's form) → the list of dirs, empty parts dropped. */
int cni_path_split(const char *joined, char ***ret);
/* A config from the dirs as options give them, the plugin path ':'-separated; *ret_path
 * owns ret->path (strv_free). The strings are borrowed. */
int cni_config_init(CniConfig *ret, char ***ret_path, const char *conf_dir, const char *path,
                    const char *cache_dir, const char *state_dir);

const char *cni_category_name(CniCategory c);
/* The error as CNI error JSON ({"code","msg","details"}), plus our fields. */
json_t *cni_error_json(const CniError *ce);

/* ---- Versions ---- */
/* Up to three decimal parts, missing parts 0, "" is 0.1.0. -EINVAL otherwise. */
int cni_version_parse(const char *s, unsigned ret[3]);
int cni_version_cmp(const char *a, const char *b); /* both must parse */
/* One of "", 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0. */
bool cni_version_known(const char *s);

/* ---- Loading (section 1) ---- */
typedef struct CniPlugin {
        char *type;
        char *raw; /* the plugin object's own bytes, byte-faithful */
        size_t raw_len;
        char **caps; /* capabilities set to true */
} CniPlugin;

typedef struct CniList {
        char *name;
        char *version;       /* the selected version; "" when the file has none */
        char *file;
        bool disable_check, disable_gc, load_only_inlined;
        CniPlugin *plugins;
        size_t n_plugins;
        char *raw;           /* the bytes the cache's "config" holds */
        size_t raw_len;
} CniList;

void cni_list_done(CniList *l);
/* Parses one file's bytes. legacy: a .conf/.json single plugin. sibling_dir: where
 * the spec 1.1.0 sibling dir of extra .conf files is looked for (NULL: none). */
int cni_list_parse(const char *file, const char *bytes, size_t len, bool legacy,
                   const char *sibling_dir, CniList *ret, CniError *ce);
int cni_list_load_file(const char *path, CniList *ret, CniError *ce);

/* A file of the config dir that could not be used, and why. */
typedef struct CniDiag {
        char *file;
        char *msg;
} CniDiag;
void cni_diags_free(CniDiag *d, size_t n);

/* lookup by name. Broken unrelated files are skipped, each a diagnostic. */
int cni_find(const CniConfig *cfg, const char *name, CniList *ret, CniDiag **diags,
             size_t *n_diags, CniError *ce);
/* Every network the dir defines, first by name wins, later duplicates a
 * diagnostic. */
int cni_list_all(const CniConfig *cfg, CniList **ret, size_t *ret_n, CniDiag **diags,
                 size_t *n_diags, CniError *ce);
void cni_lists_free(CniList *l, size_t n);

/* ---- Identifiers (section 5) and arguments ---- */
int cni_check_container_id(const char *id, CniError *ce);
int cni_check_ifname(const char *ifname, CniError *ce);
int cni_check_network_name(const char *name, CniError *ce);
/* "K=V;K2=V2" → strv of "K=V", each pair checked. "" gives an empty list. */
int cni_args_parse(const char *text, char ***ret, CniError *ce);
int cni_args_check(char *const *args, CniError *ce);

/* ---- Results, every version from 0.1.0 to 1.1.0 ---- */
/* Validates a result object's shape for its version (leniently, as libcni parses:
 * unknown keys pass). */
int cni_result_check(json_t *result, RtError *err);
/* A new reference to result in version `to`. */
int cni_result_convert(json_t *result, const char *to, json_t **ret, RtError *err);

/* ---- The result cache (section 4) ---- */
typedef struct CniCacheEntry {
        char *container_id;
        char *ifname;
        char *network;
        char *netns;        /* NULL when the file has none */
        char *config;       /* decoded "config" bytes, NULL when absent */
        size_t config_len;
        char **args;        /* cniArgs as "K=V", NULL when none */
        json_t *cap_args;   /* NULL when none */
        json_t *result;     /* NULL when none */
        bool legacy;        /* the file was a bare result */
} CniCacheEntry;
void cni_cache_entry_done(CniCacheEntry *e);
char *cni_cache_path(const CniConfig *cfg, const char *network, const char *container_id,
                     const char *ifname);
/* The parser of a cache file (outside input: other tools write them). */
int cni_cache_parse(const char *text, size_t len, CniCacheEntry *ret, RtError *err);
int cni_cache_read(const char *path, CniCacheEntry *ret, RtError *err);
json_t *cni_cache_entry_json(const CniCacheEntry *e);
int cni_cache_write(const CniConfig *cfg, const CniCacheEntry *e, RtError *err);
/* every readable cniCacheV1 entry, of one network (or all: network NULL). */
int cni_cache_list(const CniConfig *cfg, const char *network, CniCacheEntry **ret,
                   size_t *ret_n, RtError *err);
void cni_cache_entries_free(CniCacheEntry *e, size_t n);

/* ---- Operations (section 3) ---- */
/* One attachment's runtime side: the CNI_* values and capability args. */
typedef struct CniRuntime {
        const char *container_id;
        const char *netns;  /* a path; DEL accepts NULL or a vanished one */
        const char *ifname;
        char *const *args;  /* "K=V" pairs in order, NULL: none */
        json_t *cap_args;   /* an object, NULL: none */
} CniRuntime;

typedef enum CniAddFlags {
        CNI_ADD_ROLLBACK = 1 << 0,       /* a failed ADD runs DEL for the list */
        CNI_ADD_SKIP_VALIDATE = 1 << 1,  /* no VERSION check of the list first */
        CNI_ADD_SKIP_ATTACHED = 1 << 2,  /* no already-attached refusal: raw API */
} CniAddFlags;

/* ADD: the chain's final result (new reference) in *ret. */
int cni_add(const CniConfig *cfg, const CniList *list, const CniRuntime *rt, CniAddFlags flags,
            json_t **ret, CniError *ce);
/* DEL: list NULL means the cached config; a list whose bytes differ from the
 * cached ones also gives way to the cache when prefer_cache. */
int cni_del(const CniConfig *cfg, const char *network, const CniList *list, const CniRuntime *rt,
            bool prefer_cache, CniError *ce);
int cni_check(const CniConfig *cfg, const CniList *list, const CniRuntime *rt, CniError *ce);
/* GC: valid holds "containerID/ifname" pairs as {"containerID","ifname"} objects. */
int cni_gc(const CniConfig *cfg, const CniList *list, json_t *valid, CniError *ce);
int cni_status(const CniConfig *cfg, const CniList *list, CniError *ce);
/* VERSION of one plugin type, probe-cached per binary (path, mtime, size). */
int cni_version_probe(const CniConfig *cfg, const char *type, char ***ret_versions,
                      CniError *ce);
/* every type found, every plugin supports the list's version; the union of the
 * enabled capabilities in *ret_caps when wanted. */
int cni_validate(const CniConfig *cfg, const CniList *list, char ***ret_caps, CniError *ce);
/* the plugin binary for type. */
int cni_find_plugin(const CniConfig *cfg, const char *type, char **ret, CniError *ce);
