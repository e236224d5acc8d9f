/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parsers of a pull's outside input (registry.h). Nothing here does I/O. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "base64.h"
#include "cleanup.h"
#include "registry.h"
#include "strv.h"

/* ---- references ---- */

bool image_digest_valid(const char *digest) {
        const char *hex = digest ? startswith(digest, "sha256:") : NULL;
        if (!hex || strlen(hex) != 64)
                return false;
        for (const char *c = hex; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return false;
        return true;
}

/* [a-z0-9]+ joined by '.', '_', '__' or runs of '-' */
static bool path_component_valid(const char *s, size_t len) {
        if (len == 0 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[len - 1]))
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                        continue;
                if (c == '.' || c == '_') {
                        /* one '.', one '_' or "__", between alphanumerics */
                        size_t run = 1;
                        if (!isalnum((unsigned char) s[i - 1]))
                                return false;
                        while (i + run < len && s[i + run] == '_' && c == '_' && run < 2)
                                run++;
                        if (!isalnum((unsigned char) s[i + run]) || (c == '.' && run > 1))
                                return false;
                        i += run - 1;
                        continue;
                }
                if (c == '-')
                        continue; /* the ends are alphanumeric, checked above */
                return false;
        }
        return true;
}

/* host[:port]: DNS labels, or an IPv6 address in brackets */
static bool domain_valid(const char *s, size_t len) {
        const char *colon = NULL;
        if (len > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', len);
                if (!close || close == s + 1)
                        return false;
                for (const char *c = s + 1; c < close; c++)
                        if (!isxdigit((unsigned char) *c) && *c != ':')
                                return false;
                if (close + 1 == s + len)
                        return true;
                colon = close + 1;
                if (*colon != ':')
                        return false;
        } else {
                colon = memchr(s, ':', len);
                size_t host_len = colon ? (size_t) (colon - s) : len;
                size_t label = 0;
                for (size_t i = 0; i < host_len; i++) {
                        char c = s[i];
                        if (c == '.') {
                                if (label == 0 || s[i - 1] == '-')
                                        return false;
                                label = 0;
                                continue;
                        }
                        if (!isalnum((unsigned char) c) && !(c == '-' && label > 0))
                                return false;
                        if (++label > 63)
                                return false;
                }
                if (label == 0 || s[host_len - 1] == '-')
                        return false;
                if (!colon)
                        return true;
        }
        size_t digits = (size_t) (s + len - colon - 1);
        if (digits == 0 || digits > 5)
                return false;
        for (const char *c = colon + 1; c < s + len; c++)
                if (!isdigit((unsigned char) *c))
                        return false;
        return atoi(colon + 1) > 0 && atoi(colon + 1) < 65536;
}

