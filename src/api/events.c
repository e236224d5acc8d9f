/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event stream (Podman's shape), filtered and followed. */
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

int api_ep_events(ApiConn *c, ApiRequest *r) {
        _cleanup_free_ char *ftext = http_query_get(r->http.query, "filters", 0), *since_s = http_query_get(r->http.query, "since", 0),
                             *until_s = http_query_get(r->http.query, "until", 0);
        json_auto_t *filters = ftext && *ftext ? json_loads(ftext, 0, NULL) : json_object();
        int64_t since = parse_event_time(since_s), until = parse_event_time(until_s);
        if (!json_is_object(filters) || since < 0 || until < 0)
                return api_error(c, 400, "bad request", "failed to parse query parameter 'filters', 'since' or 'until'");
        bool stream = api_query_bool(r, "stream", true);
        char path[PATH_MAX], old[PATH_MAX + 2];
        ctr_event_path(&c->srv->store, path);
        (void) snprintf(old, sizeof old, "%s.1", path);
        if (api_stream_head(c, "application/json") < 0)
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

