/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Podman's exit codes: 125 for our own errors (bad usage included); 126/127 are for a
 * container command that cannot be run or found; anything else is the command's status. */
enum {
        EXIT_NSPROV = 125,
        EXIT_CANNOT_INVOKE = 126,
        EXIT_NOT_FOUND = 127,
};

typedef struct GlobalOptions {
        const char *root;    /* images, persistent network configs */
        const char *runroot; /* containers, monitors, locks, logs */
        const char *cni_config_dir; /* conflists */
        const char *cni_path;       /* plugin dirs, ':'-separated */
        const char *cni_cache_dir;  /* libcni's result cache root */
        bool as_podman;             /* invoked as `podman`: Podman's own output where it differs */
} GlobalOptions;

typedef struct Verb {
        const char *name;
        const char *summary;
        /* argv[0] is the verb's own name; returns an exit code. */
        int (*run)(int argc, char **argv, const GlobalOptions *g);
} Verb;

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_JSON,
} OutputFormat;

int parse_output_format(const char *s, OutputFormat *ret);
/* The store the global options name; on failure the error is logged and 125 returned. */
struct CtrStore;
int cli_open_store(const GlobalOptions *g, struct CtrStore *s);
/* Logs an error once and gives Podman's status for our own failures, 125. */
struct RtError;
int cli_fail(const struct RtError *e);
/* Prints JSON as the inspect commands do (indented, key order kept), and frees it. */
struct json_t;
void cli_print_json(struct json_t *j);
/* A usage error: prints "nsprov: <msg>" and a hint, and returns EXIT_NSPROV. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Dispatches argv[0] among verbs; prints the list on an unknown one. */
int dispatch_verb(const char *parent, const Verb *verbs, int argc, char **argv,
                  const GlobalOptions *g);

int verb_create(int argc, char **argv, const GlobalOptions *g);
int verb_run(int argc, char **argv, const GlobalOptions *g);
int verb_system(int argc, char **argv, const GlobalOptions *g);
int verb_image(int argc, char **argv, const GlobalOptions *g);
int verb_lab(int argc, char **argv, const GlobalOptions *g);
int verb_network(int argc, char **argv, const GlobalOptions *g);
int verb_cni(int argc, char **argv, const GlobalOptions *g);
int verb_serve(int argc, char **argv, const GlobalOptions *g);
/* The CNI executor's settings from the global options; *ret_path owns ret->path. */
struct CniConfig;
int cli_cni_config(const GlobalOptions *g, struct CniConfig *ret, char ***ret_path);
/* The defaults of the shim and of nsprov as podman: the network "podman" (on nspodman0
 * for the default root, a bridge of its own for any other), unless the environment (or
 * --default-network) says otherwise. */
void cli_podman_defaults(void);
/* Out of memory: logged, 125. */
int cli_oom(void);
extern const Verb container_verbs[];