static bool tag_valid(const char *t) {
        size_t l = strlen(t);
        if (l == 0 || l > 128 || !(isalnum((unsigned char) t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 0; i < l; i++)
                if (!isascii((unsigned char) t[i]) ||
                    !(isalnum((unsigned char) t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
                        return false;
        return true;
}

int image_ref_parse(const char *text, ImageRef *ret, RtError *err) {
        char buf[IMAGE_REF_TEXT_MAX];
        *ret = (ImageRef) {};
        if (!text || !*text)
                return rt_err_setx(err, -EINVAL, "no image reference given");
        if (strlen(text) >= sizeof buf)
                return rt_err_setx(err, -EINVAL, "image reference '%.64s…' is too long", text);
        (void) snprintf(buf, sizeof buf, "%s", text);
        char *at = strchr(buf, '@');
        if (at) {
                *at = '\0';
                if (!image_digest_valid(at + 1))
                        return rt_err_setx(err, -EINVAL, "%s: the digest must be sha256: and 64 lowercase hex digits",
                                           text);
                (void) snprintf(ret->digest, sizeof ret->digest, "%s", at + 1);
        }
        char *last_slash = strrchr(buf, '/');
        char *colon = strrchr(last_slash ? last_slash : buf, ':');
        if (colon) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return rt_err_setx(err, -EINVAL, "%s: invalid tag '%.64s' (use [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})",
                                           text, colon + 1);
                (void) snprintf(ret->tag, sizeof ret->tag, "%s", colon + 1);
        } else if (!at)
                (void) snprintf(ret->tag, sizeof ret->tag, "latest");

        char *path = buf;
        char *first_slash = strchr(buf, '/');
        if (first_slash) {
                size_t dl = (size_t) (first_slash - buf);
                bool is_domain = memchr(buf, '.', dl) || memchr(buf, ':', dl) ||
                                 (dl == 9 && strncmp(buf, "localhost", 9) == 0) || buf[0] == '[';
                if (is_domain) {
                        if (!domain_valid(buf, dl) || dl >= sizeof ret->registry)
                                return rt_err_setx(err, -EINVAL, "%s: invalid registry '%.*s'", text, (int) MIN(dl, (size_t) 64),
                                                   buf);
                        (void) snprintf(ret->registry, sizeof ret->registry, "%.*s", (int) dl, buf);
                        path = first_slash + 1;
                }
        }
        if (!*path)
                return rt_err_setx(err, -EINVAL, "%s: no repository name", text);
        for (const char *c = path; *c;) {
                const char *end = strchrnul(c, '/');
                if (!path_component_valid(c, (size_t) (end - c))) {
                        bool upper = false;
                        for (const char *u = c; u < end; u++)
                                upper = upper || isupper((unsigned char) *u);
                        return rt_err_setx(err, -EINVAL, "%s: invalid repository name%s", text,
                                           upper ? " (it must be lowercase)" : "");
                }
                c = *end ? end + 1 : end;
                if (!*c && end[0] == '/')
                        return rt_err_setx(err, -EINVAL, "%s: invalid repository name", text);
        }
        if (streq(ret->registry, "index.docker.io") || streq(ret->registry, "registry-1.docker.io"))
                (void) snprintf(ret->registry, sizeof ret->registry, "docker.io");
        bool library = streq(ret->registry, "docker.io") && !strchr(path, '/');
        int n = snprintf(ret->repo, sizeof ret->repo, "%s%s", library ? "library/" : "", path);
        if (n < 0 || (size_t) n >= sizeof ret->repo || strlen(ret->registry) + 1 + (size_t) n > 255)
                return rt_err_setx(err, -EINVAL, "%s: the name is over 255 characters", text);
        return 0;
}

bool registry_is_loopback(const char *registry) {
        char host[256];
        (void) snprintf(host, sizeof host, "%s", registry);
        if (host[0] == '[') {
                char *close = strchr(host, ']');
                return close && (*close = '\0', streq(host + 1, "::1"));
        }
        host[strcspn(host, ":")] = '\0';
        unsigned a, b, c, d;
        char tail;
        return streq(host, "localhost") ||
               (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256);
}

void image_ref_format(const ImageRef *ref, char out[static IMAGE_REF_TEXT_MAX]) {
        (void) snprintf(out, IMAGE_REF_TEXT_MAX, "%s%s%s%s%s%s", ref->registry, *ref->registry ? "/" : "",
                        ref->repo, ref->digest[0] ? "@" : ref->tag[0] ? ":" : "",
                        ref->digest[0] ? ref->digest : ref->tag, "");
}

/* ---- platforms ---- */

static bool platform_field_valid(const char *s, size_t len) {
        if (len == 0 || len >= sizeof ((Platform *) 0)->os)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
                      s[i] == '-'))
                        return false;
        return true;
}

int platform_parse(const char *text, Platform *ret, RtError *err) {
        *ret = (Platform) {};
        char *fields[3] = { ret->os, ret->arch, ret->variant };
        const char *c = text ?: "";
        size_t i = 0;
        for (; i < 3 && *c; i++) {
                const char *end = strchrnul(c, '/');
                if (!platform_field_valid(c, (size_t) (end - c)))
                        break;
                (void) snprintf(fields[i], sizeof ret->os, "%.*s", (int) (end - c), c);
                c = *end ? end + 1 : end;
                if (!*c && *end)
                        i = 0; /* a trailing '/' */
        }
        if (*c || i < 2)
                return rt_err_setx(err, -EINVAL, "platform '%.64s': use OS/ARCH[/VARIANT], as linux/amd64",
                                   text ?: "");
        return 0;
}

void platform_host(Platform *ret) {
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                { "x86_64", "amd64", "" },   { "aarch64", "arm64", "" },  { "armv7l", "arm", "v7" },
                { "armv6l", "arm", "v6" },   { "i686", "386", "" },       { "i386", "386", "" },
                { "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },   { "riscv64", "riscv64", "" },
                { "mips64", "mips64", "" },   { "loongarch64", "loong64", "" },
        };
        struct utsname u;
        *ret = (Platform) { .os = "linux" };
        (void) uname(&u);
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine)) {
                        (void) snprintf(ret->arch, sizeof ret->arch, "%s", map[i].arch);
                        (void) snprintf(ret->variant, sizeof ret->variant, "%s", map[i].variant);
                        return;
                }
        (void) snprintf(ret->arch, sizeof ret->arch, "%.31s", u.machine);
}

