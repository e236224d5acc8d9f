/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event log: what happened to containers and networks, one JSON object a line in
 * <runroot>/events.log, in the shape Podman's events API sends (7.1), whoever did it (the
 * CLI, the shim, a monitor at the container's end). Each line is one O_APPEND write, so
 * writers never interleave; the file is rotated to events.log.1 past its size bound. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "proc.h"

enum { EVENTS_MAX_BYTES = 4 << 20 };

void ctr_event_path(const CtrStore *s, char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, "%s/events.log", s->runroot);
}

void ctr_event(const CtrStore *s, const char *type, const char *action, const char *id, const char *name,
               const char *image, int exit_code) {
        uint64_t ns = now_realtime_ns();
        json_t *attrs = json_pack("{s:s, s:s}", "name", name ? name : "", "podId", "");
        if (image)
                json_object_set_new(attrs, "image", json_string(image));
        /* always there: Podman's client drops (and then dereferences) an event whose
         * containerExitCode is not a number */
        char code[16];
        (void) snprintf(code, sizeof code, "%d", exit_code >= 0 ? exit_code : 0);
        json_object_set_new(attrs, "containerExitCode", json_string(code));
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "status", action, "id", id,
                              "from", image ? image : "", "Type", type, "Action", action, "Actor", "ID", id,
                              "Attributes", attrs, "scope", "local", "time", (json_int_t) (ns / 1000000000ull),
                              "timeNano", (json_int_t) ns);
        char *line = e ? json_dumps(e, JSON_COMPACT) : NULL;
        json_decref(e);
        if (!line)
                return;
        size_t len = strlen(line);
        line[len++] = '\n'; /* over the terminator: one write, the line whole */
        char p[PATH_MAX];
        ctr_event_path(s, p);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_size > EVENTS_MAX_BYTES) {
                char old[PATH_MAX + 2];
                (void) snprintf(old, sizeof old, "%s.1", p);
                (void) rename(p, old);
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
                (void) !write(fd, line, len);
                close(fd);
        }
        free(line);
}
