/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Whole-string number parsers: no sign surprises, no trailing junk, no silent wrap.
 * They return 0, -EINVAL (not a number) or -ERANGE, and write *ret only on success. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atoi32(const char *s, int32_t *ret);
/* Like safe_atou32 but within [min, max], so a caller's range check cannot be forgotten. */
int safe_atou32_range(const char *s, uint32_t min, uint32_t max, uint32_t *ret);
/* "1", "true", "yes", "on" (any case) and their opposites, as Podman's API accepts them. */
int parse_boolean(const char *s, bool *ret);
/* A duration, "1m30s", "500ms", "1.5s" (Go's syntax, as Podman's flags take it) or bare
 * seconds, in milliseconds: -EINVAL, or -ERANGE past max_ms. */
int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *ret);
/* A size as Podman's flags take one: "512m", "1g", "64k", "1048576", a "b" after the unit
 * allowed ("512mb"), in bytes: -EINVAL, -ERANGE. */
int parse_size(const char *s, uint64_t *ret);