void platform_format(const Platform *p, char out[static 100]) {
        (void) snprintf(out, 100, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* An object's "os", "architecture" and "variant" (an index entry's platform, an image
 * config): false unless the first two are there and all are valid */
static bool platform_from_json(json_t *o, Platform *ret) {
        const char *os = json_string_value(json_object_get(o, "os"));
        const char *arch = json_string_value(json_object_get(o, "architecture"));
        const char *variant = json_string_value(json_object_get(o, "variant")) ?: "";
        *ret = (Platform) {};
        if (!os || !arch || !platform_field_valid(os, strlen(os)) || !platform_field_valid(arch, strlen(arch)) ||
            (*variant && !platform_field_valid(variant, strlen(variant))))
                return false;
        (void) snprintf(ret->os, sizeof ret->os, "%s", os);
        (void) snprintf(ret->arch, sizeof ret->arch, "%s", arch);
        (void) snprintf(ret->variant, sizeof ret->variant, "%s", variant);
        return true;
}

/* ---- WWW-Authenticate ---- */

static const char *skip_space(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* key=value or key="quoted \" value"; *s after it and its comma */
static int challenge_param(const char **s, char *key, size_t key_size, char *value, size_t value_size) {
        const char *c = skip_space(*s);
        size_t k = 0;
        while (isalnum((unsigned char) *c) || *c == '_' || *c == '-') {
                if (k + 1 >= key_size)
                        return -EINVAL;
                key[k++] = (char) tolower((unsigned char) *c++);
        }
        key[k] = '\0';
        c = skip_space(c);
        if (k == 0 || *c != '=')
                return -EINVAL;
        c = skip_space(c + 1);
        size_t v = 0;
        if (*c == '"') {
                for (c++; *c != '"'; c++) {
                        if (!*c)
                                return -EINVAL;
                        if (*c == '\\' && c[1])
                                c++;
                        if (v + 1 >= value_size || (unsigned char) *c < 0x20)
                                return -EINVAL;
                        value[v++] = *c;
                }
                c++;
        } else
                while (*c && *c != ',' && *c != ' ' && *c != '\t') {
                        if (v + 1 >= value_size || (unsigned char) *c < 0x20)
                                return -EINVAL;
                        value[v++] = *c++;
                }
        value[v] = '\0';
        c = skip_space(c);
        if (*c == ',')
                c++;
        else if (*c)
                return -EINVAL;
        *s = c;
        return 0;
}

int registry_challenge_parse(const char *header, RegistryChallenge *ret, RtError *err) {
        *ret = (RegistryChallenge) {};
        const char *c = skip_space(header ?: "");
        if (strncasecmp(c, "Bearer", 6) == 0 && (c[6] == ' ' || c[6] == '\t'))
                ret->scheme = CHALLENGE_BEARER, c += 6;
        else if (strncasecmp(c, "Basic", 5) == 0 && (!c[5] || c[5] == ' ' || c[5] == '\t'))
                ret->scheme = CHALLENGE_BASIC, c += 5;
        else
                return rt_err_setx(err, -EOPNOTSUPP, "the registry asks for authentication nsprov does not know: '%.64s'",
                                   c);
        while (*skip_space(c)) {
                char key[32], value[1024];
                if (challenge_param(&c, key, sizeof key, value, sizeof value) < 0)
                        return rt_err_setx(err, -EBADMSG, "malformed WWW-Authenticate header '%.100s'", header);
                if (streq(key, "realm"))
                        (void) snprintf(ret->realm, sizeof ret->realm, "%s", value);
                else if (streq(key, "service"))
                        (void) snprintf(ret->service, sizeof ret->service, "%.255s", value);
                else if (streq(key, "scope"))
                        (void) snprintf(ret->scope, sizeof ret->scope, "%.511s", value);
        }
        if (ret->scheme == CHALLENGE_BEARER &&
            !startswith(ret->realm, "https://") && !startswith(ret->realm, "http://"))
                return rt_err_setx(err, -EBADMSG, "the registry's token realm '%.100s' is not an http(s) URL",
                                   ret->realm);
        return 0;
}

int registry_token_parse(const char *text, size_t len, char **ret, RtError *err) {
        *ret = NULL;
        json_auto_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        const char *t = json_string_value(json_object_get(j, "token")) ?:
                        json_string_value(json_object_get(j, "access_token"));
        if (!t || !*t || strlen(t) > 65536)
                return rt_err_setx(err, -EBADMSG, "the token server's answer holds no token");
        /* it goes into a header line */
        for (const char *c = t; *c; c++)
                if ((unsigned char) *c < 0x21 || (unsigned char) *c > 0x7e)
                        return rt_err_setx(err, -EBADMSG, "the token server's token has a character a header cannot carry");
        return (*ret = strdup(t)) ? 0 : rt_err_set(err, -ENOMEM, "token");
}

/* ---- manifests ---- */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

void registry_manifest_done(RegistryManifest *m) {
        free(m->entries);
        free(m->layers);
        *m = (RegistryManifest) {};
}

static int descriptor(json_t *d, const char *what, RegistryBlob *ret, RtError *err) {
        const char *digest = json_string_value(json_object_get(d, "digest"));
        json_t *size = json_object_get(d, "size");
        if (!json_is_object(d) || !image_digest_valid(digest))
                return rt_err_setx(err, -EBADMSG, "%s: no sha256 digest", what);
        if (!json_is_integer(size) || json_integer_value(size) < 0)
                return rt_err_setx(err, -EBADMSG, "%s: no size", what);
        *ret = (RegistryBlob) { .size = (uint64_t) json_integer_value(size) };
        (void) snprintf(ret->digest, sizeof ret->digest, "%s", digest);
        return 0;
}

static int layer_compression(const char *type, const char *what, LayerCompression *ret, RtError *err) {
        static const struct {
                const char *type;
                LayerCompression c;
        } known[] = {
                { "application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_GZIP },
                { "application/vnd.oci.image.layer.v1.tar", LAYER_PLAIN },
                { "application/vnd.oci.image.layer.v1.tar+gzip", LAYER_GZIP },
                { "application/vnd.oci.image.layer.v1.tar+zstd", LAYER_ZSTD },
        };
        for (size_t i = 0; type && i < ELEMENTSOF(known); i++)
                if (streq(type, known[i].type)) {
                        *ret = known[i].c;
                        return 0;
                }
        if (type && (strstr(type, "foreign") || strstr(type, "nondistributable")))
                return rt_err_setx(err, -EOPNOTSUPP, "%s is a foreign layer (%.100s), which is not in the registry",
                                   what, type);
        return rt_err_setx(err, -EOPNOTSUPP, "%s is %.100s, not a container image layer", what,
                           type ?: "of no media type");
}

static int parse_index(json_t *j, RegistryManifest *m, RtError *err) {
        json_t *ms = json_object_get(j, "manifests");
        if (!json_is_array(ms))
                return rt_err_setx(err, -EBADMSG, "image index: no manifests");
        if (json_array_size(ms) > REGISTRY_MAX_INDEX)
                return rt_err_setx(err, -E2BIG, "image index: over %d manifests", REGISTRY_MAX_INDEX);
        m->is_index = true;
        m->entries = calloc(json_array_size(ms) ?: 1, sizeof *m->entries);
        if (!m->entries)
                return rt_err_set(err, -ENOMEM, "image index");
        size_t i;
        json_t *d;
        json_array_foreach(ms, i, d) {
                char what[64];
                (void) snprintf(what, sizeof what, "image index: manifests[%zu]", i);
                RegistryIndexEntry *e = &m->entries[m->n_entries];
                int r = descriptor(d, what, &e->manifest, err);
                if (r < 0)
                        return r;
                const char *type = json_string_value(json_object_get(d, "mediaType"));
                /* attestations and nested indexes are no image of a platform */
                if (type && !streq(type, MT_OCI_MANIFEST) && !streq(type, MT_DOCKER_MANIFEST))
                        continue;
                /* attestations are "unknown/unknown": nothing to run */
                if (!platform_from_json(json_object_get(d, "platform"), &e->platform) ||
                    streq(e->platform.os, "unknown") || streq(e->platform.arch, "unknown"))
                        continue;
                m->n_entries++;
        }
        return 0;
}

static int parse_image_manifest(json_t *j, RegistryManifest *m, RtError *err) {
        int r = descriptor(json_object_get(j, "config"), "manifest: config", &m->config, err);
        if (r < 0)
                return r;
        const char *ctype = json_string_value(json_object_get(json_object_get(j, "config"), "mediaType"));
        if (ctype && !streq(ctype, "application/vnd.docker.container.image.v1+json") &&
            !streq(ctype, "application/vnd.oci.image.config.v1+json"))
                return rt_err_setx(err, -EOPNOTSUPP, "an artifact (its config is %.100s), not a container image",
                                   ctype);
        json_t *ls = json_object_get(j, "layers");
        if (!json_is_array(ls))
                return rt_err_setx(err, -EBADMSG, "manifest: no layers");
        if (json_array_size(ls) > REGISTRY_MAX_LAYERS)
                return rt_err_setx(err, -E2BIG, "manifest: over %d layers", REGISTRY_MAX_LAYERS);
        m->layers = calloc(json_array_size(ls) ?: 1, sizeof *m->layers);
        if (!m->layers)
                return rt_err_set(err, -ENOMEM, "manifest");
        size_t i;
        json_t *d;
        json_array_foreach(ls, i, d) {
                char what[64];
                (void) snprintf(what, sizeof what, "manifest: layers[%zu]", i);
                RegistryBlob *b = &m->layers[m->n_layers];
                if ((r = descriptor(d, what, b, err)) < 0 ||
                    (r = layer_compression(json_string_value(json_object_get(d, "mediaType")), what, &b->compression,
                                           err)) < 0)
                        return r;
                m->n_layers++;
        }
        return 0;
}

int registry_manifest_parse(const char *content_type, const char *text, size_t len, RegistryManifest *ret,
                            RtError *err) {
        *ret = (RegistryManifest) {};
        if (len > REGISTRY_MANIFEST_MAX)
                return rt_err_setx(err, -E2BIG, "the manifest is over %u bytes", REGISTRY_MANIFEST_MAX);
        json_error_t je;
        json_auto_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j))
                return rt_err_setx(err, -EBADMSG, "the manifest is not a JSON object (%d:%d: %s)", je.line,
                                   je.column, j ? "not an object" : je.text);
        json_t *version = json_object_get(j, "schemaVersion");
        if (json_is_integer(version) && json_integer_value(version) == 1)
                return rt_err_setx(err, -EOPNOTSUPP, "a schema 1 manifest, which nsprov (as Podman 5) does not pull");
        if (!json_is_integer(version) || json_integer_value(version) != 2)
                return rt_err_setx(err, -EBADMSG, "the manifest has no schemaVersion 2");
        char type[128] = "";
        const char *body_type = json_string_value(json_object_get(j, "mediaType"));
        if (body_type)
                (void) snprintf(type, sizeof type, "%s", body_type);
        else if (content_type)
                (void) snprintf(type, sizeof type, "%.*s", (int) strcspn(content_type, "; "), content_type);
        int r;
        if (streq(type, MT_OCI_INDEX) || streq(type, MT_DOCKER_LIST) ||
            (!*type && json_object_get(j, "manifests") && !json_object_get(j, "layers")))
                r = parse_index(j, ret, err);
        else if (streq(type, MT_OCI_MANIFEST) || streq(type, MT_DOCKER_MANIFEST) ||
                 (!*type && json_object_get(j, "layers")))
                r = parse_image_manifest(j, ret, err);
        else if (startswith(type, "application/vnd.docker.distribution.manifest.v1"))
                r = rt_err_setx(err, -EOPNOTSUPP, "a schema 1 manifest, which nsprov (as Podman 5) does not pull");
        else
                r = rt_err_setx(err, -EOPNOTSUPP, "a manifest of type '%.100s', not an image or an index", type);
        if (r < 0)
                registry_manifest_done(ret);
        return r;
}

int registry_index_select(const RegistryManifest *m, const Platform *want, size_t *ret, RtError *err) {
        for (size_t i = 0; i < m->n_entries; i++) {
                const Platform *p = &m->entries[i].platform;
                if (streq(p->os, want->os) && streq(p->arch, want->arch) &&
                    (!want->variant[0] || streq(p->variant, want->variant) || !p->variant[0] ||
                     (streq(want->arch, "arm64") && streq(want->variant, "v8") && !p->variant[0]))) {
                        *ret = i;
                        return 0;
                }
        }
        char have[512] = "", w[100];
        size_t off = 0;
        for (size_t i = 0; i < m->n_entries && off < sizeof have - 1; i++) {
                char p[100];
                platform_format(&m->entries[i].platform, p);
                int n = snprintf(have + off, sizeof have - off, "%s%s", off ? ", " : "", p);
                off += n > 0 ? (size_t) n : 0;
        }
        platform_format(want, w);
        return rt_err_setx(err, -ENOENT, "no image for %s in the index (it has %s)", w, *have ? have : "none");
}

int registry_config_platform(const char *text, size_t len, Platform *ret, RtError *err) {
        json_auto_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!platform_from_json(j, ret))
                return rt_err_setx(err, -EBADMSG, "the image config names no platform (os, architecture)");
        return 0;
}

