/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "proc.h"

/* Returns the state letter and start time from /proc/PID/stat; the comm field may hold
 * spaces and parentheses, so parsing starts after the last ')'. */
static int read_stat(pid_t pid, char *ret_state, uint64_t *ret_start) {
        char path[64], buf[1024];
        (void) snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -ESRCH;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EBADMSG;
        p += 2;
        char state = *p;
        /* after the state come ppid ... ; starttime is field 22, i.e. the 20th after state */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        *ret_state = state;
        *ret_start = strtoull(p, NULL, 10);
        return 0;
}

int proc_id_of(pid_t pid, ProcId *ret) {
        char state;
        uint64_t start;
        int r = read_stat(pid, &state, &start);
        if (r < 0)
                return r;
        *ret = (ProcId) { .pid = pid, .start_time = start };
        return 0;
}

bool proc_id_alive(const ProcId *id) {
        char state;
        uint64_t start;
        if (id->pid <= 0 || read_stat(id->pid, &state, &start) < 0)
                return false;
        return start == id->start_time && state != 'Z' && state != 'X';
}

int proc_id_pidfd(const ProcId *id) {
        int fd = pidfd_open(id->pid, 0);
        if (fd < 0)
                return -errno;
        /* Checked after opening: if the start time still matches now, the fd refers to
         * our process, since a pidfd pins the pid against reuse. */
        char state;
        uint64_t start;
        if (read_stat(id->pid, &state, &start) < 0 || start != id->start_time) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

uint64_t now_realtime_ns(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

uint64_t now_monotonic_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t now_monotonic_us(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

const char *format_rfc3339(uint64_t ns, char buf[static 40]) {
        time_t sec = (time_t) (ns / 1000000000ull);
        struct tm tm;
        if (ns == 0 || !gmtime_r(&sec, &tm)) {
                /* Podman's zero time, which clients know to mean "never" */
                (void) snprintf(buf, 40, "0001-01-01T00:00:00Z");
                return buf;
        }
        /* not strftime: it calls tzset(), which opens and reads /etc/localtime on every
         * call (each inspect had that cost) for a UTC time that needs no zone at all */
        (void) snprintf(buf, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (unsigned long long) (ns % 1000000000ull));
        return buf;
}
