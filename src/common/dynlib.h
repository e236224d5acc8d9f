/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "err.h"

/* Libraries only some commands need (libnftables for --nat, libarchive for image loads)
 * are opened when first needed, not linked: linked, each costs every nsprov process (and
 * an LNST run starts a hundred or more) the loading of it and its own dependencies. */
typedef struct DynSym {
        const char *name;
        void **slot;
} DynSym;

/* Opens soname and fills every slot, or none: on failure the slots are NULL again and
 * the error names the library and what needed it. The library stays open for the
 * process's life. Not thread-safe: callers serialize (pthread_once). */
int dynlib_load(const char *soname, const DynSym *syms, size_t n, const char *needed_for, RtError *err);
