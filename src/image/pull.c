/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `image pull`: an image from an OCI registry over the Distribution v2 API. The manifest
 * (through an image index or a Docker manifest list, for this host's platform or the one
 * asked for), the config and every layer are fetched with their digests checked as they
 * arrive; the layers land in a staging dir and are unpacked as a load's are (a chroot'ed
 * child), so that nothing is stored before all of it is there and checked, and a pull
 * that fails or is killed leaves nothing (load_lock's sweep takes what a killed one left).
 * The layers' blobs are kept in the store by digest: one that another image has is not
 * fetched again, and it is stored once.
 *
 * libcurl for HTTP and libcrypto for SHA-256 are opened on first use (dynlib.h): only a
 * pull needs them, and linking them would cost every `nsprov run` their loading. */
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "cleanup.h"
#include "dynlib.h"
#include "fs.h"
#include "image-store.h"
#include "image.h"
#include "registry.h"
#include "strv.h"

#define CONFIG_MAX (8u << 20)
#define ERROR_BODY_MAX 4096
#define PROGRESS_PERIOD_NS 100000000ull

/* ---- the libraries ---- */

typedef struct PullLibs {
        typeof(&curl_global_init) global_init;
        typeof(&curl_easy_init) easy_init;
        typeof(&curl_easy_setopt) easy_setopt;
        typeof(&curl_easy_perform) easy_perform;
        typeof(&curl_easy_getinfo) easy_getinfo;
        typeof(&curl_easy_reset) easy_reset;
        typeof(&curl_easy_cleanup) easy_cleanup;
        typeof(&curl_easy_strerror) easy_strerror;
        typeof(&curl_easy_escape) easy_escape;
        typeof(&curl_free) free;
        typeof(&curl_slist_append) slist_append;
        typeof(&curl_slist_free_all) slist_free_all;
        typeof(&EVP_MD_CTX_new) md_new;
        typeof(&EVP_MD_CTX_free) md_free;
        typeof(&EVP_sha256) sha256;
        typeof(&EVP_DigestInit_ex) digest_init;
        typeof(&EVP_DigestUpdate) digest_update;
        typeof(&EVP_DigestFinal_ex) digest_final;
} PullLibs;

static PullLibs lib;
static RtError lib_error;

static void pull_libs_load(void) {
        const DynSym curl[] = {
                { "curl_global_init", (void **) &lib.global_init },
                { "curl_easy_init", (void **) &lib.easy_init },
                { "curl_easy_setopt", (void **) &lib.easy_setopt },
                { "curl_easy_perform", (void **) &lib.easy_perform },
                { "curl_easy_getinfo", (void **) &lib.easy_getinfo },
                { "curl_easy_reset", (void **) &lib.easy_reset },
                { "curl_easy_cleanup", (void **) &lib.easy_cleanup },
                { "curl_easy_strerror", (void **) &lib.easy_strerror },
                { "curl_easy_escape", (void **) &lib.easy_escape },
                { "curl_free", (void **) &lib.free },
                { "curl_slist_append", (void **) &lib.slist_append },
                { "curl_slist_free_all", (void **) &lib.slist_free_all },
        };
        const DynSym crypto[] = {
                { "EVP_MD_CTX_new", (void **) &lib.md_new },
                { "EVP_MD_CTX_free", (void **) &lib.md_free },
                { "EVP_sha256", (void **) &lib.sha256 },
                { "EVP_DigestInit_ex", (void **) &lib.digest_init },
                { "EVP_DigestUpdate", (void **) &lib.digest_update },
                { "EVP_DigestFinal_ex", (void **) &lib.digest_final },
        };
        if (dynlib_load("libcrypto.so.3", crypto, ELEMENTSOF(crypto), "checking an image's digests", &lib_error) < 0)
                return;
        if (dynlib_load("libcurl.so.4", curl, ELEMENTSOF(curl), "pulling an image", &lib_error) < 0)
                return;
        if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                (void) rt_err_setx(&lib_error, -EIO, "libcurl did not initialize");
                lib.easy_init = NULL;
        }
}

static int pull_libs(RtError *err) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&once, pull_libs_load);
        if (!lib.easy_init || !lib.md_new)
                return rt_err_setx(err, lib_error.code ?: -ENOENT, "%s", lib_error.msg);
        return 0;
}

/* ---- SHA-256 ---- */

typedef struct Sha256 {
        EVP_MD_CTX *ctx;
} Sha256;

static int sha256_begin(Sha256 *h) {
        if (!h->ctx && !(h->ctx = lib.md_new()))
                return -ENOMEM;
        return lib.digest_init(h->ctx, lib.sha256(), NULL) == 1 ? 0 : -EIO;
}

static void sha256_add(Sha256 *h, const void *data, size_t len) {
        (void) lib.digest_update(h->ctx, data, len);
}

/* "sha256:<hex>" */
static void sha256_end(Sha256 *h, char out[static IMAGE_DIGEST_MAX]) {
        unsigned char md[32];
        unsigned int n = 0;
        (void) lib.digest_final(h->ctx, md, &n);
        int off = snprintf(out, IMAGE_DIGEST_MAX, "sha256:");
        for (unsigned i = 0; i < 32; i++)
                off += snprintf(out + off, IMAGE_DIGEST_MAX - (size_t) off, "%02x", md[i]);
}

