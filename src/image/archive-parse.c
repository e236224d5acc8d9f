/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of an image archive's load that read its input (outside input: unit-tested
 * and fuzzed): member and entry paths, whiteouts, link targets, docker-archive manifests,
 * OCI indexes and manifests, image configs, references. Nothing here touches a file. */
#define _GNU_SOURCE
#include <archive.h>
#include <ctype.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "forkexec.h"
#include "image.h"
#include "dynlib.h"
#include "fs.h"
#include "log.h"
#include "strv.h"
#include "sys.h"

#define ARCHIVE_MAX_MEMBERS 100000
#define ARCHIVE_MAX_LAYERS 256
#define ARCHIVE_MAX_JSON (8u << 20) /* a manifest, an index, a config */


/* ---- the parts that read outside input (unit-tested and fuzzed) ---- */

int image_member_path(const char *raw, char out[static PATH_MAX]) {
        size_t o = 0;
        const char *p = raw;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t l = (size_t) (end - p);
                if (l == 0)
                        break;
                if (l == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (!(l == 1 && p[0] == '.')) {
                        if (o + (o ? 1 : 0) + l >= PATH_MAX || l > NAME_MAX)
                                return -ENAMETOOLONG;
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, l);
                        o += l;
                }
                p = end;
        }
        out[o] = '\0';
        return 0;
}

/* dir/target of a symlink or hard link inside the archive, ".." resolved as far as the
 * archive's top and no further */
int image_member_link_target(const char *link_path, const char *target, char out[static PATH_MAX]) {
        char joined[2 * PATH_MAX];
        if (target[0] == '/')
                (void) snprintf(joined, sizeof joined, "%s", target);
        else {
                const char *slash = strrchr(link_path, '/');
                (void) snprintf(joined, sizeof joined, "%.*s/%s", slash ? (int) (slash - link_path) : 0,
                                link_path, target);
        }
        size_t o = 0;
        for (char *save, *w = strtok_r(joined, "/", &save); w; w = strtok_r(NULL, "/", &save)) {
                if (streq(w, "."))
                        continue;
                if (streq(w, "..")) {
                        if (o == 0)
                                return -EINVAL;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                        continue;
                }
                size_t l = strlen(w);
                if (o + 1 + l >= PATH_MAX)
                        return -ENAMETOOLONG;
                if (o)
                        out[o++] = '/';
                memcpy(out + o, w, l);
                o += l;
        }
        out[o] = '\0';
        return 0;
}

int image_whiteout(const char *clean, char target[static PATH_MAX]) {
        const char *slash = strrchr(clean, '/');
        const char *base = slash ? slash + 1 : clean;
        if (!startswith(base, ".wh."))
                return WHITEOUT_NONE;
        int dir_len = slash ? (int) (slash - clean) : 0;
        if (streq(base, ".wh..wh..opq")) {
                (void) snprintf(target, PATH_MAX, "%.*s", dir_len, clean);
                return WHITEOUT_OPAQUE;
        }
        const char *name = base + 4;
        /* other .wh..wh. names are the storage driver's own (AUFS hard link dirs) */
        if (!*name || streq(name, ".") || streq(name, "..") || startswith(name, ".wh."))
                return -EINVAL;
        (void) snprintf(target, PATH_MAX, "%.*s%s%s", dir_len, clean, dir_len ? "/" : "", name);
        return WHITEOUT_ENTRY;
}

void archive_manifest_done(ArchiveManifest *m) {
        free(m->config);
        strv_free(m->layers);
        free(m->reference);
        *m = (ArchiveManifest) {};
}

static json_t *json_parse(const char *what, const char *text, size_t len, RtError *err) {
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                (void) rt_err_setx(err, -EBADMSG, "%s:%d:%d: %s", what, je.line, je.column, je.text);
        return j;
}

static int member_from_json(json_t *v, const char *what, char **ret, RtError *err) {
        char clean[PATH_MAX];
        if (!json_is_string(v) || image_member_path(json_string_value(v), clean) < 0 || !*clean)
                return rt_err_setx(err, -EBADMSG, "%s: not a path inside the archive", what);
        return (*ret = strdup(clean)) ? 0 : rt_err_set(err, -ENOMEM, "%s", what);
}

