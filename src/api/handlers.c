/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Tier 1 endpoints of shared/podman-api-subset.md (section numbers in comments),
 * with Podman's status codes, error phrases and field types. */
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

#include "api.h"
#include "cleanup.h"
#include "cni.h"
#include "frames.h"
#include "fs.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "proc.h"
#include "strv.h"

extern char **environ;

/* ---- small helpers ---- */

/* Go's encoding/json matches keys case-insensitively (spec 1.3). */
static json_t *jget(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        if (v || !json_is_object(o))
                return json_is_null(v) ? NULL : v;
        const char *k;
        json_object_foreach(o, k, v) if (strcasecmp(k, key) == 0) return json_is_null(v) ? NULL : v;
        return NULL;
}

static const char *jstr(json_t *o, const char *key) {
        return json_string_value(jget(o, key));
}

static bool jbool(json_t *o, const char *key) {
        return json_is_true(jget(o, key));
}

static bool query_bool(const ApiRequest *r, const char *key, bool def) {
        _cleanup_free_ char *v = http_query_get(r->http.query, key, 0);
        bool b = def;
        if (v && http_parse_bool(v, &b) < 0)
                return def;
        return b;
}

/* A window dimension from a JSON body: 0 (leave it) when absent or out of range. */
static unsigned short json_dimension(json_t *v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
        return n > 0 && n <= USHRT_MAX ? (unsigned short) n : 0;
}

/* A window dimension from the query: 0 (leave it) when absent or out of range. */
static unsigned short query_dimension(const ApiRequest *r, const char *key) {
        _cleanup_free_ char *v = http_query_get(r->http.query, key, 0);
        uint32_t n = 0;
        if (!v || safe_atou32_range(v, 1, USHRT_MAX, &n) < 0)
                return 0;
        return (unsigned short) n;
}

static int major_version(const ApiRequest *r) {
        return r->version[0] ? atoi(r->version) : 0;
}

/* The request body as a JSON object; an empty body is {}. */
static int body_json(ApiConn *c, const ApiRequest *r, json_t **ret) {
        if (!r->http.body_len) {
                *ret = json_object();
                return 0;
        }
        json_error_t je;
        json_t *j = json_loadb(r->http.body, r->http.body_len, 0, &je);
        if (!json_is_object(j)) {
                json_decref(j);
                (void) api_error(c, 400, "bad request", "decode the request body: %s (line %d, column %d)",
                                 j ? "not a JSON object" : je.text, je.line, je.column);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

static void hex_id(char buf[static 65]) {
        uint8_t b[32];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                memset(b, 0x5a, sizeof b);
        for (int i = 0; i < 32; i++)
                (void) snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

/* ---- containers: lookup with Podman's phrases ---- */

static int no_such_container(ApiConn *c, const char *ref) {
        return api_error(c, 404, "no such container", "no container with name or ID \"%s\" found: no such container", ref);
}

/* 0 with the container loaded; otherwise the reply (404) has been sent and < 0 returned
 * through *reply. */
static int load_container(ApiConn *c, const char *ref, Container *ret, int *reply) {
        char id[CTR_ID_LEN + 1];
        RtError e = {};
        if (ctr_lookup(&c->srv->store, ref, id, &e) < 0 || ctr_load(&c->srv->store, id, ret, &e) < 0) {
                *reply = no_such_container(c, ref);
                return -ENOENT;
        }
        (void) ctr_state_observe(ret);
        return 0;
}

/* One error-to-status mapping for the runtime's errors (spec 1.5). */
static int rt_error(ApiConn *c, const RtError *e, int fallback_status, const char *cause) {
        int status = e->code == -ENOENT ? 404 : fallback_status;
        return api_error(c, status, cause ? cause : status == 404 ? "not found" : "internal error", "%s", e->msg);
}

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

static int h_image_exists(ApiConn *c, ApiRequest *r) {
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, r->segs[1], &img, NULL) < 0)
                return api_error(c, 404, "failed to find image", "failed to find image %s: image not known", r->segs[1]);
        image_done(&img);
        return api_reply(c, 204, NULL, NULL, 0);
}

static int h_image_json(ApiConn *c, ApiRequest *r) {
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, r->segs[1], &img, NULL) < 0)
                return api_error(c, 404, "image not known", "failed to find image %s: %s: image not known", r->segs[1],
                                 r->segs[1]);
        json_t *j = image_inspect_json(&img, r->libpod);
        image_done(&img);
        return api_reply_json(c, 200, j);
}

static int h_images_list(ApiConn *c, ApiRequest *r) {
        Image *imgs = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_image_list(&c->srv->store, &imgs, &n, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, image_summary_json(&imgs[i], r->libpod));
        image_list_free(imgs, n);
        return api_reply_json(c, 200, arr);
}

/* 7.1: offline, a pull only finds what is here (create and run ask first, policy missing) */
static int h_image_pull(ApiConn *c, ApiRequest *r) {
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

/* 7.2: an image archive as the body (podman load, docker load), spooled to a file of the
 * store as it arrives (an archive can be gigabytes), then loaded as `nsprov image load`
 * loads one. */
bool api_streams_body(const ApiRequest *r) {
        return streq(r->http.method, "POST") && r->n_segs == 2 && streq(r->segs[0], "images") &&
               streq(r->segs[1], "load");
}

static int h_image_load(ApiConn *c, ApiRequest *r) {
        const CtrStore *s = &c->srv->store;
        RtError e = {};
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/images", s->root);
        if (mkdir_p(p, 0700, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        (void) snprintf(p, sizeof p, "%s/images/.upload-XXXXXX", s->root);
        _cleanup_close_ int fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0)
                return api_error(c, 500, "internal error", "spool the upload: %s", strerror(errno));
        (void) unlink(p); /* the fd holds it: nothing of it outlives this request */
        int k = api_body_to_fd(c, r, fd, API_MAX_UPLOAD, &e);
        if (k == -ECONNRESET || k == -ETIMEDOUT || k == -EPIPE)
                return k; /* the client went */
        if (k < 0)
                return api_error(c, k == -E2BIG ? 413 : k == -ENOSPC ? 507 : 400, "bad request",
                                 "image archive: %s", e.msg);
        ImageLoadResult res;
        if (lseek(fd, 0, SEEK_SET) < 0 || ctr_image_load_archive(s, fd, NULL, &res, &e) < 0) {
                if (!e.code)
                        (void) rt_err_set(&e, -errno, "rewind the upload");
                int status = e.code == -EEXIST ? 409 : e.code == -EBADMSG || e.code == -EOPNOTSUPP ||
                                                                e.code == -EINVAL ? 400 : 500;
                return api_error(c, status, status == 409 ? "image exists" : status == 400 ? "bad image archive" :
                                 "internal error", "%s", e.msg);
        }
        char ref[CTR_IMAGE_NAME_MAX + 32];
        (void) snprintf(ref, sizeof ref, "localhost/%s:latest", res.name);
        if (r->libpod)
                return api_reply_json(c, 200, json_pack("{s:[s]}", "Names", ref));
        /* docker load reads a stream of such lines */
        return api_reply_json(c, 200, json_pack("{s:o}", "stream", json_sprintf("Loaded image: %s\n", ref)));
}

/* ---- system (3.1 – 3.3) ---- */

static int h_ping(ApiConn *c, ApiRequest *r) {
        char head[1024];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n,
                      "Docker-Experimental: true\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n"
                      "Libpod-Buildah-Version: 1.33.7\r\nBuilder-Version: \r\nBuildKit-Version: \r\nOSType: linux\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n%s\r\n%s",
                      c->keep_alive ? "" : "Connection: close\r\n", streq(r->http.method, "HEAD") ? "" : "OK");
        int k = api_write_all(c->fd, head, (size_t) n);
        return k < 0 ? k : c->keep_alive ? 0 : -ECONNRESET;
}

static int h_info(ApiConn *c, ApiRequest *r) {
        struct utsname u;
        struct sysinfo si;
        (void) uname(&u);
        (void) sysinfo(&si);
        Container *cs = NULL;
        size_t n = 0;
        int running = 0, stopped = 0;
        if (ctr_list(&c->srv->store, &cs, &n, NULL) == 0) {
                for (size_t i = 0; i < n; i++)
                        running += cs[i].state.status == CTR_RUNNING, stopped += cs[i].state.status != CTR_RUNNING;
                ctr_list_free(cs, n);
        }
        Image *imgs = NULL;
        size_t ni = 0;
        if (ctr_image_list(&c->srv->store, &imgs, &ni, NULL) == 0)
                image_list_free(imgs, ni);
        if (!r->libpod) /* 7.2: docker info's shape */
                return api_reply_json(
                        c, 200,
                        json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:s,"
                                  " s:s, s:s, s:s, s:[s], s:s, s:b}",
                                  "ID", u.nodename, "Containers", running + stopped, "ContainersRunning", running,
                                  "ContainersPaused", 0, "ContainersStopped", stopped, "Images", (int) ni, "Driver",
                                  "overlay", "ServerVersion", API_LIBPOD_VERSION, "OperatingSystem", "Debian GNU/Linux 12",
                                  "OSType", "linux", "Architecture", u.machine, "NCPU", (int) sysconf(_SC_NPROCESSORS_ONLN),
                                  "MemTotal", (json_int_t) si.totalram * si.mem_unit, "KernelVersion", u.release, "Name",
                                  u.nodename, "CgroupDriver", "cgroupfs", "CgroupVersion", "1", "DockerRootDir",
                                  c->srv->store.root, "SecurityOptions", "name=seccomp,profile=default",
                                  "DefaultRuntime", "nsprov", "LiveRestoreEnabled", 1));
        char uptime[64];
        (void) snprintf(uptime, sizeof uptime, "%ldh %ldm %ld.00s", si.uptime / 3600, si.uptime / 60 % 60, si.uptime % 60);
        json_t *host = json_pack(
                "{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                " s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:n, s:n},"
                " s:{s:s, s:b}, s:{s:b, s:b, s:b, s:b, s:s, s:s}, s:b}",
                "arch", "amd64", "os", "linux", "hostname", u.nodename, "kernel", u.release, "cpus",
                (int) sysconf(_SC_NPROCESSORS_ONLN), "memTotal", (json_int_t) si.totalram * si.mem_unit, "memFree",
                (json_int_t) si.freeram * si.mem_unit, "swapTotal", 0, "swapFree", 0, "uptime", uptime,
                "networkBackend", c->srv->network_backend, "cgroupVersion", "v1", "cgroupManager", "cgroupfs",
                "eventLogger", "file", "logDriver", "k8s-file", "linkmode", "static", "ociRuntime", "name", "nsprov",
                "package", "", "path", c->srv->self_exe, "version", NSPROV_VERSION, "conmon", "package", "", "path", "",
                "version", "", "distribution", "distribution", "debian", "version", "12", "codename", "bookworm",
                "idMappings", "gidmap", "uidmap", "remoteSocket", "path", "", "exists", 1, "security", "rootless", 0,
                "apparmorEnabled", 0, "selinuxEnabled", 0, "seccompEnabled", 1, "capabilities", "",
                "seccompProfilePath", "", "serviceIsRemote", 0);
        json_t *store = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i}, s:{s:i}}",
                                  "graphRoot", c->srv->store.root, "runRoot", c->srv->store.runroot, "graphDriverName",
                                  "overlay", "graphOptions", "graphStatus", "configFile", "", "imageCopyTmpDir",
                                  "/var/tmp", "volumePath", c->srv->store.root, "containerStore", "number",
                                  running + stopped, "paused", 0, "running", running, "stopped", stopped,
                                  "imageStore", "number", (int) ni);
        json_t *version = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "APIVersion", API_LIBPOD_VERSION,
                                    "Version", API_LIBPOD_VERSION, "GoVersion", "n/a", "GitCommit", "", "BuiltTime",
                                    "Thu Jan  1 00:00:00 1970", "Built", 0, "OsArch", "linux/amd64", "Os", "linux");
        return api_reply_json(c, 200,
                              json_pack("{s:o, s:o, s:{}, s:{s:[s], s:[s], s:[s], s:n}, s:o}", "host", host, "store",
                                        store, "registries", "plugins", "volume", "local", "network", "bridge", "log",
                                        "k8s-file", "authorization", "version", version));
}