/* ---- auth files ---- */

/* "https://index.docker.io/v1/" -> "docker.io"; "http://reg:5000/v2/" -> "reg:5000" */
static void auth_key_normalize(const char *key, char out[static 512]) {
        const char *k = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        (void) snprintf(out, 512, "%s", k);
        size_t l = strlen(out);
        while (l > 0 && out[l - 1] == '/')
                out[--l] = '\0';
        if (l >= 3 && (streq(out + l - 3, "/v1") || streq(out + l - 3, "/v2")))
                out[l - 3] = '\0';
        if (startswith(out, "index.docker.io") || startswith(out, "registry-1.docker.io")) {
                char rest[512];
                (void) snprintf(rest, sizeof rest, "%s", strchrnul(out, '/'));
                (void) snprintf(out, 512, "docker.io%s", rest);
        }
}

int registry_auth_lookup(const char *text, size_t len, const char *registry, const char *repo, char **ret_user,
                         char **ret_pass, RtError *err) {
        *ret_user = *ret_pass = NULL;
        json_error_t je;
        json_auto_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return rt_err_setx(err, -EBADMSG, "%d:%d: %s", je.line, je.column, je.text);
        json_t *auths = json_object_get(j, "auths");
        if (!json_is_object(auths))
                return -ENOENT;
        char want[512];
        (void) snprintf(want, sizeof want, "%s/%s", registry, repo);
        const char *best = NULL;
        size_t best_len = 0;
        const char *key;
        json_t *v;
        json_object_foreach(auths, key, v) {
                char k[512];
                auth_key_normalize(key, k);
                size_t kl = strlen(k);
                if (kl == 0 || strncmp(want, k, kl) != 0 || (want[kl] != '/' && want[kl] != '\0'))
                        continue;
                if (kl > best_len && json_is_string(json_object_get(v, "auth"))) {
                        best = json_string_value(json_object_get(v, "auth"));
                        best_len = kl;
                }
        }
        if (!best || !*best)
                return -ENOENT;
        _cleanup_free_ char *plain = NULL;
        size_t plain_len;
        if (base64_decode(best, strlen(best), &plain, &plain_len) < 0 || memchr(plain, '\0', plain_len))
                return rt_err_setx(err, -EBADMSG, "the credentials for %s are not base64 of user:password", registry);
        char *colon = memchr(plain, ':', plain_len);
        if (!colon)
                return rt_err_setx(err, -EBADMSG, "the credentials for %s are not user:password", registry);
        *colon = '\0';
        *ret_user = strdup(plain);
        *ret_pass = strndup(colon + 1, plain_len - (size_t) (colon + 1 - plain));
        if (!*ret_user || !*ret_pass) {
                free(*ret_user);
                free(*ret_pass);
                *ret_user = *ret_pass = NULL;
                return rt_err_set(err, -ENOMEM, "credentials");
        }
        return 0;
}

