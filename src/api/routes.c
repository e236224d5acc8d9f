/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The route table: method and path pattern to endpoint; 404 and 405 answered here. */
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


/* ---- the router ---- */

typedef struct Route {
        const char *method; /* "GET" also answers HEAD */
        const char *pattern; /* '*' matches one segment */
        int (*handler)(ApiConn *c, ApiRequest *r);
} Route;

static const Route routes[] = {
        { "GET", "_ping", api_ep_ping },
        { "GET", "info", api_ep_info },
        { "GET", "version", api_ep_version },
        { "GET", "events", api_ep_events },
        { "GET", "images/json", api_ep_images_list },
        { "POST", "images/pull", api_ep_image_pull },
        { "POST", "images/create", api_ep_image_import }, /* a pull unless fromSrc: docker import */
        { "POST", "images/import", api_ep_image_import },
        { "POST", "images/load", api_ep_image_load },
        { "GET", "images/*/exists", api_ep_image_exists },
        { "GET", "images/*/json", api_ep_image_json },
        { "POST", "containers/create", api_ep_container_create },
        { "GET", "containers/json", api_ep_containers_list },
        { "GET", "containers/*/json", api_ep_container_json },
        { "GET", "containers/*/exists", api_ep_container_exists },
        { "POST", "containers/*/start", api_ep_container_start },
        { "POST", "containers/*/stop", api_ep_container_stop },
        { "POST", "containers/*/kill", api_ep_container_kill },
        { "POST", "containers/*/restart", api_ep_container_restart },
        { "POST", "containers/*/wait", api_ep_container_wait },
        { "GET", "containers/*/logs", api_ep_container_logs },
        { "GET", "containers/*/top", api_ep_container_top },
        { "POST", "containers/*/resize", api_ep_container_resize },
        { "POST", "containers/*/attach", api_ep_container_attach },
        { "DELETE", "containers/*", api_ep_container_delete },
        { "POST", "containers/*/exec", api_ep_exec_create },
        { "GET", "exec/*/json", api_ep_exec_json },
        { "POST", "exec/*/start", api_ep_exec_start },
        { "POST", "exec/*/resize", api_ep_exec_resize },
        { "POST", "exec/*/remove", api_ep_exec_remove },
        { "POST", "networks/create", api_ep_network_create },
        { "GET", "networks/json", api_ep_networks_list },
        { "GET", "networks", api_ep_networks_list },
        { "GET", "networks/*/exists", api_ep_network_exists },
        { "GET", "networks/*/json", api_ep_network_json },
        { "GET", "networks/*", api_ep_network_json },
        { "POST", "networks/*/connect", api_ep_network_connect },
        { "POST", "networks/*/disconnect", api_ep_network_disconnect },
        { "DELETE", "networks/*", api_ep_network_delete },
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

