/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness declarations ("tcp:9999", "unix:/run/agent.sock", "cmd:COMMAND") and the
 * kernel's socket tables the probes read (/proc/PID/net/{tcp,tcp6,unix}). A listening
 * socket is read from the table rather than connected to: a connect would be a client the
 * service sees (LNST's agent takes its first connection as its controller). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "parse.h"

int ctr_ready_parse(const char *spec, CtrReady *ret, RtError *err) {
        *ret = (CtrReady) {};
        if (!spec || !*spec || streq(spec, "none"))
                return 0;
        size_t len = strlen(spec);
        if (len > CTR_READY_MAX)
                return rt_err_setx(err, -EINVAL, "readiness '%.32s...' is longer than %d characters", spec,
                                   CTR_READY_MAX);
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) spec[i] < 0x20 && spec[i] != '\t')
                        return rt_err_setx(err, -EINVAL, "readiness '%.64s' holds a control character", spec);
        const char *arg;
        if ((arg = startswith(spec, "tcp:"))) {
                uint32_t port;
                if (safe_atou32_range(arg, 1, 65535, &port) < 0)
                        return rt_err_setx(err, -EINVAL, "readiness '%.64s': a TCP port is 1-65535", spec);
                *ret = (CtrReady) { .kind = CTR_READY_TCP, .port = (uint16_t) port, .arg = arg };
                return 0;
        }
        if ((arg = startswith(spec, "unix:"))) {
                /* a path inside the container, or "@name" in the abstract namespace; what
                 * sun_path holds */
                size_t l = strlen(arg);
                if ((arg[0] != '/' && arg[0] != '@') || l < 2 || l > 107 || strpbrk(arg, " \t"))
                        return rt_err_setx(err, -EINVAL,
                                           "readiness '%.64s': a socket is an absolute path or @name, "
                                           "2-107 characters, no blanks",
                                           spec);
                *ret = (CtrReady) { .kind = CTR_READY_UNIX, .arg = arg };
                return 0;
        }
        if ((arg = startswith(spec, "cmd:"))) {
                if (!*arg)
                        return rt_err_setx(err, -EINVAL, "readiness 'cmd:' names no command");
                *ret = (CtrReady) { .kind = CTR_READY_CMD, .arg = arg };
                return 0;
        }
        return rt_err_setx(err, -EINVAL,
                           "readiness '%.64s' is not tcp:PORT, unix:PATH, cmd:COMMAND or none", spec);
}

int ctr_ready_check(const char *spec, RtError *err) {
        CtrReady r;
        return ctr_ready_parse(spec, &r, err);
}

void ctr_ready_describe(const CtrReady *r, char *buf, size_t size) {
        switch (r->kind) {
        case CTR_READY_TCP:
                (void) snprintf(buf, size, "a listener on TCP port %u", r->port);
                break;
        case CTR_READY_UNIX:
                (void) snprintf(buf, size, "a listener on unix socket %s", r->arg);
                break;
        case CTR_READY_CMD:
                (void) snprintf(buf, size, "'%.200s' to succeed", r->arg);
                break;
        default:
                (void) snprintf(buf, size, "nothing");
        }
}

/* /proc/net/tcp and tcp6: "sl local_address rem_address st ...", addresses as HEX:PORT. */
bool ctr_ready_tcp_listening(const char *table, uint16_t port) {
        enum { TCP_LISTEN = 0x0A };
        for (const char *line = table; line && *line;) {
                const char *nl = strchr(line, '\n');
                unsigned local_port, state;
                char local[64];
                if (sscanf(line, " %*[0-9]: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &local_port, &state) == 3 &&
                    local_port == port && state == TCP_LISTEN)
                        return true;
                line = nl ? nl + 1 : NULL;
        }
        return false;
}

/* /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path", the path last, "@"
 * for an abstract name. A listener has __SO_ACCEPTCON (0x10000) in its flags. */
bool ctr_ready_unix_listening(const char *table, const char *path) {
        enum { SO_ACCEPTCON_FLAG = 0x10000 };
        size_t pl = strlen(path);
        for (const char *line = table; line && *line;) {
                const char *nl = strchrnul(line, '\n');
                unsigned long flags;
                int used = 0;
                if (sscanf(line, "%*[0-9A-Fa-f]: %*x %*x %lx %*x %*x %*u %n", &flags, &used) == 1 && used > 0 &&
                    (flags & SO_ACCEPTCON_FLAG) && (size_t) (nl - (line + used)) == pl &&
                    memcmp(line + used, path, pl) == 0)
                        return true;
                line = *nl ? nl + 1 : NULL;
        }
        return false;
}