/* ---- registries.conf: the TOML these files use ---- */

typedef enum TomlKind { TOML_STRING, TOML_BOOL, TOML_ARRAY, TOML_OTHER } TomlKind;

typedef struct TomlReader {
        const char *what;
        const char *p, *end;
        unsigned line;
        RtError *err;
} TomlReader;

static int toml_error(TomlReader *t, const char *why) {
        return rt_err_setx(t->err, -EBADMSG, "%s:%u: %s", t->what, t->line, why);
}

/* spaces, and with newlines also comments and line ends (inside arrays) */
static void toml_skip(TomlReader *t, bool newlines) {
        while (t->p < t->end) {
                char c = *t->p;
                if (c == ' ' || c == '\t' || c == '\r')
                        t->p++;
                else if (c == '#' && newlines)
                        while (t->p < t->end && *t->p != '\n')
                                t->p++;
                else if (c == '\n' && newlines) {
                        t->line++;
                        t->p++;
                } else
                        break;
        }
}

#define TOML_STRING_MAX 1024

static int toml_string(TomlReader *t, char out[static TOML_STRING_MAX]) {
        char quote = *t->p++;
        size_t n = 0;
        for (;;) {
                if (t->p >= t->end || *t->p == '\n')
                        return toml_error(t, "a string is not closed");
                char c = *t->p++;
                if (c == quote)
                        break;
                if (c == '\\' && quote == '"') {
                        if (t->p >= t->end)
                                return toml_error(t, "a string is not closed");
                        char e = *t->p++;
                        c = e == 'n' ? '\n' : e == 't' ? '\t' : e == '"' ? '"' : e == '\\' ? '\\' : 0;
                        if (!c)
                                return toml_error(t, "an escape nsprov does not read (\\u…?)");
                }
                if ((unsigned char) c < 0x20 && c != '\t')
                        return toml_error(t, "a control character in a string");
                if (n + 1 >= TOML_STRING_MAX)
                        return toml_error(t, "a string is too long");
                out[n++] = c;
        }
        out[n] = '\0';
        return 0;
}