/* a manifest's layer list, bottom first, each entry made a member path by member_of */
static int manifest_layers(json_t *layers, const char *what,
                           int (*member_of)(json_t *v, const char *what, char **ret, RtError *err), char ***ret,
                           RtError *err) {
        if (!json_is_array(layers) || json_array_size(layers) > ARCHIVE_MAX_LAYERS)
                return rt_err_setx(err, -EBADMSG, "%s: not a list of at most %d layers", what, ARCHIVE_MAX_LAYERS);
        size_t i;
        json_t *v;
        json_array_foreach(layers, i, v) {
                char *p = NULL;
                int r = member_of(v, what, &p, err);
                if (r == 0 && (r = strv_push(ret, p)) < 0)
                        (void) rt_err_set(err, r, "%s", what);
                free(p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_docker_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err) {
        *ret = (ArchiveManifest) {};
        json_auto_t *j = json_parse("manifest.json", text, len, err);
        if (!j)
                return -EBADMSG;
        if (!json_is_array(j) || json_array_size(j) == 0)
                return rt_err_setx(err, -EBADMSG, "manifest.json: not a list of images");
        if (json_array_size(j) > 1)
                return rt_err_setx(err, -EOPNOTSUPP, "the archive holds %zu images; nsprov loads one at a time",
                                   json_array_size(j));
        json_t *m = json_array_get(j, 0), *layers = json_object_get(m, "Layers");
        json_t *tags = json_object_get(m, "RepoTags");
        ArchiveManifest am = {};
        int r = member_from_json(json_object_get(m, "Config"), "manifest.json: Config", &am.config, err);
        if (r == 0)
                r = manifest_layers(layers, "manifest.json: Layers", member_from_json, &am.layers, err);
        if (r == 0 && json_is_array(tags) && json_is_string(json_array_get(tags, 0)) &&
            !(am.reference = strdup(json_string_value(json_array_get(tags, 0)))))
                r = rt_err_set(err, -ENOMEM, "manifest.json");
        if (r < 0) {
                archive_manifest_done(&am);
                return r;
        }
        *ret = am;
        return 0;
}

/* "sha256:<hex>" as the member blobs/sha256/<hex> (OCI image layout) */
static int oci_blob_member(json_t *desc, const char *what, char **ret, RtError *err) {
        const char *d = json_string_value(json_object_get(desc, "digest"));
        const char *colon = d ? strchr(d, ':') : NULL;
        size_t alg_len = colon ? (size_t) (colon - d) : 0;
        /* the encoded part becomes a file name: at most NAME_MAX (sha512's hex is 128) */
        bool ok = colon && alg_len > 0 && alg_len <= 32 && colon[1] && strlen(colon + 1) <= NAME_MAX;
        for (const char *c = d; ok && c < colon; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
        for (const char *c = ok ? colon + 1 : ""; *c; c++)
                ok = ok && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                            *c == '=' || *c == '_' || *c == '-');
        if (!ok)
                return rt_err_setx(err, -EBADMSG, "%s: no valid digest", what);
        if (asprintf(ret, "blobs/%.*s/%s", (int) alg_len, d, colon + 1) < 0) {
                *ret = NULL;
                return rt_err_set(err, -ENOMEM, "%s", what);
        }
        return 0;
}

/* a layer descriptor: a tar (compressed or not) by its digest */
static int oci_layer_member(json_t *desc, const char *what, char **ret, RtError *err) {
        const char *type = json_string_value(json_object_get(desc, "mediaType"));
        if (type && !strstr(type, "tar"))
                return rt_err_setx(err, -EOPNOTSUPP, "%s: a layer is %s, not a tar", what, type);
        return oci_blob_member(desc, what, ret, err);
}

int image_oci_index_parse(const char *text, size_t len, char **ret_manifest, char **ret_reference, RtError *err) {
        *ret_manifest = *ret_reference = NULL;
        json_auto_t *j = json_parse("index.json", text, len, err);
        if (!j)
                return -EBADMSG;
        json_t *ms = json_object_get(j, "manifests");
        if (!json_is_array(ms) || json_array_size(ms) == 0)
                return rt_err_setx(err, -EBADMSG, "index.json: no manifests");
        if (json_array_size(ms) > 1)
                return rt_err_setx(err, -EOPNOTSUPP, "the archive holds %zu images; nsprov loads one at a time",
                                   json_array_size(ms));
        json_t *m = json_array_get(ms, 0);
        const char *type = json_string_value(json_object_get(m, "mediaType"));
        if (type && strstr(type, "index"))
                return rt_err_setx(err, -EOPNOTSUPP, "index.json points to an image index (%s): "
                                   "save one platform's image", type);
        int r = oci_blob_member(m, "index.json: manifests[0]", ret_manifest, err);
        if (r < 0)
                return r;
        const char *ref = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                            "org.opencontainers.image.ref.name"));
        if (ref && !(*ret_reference = strdup(ref))) {
                free(*ret_manifest);
                *ret_manifest = NULL;
                return rt_err_set(err, -ENOMEM, "index.json");
        }
        return 0;
}

