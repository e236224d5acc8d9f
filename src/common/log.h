/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

#include "macro.h"

/* Only the logging layers (main()s, API handlers, the serve loop) log above debug; library
 * code reports through RtError instead (style R9). */
typedef enum LogLevel {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
        _LOG_LEVEL_MAX,
        _LOG_LEVEL_INVALID = -EINVAL,
} LogLevel;

typedef enum LogTarget {
        LOG_TARGET_STDERR,       /* "nsprov: message", for people */
        LOG_TARGET_JSON,         /* one JSON object a line, for collectors */
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

void log_set_level(LogLevel level);
LogLevel log_get_level(void);
void log_set_target(LogTarget target);
void log_set_ident(const char *ident);
LogLevel log_level_from_string(const char *s);
const char *log_level_to_string(LogLevel level);
LogTarget log_target_from_string(const char *s);
/* NSPROV_LOG_LEVEL and NSPROV_LOG_TARGET, so a level can be set where no flag reaches. */
void log_parse_environment(void);

/* Returns -abs(error) when error != 0, else 0, with errno set to abs(error) so %m works. */
int log_internal(LogLevel level, int error, const char *file, int line, const char *func,
                 const char *fmt, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                          \
        ({                                                                                         \
                int _e = (error);                                                                  \
                (log_get_level() >= (level))                                                       \
                        ? log_internal((level), _e, __FILE__, __LINE__, __func__, __VA_ARGS__)     \
                        : (_e > 0 ? -_e : _e);                                                     \
        })

#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_LEVEL_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, e, __VA_ARGS__)