static int h_version(ApiConn *c, ApiRequest *r) {
        struct utsname u;
        (void) uname(&u);
        return api_reply_json(
                c, 200,
                json_pack("{s:{s:s}, s:[{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}], s:s, s:s,"
                          " s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "Platform", "Name", "linux/amd64/debian-12", "Components", "Name", "Podman Engine",
                          "Version", API_LIBPOD_VERSION, "Details", "APIVersion", API_LIBPOD_VERSION, "Arch", "amd64",
                          "BuildTime", "1970-01-01T00:00:00Z", "Experimental", "false", "GitCommit", "", "GoVersion",
                          "n/a", "KernelVersion", u.release, "MinAPIVersion", "4.0.0", "Os", "linux", "Version",
                          API_LIBPOD_VERSION, "ApiVersion", API_COMPAT_VERSION, "MinAPIVersion", "1.24", "GitCommit",
                          "", "GoVersion", "n/a", "Os", "linux", "Arch", "amd64", "KernelVersion", u.release,
                          "BuildTime", "1970-01-01T00:00:00Z"));
}

/* ---- containers (4.1 – 4.8) ---- */

static int strv_from_map(json_t *m, char ***ret) {
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        const char *k;
        json_t *val;
        if (!v)
                return -ENOMEM;
        json_object_foreach(m, k, val) {
                if (!json_is_string(val))
                        return -EINVAL;
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", k, json_string_value(val)) < 0 || strv_push(&v, kv) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Docker's EndpointSettings (--ip, --ip6, --mac-address of run and network connect) as
 * libpod's per-network options (4.1). */
static json_t *endpoint_options(json_t *ep) {
        json_t *o = json_object(), *ips = json_array();
        json_t *ipam = jget(ep, "IPAMConfig");
        const char *keys[] = { "IPv4Address", "IPv6Address" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *ip = jstr(ipam, keys[i]);
                if (ip && *ip)
                        json_array_append_new(ips, json_string(ip));
        }
        json_object_set_new(o, "static_ips", ips);
        const char *mac = jstr(ep, "MacAddress");
        if (mac && *mac)
                json_object_set_new(o, "static_mac", json_string(mac));
        return o;
}

/* Docker's ContainerConfig (compat create, 7.2) in libpod's SpecGenerator terms. */
static json_t *docker_to_spec(json_t *d, const ApiRequest *r) {
        json_t *b = json_object(), *v;
        _cleanup_free_ char *name = http_query_get(r->http.query, "name", 0);
        if (name && *name)
                json_object_set_new(b, "name", json_string(name));
        static const struct {
                const char *from, *to;
        } same[] = { { "Image", "image" }, { "Hostname", "hostname" }, { "Cmd", "command" }, { "Tty", "terminal" },
                     { "OpenStdin", "stdin" }, { "Labels", "labels" }, { "WorkingDir", "work_dir" },
                     { "User", "user" } };
        for (size_t i = 0; i < ELEMENTSOF(same); i++)
                if ((v = jget(d, same[i].from)))
                        json_object_set(b, same[i].to, v);
        if ((v = jget(d, "Entrypoint")))
                json_object_set_new(b, "entrypoint", json_is_string(v) ? json_pack("[O]", v) : json_incref(v));
        json_t *env = json_object();
        size_t i;
        json_array_foreach(jget(d, "Env"), i, v) {
                const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
                if (eq)
                        json_object_setn_new(env, kv, (size_t) (eq - kv), json_string(eq + 1));
        }
        json_object_set_new(b, "env", env);
        json_t *hc = jget(d, "HostConfig");
        if (jbool(hc, "Privileged"))
                json_object_set_new(b, "privileged", json_true());
        if (jbool(hc, "AutoRemove"))
                json_object_set_new(b, "remove", json_true());
        if ((v = jget(hc, "CapAdd")))
                json_object_set(b, "cap_add", v);
        if ((v = jget(hc, "CapDrop")))
                json_object_set(b, "cap_drop", v);
        /* -v (Binds "SRC:DST[:ro]") and --mount (Mounts) as libpod's mounts (4.1) */
        json_t *mounts = json_array();
        size_t mi;
        json_array_foreach(jget(hc, "Binds"), mi, v) {
                const char *bind = json_string_value(v), *colon = bind ? strchr(bind, ':') : NULL;
                if (!colon) {
                        json_array_append_new(mounts, json_pack("{s:s}", "type", "invalid"));
                        continue;
                }
                const char *dst = colon + 1, *opts = strchr(dst, ':');
                json_t *m = json_pack("{s:s%, s:s%, s:s, s:[]}", "source", bind, (size_t) (colon - bind),
                                      "destination", dst, opts ? (size_t) (opts - dst) : strlen(dst), "type", "bind",
                                      "options");
                if (m && opts && strstr(opts + 1, "ro"))
                        json_array_append_new(json_object_get(m, "options"), json_string("ro"));
                json_array_append_new(mounts, m);
        }
        json_array_foreach(jget(hc, "Mounts"), mi, v) {
                const char *type = jstr(v, "Type");
                json_array_append_new(mounts, json_pack("{s:s, s:s?, s:s?, s:[]}", "type", type ? type : "", "source",
                                                        jstr(v, "Source"), "destination", jstr(v, "Target"), "options"));
                if (jbool(v, "ReadOnly"))
                        json_array_append_new(json_object_get(json_array_get(mounts, json_array_size(mounts) - 1), "options"),
                                              json_string("ro"));
        }
        if (json_array_size(mounts))
                json_object_set(b, "mounts", mounts);
        json_decref(mounts);
        /* [rows, cols]: the docker CLI's terminal, which it resizes to only after start */
        if ((v = jget(hc, "ConsoleSize")))
                json_object_set(b, "console_size", v);
        const char *mode = jstr(hc, "NetworkMode");
        json_t *nets = json_object();
        const char *key;
        /* "default" and "bridge" name the default network, which a container joins anyway */
        json_object_foreach(jget(jget(d, "NetworkingConfig"), "EndpointsConfig"), key, v) if (!streq(key, "default") && !streq(key, "bridge"))
                json_object_set_new(nets, key, endpoint_options(v));
        if (mode && (streq(mode, "none") || streq(mode, "host")))
                json_object_set_new(b, "netns", json_pack("{s:s}", "nsmode", mode));
        else if (mode && *mode && !streq(mode, "default") && !streq(mode, "bridge") && !json_object_get(nets, mode))
                json_object_set_new(nets, mode, json_object());
        if (json_object_size(nets))
                json_object_set_new(b, "Networks", nets);
        else
                json_decref(nets);
        return b;
}

static int h_container_create(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int k = body_json(c, r, &b);
        if (k < 0)
                return c->keep_alive ? 0 : k;
        if (!r->libpod) {
                json_t *spec = docker_to_spec(b, r);
                json_decref(b);
                b = spec;
        }
        const char *image = jstr(b, "image");
        if (!image || !*image)
                return api_error(c, 400, "bad request", "create: no image given");
        Image img = {};
        if (ctr_image_resolve(&c->srv->store, image, &img, NULL) < 0)
                return api_error(c, 404, "image not known", "no such image: %s: image not known", image);
        CtrSpec spec = { .image = img.name, .stop_timeout = -1 };
        spec.name = jstr(b, "name");
        if (spec.name && !*spec.name)
                spec.name = NULL;
        spec.hostname = jstr(b, "hostname");
        if (spec.hostname && !*spec.hostname)
                spec.hostname = NULL;
        spec.privileged = jbool(b, "privileged");
        spec.tty = jbool(b, "terminal");
        spec.interactive = jbool(b, "stdin");
        spec.rm = jbool(b, "remove");
        spec.workdir = jstr(b, "work_dir");
        spec.user = jstr(b, "user");
        if (spec.workdir && !*spec.workdir)
                spec.workdir = NULL;
        _cleanup_(strv_freep) char **command = NULL, **env = NULL, **labels = NULL, **cap_add = NULL,
                                   **cap_drop = NULL, **networks = NULL, **entry = NULL;
        /* borrowed from the body: the arrays only */
        _cleanup_free_ const char **ifn = NULL, **macs = NULL, **ip4s = NULL, **ip6s = NULL;
        json_t *v;
        if ((v = jget(b, "command")) && strv_from_json(v, CTR_MAX_ARGS, &command) < 0)
                goto bad;
        /* an entrypoint list: its first word is the entrypoint, the rest goes in front of
         * the command */
        if ((v = jget(b, "entrypoint")) && strv_from_json(v, CTR_MAX_ARGS, &entry) < 0)
                goto bad;
        if (entry) {
                spec.entrypoint = entry[0] ? entry[0] : "";
                if (entry[0] && entry[1]) {
                        _cleanup_(strv_freep) char **full = strv_copy(entry + 1);
                        for (char **a = command; a && *a; a++)
                                if (strv_push(&full, *a) < 0)
                                        goto bad;
                        strv_free(command);
                        command = TAKE_PTR(full);
                }
        }
        spec.command = command;
        if ((v = jget(b, "env")) && (!json_is_object(v) || strv_from_map(v, &env) < 0))
                goto bad;
        spec.env = env;
        if ((v = jget(b, "labels")) && (!json_is_object(v) || strv_from_map(v, &labels) < 0))
                goto bad;
        spec.labels = labels;
        if ((v = jget(b, "cap_add")) && strv_from_json(v, 64, &cap_add) < 0)
                goto bad;
        if ((v = jget(b, "cap_drop")) && strv_from_json(v, 64, &cap_drop) < 0)
                goto bad;
        spec.cap_add = cap_add;
        spec.cap_drop = cap_drop;
        if ((v = jget(b, "stop_timeout")) && json_is_integer(v))
                spec.stop_timeout = (int) json_integer_value(v);
        char sig[16] = "";
        if ((v = jget(b, "stop_signal")) && json_is_integer(v) && json_integer_value(v) > 0) {
                (void) snprintf(sig, sizeof sig, "%d", (int) json_integer_value(v));
                spec.stop_signal = sig;
        }
        /* bind mounts (-v, --mount type=bind); the rest is not nsprov's to make */
        if (json_array_size(jget(b, "volumes")) || json_array_size(jget(b, "image_volumes")) ||
            json_array_size(jget(b, "overlay_volumes"))) {
                image_done(&img);
                return api_error(c, 500, "not supported", "named volumes are not supported by nsprov: bind a host path");
        }
        BindMount binds[CTR_MAX_MOUNTS];
        size_t nb = 0, mi;
        json_array_foreach(jget(b, "mounts"), mi, v) {
                const char *type = jstr(v, "type"), *src = jstr(v, "source"), *dst = jstr(v, "destination");
                if (!type || !streq(type, "bind")) {
                        image_done(&img);
                        return api_error(c, 500, "not supported", "mount type \"%s\" is not supported by nsprov: bind a host path",
                                         type ? type : "");
                }
                if (!src || !dst || nb == CTR_MAX_MOUNTS)
                        goto bad;
                bool ro = false;
                size_t oi;
                json_t *o;
                json_array_foreach(jget(v, "options"), oi, o) ro |= json_is_string(o) && streq(json_string_value(o), "ro");
                binds[nb++] = (BindMount) { .source = (char *) src, .destination = (char *) dst, .readonly = ro };
        }
        spec.mounts = binds;
        spec.n_mounts = nb;
        /* networks (4.1): netns mode, then the Networks map or the legacy list */
        const char *nsmode = jstr(jget(b, "netns"), "nsmode");
        if (nsmode && streq(nsmode, "none")) {
                char *none[] = { (char *) "none", NULL };
                networks = strv_copy(none);
        } else if (nsmode && *nsmode && !streq(nsmode, "bridge") && !streq(nsmode, "private")) {
                image_done(&img);
                return api_error(c, 500, "not supported", "network mode \"%s\" is not supported by nsprov", nsmode);
        } else {
                json_t *nets = jget(b, "Networks");
                const char *key;
                json_t *val;
                /* per network: interface_name, static_mac, static_ips (4.1) */
                /* room for the legacy cni_networks names too: the arrays are parallel to all */
                size_t nn = (json_is_object(nets) ? json_object_size(nets) : 0) + json_array_size(jget(b, "cni_networks")),
                       at = 0;
                if (nn > 0 && (!(ifn = calloc(nn + 1, sizeof *ifn)) || !(macs = calloc(nn + 1, sizeof *macs)) ||
                               !(ip4s = calloc(nn + 1, sizeof *ip4s)) || !(ip6s = calloc(nn + 1, sizeof *ip6s))))
                        goto bad;
                if (json_is_object(nets))
                        json_object_foreach(nets, key, val) {
                                /* Podman's client names the default network "default" when
                                 * --ip or --mac-address come without --network */
                                (void) strv_push(&networks, streq(key, "default") ? c->srv->store.default_network : key);
                                const char *f = jstr(val, "interface_name"), *m = jstr(val, "static_mac");
                                ifn[at] = f && *f ? f : NULL;
                                macs[at] = m && *m ? m : NULL;
                                size_t x;
                                json_t *ipv;
                                json_array_foreach(jget(val, "static_ips"), x, ipv) {
                                        const char *ip = json_string_value(ipv);
                                        if (ip && strchr(ip, ':') && !ip6s[at])
                                                ip6s[at] = ip;
                                        else if (ip && !strchr(ip, ':') && !ip4s[at])
                                                ip4s[at] = ip;
                                }
                                at++;
                        }
                spec.net_ifnames = ifn;
                spec.net_macs = macs;
                spec.net_ips = ip4s;
                spec.net_ip6s = ip6s;
                size_t i;
                json_array_foreach(jget(b, "cni_networks"), i, val) if (json_is_string(val))(void) strv_push(&networks, json_string_value(val));
        }
        spec.networks = networks;

        char id[CTR_ID_LEN + 1];
        RtError e = {};
        k = ctr_create(&c->srv->store, &spec, id, &e);
        image_done(&img);
        if (k == -EEXIST)
                return api_error(c, r->libpod ? 500 : 409, "that name is already in use", "%s: that name is already in use", e.msg);
        if (k < 0)
                return rt_error(c, &e, 500, NULL);
        json_t *size = jget(b, "console_size");
        unsigned short rows = json_dimension(json_array_get(size, 0)), cols = json_dimension(json_array_get(size, 1));
        if (spec.tty && rows && cols)
                (void) ctr_resize_tty(&c->srv->store, id, rows, cols, NULL);
        return api_reply_json(c, 201, json_pack("{s:s, s:[]}", "Id", id, "Warnings"));
bad:
        image_done(&img);
        return api_error(c, 400, "bad request", "create: a field has the wrong type");
}

static int h_container_json(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        json_t *j = ctr_inspect_json(&c->srv->store, &k, !r->libpod || major_version(r) >= 5 ? INSPECT_V5 : INSPECT_V4);
        if (!r->libpod) {
                /* compat (Docker) names carry a slash */
                char name[CTR_NAME_MAX + 2];
                (void) snprintf(name, sizeof name, "/%s", k.config.name);
                json_object_set_new(j, "Name", json_string(name));
                char iid[65], sha[72];
                net_cni_id(k.config.image, iid);
                (void) snprintf(sha, sizeof sha, "sha256:%s", iid);
                json_object_set_new(j, "Image", json_string(sha));
        }
        return api_reply_json(c, 200, j);
}

static int h_container_exists(ApiConn *c, ApiRequest *r) {
        char id[CTR_ID_LEN + 1];
        if (ctr_lookup(&c->srv->store, r->segs[1], id, NULL) < 0)
                return api_error(c, 404, "no such container", "no such container");
        return api_reply(c, 204, NULL, NULL, 0);
}

#define ZERO_TIME_UNIX (-62135596800LL)

static json_t *ps_entry(const CtrStore *s, const Container *k) {
        char created[40];
        json_t *nets = json_array();
        NetAttachment *as = NULL;
        size_t na = 0;
        if (net_attachments_load(s, k->config.id, &as, &na, NULL) == 0)
                for (size_t i = 0; i < na; i++) {
                        bool dup = false;
                        for (size_t j = 0; j < i; j++)
                                dup |= streq(as[j].network, as[i].network);
                        if (!dup)
                                json_array_append_new(nets, json_string(as[i].network));
                }
        free(as);
        bool running = k->state.status == CTR_RUNNING, exited = k->state.status == CTR_EXITED;
        json_int_t started = k->state.started_ns ? (json_int_t) (k->state.started_ns / 1000000000ull) : ZERO_TIME_UNIX;
        json_int_t ended = exited && k->state.finished_ns ? (json_int_t) (k->state.finished_ns / 1000000000ull)
                                                          : ZERO_TIME_UNIX;
        char iid[65];
        net_cni_id(k->config.image, iid);
        return json_pack("{s:b, s:o, s:s, s:s, s:b, s:I, s:i, s:s, s:s, s:s, s:b, s:o, s:[], s:[s], s:{}, s:o,"
                         " s:i, s:s, s:s, s:n, s:n, s:I, s:s, s:s}",
                         "AutoRemove", k->config.rm, "Command", strv_to_json(k->config.argv), "Created",
                         format_rfc3339(k->config.created_ns, created), "CreatedAt", "", "Exited", exited,
                         "ExitedAt", ended, "ExitCode", k->state.exit_code, "Id", k->config.id, "Image",
                         k->config.image, "ImageID", iid, "IsInfra", 0, "Labels", ctr_labels_json(k->config.labels),
                         "Mounts", "Names", k->config.name, "Namespaces", "Networks", nets, "Pid",
                         running ? (int) k->state.init.pid : 0, "Pod", "", "PodName", "", "Ports", "Size",
                         "StartedAt", started, "State", ctr_status_to_string(k->state.status), "Status", "");
}

/* filters: {"name":["x"]} (libpod) or {"name":{"x":true}} (docker): any value matches */
static bool filter_match(json_t *filters, const char *key, const char *value, bool prefix) {
        json_t *f = json_object_get(filters, key);
        if (!f)
                return true;
        size_t i;
        json_t *v;
        const char *k;
        bool any = false;
        if (json_is_array(f))
                json_array_foreach(f, i, v) {
                        const char *s = json_string_value(v);
                        any |= s && (prefix ? strncmp(value, s, strlen(s)) == 0 : strstr(value, s) != NULL);
                }
        else if (json_is_object(f))
                json_object_foreach(f, k, v) any |= prefix ? strncmp(value, k, strlen(k)) == 0 : strstr(value, k) != NULL;
        return any;
}

static bool label_match(json_t *filters, char *const *labels) {
        json_t *f = json_object_get(filters, "label");
        if (!f)
                return true;
        size_t i;
        json_t *v;
        json_array_foreach(f, i, v) {
                const char *want = json_string_value(v);
                if (!want)
                        continue;
                bool found = false;
                for (char *const *l = labels; l && *l; l++)
                        found |= streq(*l, want) || (!strchr(want, '=') && startswith(*l, want) && (*l)[strlen(want)] == '=');
                if (!found)
                        return false;
        }
        return true;
}

/* docker ps's entry (7.2): names with a slash, the command one string, times in seconds */
static json_t *compat_ps_entry(const CtrStore *s, const Container *k) {
        char iid[65], sha[72], name[CTR_NAME_MAX + 2], cmd[1024] = "", status[64];
        net_cni_id(k->config.image, iid);
        (void) snprintf(sha, sizeof sha, "sha256:%s", iid);
        (void) snprintf(name, sizeof name, "/%s", k->config.name);
        for (char **a = k->config.argv; a && *a; a++) {
                size_t l = strlen(cmd);
                (void) snprintf(cmd + l, sizeof cmd - l, "%s%s", a == k->config.argv ? "" : " ", *a);
        }
        if (k->state.status == CTR_RUNNING)
                (void) snprintf(status, sizeof status, "Up");
        else if (k->state.status == CTR_EXITED)
                (void) snprintf(status, sizeof status, "Exited (%d)", k->state.exit_code);
        else
                (void) snprintf(status, sizeof status, "Created");
        json_t *insp = ctr_inspect_json(s, k, INSPECT_V5);
        json_t *nets = json_incref(json_object_get(json_object_get(insp, "NetworkSettings"), "Networks"));
        json_decref(insp);
        return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:o, s:s, s:s, s:{s:s}, s:{s:o}, s:[]}", "Id",
                         k->config.id, "Names", name, "Image", k->config.image, "ImageID", sha, "Command", cmd,
                         "Created", (json_int_t) (k->config.created_ns / 1000000000ull), "Ports", "Labels",
                         ctr_labels_json(k->config.labels), "State", ctr_status_to_string(k->state.status), "Status",
                         status, "HostConfig", "NetworkMode", k->config.network, "NetworkSettings", "Networks",
                         nets ? nets : json_object(), "Mounts");
}