/* a bare key, or a quoted one ("docker.io/library/x" in [aliases]) */
static int toml_key(TomlReader *t, char out[static TOML_STRING_MAX]) {
        toml_skip(t, false);
        if (t->p < t->end && (*t->p == '"' || *t->p == '\''))
                return toml_string(t, out);
        size_t n = 0;
        while (t->p < t->end && (isalnum((unsigned char) *t->p) || *t->p == '-' || *t->p == '_' || *t->p == '.')) {
                if (n + 1 >= TOML_STRING_MAX)
                        return toml_error(t, "a key is too long");
                out[n++] = *t->p++;
        }
        out[n] = '\0';
        return n ? 0 : toml_error(t, "a key was expected");
}

/* A value: strings and arrays of strings are kept (array items into *ret_array), a bool
 * read, anything else (numbers, dates, inline tables of keys nsprov has no use for)
 * skipped to the end of its line or bracket. */
static int toml_value(TomlReader *t, TomlKind *kind, char str[static TOML_STRING_MAX], bool *ret_bool,
                      char ***ret_array) {
        toml_skip(t, false);
        if (t->p >= t->end)
                return toml_error(t, "a value was expected");
        char c = *t->p;
        if (c == '"' || c == '\'') {
                *kind = TOML_STRING;
                return toml_string(t, str);
        }
        if (c == '[') {
                *kind = TOML_ARRAY;
                t->p++;
                for (unsigned items = 0;; items++) {
                        toml_skip(t, true);
                        if (t->p >= t->end)
                                return toml_error(t, "an array is not closed");
                        if (*t->p == ']') {
                                t->p++;
                                return 0;
                        }
                        if (items > 1024)
                                return toml_error(t, "an array of over 1024 items");
                        if (*t->p != '"' && *t->p != '\'')
                                return toml_error(t, "an array of other than strings");
                        int r = toml_string(t, str);
                        if (r < 0)
                                return r;
                        if (strv_push(ret_array, str) < 0)
                                return rt_err_set(t->err, -ENOMEM, "%s", t->what);
                        toml_skip(t, true);
                        if (t->p < t->end && *t->p == ',')
                                t->p++;
                        else if (t->p < t->end && *t->p != ']')
                                return toml_error(t, "',' or ']' expected in an array");
                }
        }
        size_t n = (size_t) (t->end - t->p);
        if (n >= 4 && strncmp(t->p, "true", 4) == 0) {
                *kind = TOML_BOOL, *ret_bool = true, t->p += 4;
                return 0;
        }
        if (n >= 5 && strncmp(t->p, "false", 5) == 0) {
                *kind = TOML_BOOL, *ret_bool = false, t->p += 5;
                return 0;
        }
        *kind = TOML_OTHER;
        if (c == '{') {
                while (t->p < t->end && *t->p != '}' && *t->p != '\n')
                        t->p++;
                if (t->p >= t->end || *t->p != '}')
                        return toml_error(t, "an inline table is not closed on its line");
                t->p++;
                return 0;
        }
        while (t->p < t->end && *t->p != '\n' && *t->p != '#' && *t->p != ' ' && *t->p != '\t' && *t->p != '\r')
                t->p++;
        return 0;
}