int image_oci_manifest_parse(const char *text, size_t len, ArchiveManifest *ret, RtError *err) {
        *ret = (ArchiveManifest) {};
        json_auto_t *j = json_parse("the image manifest", text, len, err);
        if (!j)
                return -EBADMSG;
        json_t *layers = json_object_get(j, "layers");
        ArchiveManifest am = {};
        int r = oci_blob_member(json_object_get(j, "config"), "manifest: config", &am.config, err);
        if (r == 0)
                r = manifest_layers(layers, "manifest: layers", oci_layer_member, &am.layers, err);
        if (r < 0) {
                archive_manifest_done(&am);
                return r;
        }
        *ret = am;
        return 0;
}

static int config_strv(json_t *cfg, const char *key, char ***ret, RtError *err) {
        json_t *v = json_object_get(cfg, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (strv_from_json(v, CTR_MAX_ARGS, ret) < 0)
                return rt_err_setx(err, -EBADMSG, "image config: %s is not a list of strings", key);
        return 0;
}

int image_config_parse(const char *text, size_t len, ImageConfig *ret, RtError *err) {
        *ret = (ImageConfig) {};
        json_auto_t *j = json_parse("the image config", text, len, err);
        if (!j)
                return -EBADMSG;
        if (!json_is_object(j))
                return rt_err_setx(err, -EBADMSG, "the image config is not an object");
        /* "config" in Docker's and OCI's; "container_config" only describes a build step */
        json_t *cfg = json_object_get(j, "config");
        ImageConfig c = {};
        int r = 0;
        if (cfg && !json_is_null(cfg) && !json_is_object(cfg))
                r = rt_err_setx(err, -EBADMSG, "image config: config is not an object");
        if (r == 0)
                r = config_strv(cfg, "Cmd", &c.cmd, err);
        if (r == 0)
                r = config_strv(cfg, "Entrypoint", &c.entrypoint, err);
        if (r == 0)
                r = config_strv(cfg, "Env", &c.env, err);
        for (size_t i = 0; r == 0 && c.env && c.env[i]; i++)
                if (!strchr(c.env[i], '=') || c.env[i][0] == '=')
                        r = rt_err_setx(err, -EBADMSG, "image config: Env entry '%.64s' is not K=V", c.env[i]);
        const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
        const char *sig = json_string_value(json_object_get(cfg, "StopSignal"));
        /* Docker writes "" for none; a relative one is relative to / */
        if (r == 0 && wd && *wd && asprintf(&c.workdir, "%s%s", wd[0] == '/' ? "" : "/", wd) < 0) {
                c.workdir = NULL;
                r = rt_err_set(err, -ENOMEM, "image config");
        }
        if (r == 0 && sig && *sig && !(c.stop_signal = strdup(sig)))
                r = rt_err_set(err, -ENOMEM, "image config");
        json_t *labels = json_object_get(cfg, "Labels");
        json_t *ready = json_object_get(labels, CTR_READY_LABEL);
        if (r == 0 && labels && !json_is_null(labels) && !json_is_object(labels))
                r = rt_err_setx(err, -EBADMSG, "image config: Labels is not an object");
        if (r == 0 && ready && !json_is_string(ready))
                r = rt_err_setx(err, -EBADMSG, "image config: label %s is not a string", CTR_READY_LABEL);
        if (r == 0 && ready && (r = ctr_ready_check(json_string_value(ready), err)) < 0)
                r = rt_err_prefix(err, r, "image config: label %s", CTR_READY_LABEL);
        if (r == 0 && ready && !(c.ready = strdup(json_string_value(ready))))
                r = rt_err_set(err, -ENOMEM, "image config");
        if (r < 0) {
                Image tmp = { .config = c };
                image_done(&tmp);
                return r;
        }
        *ret = c;
        return 0;
}

/* a repository path's components: [registry[:port]/]path/name, none empty, "." or ".." */
static bool reference_path_valid(const char *repo) {
        bool first = true;
        for (const char *p = repo;; first = false) {
                const char *end = strchrnul(p, '/');
                size_t l = (size_t) (end - p);
                if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (const char *c = p; c < end; c++)
                        if (!(isalnum((unsigned char) *c) || *c == '.' || *c == '_' || *c == '-' ||
                              (*c == ':' && first && *end == '/')))
                                return false;
                if (!*end)
                        return true;
                p = end + 1;
        }
}

int image_name_from_reference(const char *ref, char out[static CTR_IMAGE_NAME_MAX + 1], RtError *err) {
        char buf[512];
        if (!ref || strlen(ref) >= sizeof buf)
                return rt_err_setx(err, -EINVAL, "no usable image name in the archive: give one with --name");
        (void) snprintf(buf, sizeof buf, "%s", ref);
        char *at = strchr(buf, '@'); /* a digest pins, it names nothing */
        if (at)
                *at = '\0';
        char *slash = strrchr(buf, '/');
        char *colon = strrchr(slash ? slash : buf, ':');
        const char *tag = NULL;
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
        }
        const char *base = slash ? slash + 1 : buf;
        int n = tag && !streq(tag, "latest") ? snprintf(out, CTR_IMAGE_NAME_MAX + 1, "%s-%s", base, tag)
                                             : snprintf(out, CTR_IMAGE_NAME_MAX + 1, "%s", base);
        if (!reference_path_valid(buf) || n > CTR_IMAGE_NAME_MAX || ctr_image_name_check(out, NULL) < 0)
                return rt_err_setx(err, -EINVAL, "no usable image name in '%.128s': give one with --name", ref);
        return 0;
}