static int h_containers_list(ApiConn *c, ApiRequest *r) {
        bool all = query_bool(r, "all", false);
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        if (!json_is_object(filters))
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters': \"%s\"", ftext);
        Container *cs = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_list(&c->srv->store, &cs, &n, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                const Container *k = &cs[i];
                bool status_filtered = json_object_get(filters, "status") != NULL;
                if (!all && !status_filtered && k->state.status != CTR_RUNNING)
                        continue;
                if (!filter_match(filters, "name", k->config.name, false) ||
                    !filter_match(filters, "id", k->config.id, true) ||
                    !filter_match(filters, "status", ctr_status_to_string(k->state.status), true) ||
                    !label_match(filters, k->config.labels))
                        continue;
                json_array_append_new(arr, r->libpod ? ps_entry(&c->srv->store, k) : compat_ps_entry(&c->srv->store, k));
        }
        ctr_list_free(cs, n);
        return api_reply_json(c, 200, arr);
}

static int h_container_start(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status == CTR_RUNNING)
                return api_reply(c, 304, NULL, NULL, 0);
        RtError e = {};
        /* synchronous (4.5): the netns is wired and the address taken when this returns */
        if (ctr_start(&c->srv->store, k.config.id, NULL, NULL, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

static int h_container_stop(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status != CTR_RUNNING)
                return api_reply(c, 304, NULL, NULL, 0);
        _cleanup_free_ char *t = http_query_get(r->http.query, r->libpod ? "timeout" : "t", 0);
        int timeout = t && *t ? atoi(t) : -1;
        RtError e = {};
        if (ctr_stop(&c->srv->store, k.config.id, timeout, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

/* containers/{n}/top: Titles and Processes, as podman top and docker top print them
 * (ps_args are not ps's here: the columns are fixed). */
static int h_container_top(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 409, "container state improper",
                                 "top can only be used on running containers: container %s is %s", k.config.id,
                                 ctr_status_to_string(k.state.status));
        _cleanup_free_ CtrProcess *ps = NULL;
        size_t n = 0;
        RtError e = {};
        if (ctr_top(&c->srv->store, k.config.id, &ps, &n, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
                char pid[16], ppid[16];
                (void) snprintf(pid, sizeof pid, "%d", (int) ps[i].pid);
                (void) snprintf(ppid, sizeof ppid, "%d", (int) ps[i].ppid);
                json_array_append_new(rows, json_pack("[s, s, s, s]", ps[i].user, pid, ppid, ps[i].command));
        }
        return api_reply_json(c, 200, json_pack("{s:[s, s, s, s], s:o}", "Titles", "USER", "PID", "PPID", "COMMAND",
                                                "Processes", rows));
}

/* containers/{n}/resize (7.1): libpod says 201, Docker 200 */
static int h_container_resize(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        RtError e = {};
        if (ctr_resize_tty(&c->srv->store, k.config.id, query_dimension(r, "h"), query_dimension(r, "w"), &e) < 0)
                return rt_error(c, &e, 500, NULL);
        return api_reply(c, r->libpod ? 201 : 200, NULL, NULL, 0);
}

static int h_container_kill(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        _cleanup_free_ char *sig = http_query_get(r->http.query, "signal", 0);
        int s = sig && *sig ? signal_from_string(sig) : SIGKILL;
        if (s < 0)
                return api_error(c, 400, "bad request", "failed to parse query parameter 'signal': \"%s\"", sig);
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 409, "container state improper", "can only kill running containers. %s is in state %s: container state improper",
                                 k.config.id, ctr_status_to_string(k.state.status));
        RtError e = {};
        if (ctr_kill(&c->srv->store, k.config.id, s, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

static int h_container_restart(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        _cleanup_free_ char *t = http_query_get(r->http.query, r->libpod ? "timeout" : "t", 0);
        RtError e = {};
        if ((k.state.status == CTR_RUNNING && ctr_stop(&c->srv->store, k.config.id, t && *t ? atoi(t) : -1, &e) < 0) ||
            ctr_start(&c->srv->store, k.config.id, NULL, NULL, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        return api_reply(c, 204, NULL, NULL, 0);
}

static int h_container_delete(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return query_bool(r, "ignore", false) ? api_reply_json(c, 200, json_array()) : reply;
        bool force = query_bool(r, "force", false);
        if (k.state.status == CTR_RUNNING && !force)
                return api_error(c, 500, "container state improper",
                                 "cannot remove container %s as it is running - running or paused containers cannot be "
                                 "removed without force: container state improper",
                                 k.config.id);
        RtError e = {};
        if (ctr_remove(&c->srv->store, k.config.id, force, &e) < 0 && e.code != -ENOENT)
                return rt_error(c, &e, 500, NULL);
        if (!r->libpod)
                return api_reply(c, 204, NULL, NULL, 0);
        return api_reply_json(c, 200, json_pack("[{s:s, s:s}]", "Id", k.config.id, "RawInput", r->segs[1]));
}

/* Docker's wait (6): the headers at once (the docker CLI starts the container only once
 * it has them), the body when the condition holds, chunked. */
static int compat_wait(ApiConn *c, ApiRequest *r, const Container *k) {
        _cleanup_free_ char *cond = http_query_get(r->http.query, "condition", 0);
        const char *want = cond && *cond ? cond : "not-running";
        if (!streq(want, "not-running") && !streq(want, "next-exit") && !streq(want, "removed"))
                return api_error(c, 400, "bad request", "invalid condition \"%s\"", want);
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n,
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        uint64_t since = now_realtime_ns();
        int code = -1;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k->config.id, sizeof id);
        for (;;) {
                _cleanup_(ctr_done) Container now = {};
                bool gone = ctr_load(&c->srv->store, id, &now, NULL) < 0;
                if (!gone)
                        (void) ctr_state_observe(&now);
                if (gone) {
                        int recorded;
                        code = ctr_removed_exit_code(&c->srv->store, id, &recorded) == 0 ? recorded : code;
                        break;
                }
                code = now.state.exit_code;
                if (streq(want, "not-running") && now.state.status != CTR_RUNNING)
                        break;
                if (streq(want, "next-exit") && now.state.status == CTR_EXITED && now.state.finished_ns >= since)
                        break;
                struct pollfd pfd = { c->fd, 0, 0 }; /* a half-close is no goodbye: only a hang-up */
                if (poll(&pfd, 1, 50) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        return -ECONNRESET;
        }
        char body[96], chunk[160];
        int bl = snprintf(body, sizeof body, "{\"StatusCode\":%d,\"Error\":null}\n", code);
        int cl = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n0\r\n\r\n", bl, body);
        (void) api_write_all(c->fd, chunk, (size_t) cl);
        return -ECONNRESET;
}

/* wait (4.6): held open, polled at the interval, given up when the client goes. */
static int reply_removed_exit(ApiConn *c, ApiRequest *r, const char *id) {
        int code;
        if (ctr_removed_exit_code(&c->srv->store, id, &code) < 0)
                return no_such_container(c, r->segs[1]);
        char body[32];
        (void) snprintf(body, sizeof body, "%d\n", code);
        return api_reply_text(c, 200, body);
}

static int h_container_wait(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        char probe[CTR_ID_LEN + 1];
        int code;
        /* an --rm container already gone: its recorded exit code */
        if (ctr_lookup(&c->srv->store, r->segs[1], probe, NULL) < 0 &&
            ctr_removed_exit_code(&c->srv->store, r->segs[1], &code) == 0) {
                if (!r->libpod)
                        return api_reply_json(c, 200, json_pack("{s:i, s:n}", "StatusCode", code, "Error"));
                return reply_removed_exit(c, r, r->segs[1]);
        }
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        if (!r->libpod)
                return compat_wait(c, r, &k);
        bool want[_CTR_STATUS_MAX] = {};
        bool any = false;
        for (unsigned i = 0;; i++) {
                _cleanup_free_ char *cond = http_query_get(r->http.query, "condition", i);
                if (!cond)
                        break;
                any = true;
                if (streq(cond, "running"))
                        want[CTR_RUNNING] = true;
                else if (streq(cond, "created") || streq(cond, "configured"))
                        want[CTR_CREATED] = true;
                else if (streq(cond, "stopped") || streq(cond, "exited") || streq(cond, "not-running"))
                        want[CTR_EXITED] = true;
                else if (!streq(cond, "paused") && !streq(cond, "removing") && !streq(cond, "stopping") &&
                         !streq(cond, "next-exit") && !streq(cond, "healthy") && !streq(cond, "unhealthy"))
                        return api_error(c, 400, "bad request", "invalid condition \"%s\"", cond);
        }
        if (!any)
                want[CTR_EXITED] = true;
        _cleanup_free_ char *interval = http_query_get(r->http.query, "interval", 0);
        int step_ms = 100;
        if (interval && strstr(interval, "ms"))
                step_ms = atoi(interval) > 0 && atoi(interval) < step_ms ? atoi(interval) : step_ms;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k.config.id, sizeof id);
        for (;;) {
                _cleanup_(ctr_done) Container now = {};
                if (ctr_load(&c->srv->store, id, &now, NULL) < 0)
                        return reply_removed_exit(c, r, id);
                (void) ctr_state_observe(&now);
                if (want[now.state.status]) {
                        char body[32];
                        (void) snprintf(body, sizeof body, "%d\n", now.state.status == CTR_EXITED ? now.state.exit_code : -1);
                        return api_reply_text(c, 200, body);
                }
                /* a client that went away ends the wait */
                struct pollfd pfd = { c->fd, 0, 0 }; /* a half-close is no goodbye: only a hang-up */
                if (poll(&pfd, 1, step_ms) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        return -ECONNRESET;
        }
}

/* logs (7.1): the k8s-file lines as stdout/stderr frames (frames.c), a body that ends
 * when the connection closes; follow reads on until the container has stopped. */
static long count_lines(const char *t, size_t len) {
        long n = 0;
        for (size_t i = 0; i < len; i++)
                n += t[i] == '\n';
        return n;
}

static int h_container_logs(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        bool follow = query_bool(r, "follow", false), stamps = query_bool(r, "timestamps", false);
        bool want_out = query_bool(r, "stdout", true), want_err = query_bool(r, "stderr", true);
        _cleanup_free_ char *tail = http_query_get(r->http.query, "tail", 0);
        long tail_n = tail && *tail && !streq(tail, "all") ? atol(tail) : -1;
        char path[PATH_MAX], old[PATH_MAX + 2];
        (void) ctr_log_path(&c->srv->store, k.config.id, path);
        (void) snprintf(old, sizeof old, "%s.1", path);
        _cleanup_free_ char *t_old = NULL, *t_cur = NULL;
        size_t l_old = 0, l_cur = 0;
        (void) read_file(old, 64u << 20, &t_old, &l_old, NULL);
        (void) read_file(path, 64u << 20, &t_cur, &l_cur, NULL);
        long total = count_lines(t_old, l_old) + count_lines(t_cur, l_cur);
        long skip = tail_n >= 0 && tail_n < total ? total - tail_n : 0;
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n, "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        long old_lines = count_lines(t_old, l_old);
        if (t_old && api_log_frames(c->fd, t_old, l_old, want_out, want_err, stamps, skip) < 0)
                return -ECONNRESET;
        int used = t_cur ? api_log_frames(c->fd, t_cur, l_cur, want_out, want_err, stamps, skip > old_lines ? skip - old_lines : 0) : 0;
        if (used < 0)
                return -ECONNRESET;
        size_t offset = (size_t) used;
        while (follow) {
                _cleanup_(ctr_done) Container now = {};
                bool running = ctr_load(&c->srv->store, k.config.id, &now, NULL) == 0 &&
                               ((void) ctr_state_observe(&now), now.state.status == CTR_RUNNING);
                _cleanup_free_ char *t = NULL;
                size_t l = 0;
                if (read_file(path, 64u << 20, &t, &l, NULL) == 0 && l > offset) {
                        int u = api_log_frames(c->fd, t + offset, l - offset, want_out, want_err, stamps, 0);
                        if (u < 0)
                                return -ECONNRESET;
                        offset += (size_t) u;
                } else if (l < offset)
                        offset = 0; /* rotated */
                if (!running)
                        break;
                struct pollfd pfd = { c->fd, 0, 0 }; /* a half-close is no goodbye: only a hang-up */
                if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        break;
        }
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
}

/* attach (7.1), as `podman run` without -d uses it: hijacked before the start, then the
 * container's output from its log as it is written (frames, or raw bytes with a tty),
 * until the container has run and ended. inotify opens the log the moment the monitor
 * makes it, so an --rm container's output is held by our fd before its dir goes. Stdin
 * is not forwarded. */
static int h_container_attach(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        bool want_out = query_bool(r, "stdout", true), want_err = query_bool(r, "stderr", true);
        char path[PATH_MAX], dir[PATH_MAX];
        (void) ctr_log_path(&c->srv->store, k.config.id, path);
        (void) snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        _cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino >= 0)
                (void) inotify_add_watch(ino, dir, IN_CREATE | IN_MODIFY | IN_DELETE_SELF);
        _cleanup_close_ int log = open(path, O_RDONLY | O_CLOEXEC);
        if (log >= 0)
                (void) lseek(log, 0, SEEK_END); /* what was before the attach is logs' business */
        bool upgrade = r->http.upgrade[0];
        char head[512];
        int n = upgrade ? snprintf(head, sizeof head,
                                   "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                   "Connection: Upgrade\r\nUpgrade: %s\r\n\r\n",
                                   r->http.upgrade)
                        : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        uint64_t since = now_realtime_ns();
        bool ran = k.state.status == CTR_RUNNING;
        char id[CTR_ID_LEN + 1];
        memcpy(id, k.config.id, sizeof id);
        _cleanup_free_ char *pending = NULL;
        size_t plen = 0;
        /* stdin (an -i container): held until the container runs, then handed to its
         * monitor; the client's half-close is its EOF */
        enum { STDIN_HELD_MAX = 1 << 20 };
        bool in_open = query_bool(r, "stdin", false) && k.config.interactive, in_eof_sent = false;
        _cleanup_close_ int mon = -1;
        _cleanup_free_ char *inbuf = in_open ? malloc(STDIN_HELD_MAX) : NULL;
        size_t inlen = 0;
        if (in_open && !inbuf)
                return -ENOMEM;
        if (in_open && c->len) {
                size_t take = c->len < STDIN_HELD_MAX ? c->len : STDIN_HELD_MAX;
                memcpy(inbuf, c->buf, take);
                inlen = take;
        }
        c->len = 0;
        bool in_wanted = in_open;
        for (bool last = false;;) {
                if (log < 0)
                        log = open(path, O_RDONLY | O_CLOEXEC);
                for (;;) {
                        char buf[16384];
                        ssize_t got = log >= 0 ? read(log, buf, sizeof buf) : 0;
                        if (got <= 0)
                                break;
                        char *p2 = realloc(pending, plen + (size_t) got + 1);
                        if (!p2)
                                return -ENOMEM;
                        pending = p2;
                        memcpy(pending + plen, buf, (size_t) got);
                        plen += (size_t) got;
                }
                if (plen) {
                        int used = api_log_frames(c->fd, pending, plen, want_out, want_err, false, 0);
                        if (used < 0)
                                return -ECONNRESET;
                        memmove(pending, pending + used, plen - (size_t) used);
                        plen -= (size_t) used;
                }
                if (last)
                        break;
                _cleanup_(ctr_done) Container now = {};
                bool gone = ctr_load(&c->srv->store, id, &now, NULL) < 0;
                if (!gone) {
                        (void) ctr_state_observe(&now);
                        ran |= now.state.status == CTR_RUNNING;
                }
                if (gone || (now.state.status == CTR_EXITED && (ran || now.state.finished_ns >= since))) {
                        last = true; /* one more read drains what the end wrote */
                        continue;
                }
                if (in_wanted && mon < 0 && !gone && now.state.status == CTR_RUNNING &&
                    (mon = ctr_stdin_connect(&c->srv->store, id, NULL)) < 0)
                        in_wanted = false; /* its monitor takes none: what comes is dropped */
                if (mon >= 0 && inlen) {
                        if (api_write_all(mon, inbuf, inlen) < 0)
                                mon = safe_close(mon), in_wanted = false;
                        inlen = 0;
                }
                if (mon >= 0 && !in_open && !inlen && !in_eof_sent) {
                        (void) shutdown(mon, SHUT_WR);
                        in_eof_sent = true;
                }
                /* the client half-closes when it has no stdin to send (docker does):
                 * only a hang-up ends the stream */
                bool read_in = in_open && inlen < STDIN_HELD_MAX;
                struct pollfd p[2] = { { c->fd, read_in ? POLLIN : 0, 0 }, { ino, POLLIN, 0 } };
                if (poll(p, ino >= 0 ? 2 : 1, 50) > 0) {
                        if (read_in && (p[0].revents & (POLLIN | POLLHUP))) {
                                ssize_t got = recv(c->fd, inbuf + inlen, STDIN_HELD_MAX - inlen, MSG_DONTWAIT);
                                if (got > 0)
                                        inlen = in_wanted ? inlen + (size_t) got : 0;
                                else if (got == 0)
                                        in_open = false; /* stdin's EOF, not a hang-up */
                                else if (errno != EAGAIN && errno != EINTR)
                                        return -ECONNRESET;
                        } else if (p[0].revents & (POLLHUP | POLLERR))
                                return -ECONNRESET;
                        char ev[4096];
                        while (ino >= 0 && read(ino, ev, sizeof ev) > 0)
                                ;
                }
        }
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
}

/* events (7.1): the event log's lines that pass the filters, then (stream, the default)
 * the new ones as they come, until the client hangs up or `until` has passed. */
static int64_t parse_event_time(const char *s) {
        if (!s || !*s)
                return 0;
        char *end;
        double secs = strtod(s, &end);
        if (end != s && (!*end))
                return (int64_t) (secs * 1e9);
        struct tm tm = {};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!rest)
                return -1;
        int64_t ns = (int64_t) timegm(&tm) * 1000000000LL;
        if (*rest == '.') {
                int64_t frac = 0, scale = 100000000;
                for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
                        frac += (*rest - '0') * scale;
                ns += frac;
        }
        return ns;
}

static bool event_passes(json_t *e, json_t *filters, int64_t since, int64_t until) {
        int64_t t = (int64_t) json_integer_value(json_object_get(e, "timeNano"));
        if ((since && t < since) || (until && t > until))
                return false;
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *name = json_string_value(json_object_get(json_object_get(json_object_get(e, "Actor"), "Attributes"), "name"));
        const char *action = json_string_value(json_object_get(e, "Action"));
        const char *type = json_string_value(json_object_get(e, "Type"));
        const struct {
                const char *key;
                const char *a, *b;
        } checks[] = { { "container", id, name }, { "event", action, NULL }, { "type", type, NULL } };
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                json_t *f = json_object_get(filters, checks[i].key);
                if (!f)
                        continue;
                bool any = false;
                size_t k;
                json_t *v;
                const char *key;
                if (json_is_array(f))
                        json_array_foreach(f, k, v) {
                                const char *want = json_string_value(v);
                                any |= want && ((checks[i].a && (streq(checks[i].a, want) ||
                                                                 (strlen(want) >= 3 && startswith(checks[i].a, want)))) ||
                                                (checks[i].b && streq(checks[i].b, want)));
                        }
                else if (json_is_object(f))
                        json_object_foreach(f, key, v) any |= (checks[i].a && streq(checks[i].a, key)) ||
                                                              (checks[i].b && streq(checks[i].b, key));
                if (!any)
                        return false;
        }
        return true;
}

static int send_event_lines(int fd, const char *text, size_t len, json_t *filters, int64_t since, int64_t until) {
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        break;
                json_t *e = json_loadb(p, (size_t) (nl - p), 0, NULL);
                if (e && event_passes(e, filters, since, until) && api_write_all(fd, p, (size_t) (nl - p) + 1) < 0) {
                        json_decref(e);
                        return -EPIPE;
                }
                json_decref(e);
                p = nl + 1;
        }
        return (int) (p - text);
}

static int h_events(ApiConn *c, ApiRequest *r) {
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0), *since_s = http_query_get(r->http.query, "since", 0),
                             *until_s = http_query_get(r->http.query, "until", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        int64_t since = parse_event_time(since_s), until = parse_event_time(until_s);
        if (!json_is_object(filters) || since < 0 || until < 0)
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters', 'since' or 'until'");
        bool stream = query_bool(r, "stream", true);
        char path[PATH_MAX], old[PATH_MAX + 2];
        ctr_event_path(&c->srv->store, path);
        (void) snprintf(old, sizeof old, "%s.1", path);
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n, "Content-Type: application/json\r\nConnection: close\r\n\r\n");
        if (api_write_all(c->fd, head, (size_t) n) < 0)
                return -ECONNRESET;
        _cleanup_free_ char *t_old = NULL, *t_cur = NULL;
        size_t l_old = 0, l_cur = 0;
        (void) read_file(old, 8u << 20, &t_old, &l_old, NULL);
        (void) read_file(path, 8u << 20, &t_cur, &l_cur, NULL);
        if (t_old && send_event_lines(c->fd, t_old, l_old, filters, since, until) < 0)
                return -ECONNRESET;
        int used = t_cur ? send_event_lines(c->fd, t_cur, l_cur, filters, since, until) : 0;
        if (used < 0)
                return -ECONNRESET;
        size_t offset = (size_t) used;
        while (stream && (!until || (int64_t) now_realtime_ns() <= until)) {
                _cleanup_free_ char *t = NULL;
                size_t l = 0;
                if (read_file(path, 8u << 20, &t, &l, NULL) == 0 && l > offset) {
                        int u = send_event_lines(c->fd, t + offset, l - offset, filters, since, until);
                        if (u < 0)
                                return -ECONNRESET;
                        offset += (size_t) u;
                } else if (l < offset)
                        offset = 0; /* rotated */
                struct pollfd pfd = { c->fd, 0, 0 };
                if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLHUP | POLLERR)))
                        break;
        }
        (void) shutdown(c->fd, SHUT_WR);
        return -ECONNRESET;
}

