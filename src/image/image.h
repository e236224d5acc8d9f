/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image store: the host image, rootfs directories registered under a name, and the
 * archives `podman save` and `docker save` write, unpacked into the store. */

#include "state.h"

typedef struct ImageConfig {
        char **cmd;        /* NULL-terminated; NULL: none */
        char **entrypoint;
        char **env;
        char *workdir;
        char *stop_signal; /* "SIGTERM" or a number, as given */
        char *ready;       /* its readiness (the label io.nsprov.ready); NULL: none declared */
} ImageConfig;

typedef struct Image {
        char *name;
        char *rootfs; /* "host", or an absolute directory */
        ImageConfig config;
        uint64_t created_ns;
        bool builtin;
        bool stored; /* its rootfs is the store's own (an archive's, unpacked): removed with it */
        /* a pulled one's: where from, its manifest's digest, its layers' blobs (image-store.h) */
        char *reference;
        char *digest;
        char **layers;
} Image;

#define CTR_IMAGE_NAME_MAX 128

typedef struct ImageLoadResult {
        char name[CTR_IMAGE_NAME_MAX + 1];
        size_t layers;
        unsigned devices_skipped; /* device nodes in the layers, not created */
} ImageLoadResult;

/* Loads the image archive read from archive_fd (a file or a pipe): a docker-archive or an
 * OCI image layout, as `podman save` and `docker save` write them, compressed or not. Named
 * name, or after the archive's own reference ("localhost/lnst:latest" gives "lnst"). */
typedef struct ImageLoadOptions {
        const char *name;  /* NULL: after the archive's reference */
        const char *ready; /* NULL: the archive's label io.nsprov.ready, if any */
} ImageLoadOptions;
int ctr_image_load_archive(const CtrStore *s, int archive_fd, const ImageLoadOptions *o, ImageLoadResult *ret,
                           RtError *err);

/* Imports a plain root filesystem tarball (a file or a pipe; compressed or not) as the
 * image name (or a reference's name), its config from the changes: `podman import`. */
typedef struct ImageImportOptions {
        const char *name;
        char *const *changes; /* "CMD [...]", "ENV K=V", ... (image_change_apply) */
        const char *ready;
} ImageImportOptions;
int ctr_image_import(const CtrStore *s, int tar_fd, const ImageImportOptions *o, ImageLoadResult *ret,
                     RtError *err);
/* One of `podman import --change`'s Dockerfile instructions applied to cfg: CMD and
 * ENTRYPOINT (a JSON array, or a shell line), ENV K=V, WORKDIR, STOPSIGNAL, LABEL
 * io.nsprov.ready=SPEC; -EOPNOTSUPP for USER, EXPOSE, VOLUME, ONBUILD and other labels. */
int image_change_apply(const char *change, ImageConfig *cfg, RtError *err);

/* Pulls an image from a registry (registry.h, pull.c): a reference as Podman takes one
 * ("docker.io/library/busybox:1.36", "127.0.0.1:5000/lnst@sha256:…", a short name
 * resolved as registries.conf says), for this host's platform or the one given. */
typedef enum PullEventKind {
        PULL_EVENT_TRYING,      /* text: the reference tried */
        PULL_EVENT_RESOLVED,    /* text: the manifest's digest; count: layers */
        PULL_EVENT_BLOB,        /* text: a layer's digest; done of total bytes; index of count */
        PULL_EVENT_BLOB_DONE,
        PULL_EVENT_BLOB_EXISTS, /* the store has it */
        PULL_EVENT_RETRY,       /* text: why; done: the try, total: of how many */
        PULL_EVENT_UNPACKING,   /* text: the image's name */
} PullEventKind;

typedef struct PullEvent {
        PullEventKind kind;
        const char *text;
        uint64_t done, total;
        unsigned index, count;
} PullEvent;

/* an image's platform, in Go's names: linux/amd64, linux/arm/v7 */
typedef struct Platform {
        char os[32], arch[32], variant[32];
} Platform;