/* ---- `import --change`: Dockerfile instructions over an imported rootfs's config ---- */

enum { IMAGE_CHANGE_MAX = 65536 };

/* CMD and ENTRYPOINT: a JSON array (exec form), or a line for /bin/sh -c (shell form) */
static int change_command(const char *what, const char *value, char ***field, RtError *err) {
        _cleanup_(strv_freep) char **argv = NULL;
        if (value[0] == '[') {
                json_auto_t *j = json_loads(value, JSON_REJECT_DUPLICATES, NULL);
                if (!j || strv_from_json(j, CTR_MAX_ARGS, &argv) < 0)
                        return rt_err_setx(err, -EINVAL, "change %s: '%.64s' is not a JSON array of strings", what,
                                           value);
        } else if (!*value)
                return rt_err_setx(err, -EINVAL, "change %s: no command", what);
        else if (strv_push(&argv, "/bin/sh") < 0 || strv_push(&argv, "-c") < 0 || strv_push(&argv, value) < 0)
                return rt_err_set(err, -ENOMEM, "change %s", what);
        strv_free(*field);
        /* CMD [] is no command; ENTRYPOINT [] is meaningful, no entrypoint */
        *field = streq(what, "CMD") && (!argv || !argv[0]) ? NULL : TAKE_PTR(argv);
        if (!*field && !streq(what, "CMD") && !(*field = calloc(1, sizeof(char *))))
                return rt_err_set(err, -ENOMEM, "change %s", what);
        return 0;
}