static void sha256_done(Sha256 *h) {
        if (h->ctx)
                lib.md_free(h->ctx);
        h->ctx = NULL;
}

static int sha256_of(const void *data, size_t len, char out[static IMAGE_DIGEST_MAX]) {
        Sha256 h = {};
        int r = sha256_begin(&h);
        if (r == 0) {
                sha256_add(&h, data, len);
                sha256_end(&h, out);
        }
        sha256_done(&h);
        return r;
}

/* ---- one transfer ---- */

typedef struct Pull Pull;

typedef struct Transfer {
        /* the reply's */
        long status;
        char content_type[128];
        char docker_digest[IMAGE_DIGEST_MAX];
        char challenge[2048];
        /* a 2xx body: into memory up to max, or into fd (hashed) up to limit */
        char *mem;
        size_t len, max;
        int fd;
        Sha256 sha;
        uint64_t written, limit;
        bool over_limit;
        /* an error's body, for the registry's own words */
        char error_body[ERROR_BODY_MAX];
        size_t error_len;
        /* progress of a layer */
        Pull *pull;
        const char *digest;
        unsigned index, count;
        uint64_t last_report_ns;
} Transfer;

struct Pull {
        const PullOptions *o;
        CURL *curl;
        ImageRef ref;
        char base[300]; /* "https://registry-1.docker.io" */
        bool tls_verify;
        char *authorization; /* the whole header line */
        char *user, *pass;
        uint64_t fetched;
};

