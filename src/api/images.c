/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images (spec 2, 3.4): list, inspect, exists, load; pull answers that nsprov has none. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "cleanup.h"
#include "cni.h"
#include "fs.h"
#include "log.h"
#include "parse.h"
#include "proc.h"
#include "strv.h"


/* ---- images (2, 3.4) ---- */

/* An image's id: the hash of its name; Docker's clients want it as a digest. */
static void image_id(const Image *img, bool digest, char buf[static 72]) {
        char id[65];
        net_cni_id(img->name, id);
        (void) snprintf(buf, 72, "%s%s", digest ? "sha256:" : "", id);
}

/* images/json entries (3.4): libpod's ImageSummary, or Docker's for the compat API;
 * Created is a unix time here, an int64 to both clients. */
static json_t *image_summary_json(const Image *img, bool libpod) {
        char id[72], digest[72], tag[300];
        image_id(img, !libpod, id);
        image_id(img, true, digest);
        (void) snprintf(tag, sizeof tag, "localhost/%s:latest", img->name);
        json_t *j = json_pack("{s:s, s:s, s:[s], s:[], s:I, s:I, s:I, s:I, s:n, s:i}", "Id", id, "ParentId", "",
                              "RepoTags", tag, "RepoDigests", "Created", (json_int_t) (img->created_ns / 1000000000),
                              "Size", (json_int_t) 0, "SharedSize", (json_int_t) 0, "VirtualSize", (json_int_t) 0,
                              "Labels", "Containers", 0);
        if (j && libpod)
                (void) json_object_update_new(j, json_pack("{s:[s], s:s, s:[s], s:b, s:b}", "Names", tag, "Digest",
                                                           digest, "History", tag, "Dangling", 0, "ReadOnly", 0));
        return j;
}

/* images/{name}/json (3.4): Created in RFC 3339, the config a client reads. */
static json_t *image_inspect_json(const Image *img, bool libpod) {
        char id[72], digest[72], created[40], tag[300];
        image_id(img, !libpod, id);
        image_id(img, true, digest);
        (void) snprintf(tag, sizeof tag, "localhost/%s:latest", img->name);
        return json_pack("{s:s, s:s, s:[s], s:[], s:s, s:s, s:s, s:{s:o, s:o, s:o, s:s, s:s, s:n, s:s?}, s:s, "
                         "s:s, s:s, s:s, s:I, s:I, s:{s:s, s:{}}, s:{s:s, s:[]}, s:n, s:n, s:s, s:s, s:[], s:[s]}",
                         "Id", id, "Digest", digest, "RepoTags", tag, "RepoDigests", "Parent", "", "Comment", "",
                         "Created", format_rfc3339(img->created_ns, created), "Config", "Cmd",
                         strv_to_json(img->config.cmd), "Entrypoint", strv_to_json(img->config.entrypoint), "Env",
                         strv_to_json(img->config.env), "WorkingDir", img->config.workdir ?: "/", "User", "",
                         "Labels", "StopSignal", img->config.stop_signal, "Version", "", "Author", "",
                         "Architecture", "amd64", "Os", "linux", "Size", (json_int_t) 0, "VirtualSize",
                         (json_int_t) 0, "GraphDriver", "Name", "overlay", "Data", "RootFS", "Type", "layers",
                         "Layers", "Labels", "Annotations", "ManifestType",
                         "application/vnd.oci.image.manifest.v1+json", "User", "", "History", "NamesHistory", tag);
}

int api_ep_image_exists(ApiConn *c, ApiRequest *r) {
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, r->segs[1], &img, NULL) < 0)
                return api_error(c, 404, "failed to find image", "failed to find image %s: image not known", r->segs[1]);
        image_done(&img);
        return api_reply(c, 204, NULL, NULL, 0);
}

int api_ep_image_json(ApiConn *c, ApiRequest *r) {
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, r->segs[1], &img, NULL) < 0)
                return api_error(c, 404, "image not known", "failed to find image %s: %s: image not known", r->segs[1],
                                 r->segs[1]);
        json_t *j = image_inspect_json(&img, r->libpod);
        image_done(&img);
        return api_reply_json(c, 200, j);
}

int api_ep_images_list(ApiConn *c, ApiRequest *r) {
        Image *imgs = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_image_list(&c->srv->store, &imgs, &n, &e) < 0)
                return api_rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, image_summary_json(&imgs[i], r->libpod));
        image_list_free(imgs, n);
        return api_reply_json(c, 200, arr);
}

/* 7.1: offline, a pull only finds what is here (create and run ask first, policy missing) */
int api_ep_image_pull(ApiConn *c, ApiRequest *r) {
        _cleanup_free_ char *ref = http_query_get(r->http.query, r->libpod ? "reference" : "fromImage", 0);
        Image img = {};
        if (!ref || ctr_image_resolve(&c->srv->store, ref, &img, NULL) < 0)
                return api_error(c, 404, "image not known",
                                 "%s: image not known: nsprov pulls nothing; add the image with `nsprov image add`",
                                 ref ?: "(no reference)");
        char id[65];
        net_cni_id(img.name, id);
        image_done(&img);
        char line[200];
        (void) snprintf(line, sizeof line, "{\"images\":[\"%s\"],\"id\":\"%s\"}\n", id, id);
        return api_reply(c, 200, "application/json", line, strlen(line));
}

/* 7.2: an image archive as the body (podman load, docker load), or a rootfs tarball
 * (podman import, docker import), spooled to a file of the store as it arrives (either
 * can be gigabytes), then loaded as `nsprov image load` and `image import` take them. */