/* ---- exec sessions (4.9 – 4.13, 5) ---- */

enum { EXEC_KEEP_MS = 5 * 60 * 1000, EXEC_HOLD_MS = 60 };

struct ExecSession {
        char id[65];
        char ctr_id[CTR_ID_LEN + 1];
        char **argv;
        char **env;
        char *workdir;
        char *user;
        char detach_keys[32];
        bool tty, attach_stdin, attach_stdout, attach_stderr, privileged;
        bool running, started;
        int exit_code;
        pid_t pid;
        int pty_master; /* while running with a terminal: for resize; -1 otherwise */
        uint64_t finished_ms;
        ExecSession *next;
};

static void session_free(ExecSession *s) {
        strv_free(s->argv);
        strv_free(s->env);
        free(s->workdir);
        free(s->user);
        free(s);
}

void api_sessions_free(ApiServer *srv) {
        for (ExecSession *s = srv->sessions, *n; s; s = n) {
                n = s->next;
                session_free(s);
        }
        srv->sessions = NULL;
}

/* Under srv->lock. Finished sessions are kept a while for their ExitCode (spec 2). */
static void sessions_expire(ApiServer *srv) {
        uint64_t now = now_monotonic_ms();
        for (ExecSession **p = &srv->sessions; *p;) {
                ExecSession *s = *p;
                if (s->finished_ms && now - s->finished_ms > EXEC_KEEP_MS) {
                        *p = s->next;
                        session_free(s);
                } else
                        p = &s->next;
        }
}

