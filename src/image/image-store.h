/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The steps every way into the store shares (a load, an import, a pull), internal to the
 * image library: a staging dir beside the store's rootfs dirs, the one-at-a-time lock, the
 * layers unpacked by a chroot'ed child, the rename and the record. */

#include <limits.h>

#include "image.h"

typedef struct LoadWork {
        char staging[PATH_MAX];
        int staging_lock; /* held while the staging dir is in use: a sweep leaves it alone */
        ArchiveManifest m;
        Image img;
        int *fds; /* the layers to unpack, bottom first */
        size_t n_fds;
        int lock;
} LoadWork;

#define LOAD_WORK_INIT { .staging_lock = -1, .lock = -1 }

int image_archive_lib(RtError *err);
void load_work_done(LoadWork *w);
int load_staging_make(const CtrStore *s, LoadWork *w, RtError *err);
/* Takes the store's load lock, then sweeps what loads killed on their way left behind:
 * staging dirs nobody holds, blobs no image names. */
int load_lock(const CtrStore *s, LoadWork *w, RtError *err);
/* -EEXIST unless name is free ("host" included) */
int image_name_free(const CtrStore *s, const char *name, RtError *err);
/* Under the load lock: w->fds unpacked into the staging dir, moved into the store as
 * name's rootfs, w->img recorded under name (ready, when given, over its config's).
 * replace: an image of that name goes once the new one is unpacked. */
int load_install_rootfs(const CtrStore *s, LoadWork *w, const char *name, const char *ready, bool replace,
                        ImageLoadResult *ret, RtError *err);

/* Removes name's record (only: the rootfs is the caller's to replace) */
int image_record_unlink(const CtrStore *s, const char *name, RtError *err);

/* The blob store (root/images/blobs/sha256/<hex>): a pull's layers, kept so that a layer
 * two images share is fetched and stored once. */
void image_blob_path(const CtrStore *s, const char *digest, char buf[static PATH_MAX]);
/* Under the load lock: removes the blobs no image's record names. */
int image_blobs_sweep(const CtrStore *s, RtError *err);
