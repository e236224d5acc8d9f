/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every endpoint file uses: JSON and query readers, and the container lookup and the
 * one mapping of the runtime's errors to statuses (spec 1.5). */
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


/* ---- small helpers ---- */

/* Go's encoding/json matches keys case-insensitively (spec 1.3). */
json_t *api_jget(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        if (v || !json_is_object(o))
                return json_is_null(v) ? NULL : v;
        const char *k;
        json_object_foreach(o, k, v) if (strcasecmp(k, key) == 0) return json_is_null(v) ? NULL : v;
        return NULL;
}

const char *api_jstr(json_t *o, const char *key) {
        return json_string_value(api_jget(o, key));
}

bool api_jbool(json_t *o, const char *key) {
        return json_is_true(api_jget(o, key));
}

bool api_query_bool(const ApiRequest *r, const char *key, bool def) {
        _cleanup_free_ char *v = http_query_get(r->http.query, key, 0);
        bool b = def;
        if (v && http_parse_bool(v, &b) < 0)
                return def;
        return b;
}

/* A window dimension from a JSON body: 0 (leave it) when absent or out of range. */
unsigned short api_json_dimension(json_t *v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
        return n > 0 && n <= USHRT_MAX ? (unsigned short) n : 0;
}

/* A window dimension from the query: 0 (leave it) when absent or out of range. */
unsigned short api_query_dimension(const ApiRequest *r, const char *key) {
        _cleanup_free_ char *v = http_query_get(r->http.query, key, 0);
        uint32_t n = 0;
        if (!v || safe_atou32_range(v, 1, USHRT_MAX, &n) < 0)
                return 0;
        return (unsigned short) n;
}

int api_major_version(const ApiRequest *r) {
        return r->version[0] ? atoi(r->version) : 0;
}

/* The request body as a JSON object; an empty body is {}. */
int api_body_json(ApiConn *c, const ApiRequest *r, json_t **ret) {
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

void api_hex_id(char buf[static 65]) {
        uint8_t b[32];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                memset(b, 0x5a, sizeof b);
        for (int i = 0; i < 32; i++)
                (void) snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

/* ---- containers: lookup with Podman's phrases ---- */

int api_no_such_container(ApiConn *c, const char *ref) {
        return api_error(c, 404, "no such container", "no container with name or ID \"%s\" found: no such container", ref);
}

/* 0 with the container loaded; otherwise the reply (404) has been sent and < 0 returned
 * through *reply. */
int api_load_container(ApiConn *c, const char *ref, Container *ret, int *reply) {
        char id[CTR_ID_LEN + 1];
        RtError e = {};
        if (ctr_lookup(&c->srv->store, ref, id, &e) < 0 || ctr_load(&c->srv->store, id, ret, &e) < 0) {
                *reply = api_no_such_container(c, ref);
                return -ENOENT;
        }
        (void) ctr_state_observe(ret);
        return 0;
}

/* One error-to-status mapping for the runtime's errors (spec 1.5). */
int api_rt_error(ApiConn *c, const RtError *e, int fallback_status, const char *cause) {
        int status = e->code == -ENOENT ? 404 : fallback_status;
        return api_error(c, status, cause ? cause : status == 404 ? "not found" : "internal error", "%s", e->msg);
}

int api_stream_head(ApiConn *c, const char *content_type) {
        char head[512];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n");
        n += api_common_headers(head + n, sizeof head - (size_t) n);
        n += snprintf(head + n, sizeof head - (size_t) n, "Content-Type: %s\r\nConnection: close\r\n\r\n",
                      content_type);
        return api_write_all(c->fd, head, (size_t) n) < 0 ? -ECONNRESET : 0;
}
