/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A process is named by its pid and its start time (clock ticks since boot, field 22 of
 * /proc/PID/stat): a pid alone may be reused by an unrelated process after ours died. */
typedef struct ProcId {
        pid_t pid;
        uint64_t start_time;
} ProcId;

/* Fills the start time of pid; -ESRCH when it is gone. */
int proc_id_of(pid_t pid, ProcId *ret);
/* Is this exact process (pid and start time) still there (and not a zombie)? */
bool proc_id_alive(const ProcId *id);
/* pidfd_open, checked against the start time so the fd is for our process or -ESRCH. */
int proc_id_pidfd(const ProcId *id);
uint64_t now_realtime_ns(void);
uint64_t now_monotonic_ms(void);
uint64_t now_monotonic_us(void);
/* RFC 3339 with nanoseconds, UTC ("2026-11-28T15:28:00.123456789Z"), as Podman prints. */
const char *format_rfc3339(uint64_t ns, char buf[static 40]);