static ExecSession *session_find(ApiServer *srv, const char *id) {
        for (ExecSession *s = srv->sessions; s; s = s->next)
                if (streq(s->id, id))
                        return s;
        return NULL;
}

static int h_exec_create(ApiConn *c, ApiRequest *r) {
        _cleanup_(ctr_done) Container k = {};
        int reply;
        if (load_container(c, r->segs[1], &k, &reply) < 0)
                return reply;
        json_auto_t *b = NULL;
        int e = body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        if (k.state.status != CTR_RUNNING)
                return api_error(c, 500, "container state improper",
                                 "can only create exec sessions on running containers: container state improper");
        ExecSession *s = calloc(1, sizeof *s);
        if (!s)
                return api_error(c, 500, "out of memory", "out of memory");
        s->pty_master = -1;
        json_t *v = jget(b, "Cmd");
        if (!v || strv_from_json(v, CTR_MAX_ARGS, &s->argv) < 0 || !s->argv[0]) {
                session_free(s);
                return api_error(c, 400, "bad request", "exec: Cmd must be a non-empty list of strings");
        }
        if ((v = jget(b, "Env")) && strv_from_json(v, CTR_MAX_ENV, &s->env) < 0) {
                session_free(s);
                return api_error(c, 400, "bad request", "exec: Env must be a list of strings");
        }
        for (char **kv = s->env; kv && *kv; kv++)
                if (!strchr(*kv, '=') || **kv == '=') {
                        session_free(s);
                        return api_error(c, 400, "bad request", "exec: env '%s' is not KEY=VALUE", *kv);
                }
        const char *wd = jstr(b, "WorkingDir");
        if (wd && *wd)
                s->workdir = strdup(wd);
        const char *user = jstr(b, "User");
        RtError uerr = {};
        if (ctr_user_check(user, &uerr) < 0) {
                session_free(s);
                return api_error(c, 400, "bad request", "exec: %s", uerr.msg);
        }
        if (user && *user)
                s->user = strdup(user);
        s->tty = jbool(b, "Tty");
        s->attach_stdin = jbool(b, "AttachStdin");
        s->attach_stdout = jbool(b, "AttachStdout");
        s->attach_stderr = jbool(b, "AttachStderr");
        s->privileged = jbool(b, "Privileged");
        const char *dk = jstr(b, "DetachKeys");
        (void) snprintf(s->detach_keys, sizeof s->detach_keys, "%s", dk && *dk ? dk : "ctrl-p,ctrl-q");
        memcpy(s->ctr_id, k.config.id, sizeof s->ctr_id);
        hex_id(s->id);
        char id[65];
        memcpy(id, s->id, sizeof id);
        pthread_mutex_lock(&c->srv->lock);
        sessions_expire(c->srv);
        s->next = c->srv->sessions;
        c->srv->sessions = s;
        pthread_mutex_unlock(&c->srv->lock);
        return api_reply_json(c, 201, json_pack("{s:s}", "Id", id));
}

