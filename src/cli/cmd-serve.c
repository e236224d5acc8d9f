/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `nsprov serve`: the Podman shim's socket (src/api/). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime.h"
#include "api.h"
#include "cli.h"
#include "strv.h"
#include "fs.h"
#include "log.h"
#include "parse.h"

#define DEFAULT_LISTEN "unix:///run/nsprov/nsprov.sock"
#define PODMAN_SOCKET "/run/podman/podman.sock"

/* A unix socket at path, 0660, root and group: a live one there (another server) is
 * refused, a stale one replaced, any other file left alone and refused. */
static int listen_unix(const char *path, const ApiServer *srv, RtError *err) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return rt_err_setx(err, -ENAMETOOLONG, "socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);
        char dir[PATH_MAX];
        (void) snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                int r = mkdir_p(dir, 0755, err);
                if (r < 0)
                        return r;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rt_err_set(err, -errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0) {
                close(fd);
                return rt_err_setx(err, -EADDRINUSE, "%s: another server is listening there", path);
        }
        close(fd);
        /* a stale socket goes; anything else at that path is somebody's file, kept */
        struct stat st;
        if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
                return rt_err_setx(err, -EEXIST, "%s exists and is not a socket: not replaced", path);
        (void) unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rt_err_set(err, -errno, "socket");
        /* born 0660 (no window where others could connect), then given its group */
        mode_t old = umask(0117);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || chown(path, 0, srv->have_group ? srv->group : 0) < 0 || listen(fd, 128) < 0) {
                r = -errno;
                close(fd);
                if (r != -EADDRINUSE)
                        (void) unlink(path); /* ours, half made: bound but not serving */
                return rt_err_set(err, r, "listen on %s", path);
        }
        return fd;
}

static const char *unix_path(const char *url) {
        return startswith(url, "unix://") ?: (url[0] == '/' ? url : NULL);
}

