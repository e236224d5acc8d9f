/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared inside cni/ and with its tests; not a public header. */

#include <sys/types.h>

#include "cni.h"
#include "macro.h"

/* A runtime-side error (origin runtime): category, CNI code (0: none), -errno, text. */
int cni_fail(CniError *ce, CniCategory cat, unsigned code, int r, const char *fmt, ...) _printf_(5, 6);
/* Prefixes the rendered text with the caller's context, keeping the fields. */
int cni_fail_prefix(CniError *ce, int r, const char *fmt, ...) _printf_(3, 4);
static inline RtError *cni_rt(CniError *ce) {
        return ce ? &ce->e : NULL;
}

/* ---- raw JSON spans: byte-faithful pass-through ----
 * Only ever run over text jansson already accepted, so it needs no error handling
 * beyond staying inside the buffer. */
/* JSON's four whitespace bytes; not strchr(" \t\r\n", c), which also matches NUL. */
static inline bool json_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

typedef struct JsonSpan {
        const char *p;
        size_t len;
} JsonSpan;
typedef struct JsonMember {
        JsonSpan key;   /* with its quotes */
        JsonSpan value;
} JsonMember;
/* The members of the object at text (whitespace around it allowed); -EINVAL if it is not
 * an object or there are more than max. */
int json_raw_members(const char *text, size_t len, JsonMember *ret, size_t max, size_t *ret_n);
int json_raw_elements(const char *text, size_t len, JsonSpan *ret, size_t max, size_t *ret_n);
/* The decoded key of a member (malloc'd), NULL on a bad key or OOM. */
char *json_raw_key(const JsonMember *m);
/* jansson's error as "<source>:<line>:<col>: <text>". */
int cni_json_load(const char *source, const char *bytes, size_t len, size_t flags, json_t **ret,
                  CniError *ce);

/* ---- plugin execution (section 2) ---- */
typedef struct CniExec {
        const char *path;          /* the binary */
        const char *command;       /* ADD, DEL, CHECK, GC, STATUS, VERSION */
        const char *container_id;  /* NULL: "" */
        const char *netns;
        const char *ifname;
        const char *args;          /* CNI_ARGS text */
        const char *cni_path;      /* joined dirs */
        const char *input;         /* stdin bytes */
        size_t input_len;
        unsigned timeout_ms;
} CniExec;

typedef struct CniOutput {
        char *out;
        size_t out_len;
        char *err;       /* the first CNI_MAX_STDERR_KEPT bytes */
        size_t err_len;
        int wait_status;
} CniOutput;
void cni_output_done(CniOutput *o);

/* Runs one plugin to its end. 0 once it ran (whatever its exit status), or a runtime
 * error: exec failure, timeout, oversized output. */
int cni_exec(const CniExec *x, CniOutput *o, CniError *ce);
/* What a plugin run means (its exit status decides; then its output): want_result (ADD):
 * the parsed, version-fixed result in *ret. list_version fills a missing result cniVersion. */
int cni_outcome(const CniOutput *o, const char *type, int index, const char *command,
                bool want_result, const char *list_version, json_t **ret, CniError *ce);

/* The environment's CNI_PATH value: the dirs joined with ':'. */
char *cni_path_joined(const CniConfig *cfg);
/* The CNI_ARGS text for "K=V" pairs. */
char *cni_args_join(char *const *args);
/* The stdin for one plugin: its conf's own bytes with name, cniVersion, prevResult and
 * runtimeConfig set over them. prev_result, runtime_config: NULL for none. */
int cni_build_request(const CniList *list, const CniPlugin *p, const char *prev_result,
                      json_t *runtime_config, json_t *extra, char **ret, size_t *ret_len);
/* {cap: value} for the plugin's true capabilities the caller supplied; NULL when
 * empty. */
json_t *cni_runtime_config(const CniPlugin *p, json_t *cap_args);
