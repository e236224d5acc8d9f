/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images: the built-in `host` (the host's root, read-only) and named rootfs directories
 * with their config, stored as root/images/<name>.json; an image loaded from an archive
 * (image-archive.c) has its rootfs in the store too, root/images/<name>.rootfs. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "image-store.h"
#include "registry.h"
#include "fs.h"
#include "strv.h"

int ctr_image_name_check(const char *name, RtError *err) {
        size_t l = name ? strlen(name) : 0;
        if (l == 0 || l > 128)
                return rt_err_setx(err, -EINVAL, "image name must be 1-128 characters");
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) name[i];
                /* The image name is a file name in the store: no '/', no leading dot. */
                if (!isascii(c) || !(isalnum(c) || c == '_' || c == '.' || c == '-') ||
                    (i == 0 && !isalnum(c)))
                        return rt_err_setx(err, -EINVAL,
                                           "invalid image name '%.64s': use [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                           name);
        }
        return 0;
}

void image_done(Image *img) {
        if (!img)
                return;
        free(img->name);
        free(img->rootfs);
        strv_free(img->config.cmd);
        strv_free(img->config.entrypoint);
        strv_free(img->config.env);
        free(img->config.workdir);
        free(img->config.stop_signal);
        free(img->config.ready);
        free(img->reference);
        free(img->digest);
        strv_free(img->layers);
        *img = (Image) {};
}

void image_list_free(Image *imgs, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_done(&imgs[i]);
        free(imgs);
}

static int builtin_host(Image *ret) {
        static char *const shell[] = { (char *) "/bin/sh", NULL };
        static char *const env[] = {
                (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
        };
        Image img = { .builtin = true };
        img.name = strdup(CTR_HOST_IMAGE);
        img.rootfs = strdup(CTR_HOST_IMAGE);
        img.config.cmd = strv_copy(shell);
        img.config.env = strv_copy(env);
        if (!img.name || !img.rootfs || !img.config.cmd || !img.config.env) {
                image_done(&img);
                return -ENOMEM;
        }
        /* The host's root is as old as the host's release, which os-release dates (not
         * 1970, which clients would show as "56 years ago"). */
        struct stat st;
        if (stat("/etc/os-release", &st) == 0 || stat("/", &st) == 0)
                img.created_ns = (uint64_t) st.st_mtim.tv_sec * 1000000000ull + (uint64_t) st.st_mtim.tv_nsec;
        *ret = img;
        return 0;
}

static void image_path(const CtrStore *s, const char *name, char buf[static PATH_MAX]) {
        store_path(s, STORE_IMAGES, name, ".json", buf);
}

/* a record's layers name blobs of the store: digests, nothing that walks out of it */
static bool layers_valid(char *const *layers) {
        for (char *const *l = layers; l && *l; l++)
                if (!image_digest_valid(*l))
                        return false;
        return true;
}

static int opt_strv(json_t *o, const char *key, char ***ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                *ret = NULL;
                return 0;
        }
        return strv_from_json(v, CTR_MAX_ARGS, ret);
}

static int opt_str(json_t *o, const char *key, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return -EBADMSG;
        return (*ret = strdup(json_string_value(v))) ? 0 : -ENOMEM;
}

int ctr_image_load(const CtrStore *s, const char *name, Image *ret, RtError *err) {
        int r = ctr_image_name_check(name, err);
        if (r < 0)
                return r;
        if (streq(name, CTR_HOST_IMAGE))
                return builtin_host(ret) < 0 ? rt_err_set(err, -ENOMEM, "image") : 0;

        char p[PATH_MAX];
        image_path(s, name, p);
        char *text = NULL;
        size_t len;
        r = read_file(p, 1 << 20, &text, &len, NULL);
        if (r == -ENOENT)
                return rt_err_setx(err, -ENOENT, "no such image '%s'", name);
        if (r < 0)
                return rt_err_set(err, r, "read image '%s'", name);
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        free(text);
        if (!j)
                return rt_err_setx(err, -EBADMSG, "%s:%d:%d: %s", p, je.line, je.column, je.text);
        Image img = {};
        json_t *cfg = json_object_get(j, "config");
        if ((r = opt_str(j, "name", &img.name)) < 0 || (r = opt_str(j, "rootfs", &img.rootfs)) < 0 ||
            (r = opt_strv(cfg, "Cmd", &img.config.cmd)) < 0 ||
            (r = opt_strv(cfg, "Entrypoint", &img.config.entrypoint)) < 0 ||
            (r = opt_strv(cfg, "Env", &img.config.env)) < 0 ||
            (r = opt_str(cfg, "WorkingDir", &img.config.workdir)) < 0 ||
            (r = opt_str(cfg, "StopSignal", &img.config.stop_signal)) < 0 ||
            (r = opt_str(json_object_get(cfg, "Labels"), CTR_READY_LABEL, &img.config.ready)) < 0 ||
            (r = opt_str(j, "reference", &img.reference)) < 0 || (r = opt_str(j, "digest", &img.digest)) < 0 ||
            (r = opt_strv(j, "layers", &img.layers)) < 0 || !layers_valid(img.layers) ||
            ctr_ready_check(img.config.ready, NULL) < 0 || !img.name || !img.rootfs) {
                json_decref(j);
                image_done(&img);
                return rt_err_setx(err, -EBADMSG, "%s is not a valid image record", p);
        }
        img.created_ns = (uint64_t) json_integer_value(json_object_get(j, "created"));
        img.stored = json_is_true(json_object_get(j, "stored"));
        json_decref(j);
        *ret = img;
        return 0;
}