int verb_serve(int argc, char **argv, const GlobalOptions *g) {
        enum { OPT_LISTEN = 0x100, OPT_PODMAN, OPT_GROUP, OPT_TIMEOUT, OPT_BACKEND, OPT_READY, OPT_MAX_CONN,
               OPT_HEADER_TIMEOUT, OPT_BODY_TIMEOUT, OPT_KEEPALIVE_TIMEOUT, OPT_ALLOW_CONTAINERS };
        static const struct option options[] = {
                { "listen", required_argument, NULL, OPT_LISTEN },
                { "podman-socket", no_argument, NULL, OPT_PODMAN },
                { "group", required_argument, NULL, OPT_GROUP },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "network-backend", required_argument, NULL, OPT_BACKEND },
                { "ready", required_argument, NULL, OPT_READY },
                { "max-connections", required_argument, NULL, OPT_MAX_CONN },
                { "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
                { "body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT },
                { "keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TIMEOUT },
                { "allow-containers", no_argument, NULL, OPT_ALLOW_CONTAINERS },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *listen = NULL, *group = NULL;
        bool podman_socket = false;
        ApiServer srv = { .network_backend = "netavark" };
        _cleanup_(strv_freep) char **ready_defaults = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case OPT_LISTEN: listen = optarg; break;
                case OPT_PODMAN: podman_socket = true; break;
                case OPT_GROUP: group = optarg; break;
                case OPT_TIMEOUT:
                        if (safe_atou32(optarg, &srv.idle_timeout_s) < 0)
                                return usage_error("serve ", "--timeout wants seconds, got '%s'", optarg);
                        break;
                case OPT_ALLOW_CONTAINERS: srv.allow_containers = true; break;
                case OPT_MAX_CONN:
                        if (safe_atou32_range(optarg, 1, 1000000, &srv.max_connections) < 0)
                                return usage_error("serve ", "--max-connections wants 1 to 1000000, got '%s'", optarg);
                        break;
                case OPT_HEADER_TIMEOUT:
                case OPT_BODY_TIMEOUT:
                case OPT_KEEPALIVE_TIMEOUT: {
                        uint64_t ms;
                        if (parse_duration_ms(optarg, 24 * 3600 * 1000, &ms) < 0 || ms == 0)
                                return usage_error("serve ", "%s wants a duration (30s, 500ms, 5m), got '%s'",
                                                   argv[optind - 1], optarg);
                        *(c == OPT_HEADER_TIMEOUT ? &srv.header_timeout_ms :
                          c == OPT_BODY_TIMEOUT   ? &srv.body_timeout_ms :
                                                    &srv.keepalive_timeout_ms) = (unsigned) ms;
                        break;
                }
                case OPT_BACKEND:
                        if (!streq(optarg, "netavark") && !streq(optarg, "cni"))
                                return usage_error("serve ", "--network-backend is netavark or cni, got '%s'", optarg);
                        srv.network_backend = optarg;
                        break;
                case OPT_READY: {
                        /* IMAGE=SPEC; a later one for the same image wins, as strv_env_set has it */
                        const char *eq = strchr(optarg, '=');
                        RtError e = {};
                        _cleanup_free_ char *image = eq ? strndup(optarg, (size_t) (eq - optarg)) : NULL;
                        if (!image || ctr_image_name_check(image, &e) < 0 || ctr_ready_check(eq + 1, &e) < 0)
                                return usage_error("serve ", "--ready takes IMAGE=tcp:PORT|unix:PATH|cmd:COMMAND, "
                                                   "not '%s'%s%s", optarg, e.msg[0] ? ": " : "", e.msg);
                        if (strv_env_set(&ready_defaults, optarg) < 0)
                                return EXIT_NSPROV;
                        srv.ready_defaults = ready_defaults;
                        break;
                }
                case 'h':
                        printf("Usage: nsprov serve [--listen unix:///PATH] [--podman-socket] [--group GROUP]\n"
                               "                    [--timeout SECONDS] [--network-backend netavark|cni]\n"
                               "                    [--ready IMAGE=tcp:PORT|unix:PATH|cmd:COMMAND]...\n"
                               "                    [--max-connections N] [--header-timeout D] [--body-timeout D]\n"
                               "                    [--keepalive-timeout D] [--allow-containers]\n"
                               "\n"
                               "Answers Podman's REST API (the libpod subset LNST and podman --url use) on a\n"
                               "unix socket (default %s), 0660 root:GROUP; peers\n"
                               "that are neither root nor in GROUP are refused. Members of GROUP are as good\n"
                               "as root: the API runs privileged containers with host mounts for them.\n"
                               "Peers in another pid namespace (a container the socket was mounted into:\n"
                               "its root is uid 0 too) are refused unless --allow-containers.\n"
                               "--podman-socket also listens at %s, where LNST and\n"
                               "Podman's clients look. Started by systemd socket activation, it takes the\n"
                               "sockets it is given. --timeout: exit after that long without a connection\n"
                               "(0, the default: never).\n"
                               "--network-backend: what info reports (LNST's automatic plugin choice).\n"
                               "Containers it makes join the network 'podman' unless --default-network says\n"
                               "otherwise. --ready: how the containers of IMAGE tell they are ready when\n"
                               "neither they (label io.nsprov.ready) nor the image declare it; a start\n"
                               "answers once they are (LNST then finds its agent listening).\n"
                               "Limits, against clients that hold what they open: --max-connections (default\n"
                               "%d; past it a 503 and close), --header-timeout (default %ds: a request's\n"
                               "head, from its first byte), --body-timeout (default %ds: a JSON body, from\n"
                               "the head; an upload may pause %ds at most), --keepalive-timeout (default\n"
                               "%dm: an idle connection). The soft limit of open files is raised to the hard.\n",
                               DEFAULT_LISTEN, PODMAN_SOCKET, API_DEFAULT_MAX_CONNECTIONS,
                               API_DEFAULT_HEADER_TIMEOUT_MS / 1000, API_DEFAULT_BODY_TIMEOUT_MS / 1000, 60,
                               API_DEFAULT_KEEPALIVE_TIMEOUT_MS / 60000);
                        return 0;
                default: return usage_error("serve ", "unknown option '%s'", argv[optind - 1]);
                }
        if (optind < argc)
                return usage_error("serve ", "unexpected argument '%s'", argv[optind]);
        if (group) {
                struct group *gr = getgrnam(group);
                if (!gr)
                        return usage_error("serve ", "no group '%s'", group);
                srv.have_group = true;
                srv.group = gr->gr_gid;
        }
        cli_podman_defaults();
        int r = cli_open_store(g, &srv.store);
        if (r != 0)
                return r;
        srv.store.fresh_monitor = true; /* we are threaded: no monitor may be a fork of us */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                return log_error_errno(-errno, "readlink /proc/self/exe: %m"), EXIT_NSPROV;
        self[n] = 0;
        srv.self_exe = self;
        pthread_mutex_init(&srv.lock, NULL);

        RtError e = {};
        const char *made[2] = { NULL, NULL };
        const char *fds_env = getenv("LISTEN_FDS"), *pid_env = getenv("LISTEN_PID");
        if (fds_env && pid_env && (pid_t) atol(pid_env) == getpid()) {
                /* systemd socket activation: fds from 3 on */
                uint32_t nfds = 0;
                if (safe_atou32(fds_env, &nfds) < 0 || nfds == 0 || nfds > ELEMENTSOF(srv.listen_fds))
                        return log_error_errno(-EINVAL, "LISTEN_FDS='%s' is not 1 to 4", fds_env), EXIT_NSPROV;
                for (uint32_t i = 0; i < nfds; i++)
                        srv.listen_fds[srv.n_listen++] = 3 + (int) i;
                (void) unsetenv("LISTEN_FDS");
                (void) unsetenv("LISTEN_PID");
                (void) unsetenv("LISTEN_FDNAMES");
        } else {
                const char *paths[2] = { unix_path(listen ?: DEFAULT_LISTEN), podman_socket ? PODMAN_SOCKET : NULL };
                if (!paths[0])
                        return usage_error("serve ", "--listen wants unix:///PATH, got '%s'", listen);
                for (int i = 0; i < 2; i++) {
                        if (!paths[i])
                                continue;
                        int fd = listen_unix(paths[i], &srv, &e);
                        if (fd < 0) {
                                for (int k = 0; k < i; k++)
                                        if (made[k])
                                                (void) unlink(made[k]);
                                return cli_fail(&e);
                        }
                        srv.listen_fds[srv.n_listen++] = fd;
                        made[i] = paths[i];
                }
        }
        if (!streq(srv.store.default_network, "none") && net_ensure_default(&srv.store, &e) < 0)
                log_warning("the default network '%s' is not there: %s", srv.store.default_network, e.msg);
        log_info("serving the Podman API on %s%s%s", made[0] ? made[0] : "the sockets systemd gave",
                 made[1] ? " and " : "", made[1] ? made[1] : "");
        /* last, while we have one thread: see ctr_spawner_start */
        if (ctr_spawner_start(&srv.store, &e) < 0)
                log_warning("monitors will be exec'd, not forked: %s", e.msg);
        /* after the spawner's fork: what it forks never reads through them */
        if (ctr_store_caches_open(&srv.store, &e) < 0 || net_caches_open(&srv.store, &e) < 0)
                log_warning("every request parses the state files: %s", e.msg);
        if (netns_pool_start(2, &srv.store.netns_pool, &e) < 0)
                log_warning("every start makes its netns: %s", e.msg);
        r = api_serve(&srv);
        netns_pool_stop(srv.store.netns_pool);
        srv.store.netns_pool = NULL;
        ctr_store_caches_close(&srv.store);
        ctr_spawner_stop(&srv.store);
        for (int i = 0; i < 2; i++)
                if (made[i])
                        (void) unlink(made[i]);
        api_sessions_free(&srv);
        return r;
}
