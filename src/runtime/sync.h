/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The records a start's processes exchange over SOCK_SEQPACKET sockets: the starter (the
 * CLI, serve), the monitor and PID 1. A record is a whole SyncMsg; an fd rides beside it
 * where the type says so. */

#include <sys/types.h>

enum {
        SYNC_ERROR = 1,
        SYNC_STARTED,
        SYNC_EXITED,
        SYNC_PTY,    /* carries the pty master, made in the container's own devpts */
        SYNC_NETNS,  /* to PID 1 (and from a wiring CLI to the monitor): the container's
                      * netns, named already, as an fd; code SYNC_NETNS_LO_UP when its
                      * wiring brought lo up too */
        SYNC_PID1,   /* monitor to starter, right after the clone: PID 1's host pid */
        SYNC_GO,     /* the monitor to PID 1: "running" is on record; PID 1 execs the command
                      * only once it has read this */
        SYNC_CGROUP, /* the monitor to PID 1, between NETNS and GO: PID 1 is in its cgroup
                      * now, and makes its cgroup namespace before it drops privileges */
};

#define SYNC_NETNS_LO_UP 1

typedef struct SyncMsg {
        int type;
        int code;   /* -errno for SYNC_ERROR, exit status for SYNC_EXITED */
        pid_t pid;  /* SYNC_PID1 (and SYNC_STARTED from the monitor): the container's PID 1
                     * as the host sees it; SYNC_ERROR: 126/127 when the command could
                     * not be run/found */
        pid_t sender; /* the monitor's pid, for the state: it is not the caller's child */
        char msg[512];
} SyncMsg;

/* Child-side send: a failed send has nobody left to tell, so it is ignored. */
void sync_send(int fd, int type, int code, pid_t pid, const char *msg);
int sync_send_fd(int fd, int type, int code, int passfd);
/* Receives a record with its fd (SYNC_PTY, SYNC_NETNS), or another record (an error)
 * without one. 1, or -errno (-ETIMEDOUT). */
int sync_recv_fd(int fd, SyncMsg *m, int *ret_fd, int timeout_ms);
/* Waits at most timeout_ms for one record; EOF is 0 (the peer exec'd or died). */
int sync_recv(int fd, SyncMsg *m, int timeout_ms);
/* After our half-close: waits (10 s at most) until the monitor has gone, which its end
 * of the socket closing tells, records it sent meanwhile read and dropped. Then closes. */
void sync_wait_gone(int fd);
