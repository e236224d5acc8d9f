/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* _ping, info and version. */
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


/* ---- system (3.1 – 3.3) ---- */

int api_ep_ping(ApiConn *c, ApiRequest *r) {
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

int api_ep_info(ApiConn *c, ApiRequest *r) {
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

int api_ep_version(ApiConn *c, ApiRequest *r) {
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

