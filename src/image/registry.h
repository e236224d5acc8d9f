/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pulling images from OCI registries (the Distribution v2 API): the parsers of what comes
 * from outside (a reference, a registry's answers, the auth and registries files), kept
 * apart from the transfer (pull.c) so that the tests and fuzz targets reach them alone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image.h"

/* ---- references: [registry/]repo[:tag][@digest] ---- */

#define IMAGE_REF_TEXT_MAX 512
#define IMAGE_DIGEST_MAX 72 /* "sha256:" and 64 hex */

typedef struct ImageRef {
        char registry[256]; /* "docker.io", "127.0.0.1:5000"; "" for a short name ("busybox") */
        char repo[256];     /* "library/busybox" */
        char tag[129];      /* "latest" when neither a tag nor a digest is given; "" with a digest alone */
        char digest[IMAGE_DIGEST_MAX];
} ImageRef;

/* As Docker's reference grammar has it: the first component a registry when it has a '.'
 * or a ':' or is "localhost"; lowercase path components; docker.io's one-component names
 * under library/; only sha256 digests. */
int image_ref_parse(const char *text, ImageRef *ret, RtError *err);
/* localhost, 127.0.0.0/8 or [::1], any port: Docker's registries insecure by default */
bool registry_is_loopback(const char *registry);
/* "docker.io/library/busybox:1.36", "...@sha256:…" (the tag left out when a digest pins) */
void image_ref_format(const ImageRef *ref, char out[static IMAGE_REF_TEXT_MAX]);
/* "sha256:" and 64 lowercase hex */
bool image_digest_valid(const char *digest);

/* ---- platforms ---- */

/* "linux/amd64", "linux/arm/v7"; fields of [a-z0-9._-] */
int platform_parse(const char *text, Platform *ret, RtError *err);
/* This host's, in Go's names (x86_64 is amd64, aarch64 arm64) */
void platform_host(Platform *ret);
void platform_format(const Platform *p, char out[static 100]);

/* ---- a registry's answers ---- */

typedef struct RegistryChallenge {
        enum { CHALLENGE_BASIC = 1, CHALLENGE_BEARER } scheme;
        char realm[1024], service[256], scope[512];
} RegistryChallenge;

/* A WWW-Authenticate header: 'Bearer realm="…",service="…",scope="…"' or 'Basic realm=…' */
int registry_challenge_parse(const char *header, RegistryChallenge *ret, RtError *err);
/* A token server's answer: {"token": …} or {"access_token": …} */
int registry_token_parse(const char *text, size_t len, char **ret, RtError *err);

#define REGISTRY_MANIFEST_MAX (4u << 20) /* the Distribution API's own bound */
#define REGISTRY_MAX_LAYERS 256
#define REGISTRY_MAX_INDEX 1024

typedef enum LayerCompression { LAYER_PLAIN, LAYER_GZIP, LAYER_ZSTD } LayerCompression;

typedef struct RegistryBlob {
        char digest[IMAGE_DIGEST_MAX];
        uint64_t size;
        LayerCompression compression; /* layers */
} RegistryBlob;

typedef struct RegistryIndexEntry {
        RegistryBlob manifest;
        Platform platform;
} RegistryIndexEntry;

typedef struct RegistryManifest {
        bool is_index;
        RegistryIndexEntry *entries; /* an index's (an OCI image index, a Docker manifest list) */
        size_t n_entries;
        RegistryBlob config; /* an image manifest's (OCI, Docker schema 2) */
        RegistryBlob *layers;
        size_t n_layers;
} RegistryManifest;

/* A manifest as a registry serves it, its kind from the body's mediaType or else from
 * content_type (the reply's Content-Type; NULL if none): schema 1, artifacts and foreign
 * or non-distributable layers are refused (-EOPNOTSUPP), anything malformed -EBADMSG. */
int registry_manifest_parse(const char *content_type, const char *text, size_t len, RegistryManifest *ret,
                            RtError *err);
void registry_manifest_done(RegistryManifest *m);
/* The index entry for want; -ENOENT naming the platforms the index has. A wanted variant
 * matches an entry with that variant, or none (arm64's v8 is the default one). */
int registry_index_select(const RegistryManifest *m, const Platform *want, size_t *ret, RtError *err);
/* An image config's "os"/"architecture"/"variant" */
int registry_config_platform(const char *text, size_t len, Platform *ret, RtError *err);

/* ---- the files a user keeps: credentials and registries ---- */

/* Credentials for registry/repo in an auth file's text (containers-auth.json,
 * ~/.docker/config.json): the most specific key wins ("reg/ns/repo", "reg/ns", "reg"),
 * Docker's "https://index.docker.io/v1/" form of a key included; "auth" is
 * base64("user:pass"). -ENOENT when the file has none for it. */
int registry_auth_lookup(const char *text, size_t len, const char *registry, const char *repo, char **ret_user,
                         char **ret_pass, RtError *err);

typedef struct RegistriesConf {
        char **search;   /* unqualified-search-registries, in order */
        char **aliases;  /* pairs: short name, reference ([aliases]) */
        char **insecure; /* [[registry]] locations with insecure = true */
        char **blocked;  /* ... with blocked = true */
} RegistriesConf;

/* One registries.conf (containers-registries.conf(5), the TOML subset these files use),
 * merged over conf as drop-ins are: a later file's search list replaces an earlier one,
 * its aliases add to (and override) the earlier ones. Errors name what:line. */
int registries_conf_parse(const char *what, const char *text, size_t len, RegistriesConf *conf, RtError *err);
void registries_conf_done(RegistriesConf *conf);
const char *registries_conf_alias(const RegistriesConf *conf, const char *short_name);
/* location is a registry or a registry/namespace prefix of registry/repo */
bool registries_conf_matches(char *const *locations, const char *registry, const char *repo);
