/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

/* NULL-terminated string vectors, the shape argv and envp already have. */
size_t strv_length(char *const *v);
char **strv_copy(char *const *v); /* NULL in, NULL out; NULL on OOM too: check v first */
void strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
/* Appends a copy of s; returns -ENOMEM. */
int strv_push(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
/* ["a","b"] <-> strv; from_json refuses non-strings and more than max entries. */
json_t *strv_to_json(char *const *v);
int strv_from_json(json_t *a, size_t max, char ***ret);
/* "K=V" env semantics: sets or replaces K. */
int strv_env_set(char ***env, const char *kv);
const char *strv_env_get(char *const *env, const char *key);
