/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cni-internal.h"

const char *cni_category_name(CniCategory c) {
        static const char *const names[] = {
                [CNI_ERR_NONE] = "none",
                [CNI_ERR_CONFIG] = "config",
                [CNI_ERR_NOT_FOUND] = "not-found",
                [CNI_ERR_INVALID] = "invalid",
                [CNI_ERR_VERSION] = "version",
                [CNI_ERR_PLUGIN] = "plugin",
                [CNI_ERR_OUTPUT] = "output",
                [CNI_ERR_SIGNAL] = "signal",
                [CNI_ERR_TIMEOUT] = "timeout",
                [CNI_ERR_EXEC] = "exec",
                [CNI_ERR_ALREADY_ATTACHED] = "already-attached",
                [CNI_ERR_NOT_ATTACHED] = "not-attached",
                [CNI_ERR_CACHE] = "cache",
                [CNI_ERR_SYSTEM] = "system",
        };
        return (unsigned) c < ELEMENTSOF(names) && names[c] ? names[c] : "unknown";
}

int cni_fail(CniError *ce, CniCategory cat, unsigned code, int r, const char *fmt, ...) {
        if (!ce)
                return r;
        char text[sizeof ce->e.msg];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        *ce = (CniError) { .origin = CNI_ORIGIN_RUNTIME, .category = cat, .code = code, .index = -1,
                           .exit_status = -1 };
        (void) rt_err_setx(&ce->e, r, "%s", text);
        (void) snprintf(ce->msg, sizeof ce->msg, "%s", text);
        return r;
}

int cni_fail_prefix(CniError *ce, int r, const char *fmt, ...) {
        if (!ce)
                return r;
        char ctx[sizeof ce->e.msg];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(ctx, sizeof ctx, fmt, ap);
        va_end(ap);
        return rt_err_prefix(&ce->e, r, "%s", ctx);
}

json_t *cni_error_json(const CniError *ce) {
        json_t *j = json_object();
        if (!j)
                return NULL;
        (void) json_object_set_new(j, "cniVersion", json_string(CNI_VERSION_MAX));
        (void) json_object_set_new(j, "code", json_integer(ce->code));
        (void) json_object_set_new(j, "msg", json_string(ce->msg[0] ? ce->msg : ce->e.msg));
        if (ce->details[0])
                (void) json_object_set_new(j, "details", json_string(ce->details));
        (void) json_object_set_new(j, "origin",
                                   json_string(ce->origin == CNI_ORIGIN_PLUGIN ? "plugin" : "runtime"));
        (void) json_object_set_new(j, "category", json_string(cni_category_name(ce->category)));
        (void) json_object_set_new(j, "error", json_string(ce->e.msg));
        if (ce->plugin[0]) {
                (void) json_object_set_new(j, "plugin", json_string(ce->plugin));
                (void) json_object_set_new(j, "index", json_integer(ce->index));
        }
        if (ce->command)
                (void) json_object_set_new(j, "command", json_string(ce->command));
        if (ce->exit_status >= 0)
                (void) json_object_set_new(j, "exitStatus", json_integer(ce->exit_status));
        if (ce->signal)
                (void) json_object_set_new(j, "signal", json_integer(ce->signal));
        if (ce->stderr_text[0])
                (void) json_object_set_new(j, "stderr", json_string(ce->stderr_text));
        if (ce->secondary[0])
                (void) json_object_set_new(j, "rollback", json_string(ce->secondary));
        return j;
}

int cni_json_load(const char *source, const char *bytes, size_t len, size_t flags, json_t **ret,
                  CniError *ce) {
        /* jansson stops at a NUL byte; what follows would be trailing data it never saw */
        if (memchr(bytes, 0, len))
                return cni_fail(ce, CNI_ERR_CONFIG, 6, -EINVAL, "%s: contains a NUL byte", source);
        json_error_t je;
        json_t *j = json_loadb(bytes, len, flags, &je);
        if (!j)
                return cni_fail(ce, CNI_ERR_CONFIG, 6, -EINVAL, "%s:%d:%d: %s", source, je.line,
                                je.column, je.text);
        *ret = j;
        return 0;
}
