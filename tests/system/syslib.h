/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers for the root tests: unique names, the kernel's own view (`ip -j`), and the
 * shared leak check. Everything a test makes carries its prefix, so the check can tell
 * what this test left behind without touching anything else on the host. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TEST_PREFIX_LEN 7 /* "nst" + 4: leaves 8 bytes of a 15-byte interface name */

/* Root tests skip (TAP "1..0 # SKIP") when not root, and fail instead when CI=true: CI
 * runs as root, so a skip there would hide a broken setup. */
void sys_require_root(void);
void test_prefix_new(char out[static TEST_PREFIX_LEN + 1]);

/* Runs `sh -c CMD`; returns its exit status (-1 if it could not run); stdout in *ret_out
 * when given (malloc'd, NUL-terminated). */
int run_cmd(char **ret_out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs CMD and parses its stdout as JSON (what `ip -j` prints); NULL on any failure. */
json_t *run_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The leak check: links in the host netns named with the prefix or whose alias holds it,
 * named netns, mounts and processes whose names hold it. Returns how many it found and
 * describes them in report. */
int leak_scan(const char *prefix, char *report, size_t size);
/* Best-effort removal of the links, netns and mounts leak_scan finds (never processes:
 * tests end only what they started, by PID). */
void leak_sweep(const char *prefix);