void registries_conf_done(RegistriesConf *conf) {
        strv_free(conf->search);
        strv_free(conf->aliases);
        strv_free(conf->insecure);
        strv_free(conf->blocked);
        *conf = (RegistriesConf) {};
}

typedef struct RegistryEntry {
        char location[TOML_STRING_MAX];
        bool insecure, blocked;
} RegistryEntry;

static int registry_entry_flush(RegistriesConf *conf, RegistryEntry *e, RtError *err) {
        if (e->location[0] && ((e->insecure && strv_push(&conf->insecure, e->location) < 0) ||
                               (e->blocked && strv_push(&conf->blocked, e->location) < 0)))
                return rt_err_set(err, -ENOMEM, "registries.conf");
        *e = (RegistryEntry) {};
        return 0;
}

static int alias_set(RegistriesConf *conf, const char *name, const char *target, RtError *err) {
        for (size_t i = 0; conf->aliases && conf->aliases[i]; i += 2)
                if (streq(conf->aliases[i], name)) {
                        char *d = strdup(target);
                        if (!d)
                                return rt_err_set(err, -ENOMEM, "registries.conf");
                        free(conf->aliases[i + 1]);
                        conf->aliases[i + 1] = d;
                        return 0;
                }
        if (strv_push(&conf->aliases, name) < 0 || strv_push(&conf->aliases, target) < 0)
                return rt_err_set(err, -ENOMEM, "registries.conf");
        return 0;
}

