/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images (spec 2, 3.4): list, inspect, exists, load; pull answers that nsprov has none. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
#include "base64.h"
#include "registry.h"
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

/* A pulled image is also known by where it came from: its reference among RepoTags (and
 * libpod's Names), its repository at its manifest's digest in RepoDigests. */
static void image_pulled_names(json_t *j, const Image *img) {
        ImageRef ref;
        if (!j || !img->reference || !img->digest || image_ref_parse(img->reference, &ref, NULL) < 0)
                return;
        char text[IMAGE_REF_TEXT_MAX + 80];
        (void) snprintf(text, sizeof text, "%s/%s@%s", ref.registry, ref.repo, img->digest);
        (void) json_array_append_new(json_object_get(j, "RepoDigests"), json_string(text));
        if (ref.tag[0]) {
                (void) snprintf(text, sizeof text, "%s/%s:%s", ref.registry, ref.repo, ref.tag);
                (void) json_array_append_new(json_object_get(j, "RepoTags"), json_string(text));
                if (json_is_array(json_object_get(j, "Names")))
                        (void) json_array_append_new(json_object_get(j, "Names"), json_string(text));
        }
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
        image_pulled_names(j, img);
        return j;
}

/* images/{name}/json (3.4): Created in RFC 3339, the config a client reads. */
static json_t *image_inspect_json(const Image *img, bool libpod) {
        char id[72], digest[72], created[40], tag[300];
        image_id(img, !libpod, id);
        image_id(img, true, digest);
        (void) snprintf(tag, sizeof tag, "localhost/%s:latest", img->name);
        json_t *j = json_pack("{s:s, s:s, s:[s], s:[], s:s, s:s, s:s, s:{s:o, s:o, s:o, s:s, s:s, s:n, s:s?}, s:s, "
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
        image_pulled_names(j, img);
        return j;
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

/* ---- pull (7.1): libpod's images/pull and Docker's images/create?fromImage= ---- */

typedef struct PullStream {
        ApiConn *c;
        bool libpod, quiet, gone;
        char repo[300], tag[200];
} PullStream;

static void pull_stream_send(PullStream *ps, json_t *j) {
        _cleanup_free_ char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!t || ps->gone)
                return;
        size_t l = strlen(t);
        t[l] = '\n'; /* over the NUL: sent with its length */
        ps->gone = api_write_all(ps->c->fd, t, l + 1) < 0;
}

static void pull_stream_text(PullStream *ps, const char *fmt, ...) _printf_(2, 3);
static void pull_stream_text(PullStream *ps, const char *fmt, ...) {
        char line[600];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        pull_stream_send(ps, json_pack("{s:s}", "stream", line));
}

/* Docker's JSON messages for one layer ("id" is its short digest) */
static void pull_stream_layer(PullStream *ps, const PullEvent *ev, const char *status, bool detail) {
        char id[13];
        (void) snprintf(id, sizeof id, "%.12s", ev->text + 7);
        json_t *j = json_pack("{s:s, s:s, s:{}}", "status", status, "id", id, "progressDetail");
        if (j && detail)
                (void) json_object_set_new(j, "progressDetail", json_pack("{s:I, s:I}", "current", (json_int_t) ev->done,
                                                                         "total", (json_int_t) ev->total));
        pull_stream_send(ps, j);
}

/* What Podman's server streams as it pulls (libpod: its CLI's lines; Docker: its status
 * messages), so that `podman pull` and `docker pull` show it as against their own. */
static void pull_stream_progress(void *userdata, const PullEvent *ev) {
        PullStream *ps = userdata;
        if (ps->libpod) {
                if (ps->quiet)
                        return;
                switch (ev->kind) {
                case PULL_EVENT_TRYING: pull_stream_text(ps, "Trying to pull %s...\n", ev->text); break;
                case PULL_EVENT_RESOLVED: pull_stream_text(ps, "Getting image source signatures\n"); break;
                case PULL_EVENT_BLOB_EXISTS:
                        pull_stream_text(ps, "Copying blob %.12s skipped: already exists\n", ev->text + 7);
                        break;
                case PULL_EVENT_BLOB_DONE: pull_stream_text(ps, "Copying blob %.12s done\n", ev->text + 7); break;
                case PULL_EVENT_RETRY: pull_stream_text(ps, "Retrying after: %s\n", ev->text); break;
                case PULL_EVENT_UNPACKING: pull_stream_text(ps, "Writing manifest to image destination\n"); break;
                case PULL_EVENT_BLOB: break;
                }
                return;
        }
        switch (ev->kind) {
        case PULL_EVENT_TRYING:
                pull_stream_send(ps, json_pack("{s:o, s:s}", "status", json_sprintf("Pulling from %s", ps->repo), "id",
                                               ps->tag));
                break;
        case PULL_EVENT_BLOB: pull_stream_layer(ps, ev, "Downloading", true); break;
        case PULL_EVENT_BLOB_DONE: pull_stream_layer(ps, ev, "Download complete", false); break;
        case PULL_EVENT_BLOB_EXISTS: pull_stream_layer(ps, ev, "Already exists", false); break;
        case PULL_EVENT_RESOLVED:
                pull_stream_send(ps, json_pack("{s:o}", "status", json_sprintf("Digest: %s", ev->text)));
                break;
        case PULL_EVENT_RETRY:
        case PULL_EVENT_UNPACKING: break;
        }
}

/* X-Registry-Auth: base64 (URL-safe or not, padded or not) of {"username","password"} */
static int registry_auth_header(const ApiRequest *r, char **ret_user, char **ret_pass) {
        const char *h = http_header(&r->http, "X-Registry-Auth");
        *ret_user = *ret_pass = NULL;
        if (!h || !*h || strlen(h) > 16384)
                return 0;
        _cleanup_free_ char *std = calloc(strlen(h) + 4, 1), *plain = NULL;
        if (!std)
                return -ENOMEM;
        size_t l = 0;
        for (const char *c = h; *c; c++)
                std[l++] = *c == '-' ? '+' : *c == '_' ? '/' : *c;
        while (l % 4)
                std[l++] = '=';
        size_t plain_len;
        if (base64_decode(std, l, &plain, &plain_len) < 0)
                return -EINVAL;
        json_auto_t *j = json_loadb(plain, plain_len, 0, NULL);
        const char *u = json_string_value(json_object_get(j, "username"));
        const char *p = json_string_value(json_object_get(j, "password"));
        if (!json_is_object(j))
                return -EINVAL;
        if (u && *u && (!(*ret_user = strdup(u)) || !(*ret_pass = strdup(p ?: ""))))
                return -ENOMEM;
        return 0;
}

static void pull_id_line(PullStream *ps, const char *name, const char *reference, bool up_to_date) {
        char id[65];
        net_cni_id(name, id);
        if (ps->libpod)
                pull_stream_send(ps, json_pack("{s:[s], s:s}", "images", id, "id", id));
        else
                pull_stream_send(ps, json_pack("{s:o}", "status",
                                               json_sprintf("Status: %s for %s", up_to_date ? "Image is up to date" :
                                                            "Downloaded newer image", reference)));
}

int api_ep_image_pull(ApiConn *c, ApiRequest *r) {
        const char *q = r->http.query;
        _cleanup_free_ char *ref = http_query_get(q, r->libpod ? "reference" : "fromImage", 0),
                            *policy = r->libpod ? http_query_get(q, "policy", 0) : NULL,
                            *tag = r->libpod ? NULL : http_query_get(q, "tag", 0),
                            *tls = r->libpod ? http_query_get(q, "tlsVerify", 0) : NULL,
                            *user = r->libpod ? http_query_get(q, "username", 0) : NULL,
                            *pass = r->libpod ? http_query_get(q, "password", 0) : NULL,
                            *authfile = r->libpod ? http_query_get(q, "authfile", 0) : NULL,
                            *platform = r->libpod ? NULL : http_query_get(q, "platform", 0),
                            *os = r->libpod ? http_query_get(q, "os", 0) : NULL,
                            *arch = r->libpod ? http_query_get(q, "arch", 0) : NULL,
                            *variant = r->libpod ? http_query_get(q, "variant", 0) : NULL;
        if (!ref || !*ref)
                return api_error(c, 400, "bad request", "pull: no image reference given");
        if (tag && *tag) {
                char *full = NULL;
                if (asprintf(&full, "%s%s%s", ref, startswith(tag, "sha256:") ? "@" : ":", tag) < 0)
                        return api_error(c, 500, "internal error", "pull: out of memory");
                free(ref);
                ref = full;
        }
        const char *pol = policy && *policy ? policy : "always";
        if (!streq(pol, "always") && !streq(pol, "missing") && !streq(pol, "never") && !streq(pol, "newer"))
                return api_error(c, 400, "bad request", "unsupported pull policy %.32s: always, missing, never, newer",
                                 pol);
        if (streq(pol, "missing") || streq(pol, "never")) {
                Image img = {};
                if (ctr_image_resolve(&c->srv->store, ref, &img, NULL) == 0) {
                        char id[65];
                        net_cni_id(img.name, id);
                        image_done(&img);
                        char line[200];
                        (void) snprintf(line, sizeof line, "{\"images\":[\"%s\"],\"id\":\"%s\"}\n", id, id);
                        return api_reply(c, 200, "application/json", line, strlen(line));
                }
                if (streq(pol, "never"))
                        return api_error(c, 404, "image not known", "%s: image not known (pull policy never)", ref);
        }

        PullOptions o = PULL_OPTIONS_INIT;
        RtError e = {};
        bool b;
        ImageRef parsed;
        bool parsed_ok = image_ref_parse(ref, &parsed, NULL) == 0;
        if (tls && *tls)
                o.tls_verify = http_parse_bool(tls, &b) == 0 ? b : 1;
        else if (!r->libpod && parsed_ok && registry_is_loopback(parsed.registry))
                o.tls_verify = 0; /* as Docker's daemon has them */
        if (platform && *platform && platform_parse(platform, &o.platform, &e) < 0)
                return api_error(c, 400, "bad request", "pull %s: %s", ref, e.msg);
        if ((os && *os) || (arch && *arch) || (variant && *variant)) {
                char text[200];
                Platform host;
                platform_host(&host);
                (void) snprintf(text, sizeof text, "%s/%s%s%s", os && *os ? os : host.os, arch && *arch ? arch : host.arch,
                                variant && *variant ? "/" : "", variant && *variant ? variant : "");
                if (platform_parse(text, &o.platform, &e) < 0)
                        return api_error(c, 400, "bad request", "pull %s: %s", ref, e.msg);
        }
        _cleanup_free_ char *hdr_user = NULL, *hdr_pass = NULL;
        if (registry_auth_header(r, &hdr_user, &hdr_pass) < 0)
                return api_error(c, 400, "bad request", "pull %s: X-Registry-Auth is not base64 of a JSON object", ref);
        o.username = user && *user ? user : hdr_user;
        o.password = user && *user ? pass : hdr_pass;
        o.authfile = authfile && *authfile ? authfile : NULL;

        PullStream ps = { .c = c, .libpod = r->libpod, .quiet = api_query_bool(r, "quiet", false) };
        if (parsed_ok) {
                (void) snprintf(ps.repo, sizeof ps.repo, "%s", parsed.repo);
                (void) snprintf(ps.tag, sizeof ps.tag, "%s", parsed.tag[0] ? parsed.tag : parsed.digest);
        }
        o.progress = pull_stream_progress;
        o.userdata = &ps;
        if (api_stream_head(c, "application/json") < 0)
                return -ECONNRESET;
        PullResult res;
        if (ctr_image_pull(&c->srv->store, ref, &o, &res, &e) < 0)
                pull_stream_send(&ps, ps.libpod ? json_pack("{s:s}", "error", e.msg)
                                                : json_pack("{s:{s:s}, s:s}", "errorDetail", "message", e.msg,
                                                            "error", e.msg));
        else
                pull_id_line(&ps, res.load.name, res.reference, res.up_to_date);
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
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