int ctr_image_resolve(const CtrStore *s, const char *ref, Image *ret, RtError *err) {
        if (!ref || !*ref)
                return rt_err_setx(err, -EINVAL, "no image given");
        char cand[4][CTR_IMAGE_NAME_MAX + 16];
        const char *bare = startswith(ref, "localhost/") ?: startswith(ref, "docker.io/library/") ?:
                           startswith(ref, "docker.io/") ?: ref;
        (void) snprintf(cand[0], sizeof cand[0], "%s", ref);
        (void) snprintf(cand[1], sizeof cand[1], "%s", bare);
        (void) snprintf(cand[2], sizeof cand[2], "%s", bare);
        char *tag = strrchr(cand[2], ':');
        if (tag && streq(tag, ":latest"))
                *tag = '\0';
        /* what a load of an archive with this reference named it */
        if (image_name_from_reference(ref, cand[3], NULL) < 0)
                cand[3][0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(cand); i++)
                if (ctr_image_name_check(cand[i], NULL) == 0 && ctr_image_load(s, cand[i], ret, NULL) == 0)
                        return 0;
        return rt_err_setx(err, -ENOENT, "no such image '%.200s'", ref);
}

int ctr_image_add(const CtrStore *s, const Image *img, RtError *err) {
        int r = ctr_image_name_check(img->name, err);
        if (r < 0)
                return r;
        if (streq(img->name, CTR_HOST_IMAGE))
                return rt_err_setx(err, -EEXIST, "image 'host' is built in");
        if (!streq(img->rootfs, CTR_HOST_IMAGE)) {
                struct stat st;
                if (img->rootfs[0] != '/')
                        return rt_err_setx(err, -EINVAL, "rootfs '%s' must be an absolute path",
                                           img->rootfs);
                /* it becomes an overlay lowerdir, where ',' and ':' are separators */
                if (strpbrk(img->rootfs, ",:\\"))
                        return rt_err_setx(err, -EINVAL, "rootfs '%s' must not contain ',', ':' or '\\'",
                                           img->rootfs);
                if (stat(img->rootfs, &st) < 0)
                        return rt_err_set(err, -errno, "rootfs '%s'", img->rootfs);
                if (!S_ISDIR(st.st_mode))
                        return rt_err_setx(err, -ENOTDIR, "rootfs '%s' is not a directory",
                                           img->rootfs);
        }
        if (img->config.stop_signal && signal_from_string(img->config.stop_signal) < 0)
                return rt_err_setx(err, -EINVAL, "unknown stop signal '%s'", img->config.stop_signal);
        if (img->config.workdir && img->config.workdir[0] != '/')
                return rt_err_setx(err, -EINVAL, "workdir '%s' must be absolute", img->config.workdir);
        if ((r = ctr_ready_check(img->config.ready, err)) < 0)
                return r;

        json_t *cfg = json_pack("{s:o, s:o, s:o, s:s?, s:s?}", "Cmd",
                                img->config.cmd ? strv_to_json(img->config.cmd) : json_null(),
                                "Entrypoint",
                                img->config.entrypoint ? strv_to_json(img->config.entrypoint) : json_null(),
                                "Env", strv_to_json(img->config.env), "WorkingDir",
                                img->config.workdir, "StopSignal", img->config.stop_signal);
        /* readiness as an image label, the form an image built elsewhere carries it in */
        if (cfg && img->config.ready)
                (void) json_object_set_new(cfg, "Labels", json_pack("{s:s}", CTR_READY_LABEL, img->config.ready));
        json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:b}", "name", img->name, "rootfs", img->rootfs,
                              "created", (json_int_t) now_realtime_ns(), "config", cfg, "stored", img->stored);
        if (j && img->reference && img->digest && img->layers &&
            json_object_update_new(j, json_pack("{s:s, s:s, s:o}", "reference", img->reference, "digest",
                                                img->digest, "layers", strv_to_json(img->layers))) < 0) {
                json_decref(j);
                j = NULL;
        }
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (!text)
                return rt_err_set(err, -ENOMEM, "encode image");
        char p[PATH_MAX];
        image_path(s, img->name, p);
        /* An existing name is refused; the check and the write are not atomic, but image
         * records are written by people, not by racing LNST runs. */
        if (access(p, F_OK) == 0) {
                free(text);
                return rt_err_setx(err, -EEXIST, "image '%s' already exists", img->name);
        }
        r = write_file_atomic(p, text, strlen(text), 0600, WRITE_DURABLE, err);
        free(text);
        return r;
}

