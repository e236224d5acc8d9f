/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static LogLevel log_level = LOG_LEVEL_WARNING;
static LogTarget log_target = LOG_TARGET_STDERR;
static const char *log_ident = "nsprov";

static const char *const level_names[_LOG_LEVEL_MAX] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(LogLevel level) {
        if (level >= 0 && level < _LOG_LEVEL_MAX)
                log_level = level;
}

LogLevel log_get_level(void) {
        return log_level;
}

void log_set_target(LogTarget target) {
        if (target >= 0 && target < _LOG_TARGET_MAX)
                log_target = target;
}

void log_set_ident(const char *ident) {
        log_ident = ident;
}

LogLevel log_level_from_string(const char *s) {
        if (!s)
                return _LOG_LEVEL_INVALID;
        for (int i = 0; i < _LOG_LEVEL_MAX; i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return i;
        /* Podman spells it "warn"; accept it so scripts written for podman keep working. */
        if (strcasecmp(s, "warn") == 0)
                return LOG_LEVEL_WARNING;
        return _LOG_LEVEL_INVALID;
}

const char *log_level_to_string(LogLevel level) {
        return level >= 0 && level < _LOG_LEVEL_MAX ? level_names[level] : NULL;
}

LogTarget log_target_from_string(const char *s) {
        if (s && streq(s, "stderr"))
                return LOG_TARGET_STDERR;
        if (s && streq(s, "json"))
                return LOG_TARGET_JSON;
        return _LOG_TARGET_INVALID;
}

void log_parse_environment(void) {
        LogLevel l = log_level_from_string(getenv("NSPROV_LOG_LEVEL"));
        if (l >= 0)
                log_set_level(l);
        LogTarget t = log_target_from_string(getenv("NSPROV_LOG_TARGET"));
        if (t >= 0)
                log_set_target(t);
}

static void json_escape_to(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
}

int log_internal(LogLevel level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) {
        int e = error < 0 ? -error : error;
        char msg[2048];
        va_list ap;

        /* %m in the format means the error passed in, not whatever errno happens to be. */
        if (e)
                errno = e;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        /* One write a line, so lines from concurrent processes do not interleave mid-line. */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -e;
        if (log_target == LOG_TARGET_JSON) {
                struct timespec ts;
                (void) clock_gettime(CLOCK_REALTIME, &ts);
                fprintf(f, "{\"time\":%lld.%06ld,\"level\":\"%s\",\"ident\":\"%s\",\"msg\":\"",
                        (long long) ts.tv_sec, ts.tv_nsec / 1000, level_names[level], log_ident);
                json_escape_to(f, msg);
                fprintf(f, "\"");
                if (log_level >= LOG_LEVEL_DEBUG)
                        fprintf(f, ",\"code\":\"%s:%d %s\"", file, line, func);
                fprintf(f, "}\n");
        } else if (log_level >= LOG_LEVEL_DEBUG) {
                fprintf(f, "%s[%d] %s: %s (%s:%d)\n", log_ident, (int) getpid(), level_names[level],
                        msg, file, line);
        } else if (level <= LOG_LEVEL_WARNING) {
                fprintf(f, "%s: %s%s\n", log_ident, level == LOG_LEVEL_WARNING ? "warning: " : "", msg);
        } else {
                fprintf(f, "%s: %s\n", log_ident, msg);
        }
        if (fclose(f) == 0 && buf)
                (void) !write(STDERR_FILENO, buf, len);
        free(buf);

        errno = e;
        return -e;
}

void log_assert_failed_return(const char *expr, const char *file, int line, const char *func) {
        if (log_level < LOG_LEVEL_DEBUG)
                return;
        (void) log_internal(LOG_LEVEL_DEBUG, 0, file, line, func,
                            "Assertion '%s' failed at %s:%d, function %s(), ignoring.", expr, file,
                            line, func);
}