static int h_exec_json(ApiConn *c, ApiRequest *r) {
        pthread_mutex_lock(&c->srv->lock);
        ExecSession *s = session_find(c->srv, r->segs[1]);
        json_t *j = NULL;
        if (s) {
                json_t *args = json_array();
                for (size_t i = 1; s->argv[i]; i++)
                        json_array_append_new(args, json_string(s->argv[i]));
                j = json_pack("{s:b, s:s, s:s, s:i, s:s, s:b, s:b, s:b, s:b, s:i, s:{s:o, s:s, s:b, s:b, s:s}}",
                              "CanRemove", s->started && !s->running, "ContainerID", s->ctr_id, "DetachKeys",
                              s->detach_keys, "ExitCode", s->exit_code, "ID", s->id, "OpenStderr", s->attach_stderr,
                              "OpenStdin", s->attach_stdin, "OpenStdout", s->attach_stdout, "Running", s->running, "Pid",
                              s->running ? (int) s->pid : 0, "ProcessConfig", "arguments", args, "entrypoint",
                              s->argv[0], "privileged", s->privileged, "tty", s->tty, "user", s->user ?: "");
        }
        pthread_mutex_unlock(&c->srv->lock);
        if (!j)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        return api_reply_json(c, 200, j);
}

static int h_exec_resize(ApiConn *c, ApiRequest *r) {
        struct winsize ws = { .ws_row = query_dimension(r, "h"), .ws_col = query_dimension(r, "w") };
        pthread_mutex_lock(&c->srv->lock);
        ExecSession *s = session_find(c->srv, r->segs[1]);
        /* a finished or pipe-backed session has nothing to resize, and says 201 all the
         * same (4.12) */
        if (s && s->pty_master >= 0 && ws.ws_row && ws.ws_col)
                (void) ioctl(s->pty_master, TIOCSWINSZ, &ws);
        pthread_mutex_unlock(&c->srv->lock);
        if (!s)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        return api_reply(c, 201, NULL, NULL, 0);
}

static int h_exec_remove(ApiConn *c, ApiRequest *r) {
        pthread_mutex_lock(&c->srv->lock);
        ExecSession **p = &c->srv->sessions;
        while (*p && !streq((*p)->id, r->segs[1]))
                p = &(*p)->next;
        ExecSession *s = *p;
        bool busy = s && s->running;
        if (s && !busy) {
                *p = s->next;
                session_free(s);
        }
        pthread_mutex_unlock(&c->srv->lock);
        if (!s)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        if (busy)
                return api_error(c, 409, "exec session is running", "cannot remove exec session %s: it is running", r->segs[1]);
        return api_reply(c, 200, "text/plain; charset=us-ascii", "", 0);
}

/* The session's command, started in this thread as the server's own child (no helper
 * process: ctr_exec_spawn forks once, straight into the container). */
static int session_spawn(const ApiServer *srv, const ExecSession *s, const int stdio[3],
                         const struct winsize *ws, CtrExecChild *ret, RtError *err) {
        CtrExec ex = { .argv = s->argv, .env = s->env, .workdir = s->workdir, .user = s->user,
                       .tty = s->tty, .interactive = s->attach_stdin, .privileged = s->privileged };
        return ctr_exec_spawn(&srv->store, s->ctr_id, &ex, stdio, ws, ret, err);
}

static void session_finished(ApiServer *srv, const char *id, int status) {
        pthread_mutex_lock(&srv->lock);
        ExecSession *s = session_find(srv, id);
        if (s) {
                s->pty_master = -1;
                s->running = false;
                s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                s->finished_ms = now_monotonic_ms();
        }
        pthread_mutex_unlock(&srv->lock);
}

typedef struct DetachedExec {
        ApiServer *srv;
        pid_t pid;
        int pty_master; /* drained to the end: closing it would hang the command up */
        char id[65];
} DetachedExec;

static void *reap_detached(void *p) {
        DetachedExec d = *(DetachedExec *) p;
        free(p);
        if (d.pty_master >= 0) {
                char buf[4096];
                while (read(d.pty_master, buf, sizeof buf) > 0 || errno == EINTR)
                        ;
        }
        int st = 0;
        while (waitpid(d.pid, &st, 0) < 0 && errno == EINTR)
                ;
        session_finished(d.srv, d.id, st);
        (void) safe_close(d.pty_master);
        return NULL;
}

/* Before the stream: a container no longer running (the runtime's -ESRCH) is 409, as
 * Podman's "container state improper"; anything else that kept the command from
 * running at all, 500. The session ends with 126, or the code the runtime gave. */
static int exec_start_failed(ApiConn *c, const ExecSession *s, const CtrExecChild *child,
                             const RtError *err) {
        if (err->code == -ESRCH) {
                session_finished(c->srv, s->id, 126 << 8);
                /* the spec's words, with the state the container is in now */
                _cleanup_(ctr_done) Container k = {};
                bool loaded = ctr_load(&c->srv->store, s->ctr_id, &k, NULL) == 0;
                if (loaded)
                        (void) ctr_state_observe(&k);
                return api_error(c, 409, "container state improper",
                                 "cannot exec in a container that is not running; container %s is %s", s->ctr_id,
                                 loaded ? ctr_status_to_string(k.state.status) : "gone");
        }
        session_finished(c->srv, s->id, (child->cannot_run ? child->cannot_run : 125) << 8);
        return api_error(c, 500, "exec failed", "start exec session: %s", err->msg);
}

static int h_exec_start(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int e = body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        ApiServer *srv = c->srv;
        pthread_mutex_lock(&srv->lock);
        ExecSession *found = session_find(srv, r->segs[1]);
        ExecSession s = {};
        bool busy = found && found->started;
        if (found && !busy) {
                found->started = found->running = true;
                s = *found; /* the strings stay owned by the list; the session is not removed while running */
        }
        pthread_mutex_unlock(&srv->lock);
        if (!found)
                return api_error(c, 404, "no such exec session", "%s: no such exec session", r->segs[1]);
        if (busy)
                return api_error(c, 409, "exec session state improper", "exec session %s has already been started", r->segs[1]);

        /* 4.11: the size the client's terminal has, given before the start */
        struct winsize ws = { .ws_row = json_dimension(jget(b, "h")), .ws_col = json_dimension(jget(b, "w")) };
        RtError spawn_err = {};
        if (jbool(b, "Detach")) {
                CtrExecChild child;
                const int none[3] = { -1, -1, -1 };
                if (session_spawn(srv, &s, none, &ws, &child, &spawn_err) < 0)
                        return exec_start_failed(c, &s, &child, &spawn_err);
                pid_t pid = child.pid;
                int master = child.pty_master;
                pthread_mutex_lock(&srv->lock);
                if ((found = session_find(srv, s.id))) {
                        found->pid = pid;
                        found->pty_master = master; /* closed only after session_finished */
                }
                pthread_mutex_unlock(&srv->lock);
                DetachedExec *d = malloc(sizeof *d);
                pthread_t t;
                pthread_attr_t at;
                pthread_attr_init(&at);
                pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
                if (d) {
                        *d = (DetachedExec) { srv, pid, master };
                        memcpy(d->id, s.id, sizeof d->id);
                }
                if (!d || pthread_create(&t, &at, reap_detached, d) != 0) {
                        free(d);
                        int st = 0;
                        (void) waitpid(pid, &st, 0);
                        session_finished(srv, s.id, st);
                        (void) safe_close(master);
                }
                pthread_attr_destroy(&at);
                return api_reply_text(c, 200, "\n");
        }

        /* the hijacked stream (5): pipes, or the pty's master both ways */
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
        if (!s.tty && ((s.attach_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
                       pipe2(err, O_CLOEXEC) < 0)) {
                for (int i = 0; i < 2; i++)
                        (void) (safe_close(in[i]) + safe_close(out[i]) + safe_close(err[i]));
                session_finished(srv, s.id, 125 << 8);
                return api_error(c, 500, "exec failed", "pipe: %s", strerror(errno));
        }
        CtrExecChild child;
        const int stdio[3] = { in[0], out[1], err[1] };
        e = session_spawn(srv, &s, stdio, &ws, &child, &spawn_err);
        (void) (safe_close(in[0]) + safe_close(out[1]) + safe_close(err[1]));
        int stdin_w = in[1], out_r = out[0], err_r = err[0];
        pid_t pid = child.pid;
        int master = child.pty_master;
        if (e < 0 && !child.cannot_run) {
                (void) (safe_close(stdin_w) + safe_close(out_r) + safe_close(err_r));
                return exec_start_failed(c, &s, &child, &spawn_err);
        }
        if (e < 0) {
                /* The command could not be run: as with Podman, the stream still opens
                 * and says why on stderr, and the session's ExitCode is 126 or 127. The
                 * text goes through a pipe of its own, so the loop below holds and frames
                 * it like any output. */
                int why[2];
                (void) (safe_close(stdin_w) + safe_close(out_r) + safe_close(err_r));
                stdin_w = out_r = err_r = -1;
                if (pipe2(why, O_CLOEXEC) == 0) {
                        char text[sizeof spawn_err.msg + 16];
                        (void) snprintf(text, sizeof text, "Error: %s\n", spawn_err.msg);
                        (void) api_write_all(why[1], text, strlen(text));
                        close(why[1]);
                        *(s.tty ? &out_r : &err_r) = why[0];
                }
        }
        /* The master itself stays open, for resize, until the session is finished; the
         * loop below reads and writes copies of it. */
        if (master >= 0) {
                out_r = fcntl(master, F_DUPFD_CLOEXEC, 3);
                stdin_w = s.attach_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1;
        }
        pthread_mutex_lock(&srv->lock);
        if ((found = session_find(srv, s.id))) {
                found->pid = pid;
                found->pty_master = master;
        }
        pthread_mutex_unlock(&srv->lock);

        bool upgrade = r->http.upgrade[0];
        /* 1.6: Podman ≥ 4.7 names the non-tty framing multiplexed; older request versions,
         * and the compat API at our 1.41, call every stream raw (no client reads it) */
        unsigned minor = strchr(r->version, '.') ? (unsigned) atoi(strchr(r->version, '.') + 1) : 0;
        bool multiplexed_name = !s.tty && r->libpod && (major_version(r) > 4 || (major_version(r) == 4 && minor >= 7));
        const char *ctype = multiplexed_name ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
        char head[512];
        int n = upgrade ? snprintf(head, sizeof head,
                                   "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n",
                                   ctype, r->http.upgrade)
                        : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype);
        bool client_ok = api_write_all(c->fd, head, (size_t) n) == 0;
        /* 5.3: Podman 4 clients lose output sent with the 200 header: hold it a moment,
         * or until the client's first stdin byte or half-close. Only Go's HTTP client
         * reads the stream that way (and one that names itself not at all may be one):
         * podman-py, curl and the like get their output at once. */
        const char *ua = http_header(&r->http, "User-Agent");
        bool go_client = !ua || startswith(ua, "Go-http-client");
        uint64_t hold_until = upgrade || !go_client ? 0 : now_monotonic_ms() + EXEC_HOLD_MS;

        /* bytes the client sent after the request, already read: stdin */
        size_t pending_in = c->len;
        bool client_read_open = client_ok;
        char buf[65536];
        while (out_r >= 0 || err_r >= 0) {
                struct pollfd p[4];
                int np = 0, i_client = -1, i_out = -1, i_err = -1;
                uint64_t now = now_monotonic_ms();
                bool holding = hold_until && now < hold_until;
                if (client_read_open)
                        p[i_client = np++] = (struct pollfd) { c->fd, POLLIN | POLLRDHUP, 0 };
                if (!holding) {
                        if (out_r >= 0)
                                p[i_out = np++] = (struct pollfd) { out_r, POLLIN, 0 };
                        if (err_r >= 0)
                                p[i_err = np++] = (struct pollfd) { err_r, POLLIN, 0 };
                }
                if (pending_in) {
                        if (stdin_w >= 0)
                                (void) api_write_all(stdin_w, c->buf, pending_in);
                        c->len = 0;
                        pending_in = 0;
                        hold_until = 0;
                        continue;
                }
                int polled = poll(p, (nfds_t) np, holding ? (int) (hold_until - now) : -1);
                if (polled < 0 && errno != EINTR)
                        break;
                if (i_client >= 0 && p[i_client].revents) {
                        ssize_t got = recv(c->fd, buf, sizeof buf, 0);
                        if (got > 0) {
                                if (stdin_w >= 0 && s.attach_stdin)
                                        (void) api_write_all(stdin_w, buf, (size_t) got);
                        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                                /* a half-close is stdin's EOF, not a disconnect: output goes on */
                                client_read_open = false;
                                stdin_w = safe_close(stdin_w);
                        }
                        hold_until = 0;
                }
                int *fds[2] = { &out_r, &err_r };
                int idx[2] = { i_out, i_err };
                for (int st = 0; st < 2; st++) {
                        if (idx[st] < 0 || !p[idx[st]].revents)
                                continue;
                        ssize_t got = read(*fds[st], buf, sizeof buf);
                        if (got <= 0) {
                                if (got == 0 || (errno != EINTR && errno != EAGAIN))
                                        *fds[st] = safe_close(*fds[st]);
                                continue;
                        }
                        bool wanted = st == 0 ? s.attach_stdout : s.attach_stderr;
                        if (!client_ok || !wanted)
                                continue;
                        int w = s.tty ? api_write_all(c->fd, buf, (size_t) got)
                                      : api_frame_write(c->fd, (uint8_t) (st + 1), buf, (size_t) got);
                        if (w < 0)
                                client_ok = false; /* gone: the command still runs to its end */
                }
        }
        stdin_w = safe_close(stdin_w);
        int st = child.cannot_run << 8;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        /* the exit code is recorded before the stream closes (5.2) */
        session_finished(srv, s.id, st);
        if (client_ok)
                (void) shutdown(c->fd, SHUT_WR);
        (void) safe_close(master); /* after: a pty's release takes a while */
        return -ECONNRESET; /* the connection was the stream's */
}

