/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* The project's one error convention (style R1/R2): functions return 0 (or a count) on
 * success and a negative errno on failure, and fill an optional RtError with the context a
 * human needs ("connect eth1 of lab-a to br-lab: File exists"). The buffer is fixed so that
 * reporting an error can never itself fail, and the API can hand the text to its clients. */
typedef struct RtError {
        int code;
        char msg[512];
} RtError;

/* "<fmt>: <strerror(-code)>"; returns code. err may be NULL. */
int rt_err_set(RtError *err, int code, const char *fmt, ...) _printf_(3, 4);
/* Exactly "<fmt>", for errors whose text says it all (bad input); returns code. */
int rt_err_setx(RtError *err, int code, const char *fmt, ...) _printf_(3, 4);
/* "<fmt>: <previous message>", the caller's context in front; returns code. An empty error
 * (a callee that set nothing) gets the errno text so the message is never bare. */
int rt_err_prefix(RtError *err, int code, const char *fmt, ...) _printf_(3, 4);

/* The errno's symbolic name ("EEXIST"), or "E<number>" for one glibc does not know. The
 * buffer form is thread-safe. */
const char *errno_name(int code, char buf[static 16]);