/* "K=V" or "K V", the value the rest of the line */
static int change_key_value(const char *what, const char *value, char **ret_key, char **ret_value, RtError *err) {
        size_t k = strcspn(value, "= \t");
        if (k == 0 || !value[k])
                return rt_err_setx(err, -EINVAL, "change %s: '%.64s' is not KEY=VALUE", what, value);
        const char *v = value + k + 1;
        if (value[k] != '=')
                v += strspn(v, " \t");
        if (!(*ret_key = strndup(value, k)) || !(*ret_value = strdup(v))) {
                free(*ret_key);
                return rt_err_set(err, -ENOMEM, "change %s", what);
        }
        return 0;
}

int image_change_apply(const char *change, ImageConfig *cfg, RtError *err) {
        if (!change || strlen(change) > IMAGE_CHANGE_MAX)
                return rt_err_setx(err, -EINVAL, "a change is at most %d characters", IMAGE_CHANGE_MAX);
        for (const char *c = change; *c; c++)
                if ((unsigned char) *c < 0x20 && *c != '\t')
                        return rt_err_setx(err, -EINVAL, "change '%.32s': a control character", change);
        /* "INSTRUCTION value" or, as Podman also takes it, "INSTRUCTION=value" */
        size_t kl = strcspn(change, " \t=");
        char what[16];
        if (kl == 0 || kl >= sizeof what)
                return rt_err_setx(err, -EINVAL, "change '%.32s': no instruction", change);
        for (size_t i = 0; i < kl; i++)
                what[i] = (char) toupper((unsigned char) change[i]);
        what[kl] = '\0';
        const char *value = change + kl;
        value += strspn(value, " \t");
        if (*value == '=' && change[kl] == '=')
                value++;
        int r;
        if (streq(what, "CMD"))
                return change_command(what, value, &cfg->cmd, err);
        if (streq(what, "ENTRYPOINT"))
                return change_command(what, value, &cfg->entrypoint, err);
        if (streq(what, "WORKDIR")) {
                if (!*value || strstr(value, ".."))
                        return rt_err_setx(err, -EINVAL, "change WORKDIR: '%.64s' is not a plain path", value);
                free(cfg->workdir);
                if (asprintf(&cfg->workdir, "%s%s", value[0] == '/' ? "" : "/", value) < 0) {
                        cfg->workdir = NULL;
                        return rt_err_set(err, -ENOMEM, "change WORKDIR");
                }
                return 0;
        }
        if (streq(what, "STOPSIGNAL")) {
                if (signal_from_string(value) < 0)
                        return rt_err_setx(err, -EINVAL, "change STOPSIGNAL: unknown signal '%.32s'", value);
                free(cfg->stop_signal);
                return (cfg->stop_signal = strdup(value)) ? 0 : rt_err_set(err, -ENOMEM, "change STOPSIGNAL");
        }
        if (streq(what, "ENV") || streq(what, "LABEL")) {
                _cleanup_free_ char *key = NULL, *val = NULL;
                if ((r = change_key_value(what, value, &key, &val, err)) < 0)
                        return r;
                if (streq(what, "LABEL")) {
                        if (!streq(key, CTR_READY_LABEL))
                                return rt_err_setx(err, -EOPNOTSUPP,
                                                   "change LABEL %.64s: nsprov's images keep one label, %s", key,
                                                   CTR_READY_LABEL);
                        if ((r = ctr_ready_check(val, err)) < 0)
                                return rt_err_prefix(err, r, "change LABEL %s", CTR_READY_LABEL);
                        free(cfg->ready);
                        cfg->ready = TAKE_PTR(val);
                        return 0;
                }
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", key, val) < 0)
                        return rt_err_set(err, -ENOMEM, "change ENV");
                return strv_env_set(&cfg->env, kv) < 0 ? rt_err_set(err, -ENOMEM, "change ENV") : 0;
        }
        if (streq(what, "USER") || streq(what, "EXPOSE") || streq(what, "VOLUME") || streq(what, "ONBUILD"))
                return rt_err_setx(err, -EOPNOTSUPP, "change %s is not supported by nsprov's images", what);
        return rt_err_setx(err, -EINVAL,
                           "change '%.32s': not CMD, ENTRYPOINT, ENV, WORKDIR, STOPSIGNAL or LABEL", change);
}
