/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "err.h"

/* What a long-lived reader (the shim) parsed from a state file, kept while the file is
 * the same one. Each of these files is written once or replaced by rename, never
 * rewritten in place, so a new version is a new inode; device, inode (with its generation
 * where the filesystem reuses inode numbers), size and both times together tell a file
 * from its successor. A JSON state file costs ~30 us to parse here and is read by nearly
 * every request; its version costs an fstat and an fstatfs (an ioctl more off tmpfs).
 * Thread-safe; a direct-mapped table of a fixed size (a slot's new file evicts its old
 * one). */
typedef struct FileCacheType {
        size_t size;                                   /* of one value */
        int (*copy)(void *dst, const void *src);       /* deep; 0 or -ENOMEM */
        void (*done)(void *value);                     /* frees what a copy made; NULL: POD */
} FileCacheType;

typedef struct FileCache FileCache;

int file_cache_new(const FileCacheType *type, size_t slots, FileCache **ret);
void file_cache_free(FileCache *c);

/* What parse() made of the file's text: 0, or a negative errno with err filled. */
typedef int (*FileCacheParse)(const char *path, const char *text, size_t len, void *value,
                              RtError *err);

/* Fills *value (type->size bytes) from the file at path, at most max bytes: a copy of what
 * parse() made of it before when it is still the same file, else parse()'s own, which is
 * kept. c NULL: always parsed (a short-lived CLI has nothing to keep it for). */
int file_cache_load(FileCache *c, const char *path, size_t max, FileCacheParse parse, void *value,
                    RtError *err);

/* Drops what is kept of path (its file is gone for good): memory back at once. */
void file_cache_forget(FileCache *c, const char *path);