int registries_conf_parse(const char *what, const char *text, size_t len, RegistriesConf *conf, RtError *err) {
        TomlReader t = { .what = what, .p = text, .end = text + len, .line = 1, .err = err };
        char table[TOML_STRING_MAX] = "", key[TOML_STRING_MAX], str[TOML_STRING_MAX];
        RegistryEntry entry = {};
        int r;
        if (memchr(text, '\0', len))
                return toml_error(&t, "a NUL byte");
        for (;;) {
                toml_skip(&t, true);
                if (t.p >= t.end)
                        break;
                if (*t.p == '[') {
                        bool array_table = t.p + 1 < t.end && t.p[1] == '[';
                        t.p += array_table ? 2 : 1;
                        if ((r = toml_key(&t, table)) < 0)
                                return r;
                        toml_skip(&t, false);
                        if (t.p >= t.end || *t.p != ']' || (array_table && (t.p + 1 >= t.end || t.p[1] != ']')))
                                return toml_error(&t, "a table header is not closed");
                        t.p += array_table ? 2 : 1;
                        if ((r = registry_entry_flush(conf, &entry, err)) < 0)
                                return r;
                        /* [[registry.mirror]] belongs to the entry before it: its keys are not the entry's */
                        if (array_table && streq(table, "registry.mirror"))
                                (void) snprintf(table, sizeof table, "registry.mirror");
                } else {
                        if ((r = toml_key(&t, key)) < 0)
                                return r;
                        toml_skip(&t, false);
                        if (t.p >= t.end || *t.p != '=')
                                return toml_error(&t, "'=' expected after a key");
                        t.p++;
                        TomlKind kind = TOML_OTHER;
                        bool b = false;
                        _cleanup_(strv_freep) char **array = NULL;
                        if ((r = toml_value(&t, &kind, str, &b, &array)) < 0)
                                return r;
                        if (!*table && streq(key, "unqualified-search-registries")) {
                                if (kind != TOML_ARRAY)
                                        return toml_error(&t, "unqualified-search-registries is not an array of strings");
                                strv_free(conf->search);
                                conf->search = TAKE_PTR(array);
                                if (!conf->search && !(conf->search = calloc(1, sizeof(char *))))
                                        return rt_err_set(err, -ENOMEM, "%s", what);
                        } else if (streq(table, "aliases")) {
                                if (kind != TOML_STRING)
                                        return toml_error(&t, "an alias is not a string");
                                if ((r = alias_set(conf, key, str, err)) < 0)
                                        return r;
                        } else if (streq(table, "registry")) {
                                if ((streq(key, "location") || (streq(key, "prefix") && !entry.location[0])) &&
                                    kind == TOML_STRING)
                                        (void) snprintf(entry.location, sizeof entry.location, "%s", str);
                                else if (streq(key, "insecure") && kind == TOML_BOOL)
                                        entry.insecure = b;
                                else if (streq(key, "blocked") && kind == TOML_BOOL)
                                        entry.blocked = b;
                        } else if (streq(key, "registries") && kind == TOML_ARRAY &&
                                   (streq(table, "registries.search") || streq(table, "registries.insecure") ||
                                    streq(table, "registries.block"))) {
                                /* the version 1 format */
                                char ***list = streq(table, "registries.search")     ? &conf->search :
                                               streq(table, "registries.insecure") ? &conf->insecure :
                                                                                     &conf->blocked;
                                for (char **a = array; a && *a; a++)
                                        if (strv_push(list, *a) < 0)
                                                return rt_err_set(err, -ENOMEM, "%s", what);
                        }
                }
                toml_skip(&t, false);
                if (t.p < t.end && *t.p == '#')
                        toml_skip(&t, true);
                else if (t.p < t.end && *t.p != '\n')
                        return toml_error(&t, "one key or table a line");
        }
        return registry_entry_flush(conf, &entry, err);
}

const char *registries_conf_alias(const RegistriesConf *conf, const char *short_name) {
        for (size_t i = 0; conf->aliases && conf->aliases[i]; i += 2)
                if (streq(conf->aliases[i], short_name))
                        return conf->aliases[i + 1];
        return NULL;
}

bool registries_conf_matches(char *const *locations, const char *registry, const char *repo) {
        char full[600];
        (void) snprintf(full, sizeof full, "%s/%s", registry, repo);
        for (char *const *l = locations; l && *l; l++) {
                size_t n = strlen(*l);
                if (n && strncmp(full, *l, n) == 0 && (full[n] == '/' || full[n] == '\0'))
                        return true;
        }
        return false;
}