static uint64_t now_ns(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void emit(const Pull *p, PullEventKind kind, const char *text, uint64_t done, uint64_t total,
                 unsigned index, unsigned count) {
        if (p->o->progress)
                p->o->progress(p->o->userdata, &(PullEvent) { .kind = kind, .text = text, .done = done,
                                                              .total = total, .index = index, .count = count });
}

static size_t header_line(char *b, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t len = size * n;
        char line[2048];
        (void) snprintf(line, sizeof line, "%.*s", (int) MIN(len, sizeof line - 1), b);
        line[strcspn(line, "\r\n")] = '\0';
        if (startswith(line, "HTTP/")) {
                /* a new reply (after a redirect): nothing of the last one holds */
                const char *sp = strchr(line, ' ');
                t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                t->content_type[0] = t->docker_digest[0] = t->challenge[0] = '\0';
                return len;
        }
        char *colon = strchr(line, ':');
        if (!colon)
                return len;
        *colon = '\0';
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
                value++;
        if (strcasecmp(line, "Content-Type") == 0)
                (void) snprintf(t->content_type, sizeof t->content_type, "%.127s", value);
        else if (strcasecmp(line, "Docker-Content-Digest") == 0)
                (void) snprintf(t->docker_digest, sizeof t->docker_digest, "%.71s", value);
        else if (strcasecmp(line, "WWW-Authenticate") == 0)
                (void) snprintf(t->challenge, sizeof t->challenge, "%s", value);
        return len;
}

static void report_blob(Transfer *t, bool last) {
        uint64_t now = now_ns();
        if (!last && now - t->last_report_ns < PROGRESS_PERIOD_NS)
                return;
        t->last_report_ns = now;
        emit(t->pull, PULL_EVENT_BLOB, t->digest, t->written, t->limit, t->index, t->count);
}

static size_t body_data(char *b, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t len = size * n;
        if (t->status < 200 || t->status >= 300) {
                size_t keep = MIN(len, sizeof t->error_body - 1 - t->error_len);
                memcpy(t->error_body + t->error_len, b, keep);
                t->error_len += keep;
                t->error_body[t->error_len] = '\0';
                return len;
        }
        if (t->fd >= 0) {
                if (t->written + len > t->limit) {
                        t->over_limit = true;
                        return 0;
                }
                for (size_t off = 0; off < len;) {
                        ssize_t w = write(t->fd, b + off, len - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return 0;
                        off += (size_t) w;
                }
                sha256_add(&t->sha, b, len);
                t->written += len;
                t->pull->fetched += len;
                if (t->digest)
                        report_blob(t, false);
                return len;
        }
        if (t->len + len > t->max) {
                t->over_limit = true;
                return 0;
        }
        char *m = realloc(t->mem, t->len + len + 1);
        if (!m)
                return 0;
        t->mem = m;
        memcpy(t->mem + t->len, b, len);
        t->len += len;
        t->mem[t->len] = '\0';
        return len;
}

/* Before each try: the reply forgotten, the sink emptied */
static int transfer_reset(Transfer *t) {
        t->status = 0;
        t->content_type[0] = t->docker_digest[0] = t->challenge[0] = '\0';
        t->error_len = 0;
        t->error_body[0] = '\0';
        t->len = 0;
        t->written = 0;
        t->over_limit = false;
        if (t->fd >= 0 && (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0))
                return -errno;
        return t->fd >= 0 ? sha256_begin(&t->sha) : 0;
}

static void transfer_done(Transfer *t) {
        free(t->mem);
        t->mem = NULL;
        sha256_done(&t->sha);
}

/* The registry's own message: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]} */
static void registry_message(const Transfer *t, char out[static 256]) {
        json_auto_t *j = json_loadb(t->error_body, t->error_len, 0, NULL);
        json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
        const char *code = json_string_value(json_object_get(e0, "code"));
        const char *msg = json_string_value(json_object_get(e0, "message"));
        out[0] = '\0';
        if (code || msg)
                (void) snprintf(out, 256, ": %.100s%s%.140s", code ?: "", code && msg ? " " : "", msg ?: "");
}

/* what may pass if tried again: a connection refused or dropped, a stall, a 5xx, a 429;
 * not what the same request would meet again (a TLS mismatch, a bad URL, a full disk) */
static bool transient(CURLcode c, long status) {
        switch (c) {
        case CURLE_OK:
                return status == 429 || status >= 500;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static void pause_ms(uint64_t ms) {
        struct timespec ts = { .tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* One GET of url, tried again on what may pass (a dropped connection, a 5xx, a 429)
 * with the wait doubling; the reply's status in t->status. authorization: send it. */
static int http_get(Pull *p, const char *url, const char *accept, bool authorization, Transfer *t,
                    RtError *err) {
        uint64_t delay = p->o->retry_delay_ms;
        for (unsigned attempt = 0;; attempt++) {
                int r = transfer_reset(t);
                if (r < 0)
                        return rt_err_set(err, r, "GET %s", url);
                struct curl_slist *h = NULL, *nh;
                char accept_line[512];
                if (accept) {
                        (void) snprintf(accept_line, sizeof accept_line, "Accept: %s", accept);
                        h = lib.slist_append(h, accept_line);
                }
                if (authorization && p->authorization && (nh = lib.slist_append(h, p->authorization)))
                        h = nh;
                lib.easy_reset(p->curl);
                (void) lib.easy_setopt(p->curl, CURLOPT_URL, url);
                (void) lib.easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
                (void) lib.easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
                (void) lib.easy_setopt(p->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
                /* blobs are often served from elsewhere (a CDN); the Authorization header is
                 * not sent to another host (libcurl's rule) */
                (void) lib.easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 1L);
                (void) lib.easy_setopt(p->curl, CURLOPT_MAXREDIRS, 10L);
                (void) lib.easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
                /* a stalled transfer fails (and is tried again) instead of hanging */
                (void) lib.easy_setopt(p->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
                (void) lib.easy_setopt(p->curl, CURLOPT_LOW_SPEED_TIME, 60L);
                (void) lib.easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
                (void) lib.easy_setopt(p->curl, CURLOPT_USERAGENT, "nsprov/" NSPROV_VERSION);
                (void) lib.easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, header_line);
                (void) lib.easy_setopt(p->curl, CURLOPT_HEADERDATA, t);
                (void) lib.easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, body_data);
                (void) lib.easy_setopt(p->curl, CURLOPT_WRITEDATA, t);
                (void) lib.easy_setopt(p->curl, CURLOPT_ACCEPT_ENCODING, "");
                if (!p->tls_verify) {
                        (void) lib.easy_setopt(p->curl, CURLOPT_SSL_VERIFYPEER, 0L);
                        (void) lib.easy_setopt(p->curl, CURLOPT_SSL_VERIFYHOST, 0L);
                }
                CURLcode c = lib.easy_perform(p->curl);
                lib.slist_free_all(h);
                if (c == CURLE_OK || !transient(c, t->status) || attempt >= p->o->retries) {
                        if (t->over_limit)
                                return rt_err_setx(err, -EBADMSG, "GET %s: the registry sent more than it declared",
                                                   url);
                        if (c != CURLE_OK)
                                return rt_err_setx(err, c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH,
                                                   "GET %s: %s", url, lib.easy_strerror(c));
                        if (!transient(c, t->status) || attempt >= p->o->retries)
                                return 0;
                }
                char why[256];
                if (c != CURLE_OK)
                        (void) snprintf(why, sizeof why, "%s", lib.easy_strerror(c));
                else
                        (void) snprintf(why, sizeof why, "HTTP %ld", t->status);
                emit(p, PULL_EVENT_RETRY, why, attempt + 1, p->o->retries, 0, 0);
                pause_ms(delay);
                delay = MIN(delay * 2, 60000u);
        }
}

/* ---- authentication ---- */

static int basic_header(const char *user, const char *pass, char **ret) {
        _cleanup_free_ char *plain = NULL, *b64 = NULL;
        if (asprintf(&plain, "%s:%s", user, pass) < 0 || base64_encode(plain, strlen(plain), &b64) < 0)
                return -ENOMEM;
        return asprintf(ret, "Authorization: Basic %s", b64) < 0 ? -ENOMEM : 0;
}

static int no_login(const Pull *p, RtError *err) {
        return rt_err_setx(err, -EACCES,
                           "%s asks for a login: put one in an auth file (`podman login` writes it) or give --creds",
                           p->ref.registry);
}

/* Answers a 401's challenge: Basic with the credentials there are, Bearer with a token
 * from the realm (the credentials, if any, sent there) for this repository's pull. */
static int authenticate(Pull *p, const char *challenge_header, RtError *err) {
        RegistryChallenge ch;
        int r = registry_challenge_parse(challenge_header, &ch, err);
        if (r < 0)
                return r;
        char *line = NULL;
        if (ch.scheme == CHALLENGE_BASIC) {
                if (!p->user)
                        return no_login(p, err);
                if (basic_header(p->user, p->pass, &line) < 0)
                        return rt_err_set(err, -ENOMEM, "authenticate");
                free(p->authorization);
                p->authorization = line;
                return 0;
        }
        char scope[600];
        (void) snprintf(scope, sizeof scope, "repository:%s:pull", p->ref.repo);
        char *service = lib.easy_escape(p->curl, ch.service, 0), *esc_scope = lib.easy_escape(p->curl, scope, 0);
        _cleanup_free_ char *url = NULL;
        int n = service && esc_scope ? asprintf(&url, "%s%sservice=%s&scope=%s", ch.realm,
                                                strchr(ch.realm, '?') ? "&" : "?", service, esc_scope)
                                     : -1;
        lib.free(service);
        lib.free(esc_scope);
        if (n < 0)
                return rt_err_set(err, -ENOMEM, "authenticate");
        /* the token server gets the credentials, if there are any, and nothing else */
        _cleanup_free_ char *saved = TAKE_PTR(p->authorization);
        if (p->user && basic_header(p->user, p->pass, &p->authorization) < 0)
                return rt_err_set(err, -ENOMEM, "authenticate");
        Transfer t = { .fd = -1, .max = 65536 + 4096, .pull = p };
        r = http_get(p, url, "application/json", true, &t, err);
        free(p->authorization);
        p->authorization = NULL;
        if (r == 0 && (t.status == 401 || t.status == 403))
                r = p->user ? rt_err_setx(err, -EACCES, "%s refused the credentials for %s (HTTP %ld)", ch.realm,
                                          p->ref.registry, t.status)
                            : no_login(p, err);
        else if (r == 0 && t.status != 200)
                r = rt_err_setx(err, -EPROTO, "the token server %s answered HTTP %ld", ch.realm, t.status);
        _cleanup_free_ char *token = NULL;
        if (r == 0 && (r = registry_token_parse(t.mem ?: "", t.len, &token, err)) == 0 &&
            asprintf(&p->authorization, "Authorization: Bearer %s", token) < 0) {
                p->authorization = NULL;
                r = rt_err_set(err, -ENOMEM, "authenticate");
        }
        transfer_done(&t);
        return r;
}

/* A GET of the repository's path ("manifests/latest"), authenticating on a first 401 */
static int registry_get(Pull *p, const char *path, const char *accept, Transfer *t, RtError *err) {
        char url[1024];
        (void) snprintf(url, sizeof url, "%s/v2/%s/%s", p->base, p->ref.repo, path);
        int r = http_get(p, url, accept, true, t, err);
        if (r < 0 || t->status != 401)
                return r;
        char challenge[sizeof t->challenge];
        (void) snprintf(challenge, sizeof challenge, "%s", t->challenge);
        if ((r = authenticate(p, challenge, err)) < 0)
                return r;
        return http_get(p, url, accept, true, t, err);
}

static int reply_error(const Pull *p, const char *kind, const char *what, const Transfer *t, RtError *err) {
        char msg[256];
        registry_message(t, msg);
        int code = t->status == 404 ? -ENOENT : t->status == 401 || t->status == 403 ? -EACCES : -EPROTO;
        if (t->status == 404)
                return rt_err_setx(err, code, "%s/%s has no %s %s (HTTP 404%s)", p->ref.registry, p->ref.repo, kind,
                                   what, msg);
        return rt_err_setx(err, code, "the %s %s of %s/%s: HTTP %ld%s", kind, what, p->ref.registry, p->ref.repo,
                           t->status, msg);
}

/* Where the registry answers, and whether it asks for a login: GET /v2/. Without TLS
 * verification a registry that does not speak TLS is spoken to in plain HTTP, as Podman's
 * --tls-verify=false does. */
static int registry_open(Pull *p, RtError *err) {
        const char *host = streq(p->ref.registry, "docker.io") ? "registry-1.docker.io" : p->ref.registry;
        Transfer t = { .fd = -1, .max = 65536, .pull = p };
        int r = 0;
        for (int plain = 0; plain < 2; plain++) {
                (void) snprintf(p->base, sizeof p->base, "%s://%s", plain ? "http" : "https", host);
                char url[400];
                (void) snprintf(url, sizeof url, "%s/v2/", p->base);
                RtError e = {};
                r = http_get(p, url, NULL, false, &t, &e);
                if (r == 0 || p->tls_verify) {
                        if (r < 0)
                                (void) rt_err_setx(err, r, "%s", e.msg);
                        break;
                }
                if (plain)
                        (void) rt_err_setx(err, r, "%s", e.msg);
        }
        if (r == 0 && t.status == 401)
                r = authenticate(p, t.challenge, err);
        else if (r == 0 && t.status != 200)
                r = rt_err_setx(err, -EPROTO, "%s is no registry: GET /v2/ answered HTTP %ld", host, t.status);
        transfer_done(&t);
        return r;
}

/* ---- what a pull fetches ---- */

#define MANIFEST_ACCEPT                                                                                           \
        "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "    \
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

/* The manifest at reference (a tag or a digest), its digest computed: the one asked for,
 * and the one the registry says it sent, must be it. */
static int fetch_manifest(Pull *p, const char *reference, RegistryManifest *ret, char digest[static IMAGE_DIGEST_MAX],
                          RtError *err) {
        Transfer t = { .fd = -1, .max = REGISTRY_MANIFEST_MAX, .pull = p };
        char path[300];
        (void) snprintf(path, sizeof path, "manifests/%s", reference);
        int r = registry_get(p, path, MANIFEST_ACCEPT, &t, err);
        if (r == 0 && t.status != 200)
                r = reply_error(p, "manifest", reference, &t, err);
        if (r == 0 && (r = sha256_of(t.mem ?: "", t.len, digest)) < 0)
                r = rt_err_set(err, r, "hash the manifest");
        if (r == 0 && ((image_digest_valid(reference) && !streq(reference, digest)) ||
                       (image_digest_valid(t.docker_digest) && !streq(t.docker_digest, digest))))
                r = rt_err_setx(err, -EBADMSG, "the manifest %s of %s/%s has the digest %s, not %s", reference,
                                p->ref.registry, p->ref.repo, digest,
                                image_digest_valid(reference) ? reference : t.docker_digest);
        if (r == 0 && (r = registry_manifest_parse(t.content_type, t.mem ?: "", t.len, ret, err)) < 0)
                (void) rt_err_prefix(err, r, "the manifest %s of %s/%s", reference, p->ref.registry, p->ref.repo);
        transfer_done(&t);
        return r;
}

static int fetch_config(Pull *p, const RegistryBlob *b, char **ret, size_t *ret_len, RtError *err) {
        if (b->size > CONFIG_MAX)
                return rt_err_setx(err, -E2BIG, "the image config is over %u bytes", CONFIG_MAX);
        Transfer t = { .fd = -1, .max = b->size, .pull = p };
        char path[300], digest[IMAGE_DIGEST_MAX];
        (void) snprintf(path, sizeof path, "blobs/%s", b->digest);
        int r = registry_get(p, path, NULL, &t, err);
        if (r == 0 && t.status != 200)
                r = reply_error(p, "blob", b->digest, &t, err);
        if (r == 0 && (r = sha256_of(t.mem ?: "", t.len, digest)) < 0)
                r = rt_err_set(err, r, "hash the config");
        if (r == 0 && (t.len != b->size || !streq(digest, b->digest)))
                r = rt_err_setx(err, -EBADMSG, "the image config %s arrived with the digest %s (%zu bytes)",
                                b->digest, digest, t.len);
        if (r == 0) {
                *ret = TAKE_PTR(t.mem);
                *ret_len = t.len;
                if (!*ret && !(*ret = strdup("")))
                        r = rt_err_set(err, -ENOMEM, "config");
        }
        transfer_done(&t);
        return r;
}

/* A layer into staging/<hex>: from the store when it has it (a link), else fetched into
 * a .part file, its size and digest checked, then renamed. */
static int fetch_layer(Pull *p, const CtrStore *s, const LoadWork *w, const RegistryBlob *b, unsigned index,
                       unsigned count, RtError *err) {
        const char *hex = b->digest + strlen("sha256:");
        char staged[PATH_MAX], stored[PATH_MAX], part[PATH_MAX];
        (void) snprintf(staged, sizeof staged, "%s/%s", w->staging, hex);
        if (access(staged, F_OK) == 0)
                return 0; /* the image has it twice */
        image_blob_path(s, b->digest, stored);
        if (link(stored, staged) == 0) {
                emit(p, PULL_EVENT_BLOB_EXISTS, b->digest, b->size, b->size, index, count);
                return 0;
        }
        (void) snprintf(part, sizeof part, "%s.part", staged);
        Transfer t = { .pull = p, .limit = b->size, .digest = b->digest, .index = index, .count = count };
        t.fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (t.fd < 0)
                return rt_err_set(err, -errno, "create %s", part);
        char path[300], digest[IMAGE_DIGEST_MAX];
        (void) snprintf(path, sizeof path, "blobs/%s", b->digest);
        int r = registry_get(p, path, NULL, &t, err);
        if (r == 0 && t.status != 200)
                r = reply_error(p, "blob", b->digest, &t, err);
        if (r == 0) {
                report_blob(&t, true);
                sha256_end(&t.sha, digest);
                if (t.written != b->size || !streq(digest, b->digest))
                        r = rt_err_setx(err, -EBADMSG, "the layer %s arrived with the digest %s (%" PRIu64 " of %" PRIu64
                                        " bytes): refused", b->digest, digest, t.written, b->size);
        }
        if (r == 0 && rename(part, staged) < 0)
                r = rt_err_set(err, -errno, "rename %s", part);
        close(t.fd);
        transfer_done(&t);
        if (r == 0)
                emit(p, PULL_EVENT_BLOB_DONE, b->digest, b->size, b->size, index, count);
        return r;
}

/* ---- credentials ---- */

static int auth_file_lookup(const char *path, Pull *p, RtError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(path, 1 << 20, &text, &len, NULL);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : rt_err_set(err, r, "read the auth file %s", path);
        RtError e = {};
        r = registry_auth_lookup(text, len, p->ref.registry, p->ref.repo, &p->user, &p->pass, &e);
        if (r < 0 && r != -ENOENT)
                return rt_err_setx(err, r, "the auth file %s: %s", path, e.msg);
        return r;
}

/* --creds, or the first auth file that has some for the registry: --authfile (or
 * REGISTRY_AUTH_FILE) alone when given, else Podman's places and then Docker's */
static int find_credentials(Pull *p, RtError *err) {
        const PullOptions *o = p->o;
        if (o->username) {
                p->user = strdup(o->username);
                p->pass = strdup(o->password ?: "");
                return p->user && p->pass ? 0 : rt_err_set(err, -ENOMEM, "credentials");
        }
        const char *given = o->authfile && *o->authfile ? o->authfile : getenv("REGISTRY_AUTH_FILE");
        if (given && *given) {
                int r = auth_file_lookup(given, p, err);
                return r == -ENOENT ? 0 : r;
        }
        char paths[4][PATH_MAX];
        size_t n = 0;
        const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
        if (xdg && *xdg)
                (void) snprintf(paths[n++], PATH_MAX, "%s/containers/auth.json", xdg);
        else if (geteuid() == 0)
                (void) snprintf(paths[n++], PATH_MAX, "/run/containers/0/auth.json");
        if (home && *home) {
                (void) snprintf(paths[n++], PATH_MAX, "%s/.config/containers/auth.json", home);
                (void) snprintf(paths[n++], PATH_MAX, "%s/.docker/config.json", home);
        }
        for (size_t i = 0; i < n; i++) {
                int r = auth_file_lookup(paths[i], p, err);
                if (r != -ENOENT)
                        return r;
        }
        return 0;
}

/* ---- registries.conf ---- */

static int conf_file(const char *path, RegistriesConf *conf, RtError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(path, 1 << 20, &text, &len, err);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : registries_conf_parse(path, text, len, conf, err);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* CONTAINERS_REGISTRIES_CONF alone when set, else the system's file and its drop-ins in
 * order; the names of what was read go to files (for an error that says where to look) */
static int registries_conf_load(RegistriesConf *conf, char files[static 512], RtError *err) {
        const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
        if (env && *env) {
                (void) snprintf(files, 512, "%s", env);
                return conf_file(env, conf, err);
        }
        (void) snprintf(files, 512, "/etc/containers/registries.conf and registries.conf.d/");
        int r = conf_file("/etc/containers/registries.conf", conf, err);
        _cleanup_closedir_ DIR *d = r < 0 ? NULL : opendir("/etc/containers/registries.conf.d");
        if (!d)
                return r;
        _cleanup_(strv_freep) char **names = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strlen(de->d_name) > 5 &&
                    streq(de->d_name + strlen(de->d_name) - 5, ".conf") && strv_push(&names, de->d_name) < 0)
                        return rt_err_set(err, -ENOMEM, "registries.conf.d");
        if (names)
                qsort(names, strv_length(names), sizeof *names, cmp_str);
        for (char **n = names; n && *n; n++) {
                char p[PATH_MAX];
                (void) snprintf(p, sizeof p, "/etc/containers/registries.conf.d/%s", *n);
                if ((r = conf_file(p, conf, err)) < 0)
                        return r;
        }
        return 0;
}

/* What a short name may mean, in the order to try: its alias, else each search registry */
static int candidates(const ImageRef *ref, const RegistriesConf *conf, const char *files, ImageRef **ret,
                      size_t *ret_n, RtError *err) {
        char *const *regs = conf->search;
        size_t n = ref->registry[0] ? 1 : strv_length(regs);
        const char *alias = ref->registry[0] ? NULL : registries_conf_alias(conf, ref->repo);
        if (alias)
                n = 1;
        if (n == 0)
                return rt_err_setx(err, -EINVAL,
                                   "'%s' is a short name and %s names no unqualified-search-registries: give the "
                                   "registry (docker.io/library/%s)",
                                   ref->repo, files, ref->repo);
        ImageRef *c = calloc(n, sizeof *c);
        if (!c)
                return rt_err_set(err, -ENOMEM, "pull");
        for (size_t i = 0; i < n; i++) {
                char text[IMAGE_REF_TEXT_MAX];
                if (ref->registry[0])
                        (void) snprintf(text, sizeof text, "%s/%s", ref->registry, ref->repo);
                else
                        (void) snprintf(text, sizeof text, "%s/%s", alias ?: regs[i], alias ? "" : ref->repo);
                if (alias)
                        text[strlen(text) - 1] = '\0';
                int r = image_ref_parse(text, &c[i], err);
                if (r < 0) {
                        free(c);
                        return rt_err_prefix(err, r, "%s", alias ? "the alias in registries.conf" : "a search registry");
                }
                (void) snprintf(c[i].tag, sizeof c[i].tag, "%s", ref->tag);
                (void) snprintf(c[i].digest, sizeof c[i].digest, "%s", ref->digest);
        }
        *ret = c;
        *ret_n = n;
        return 0;
}

/* ---- the pull ---- */

static void pull_done(Pull *p) {
        if (p->curl)
                lib.easy_cleanup(p->curl);
        free(p->authorization);
        free(p->user);
        if (p->pass)
                explicit_bzero(p->pass, strlen(p->pass));
        free(p->pass);
}

/* The name is taken by an image: the same one pulled before (nothing to do: 1), one
 * pulled before from elsewhere or earlier (replaced: 0, *replace), or one of another
 * kind or in use (refused). */
static int name_taken(const CtrStore *s, const char *name, const char *digest, bool *replace, RtError *err) {
        Image old;
        *replace = false;
        if (image_name_free(s, name, NULL) == 0)
                return 0;
        if (ctr_image_load(s, name, &old, NULL) < 0)
                return rt_err_setx(err, -EEXIST, "image '%s' already exists", name);
        bool same = old.digest && streq(old.digest, digest), pulled = old.layers != NULL;
        image_done(&old);
        if (same)
                return 1;
        if (!pulled)
                return rt_err_setx(err, -EEXIST, "image '%s' already exists and was not pulled: "
                                   "remove it, or give the pull another --name", name);
        Container *cs = NULL;
        size_t n = 0;
        int r = ctr_list(s, &cs, &n, err);
        if (r < 0)
                return r;
        int users = 0;
        for (size_t i = 0; i < n; i++)
                users += streq(cs[i].config.image, name);
        ctr_list_free(cs, n);
        if (users)
                return rt_err_setx(err, -EBUSY, "image '%s' has a newer version but %d container(s) use it: remove "
                                   "them, or give the pull another --name", name, users);
        *replace = true;
        return 0;
}

static int pull_from(Pull *p, const CtrStore *s, const Platform *want, PullResult *ret, RtError *err) {
        char text[IMAGE_REF_TEXT_MAX];
        image_ref_format(&p->ref, text);
        emit(p, PULL_EVENT_TRYING, text, 0, 0, 0, 0);
        int r;
        if ((r = find_credentials(p, err)) < 0 || (r = registry_open(p, err)) < 0)
                return r;
        RegistryManifest m = {};
        char digest[IMAGE_DIGEST_MAX];
        r = fetch_manifest(p, p->ref.digest[0] ? p->ref.digest : p->ref.tag, &m, digest, err);
        if (r == 0 && m.is_index) {
                size_t i;
                char chosen[IMAGE_DIGEST_MAX];
                if ((r = registry_index_select(&m, want, &i, err)) < 0) {
                        registry_manifest_done(&m);
                        return -EOPNOTSUPP;
                }
                (void) snprintf(chosen, sizeof chosen, "%s", m.entries[i].manifest.digest);
                registry_manifest_done(&m);
                if ((r = fetch_manifest(p, chosen, &m, digest, err)) == 0 && m.is_index)
                        r = rt_err_setx(err, -EBADMSG, "the index points to another index");
        }
        if (r < 0) {
                registry_manifest_done(&m);
                return r;
        }
        emit(p, PULL_EVENT_RESOLVED, digest, 0, 0, 0, (unsigned) m.n_layers);

        LoadWork w = LOAD_WORK_INIT;
        _cleanup_free_ char *config = NULL;
        size_t config_len = 0;
        Platform have;
        char name[CTR_IMAGE_NAME_MAX + 1];
        bool replace = false;
        if ((r = fetch_config(p, &m.config, &config, &config_len, err)) < 0 ||
            (r = registry_config_platform(config, config_len, &have, err)) < 0)
                goto out;
        if (!streq(have.os, want->os) || !streq(have.arch, want->arch)) {
                char h[100], wp[100];
                platform_format(&have, h);
                platform_format(want, wp);
                r = rt_err_setx(err, -EOPNOTSUPP, "an image for %s, not %s (--platform chooses another)", h, wp);
                goto out;
        }
        if ((r = image_config_parse(config, config_len, &w.img.config, err)) < 0)
                goto out;
        if (p->o->name)
                (void) snprintf(name, sizeof name, "%s", p->o->name);
        else if ((r = image_name_from_reference(text, name, err)) < 0)
                goto out;
        (void) snprintf(ret->reference, sizeof ret->reference, "%s", text);
        (void) snprintf(ret->digest, sizeof ret->digest, "%s", digest);
        (void) snprintf(ret->load.name, sizeof ret->load.name, "%s", name);
        ret->load.layers = m.n_layers;
        if ((r = name_taken(s, name, digest, &replace, err)) != 0) {
                ret->up_to_date = r == 1;
                r = r == 1 ? 0 : r;
                goto out;
        }

        if ((r = load_staging_make(s, &w, err)) < 0)
                goto out;
        if (!(w.fds = calloc(m.n_layers ?: 1, sizeof *w.fds))) {
                r = rt_err_set(err, -ENOMEM, "pull");
                goto out;
        }
        for (size_t i = 0; i < m.n_layers; i++)
                if ((r = fetch_layer(p, s, &w, &m.layers[i], (unsigned) i + 1, (unsigned) m.n_layers, err)) < 0)
                        goto out;
        for (; w.n_fds < m.n_layers; w.n_fds++) {
                char staged[PATH_MAX];
                (void) snprintf(staged, sizeof staged, "%s/%s", w.staging, m.layers[w.n_fds].digest + 7);
                if ((w.fds[w.n_fds] = open(staged, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                        r = rt_err_set(err, -errno, "open %s", staged);
                        goto out;
                }
                if (!strv_contains(w.img.layers, m.layers[w.n_fds].digest) &&
                    strv_push(&w.img.layers, m.layers[w.n_fds].digest) < 0) {
                        r = rt_err_set(err, -ENOMEM, "pull");
                        goto out;
                }
        }
        if (!w.img.layers && !(w.img.layers = calloc(1, sizeof(char *)))) {
                r = rt_err_set(err, -ENOMEM, "pull");
                goto out;
        }
        if (!(w.img.reference = strdup(text)) || !(w.img.digest = strdup(digest))) {
                r = rt_err_set(err, -ENOMEM, "pull");
                goto out;
        }
        emit(p, PULL_EVENT_UNPACKING, name, 0, 0, 0, (unsigned) m.n_layers);

        /* the name checked again, now that no other load can take it */
        if ((r = load_lock(s, &w, err)) < 0 || (r = name_taken(s, name, digest, &replace, err)) != 0) {
                ret->up_to_date = r == 1;
                r = r == 1 ? 0 : r;
                goto out;
        }
        char blobs[PATH_MAX];
        image_blob_path(s, "", blobs);
        if ((r = mkdir_p(blobs, 0700, err)) < 0)
                goto out;
        for (char **l = w.img.layers; *l; l++) {
                char staged[PATH_MAX], stored[PATH_MAX];
                (void) snprintf(staged, sizeof staged, "%s/%s", w.staging, *l + 7);
                image_blob_path(s, *l, stored);
                if (link(staged, stored) < 0 && errno != EEXIST) {
                        r = rt_err_set(err, -errno, "store the layer %s", *l);
                        break;
                }
        }
        ImageLoadResult res;
        if (r == 0)
                r = load_install_rootfs(s, &w, name, p->o->ready, replace, &res, err);
        if (r < 0)
                (void) image_blobs_sweep(s, NULL); /* the lock is still held */
        else
                ret->load = res;
out:
        registry_manifest_done(&m);
        load_work_done(&w);
        return r;
}

int ctr_image_pull(const CtrStore *s, const char *reference, const PullOptions *o, PullResult *ret, RtError *err) {
        *ret = (PullResult) {};
        ImageRef ref;
        int r;
        if ((r = image_ref_parse(reference, &ref, err)) < 0 || (r = ctr_ready_check(o->ready, err)) < 0 ||
            (o->name && (r = ctr_image_name_check(o->name, err)) < 0) || (r = pull_libs(err)) < 0 ||
            (r = image_archive_lib(err)) < 0)
                return rt_err_prefix(err, r, "pull %s", reference ?: "");
        Platform want;
        if (o->platform.os[0])
                want = o->platform;
        else
                platform_host(&want);
        RegistriesConf conf = {};
        char files[512];
        _cleanup_free_ ImageRef *cands = NULL;
        size_t n = 0;
        if ((r = registries_conf_load(&conf, files, err)) < 0 ||
            (r = candidates(&ref, &conf, files, &cands, &n, err)) < 0) {
                registries_conf_done(&conf);
                return rt_err_prefix(err, r, "pull %s", reference);
        }
        for (size_t i = 0; i < n; i++) {
                if (registries_conf_matches(conf.blocked, cands[i].registry, cands[i].repo)) {
                        r = rt_err_setx(err, -EPERM, "%s is blocked in %s", cands[i].registry, files);
                        continue;
                }
                Pull p = { .o = o, .ref = cands[i], .curl = lib.easy_init() };
                p.tls_verify = o->tls_verify >= 0 ? o->tls_verify
                                                  : !registries_conf_matches(conf.insecure, cands[i].registry,
                                                                             cands[i].repo);
                RtError e = {};
                r = p.curl ? pull_from(&p, s, &want, ret, &e) : rt_err_set(&e, -ENOMEM, "libcurl");
                ret->fetched = p.fetched;
                pull_done(&p);
                /* a short name goes on to the next registry where this one has no such image */
                /* a short name's errors say which registry they come from */
                char tried[IMAGE_REF_TEXT_MAX];
                image_ref_format(&cands[i], tried);
                if (r < 0 && ref.registry[0])
                        (void) rt_err_setx(err, r, "%s", e.msg);
                else if (r < 0)
                        (void) rt_err_setx(err, r, "as %s: %s", tried, e.msg);
                if (r == 0 || (r != -ENOENT && r != -EACCES))
                        break;
        }
        registries_conf_done(&conf);
        return r < 0 ? rt_err_prefix(err, r, "pull %s", reference) : 0;
}
