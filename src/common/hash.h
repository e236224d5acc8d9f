/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits: for names derived from other names (MACs, interface names, ids), where
 * the same input must give the same output on every run, not for anything adversarial. */
#define FNV1A_OFFSET 1469598103934665603ull

static inline uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
        const uint8_t *p = data;
        for (size_t i = 0; i < len; i++)
                h = (h ^ p[i]) * 1099511628211ull;
        return h;
}