typedef struct PullOptions {
        const char *name;  /* NULL: after the reference ("busybox:1.36" gives "busybox-1.36") */
        const char *ready; /* over the image's own */
        Platform platform; /* os "": this host's */
        int tls_verify;    /* -1: verify unless registries.conf says the registry is insecure */
        const char *authfile;
        const char *username, *password; /* over any auth file */
        unsigned retries;
        uint64_t retry_delay_ms; /* doubling after each */
        void (*progress)(void *userdata, const PullEvent *ev);
        void *userdata;
} PullOptions;

#define PULL_OPTIONS_INIT { .tls_verify = -1, .retries = 3, .retry_delay_ms = 1000 }

typedef struct PullResult {
        ImageLoadResult load;
        char reference[512]; /* fully qualified */
        char digest[72];     /* the manifest's */
        bool up_to_date;     /* the store had it: nothing fetched */
        uint64_t fetched;    /* bytes */
} PullResult;

int ctr_image_pull(const CtrStore *s, const char *reference, const PullOptions *o, PullResult *ret, RtError *err);

int ctr_image_name_check(const char *name, RtError *err);
/* Name "host" gives the built-in image. */
int ctr_image_load(const CtrStore *s, const char *name, Image *ret, RtError *err);
/* A reference as Podman resolves one ("lnst", "localhost/lnst:latest", "docker.io/library/
 * fedora:41"): the name itself, then without the registry, a ":latest" tag meaning the
 * image itself, then the name a load of an archive so tagged gives. */
int ctr_image_resolve(const CtrStore *s, const char *ref, Image *ret, RtError *err);
int ctr_image_add(const CtrStore *s, const Image *img, RtError *err);
int ctr_image_remove(const CtrStore *s, const char *name, bool force, RtError *err);
/* All images, the built-in one first. */
int ctr_image_list(const CtrStore *s, Image **ret, size_t *ret_n, RtError *err);
void image_done(Image *img);
void image_list_free(Image *imgs, size_t n);

/* image-archive.c: where an archive's unpacked rootfs lives in the store */
void ctr_image_stored_rootfs(const CtrStore *s, const char *name, char buf[static PATH_MAX]);
/* The parts of an image archive's load that read its input, for the tests and fuzz
 * targets. A member's or a layer entry's path made relative and plain ("./a//b" -> "a/b",
 * "" for the top): -EINVAL for any ".." component. */
int image_member_path(const char *raw, char out[static PATH_MAX]);
enum { WHITEOUT_NONE, WHITEOUT_ENTRY, WHITEOUT_OPAQUE };
/* A whiteout's kind, with the path it removes (an opaque one: the directory whose lower
 * contents go); -EINVAL for a malformed one. */
int image_whiteout(const char *clean, char target[static PATH_MAX]);
/* Where a link entry points, made relative and plain as a member path: an absolute
 * target from the image's top, a relative one from link_path's directory (a hard link's
 * link_path is ""); -EINVAL for one that climbs above the top. */
int image_member_link_target(const char *link_path, const char *target, char out[static PATH_MAX]);
typedef struct ArchiveManifest {
        char *config;      /* member paths, clean */
        char **layers;     /* bottom first */
        char *reference;   /* "localhost/lnst:latest", or NULL */
} ArchiveManifest;
void archive_manifest_done(ArchiveManifest *m);
int image_docker_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err);
int image_oci_index_parse(const char *text, size_t len, char **ret_manifest, char **ret_reference, RtError *err);
int image_oci_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err);
int image_config_parse(const char *text, size_t len, ImageConfig *ret, RtError *err);
int image_name_from_reference(const char *ref, char out[static CTR_IMAGE_NAME_MAX + 1], RtError *err);
/* Reads an archive held in memory as a load reads one, checking every member's path and
 * the manifest or index it has, writing nothing. */
int image_archive_check_memory(const void *data, size_t size, RtError *err);