int ctr_image_remove(const CtrStore *s, const char *name, bool force, RtError *err) {
        int r = ctr_image_name_check(name, err);
        if (r < 0)
                return r;
        if (streq(name, CTR_HOST_IMAGE))
                return rt_err_setx(err, -EPERM, "image 'host' is built in and cannot be removed");
        Image img;
        if ((r = ctr_image_load(s, name, &img, err)) < 0)
                return r;
        bool stored = img.stored, pulled = img.layers != NULL;
        image_done(&img);
        Container *cs = NULL;
        size_t n = 0;
        if ((r = ctr_list(s, &cs, &n, err)) < 0)
                return r;
        int users = 0;
        for (size_t i = 0; i < n; i++)
                users += streq(cs[i].config.image, name);
        ctr_list_free(cs, n);
        /* --force leaves a registered rootfs to its containers; a stored one would go from
         * under them */
        if (users && (!force || stored))
                return rt_err_setx(err, -EBUSY, "image '%s' is used by %d container(s); remove them%s", name,
                                   users, stored ? " first" : " or use --force");
        char p[PATH_MAX];
        image_path(s, name, p);
        if (unlink(p) < 0)
                return rt_err_set(err, -errno, "remove image '%s'", name);
        if (stored) {
                /* where the store keeps it, whatever the record says */
                ctr_image_stored_rootfs(s, name, p);
                if ((r = rm_rf(p, err)) < 0)
                        return rt_err_prefix(err, r, "remove the rootfs of image '%s'", name);
        }
        if (pulled) {
                /* its layers go unless another image has them too */
                store_path(s, STORE_IMAGES, ".load.lock", NULL, p);
                _cleanup_close_ int lock = lock_file(p, true, err);
                if (lock < 0 || (r = image_blobs_sweep(s, err)) < 0)
                        return rt_err_prefix(err, lock < 0 ? lock : r, "remove the layers of image '%s'", name);
        }
        return 0;
}

int image_record_unlink(const CtrStore *s, const char *name, RtError *err) {
        char p[PATH_MAX];
        image_path(s, name, p);
        return unlink(p) < 0 && errno != ENOENT ? rt_err_set(err, -errno, "remove image '%s'", name) : 0;
}

void image_blob_path(const CtrStore *s, const char *digest, char buf[static PATH_MAX]) {
        char name[128];
        (void) snprintf(name, sizeof name, "blobs/sha256/%s", startswith(digest, "sha256:") ?: digest);
        store_path(s, STORE_IMAGES, name, NULL, buf);
}

int image_blobs_sweep(const CtrStore *s, RtError *err) {
        char dir[PATH_MAX];
        image_blob_path(s, "", dir);
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : rt_err_set(err, -errno, "open %s", dir);
        Image *imgs = NULL;
        size_t n = 0;
        int r = ctr_image_list(s, &imgs, &n, err);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char digest[IMAGE_DIGEST_MAX + 8];
                (void) snprintf(digest, sizeof digest, "sha256:%.64s", de->d_name);
                bool used = false;
                for (size_t i = 0; i < n && !used; i++)
                        used = strv_contains(imgs[i].layers, digest);
                if (!used && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        r = rt_err_set(err, -errno, "remove the layer blob %s", digest);
                        break;
                }
        }
        image_list_free(imgs, n);
        return r;
}

static int cmp_name(const void *a, const void *b) {
        return strcmp(((const Image *) a)->name, ((const Image *) b)->name);
}

static int list_load_image(const CtrStore *s, const char *name, void *slot) {
        *(Image *) slot = (Image) {};
        return ctr_image_load(s, name, slot, NULL);
}

static void list_done_image(void *slot) {
        image_done(slot);
}

int ctr_image_list(const CtrStore *s, Image **ret, size_t *ret_n, RtError *err) {
        void *stored = NULL;
        size_t n = 0;
        int r = store_list(s, STORE_IMAGES, ".json", sizeof(Image), list_load_image, list_done_image, cmp_name,
                           &stored, &n, err);
        if (r < 0)
                return r;
        /* the built-in one first */
        Image *imgs = realloc(stored, (n + 1) * sizeof *imgs);
        if (!imgs) {
                image_list_free(stored, n);
                return rt_err_set(err, -ENOMEM, "list images");
        }
        memmove(imgs + 1, imgs, n * sizeof *imgs);
        if (builtin_host(&imgs[0]) < 0) {
                imgs[0] = (Image) {};
                image_list_free(imgs, n + 1);
                return rt_err_set(err, -ENOMEM, "list images");
        }
        *ret = imgs;
        *ret_n = n + 1;
        return 0;
}