/* ---- networks (4.14 – 4.20) ---- */

/* The compat API calls the default network "bridge" (7.2). */
static const char *network_name(ApiConn *c, const ApiRequest *r) {
        return !r->libpod && streq(r->segs[1], "bridge") ? c->srv->store.default_network : r->segs[1];
}

/* A libpod network JSON in Docker's shape (7.2). */
static json_t *compat_network_json(ApiConn *c, json_t *n) {
        const char *name = json_string_value(json_object_get(n, "name"));
        bool def = name && streq(name, c->srv->store.default_network);
        json_t *config = json_array();
        size_t i;
        json_t *sn;
        json_array_foreach(json_object_get(n, "subnets"), i, sn) {
                json_t *e = json_pack("{s:O}", "Subnet", json_object_get(sn, "subnet"));
                if (json_object_get(sn, "gateway"))
                        json_object_set(e, "Gateway", json_object_get(sn, "gateway"));
                json_array_append_new(config, e);
        }
        json_t *containers = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(n, "containers"), key, v) json_object_set_new(containers, key, json_pack("{s:O}", "Name", json_object_get(v, "name")));
        json_t *j = json_pack("{s:s, s:O, s:O, s:s, s:O, s:O, s:{s:s, s:{s:O}, s:o}, s:O, s:b, s:b, s:{s:s}, s:b, s:o, s:{}, s:O}",
                              "Name", def ? "bridge" : name, "Id", json_object_get(n, "id"), "Created",
                              json_object_get(n, "created"), "Scope", "local", "Driver", json_object_get(n, "driver"),
                              "EnableIPv6", json_object_get(n, "ipv6_enabled"), "IPAM", "Driver", "default", "Options",
                              "driver", json_object_get(json_object_get(n, "ipam_options"), "driver"), "Config", config,
                              "Internal", json_object_get(n, "internal"), "Attachable", 0, "Ingress", 0, "ConfigFrom",
                              "Network", "", "ConfigOnly", 0, "Containers", containers, "Options", "Labels",
                              json_object_get(n, "labels") ?: json_object());
        json_decref(n);
        return j;
}

/* A CNI network as Podman's CNI backend shows one (4.15). */
static json_t *cni_network_json(const CtrStore *s, const char *name) {
        CniConfig cfg;
        _cleanup_(strv_freep) char **path = NULL;
        if (net_cni_config(s, &cfg, &path) < 0)
                return NULL;
        CniList l = {};
        if (cni_find(&cfg, name, &l, NULL, NULL, NULL) < 0)
                return NULL;
        json_auto_t *p0 = json_loadb(l.plugins[0].raw, l.plugins[0].raw_len, JSON_DECODE_INT_AS_REAL, NULL);
        json_t *ipam = json_object_get(p0, "ipam");
        bool ipam_none = !ipam || (json_is_object(ipam) && json_object_size(ipam) == 0);
        const char *bridge = json_string_value(json_object_get(p0, "bridge"));
        struct stat st;
        char created[40], id[65];
        (void) stat(l.file, &st);
        net_cni_id(name, id);
        json_t *subnets = json_array();
        const char *subnet = json_string_value(json_object_get(ipam, "subnet"));
        if (subnet)
                json_array_append_new(subnets, json_pack("{s:s}", "subnet", subnet));
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:{s:s}, s:o, s:o}", "name", l.name, "id", id,
                              "driver", l.plugins[0].type, "network_interface", bridge ?: "", "created",
                              format_rfc3339((uint64_t) st.st_mtim.tv_sec * 1000000000ull + (uint64_t) st.st_mtim.tv_nsec, created),
                              "ipv6_enabled", 0, "internal", !json_is_true(json_object_get(p0, "isGateway")),
                              "dns_enabled", 0, "ipam_options", "driver", ipam_none ? "none" : "host-local", "subnets",
                              subnets, "containers", net_containers_json(s, name));
        cni_list_done(&l);
        return j;
}

static bool network_exists(const CtrStore *s, const char *name, bool *cni) {
        Network n = {};
        bool native = net_load(s, name, &n, NULL) == 0;
        net_done(&n);
        *cni = !native && net_cni_exists(s, name, NULL) == 0;
        return native || *cni;
}

static int h_network_json(ApiConn *c, ApiRequest *r) {
        Network n = {};
        const char *name = network_name(c, r);
        json_t *j = NULL;
        if (net_load(&c->srv->store, name, &n, NULL) == 0) {
                j = net_inspect_json(&c->srv->store, &n, true);
                net_done(&n);
        } else
                j = cni_network_json(&c->srv->store, name);
        if (!j)
                return api_error(c, 404, "network not found", "network %s not found", name);
        return api_reply_json(c, 200, r->libpod ? j : compat_network_json(c, j));
}

static int h_network_exists(ApiConn *c, ApiRequest *r) {
        bool cni;
        if (!network_exists(&c->srv->store, network_name(c, r), &cni))
                return api_error(c, 404, "network not found", "network not found");
        return api_reply(c, 204, NULL, NULL, 0);
}

static int h_networks_list(ApiConn *c, ApiRequest *r) {
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        if (!json_is_object(filters))
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters': \"%s\"", ftext);
        Network *ns = NULL;
        size_t n = 0;
        RtError e = {};
        if (net_list(&c->srv->store, &ns, &n, &e) < 0)
                return rt_error(c, &e, 500, NULL);
        json_t *arr = json_array();
        /* the default network first, as Podman lists it */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++) {
                        bool def = streq(ns[i].name, c->srv->store.default_network);
                        if ((pass == 0) != def)
                                continue;
                        if (!filter_match(filters, "name", ns[i].name, false) || !filter_match(filters, "id", ns[i].id, true))
                                continue;
                        json_t *j = net_inspect_json(&c->srv->store, &ns[i], true);
                        json_array_append_new(arr, r->libpod ? j : compat_network_json(c, j));
                }
        CniNetworkInfo *cn = NULL;
        size_t ncn = 0;
        if (net_cni_list(&c->srv->store, &cn, &ncn, NULL) == 0) {
                for (size_t i = 0; i < ncn; i++) {
                        bool shadowed = false;
                        for (size_t k = 0; k < n; k++)
                                shadowed |= streq(ns[k].name, cn[i].name);
                        json_t *j = shadowed || !filter_match(filters, "name", cn[i].name, false)
                                            ? NULL
                                            : cni_network_json(&c->srv->store, cn[i].name);
                        if (j)
                                json_array_append_new(arr, r->libpod ? j : compat_network_json(c, j));
                }
                net_cni_list_free(cn, ncn);
        }
        net_list_free(ns, n);
        return api_reply_json(c, 200, arr);
}