static bool is_compat_import(const ApiRequest *r) {
        _cleanup_free_ char *src = http_query_get(r->http.query, "fromSrc", 0);
        return !r->libpod && src != NULL;
}

bool api_streams_body(const ApiRequest *r) {
        if (!streq(r->http.method, "POST") || r->n_segs != 2 || !streq(r->segs[0], "images"))
                return false;
        return streq(r->segs[1], "load") || (r->libpod && streq(r->segs[1], "import")) ||
               (streq(r->segs[1], "create") && is_compat_import(r));
}

/* The body in an unlinked file of the store, rewound; < 0 with the reply sent (or the
 * client gone). */
static int spool_upload(ApiConn *c, ApiRequest *r, const char *what, int *ret_fd) {
        const CtrStore *s = &c->srv->store;
        RtError e = {};
        char p[PATH_MAX];
        store_path(s, STORE_IMAGES, NULL, NULL, p);
        if (mkdir_p(p, 0700, &e) < 0)
                return api_rt_error(c, &e, 500, NULL), -EIO;
        store_path(s, STORE_IMAGES, ".upload-XXXXXX", NULL, p);
        _cleanup_close_ int fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0)
                return api_error(c, 500, "internal error", "spool the upload: %s", strerror(errno)), -EIO;
        (void) unlink(p); /* the fd holds it: nothing of it outlives this request */
        int k = api_body_to_fd(c, r, fd, API_MAX_UPLOAD, &e);
        if (k == -ECONNRESET || k == -ETIMEDOUT || k == -EPIPE)
                return k; /* the client went */
        if (k < 0)
                return api_error(c, k == -E2BIG ? 413 : k == -ENOSPC ? 507 : 400, "bad request", "%s: %s", what,
                                 e.msg), k;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return api_error(c, 500, "internal error", "rewind the upload: %s", strerror(errno)), -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int image_store_error(ApiConn *c, const RtError *e) {
        int status = e->code == -EEXIST ? 409 : e->code == -EBADMSG || e->code == -EOPNOTSUPP || e->code == -EINVAL
                                                        ? 400
                                                        : 500;
        return api_error(c, status, status == 409 ? "image exists" : status == 400 ? "bad image archive" :
                         "internal error", "%s", e->msg);
}

int api_ep_image_load(ApiConn *c, ApiRequest *r) {
        _cleanup_close_ int fd = -1;
        int k = spool_upload(c, r, "image archive", &fd);
        if (k < 0)
                return k == -ECONNRESET || k == -ETIMEDOUT || k == -EPIPE ? k : 0;
        RtError e = {};
        ImageLoadResult res;
        if (ctr_image_load_archive(&c->srv->store, fd, &(ImageLoadOptions) {}, &res, &e) < 0)
                return image_store_error(c, &e);
        char ref[CTR_IMAGE_NAME_MAX + 32];
        (void) snprintf(ref, sizeof ref, "localhost/%s:latest", res.name);
        if (r->libpod)
                return api_reply_json(c, 200, json_pack("{s:[s]}", "Names", ref));
        /* docker load reads a stream of such lines */
        return api_reply_json(c, 200, json_pack("{s:o}", "stream", json_sprintf("Loaded image: %s\n", ref)));
}

/* podman import (libpod images/import?reference=&changes=…) and docker import
 * (images/create?fromSrc=-&repo=&tag=&changes=…) */
int api_ep_image_import(ApiConn *c, ApiRequest *r) {
        if (!r->libpod && !is_compat_import(r))
                return api_ep_image_pull(c, r);
        _cleanup_free_ char *ref = http_query_get(r->http.query, r->libpod ? "reference" : "repo", 0);
        _cleanup_free_ char *tag = r->libpod ? NULL : http_query_get(r->http.query, "tag", 0);
        _cleanup_free_ char *src = r->libpod ? NULL : http_query_get(r->http.query, "fromSrc", 0);
        if (src && !streq(src, "-"))
                return api_error(c, 400, "bad request", "import from %s: nsprov imports an uploaded tarball only",
                                 src);
        if (!ref || !*ref)
                return api_error(c, 400, "bad request", "import: name the image (reference)");
        char full[512];
        if (snprintf(full, sizeof full, "%s%s%s", ref, tag && *tag ? ":" : "", tag && *tag ? tag : "") >=
            (int) sizeof full)
                return api_error(c, 400, "bad request", "import: the reference is too long");
        _cleanup_(strv_freep) char **changes = NULL;
        for (unsigned i = 0; i < CTR_MAX_ARGS; i++) {
                char *ch = http_query_get(r->http.query, "changes", i);
                if (!ch)
                        break;
                if (strv_push(&changes, ch) < 0) {
                        free(ch);
                        return api_error(c, 500, "internal error", "import: out of memory");
                }
                free(ch);
        }
        _cleanup_close_ int fd = -1;
        int k = spool_upload(c, r, "rootfs tarball", &fd);
        if (k < 0)
                return k == -ECONNRESET || k == -ETIMEDOUT || k == -EPIPE ? k : 0;
        RtError e = {};
        ImageLoadResult res;
        const ImageImportOptions io = { .name = full, .changes = changes };
        if (ctr_image_import(&c->srv->store, fd, &io, &res, &e) < 0)
                return image_store_error(c, &e);
        char id[65];
        net_cni_id(res.name, id);
        if (r->libpod)
                return api_reply_json(c, 200, json_pack("{s:s}", "Id", id));
        return api_reply_json(c, 200, json_pack("{s:s}", "status", id));
}
