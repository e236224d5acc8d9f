/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int err_vformat(RtError *err, int code, bool with_errno, const char *fmt, va_list ap) {
        if (!err)
                return code;

        char buf[sizeof(err->msg)];
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        if (n < 0)
                n = 0;
        if (with_errno && code < 0 && (size_t) n < sizeof buf)
                (void) snprintf(buf + n, sizeof buf - n, ": %s", strerror(-code));
        memcpy(err->msg, buf, sizeof buf);
        err->code = code;
        return code;
}

int rt_err_set(RtError *err, int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = err_vformat(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int rt_err_setx(RtError *err, int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = err_vformat(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int rt_err_prefix(RtError *err, int code, const char *fmt, ...) {
        if (!err)
                return code;

        char old[sizeof(err->msg)];
        if (err->msg[0])
                memcpy(old, err->msg, sizeof old);
        else
                (void) snprintf(old, sizeof old, "%s", code < 0 ? strerror(-code) : "unknown error");

        char ctx[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(ctx, sizeof ctx, fmt, ap);
        va_end(ap);

        (void) snprintf(err->msg, sizeof err->msg, "%s: %s", ctx, old);
        err->code = code;
        return code;
}

const char *errno_name(int code, char buf[static 16]) {
        int e = code < 0 ? -code : code;
        const char *name = strerrorname_np(e);
        if (name)
                return name;
        (void) snprintf(buf, 16, "E%d", e);
        return buf;
}