static int h_network_create(ApiConn *c, ApiRequest *r) {
        json_auto_t *b = NULL;
        int e = body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        const char *name = jstr(b, r->libpod ? "name" : "Name");
        if (!name || !*name)
                return api_error(c, 400, "bad request", "network create: no name given");
        bool cni;
        if (network_exists(&c->srv->store, name, &cni))
                return api_error(c, 409, "network already exists", "network name %s already used: network already exists", name);
        const char *driver = jstr(b, r->libpod ? "driver" : "Driver");
        if (driver && *driver && !streq(driver, "bridge"))
                return api_error(c, 500, "unsupported driver", "unsupported driver %s: only bridge networks are supported", driver);
        const char *ipam = r->libpod ? jstr(jget(b, "ipam_options"), "driver") : jstr(jget(b, "IPAM"), "Driver");
        if (ipam && *ipam && !streq(ipam, "host-local") && !streq(ipam, "none") && !streq(ipam, "default"))
                return api_error(c, 500, "unsupported ipam driver", "unsupported ipam driver \"%s\"", ipam);
        bool none = ipam && streq(ipam, "none");
        const char *subs[NET_MAX_SUBNETS], *gws[NET_MAX_SUBNETS], *ranges[NET_MAX_SUBNETS];
        size_t nsub = 0, i;
        json_t *sn;
        json_array_foreach(r->libpod ? jget(b, "subnets") : jget(jget(b, "IPAM"), "Config"), i, sn) {
                if (nsub >= NET_MAX_SUBNETS)
                        break;
                const char *sub = jstr(sn, "subnet");
                if (!sub)
                        continue;
                subs[nsub] = sub;
                gws[nsub] = jstr(sn, "gateway");
                ranges[nsub] = jstr(sn, "iprange") ?: jstr(sn, "ip_range");
                if (gws[nsub] && !*gws[nsub])
                        gws[nsub] = NULL;
                nsub++;
        }
        /* host-local without subnets: the next free 10.89.N.0/24, as Podman picks */
        char auto_subnet[32];
        if (!none && nsub == 0) {
                Network *all = NULL;
                size_t na = 0;
                (void) net_list(&c->srv->store, &all, &na, NULL);
                for (unsigned k = 0; k < 256; k++) {
                        (void) snprintf(auto_subnet, sizeof auto_subnet, "10.89.%u.0/24", k);
                        bool used = false;
                        for (size_t x = 0; x < na; x++)
                                for (size_t y = 0; y < all[x].n_subnets; y++) {
                                        char cb[NETNS_CIDR_STRLEN];
                                        used |= streq(netns_cidr_format(&all[x].subnets[y].subnet, cb), auto_subnet);
                                }
                        if (!used)
                                break;
                }
                net_list_free(all, na);
                subs[0] = auto_subnet;
                gws[0] = ranges[0] = NULL;
                nsub = 1;
        }
        _cleanup_(strv_freep) char **labels = NULL;
        json_t *lv = jget(b, r->libpod ? "labels" : "Labels");
        if (lv && json_is_object(lv) && strv_from_map(lv, &labels) < 0)
                return api_error(c, 400, "bad request", "network create: labels must map strings to strings");
        const char *bridge = jstr(b, "network_interface");
        NetCreate nc = { .name = name,
                         .bridge = bridge && *bridge ? bridge : NULL,
                         .subnets = nsub ? subs : NULL,
                         .gateways = nsub ? gws : NULL,
                         .ranges = nsub ? ranges : NULL,
                         .n_subnets = nsub,
                         .internal = jbool(b, r->libpod ? "internal" : "Internal"),
                         .ipv6 = jbool(b, r->libpod ? "ipv6_enabled" : "EnableIPv6"),
                         .labels = labels };
        const char *mtu = jstr(jget(b, "options"), "mtu");
        if (mtu)
                nc.mtu = (uint32_t) atoi(mtu);
        Network made = {};
        RtError err = {};
        if (net_create(&c->srv->store, &nc, &made, &err) < 0)
                return rt_error(c, &err, err.code == -EEXIST ? 409 : 500, NULL);
        json_t *j = net_inspect_json(&c->srv->store, &made, false);
        json_object_del(j, "containers");
        if (!json_array_size(json_object_get(j, "subnets")))
                json_object_del(j, "subnets");
        if (!r->libpod) {
                json_t *compat = json_pack("{s:s, s:s}", "Id", made.id, "Warning", "");
                json_decref(j);
                j = compat;
        }
        net_done(&made);
        return api_reply_json(c, r->libpod ? 200 : 201, j);
}

static int connect_or_disconnect(ApiConn *c, ApiRequest *r, bool connect) {
        json_auto_t *b = NULL;
        int e = body_json(c, r, &b);
        if (e < 0)
                return c->keep_alive ? 0 : e;
        /* Docker's {"Container", "EndpointConfig"}: its addresses and MAC as libpod's keys */
        json_t *ep = r->libpod ? NULL : jget(b, "EndpointConfig");
        if (ep)
                (void) json_object_update_new(b, endpoint_options(ep));
        const char *net = network_name(c, r), *ref = jstr(b, "container");
        bool cni;
        if (!network_exists(&c->srv->store, net, &cni))
                return api_error(c, 404, "network not found", "unable to find network with name or ID %s: network not found", net);
        if (!ref)
                return api_error(c, 400, "bad request", "no container given");
        char id[CTR_ID_LEN + 1];
        RtError err = {};
        if (ctr_lookup(&c->srv->store, ref, id, &err) < 0)
                return no_such_container(c, ref);
        if (!connect) {
                if (ctr_network_disconnect(&c->srv->store, id, net, NULL, &err) < 0)
                        return rt_error(c, &err, 500, NULL);
                return api_reply_text(c, 200, "OK\n");
        }
        const char *ifname = jstr(b, "interface_name");
        if (ifname && !*ifname)
                ifname = NULL;
        const char *mac = jstr(b, "static_mac");
        json_t *ips = jget(b, "static_ips");
        const char *ip = NULL, *ip6 = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(ips, i, v) {
                const char *s = json_string_value(v);
                if (s && strchr(s, ':'))
                        ip6 = ip6 ?: s;
                else if (s)
                        ip = ip ?: s;
        }
        /* Podman: one interface per network and container, unless named (4.18) */
        NetConnect nc = { .network = net, .ifname = ifname, .mac = mac && *mac ? mac : NULL, .ip = ip, .ip6 = ip6,
                          .once = !ifname };
        if (ctr_network_connect(&c->srv->store, id, &nc, NULL, &err) < 0) {
                if (err.code == -EALREADY)
                        return api_error(c, 500, "network is already connected", "%s: network is already connected",
                                         err.msg);
                return rt_error(c, &err, 500, NULL);
        }
        return api_reply_text(c, 200, "OK\n");
}

static int h_network_connect(ApiConn *c, ApiRequest *r) {
        return connect_or_disconnect(c, r, true);
}

static int h_network_disconnect(ApiConn *c, ApiRequest *r) {
        return connect_or_disconnect(c, r, false);
}

static int h_network_delete(ApiConn *c, ApiRequest *r) {
        const char *name = network_name(c, r);
        const CtrStore *s = &c->srv->store;
        bool force = query_bool(r, "force", false), cni;
        if (!network_exists(s, name, &cni))
                return api_error(c, 404, "network not found", "unable to find network with name or ID %s: network not found", name);
        if (streq(name, s->default_network))
                return api_error(c, 500, "default network", "default network %s cannot be removed", name);
        /* force (4.20): Podman removes every container still attached */
        Container *cs = NULL;
        size_t n = 0;
        int users = 0;
        if (ctr_list(s, &cs, &n, NULL) == 0) {
                for (size_t i = 0; i < n; i++) {
                        NetAttachment *as = NULL;
                        size_t na = 0;
                        bool on = false;
                        if (net_attachments_load(s, cs[i].config.id, &as, &na, NULL) == 0)
                                for (size_t k = 0; k < na; k++)
                                        on |= streq(as[k].network, name);
                        free(as);
                        if (!on)
                                continue;
                        users++;
                        if (force)
                                (void) ctr_remove(s, cs[i].config.id, true, NULL);
                }
                ctr_list_free(cs, n);
        }
        if (users && !force)
                return api_error(c, 500, "network is being used",
                                 "\"%s\" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used",
                                 name);
        RtError err = {};
        if (cni) {
                /* Podman's CNI backend deletes the conflist it was given (LNST wrote it) */
                CniConfig cfg;
                _cleanup_(strv_freep) char **path = NULL;
                CniList l = {};
                if (net_cni_config(s, &cfg, &path) == 0 && cni_find(&cfg, name, &l, NULL, NULL, NULL) == 0) {
                        if (unlink(l.file) < 0 && errno != ENOENT)
                                (void) rt_err_set(&err, -errno, "remove %s", l.file);
                        cni_list_done(&l);
                }
                if (err.code)
                        return rt_error(c, &err, 500, NULL);
        } else if (net_remove(s, name, force, &err) < 0)
                return rt_error(c, &err, 500, err.code == -EBUSY ? "network is being used" : NULL);
        if (!r->libpod)
                return api_reply(c, 204, NULL, NULL, 0);
        return api_reply_json(c, 200, json_pack("[{s:s, s:n}]", "Name", name, "Err"));
}

/* ---- the router ---- */

typedef struct Route {
        const char *method; /* "GET" also answers HEAD */
        const char *pattern; /* '*' matches one segment */
        int (*handler)(ApiConn *c, ApiRequest *r);
} Route;

static const Route routes[] = {
        { "GET", "_ping", h_ping },
        { "GET", "info", h_info },
        { "GET", "version", h_version },
        { "GET", "events", h_events },
        { "GET", "images/json", h_images_list },
        { "POST", "images/pull", h_image_pull },
        { "POST", "images/create", h_image_pull },
        { "POST", "images/load", h_image_load },
        { "GET", "images/*/exists", h_image_exists },
        { "GET", "images/*/json", h_image_json },
        { "POST", "containers/create", h_container_create },
        { "GET", "containers/json", h_containers_list },
        { "GET", "containers/*/json", h_container_json },
        { "GET", "containers/*/exists", h_container_exists },
        { "POST", "containers/*/start", h_container_start },
        { "POST", "containers/*/stop", h_container_stop },
        { "POST", "containers/*/kill", h_container_kill },
        { "POST", "containers/*/restart", h_container_restart },
        { "POST", "containers/*/wait", h_container_wait },
        { "GET", "containers/*/logs", h_container_logs },
        { "GET", "containers/*/top", h_container_top },
        { "POST", "containers/*/resize", h_container_resize },
        { "POST", "containers/*/attach", h_container_attach },
        { "DELETE", "containers/*", h_container_delete },
        { "POST", "containers/*/exec", h_exec_create },
        { "GET", "exec/*/json", h_exec_json },
        { "POST", "exec/*/start", h_exec_start },
        { "POST", "exec/*/resize", h_exec_resize },
        { "POST", "exec/*/remove", h_exec_remove },
        { "POST", "networks/create", h_network_create },
        { "GET", "networks/json", h_networks_list },
        { "GET", "networks", h_networks_list },
        { "GET", "networks/*/exists", h_network_exists },
        { "GET", "networks/*/json", h_network_json },
        { "GET", "networks/*", h_network_json },
        { "POST", "networks/*/connect", h_network_connect },
        { "POST", "networks/*/disconnect", h_network_disconnect },
        { "DELETE", "networks/*", h_network_delete },
        {},
};

static bool route_matches(const Route *rt, const ApiRequest *r) {
        char pat[64];
        (void) snprintf(pat, sizeof pat, "%s", rt->pattern);
        size_t i = 0;
        for (char *save = NULL, *p = strtok_r(pat, "/", &save); p; p = strtok_r(NULL, "/", &save), i++)
                if (i >= r->n_segs || (!streq(p, "*") && !streq(p, r->segs[i])))
                        return false;
        return i == r->n_segs;
}

int api_handle(ApiConn *c, ApiRequest *r) {
        bool path_known = false;
        for (const Route *rt = routes; rt->method; rt++) {
                /* containers/json and networks/json are not the object called "json" */
                if (!route_matches(rt, r))
                        continue;
                path_known = true;
                if (streq(rt->method, r->http.method) || (streq(rt->method, "GET") && streq(r->http.method, "HEAD")))
                        return rt->handler(c, r);
        }
        if (path_known)
                return api_error(c, 405, "method not allowed", "method %s not allowed on %s", r->http.method, r->http.path);
        return api_error(c, 404, "not found", "no such endpoint: %s %s", r->http.method, r->http.path);
}
