/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --user inside the container: its own /etc/passwd and /etc/group read (as user-spec.c
 * resolves them), then the switch to that user. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "runtime-internal.h"
#include "strv.h"

enum { USER_DB_MAX = 1 << 20 };

/* The whole file (at most USER_DB_MAX), NUL-terminated; NULL when it is not there. */
static int read_db(const char *path, char **ret, RtError *err) {
        *ret = NULL;
        RtError e = {};
        int r = read_file(path, USER_DB_MAX, ret, NULL, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0 && err)
                *err = e;
        return r;
}

int ctr_user_lookup(const char *spec, CtrUser *ret, RtError *err) {
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        int r;
        if ((r = read_db("/etc/passwd", &passwd, err)) < 0 || (r = read_db("/etc/group", &group, err)) < 0)
                return r;
        return ctr_user_resolve(spec, passwd, group, ret, err);
}

char **ctr_user_env(char **env, const CtrUser *u) {
        if (strv_env_get(env, "HOME"))
                return env;
        char kv[sizeof u->home + 8];
        (void) snprintf(kv, sizeof kv, "HOME=%s", u->home);
        char **copy = strv_copy(env);
        if ((env && !copy) || strv_env_set(&copy, kv) < 0) {
                strv_free(copy);
                return NULL;
        }
        return copy;
}

int ctr_user_apply(const CtrUser *u, RtError *err) {
        if (setgroups(u->n_groups, u->groups) < 0)
                return rt_err_set(err, -errno, "set the supplementary groups");
        if (setgid(u->gid) < 0)
                return rt_err_set(err, -errno, "set gid %u", (unsigned) u->gid);
        if (setuid(u->uid) < 0)
                return rt_err_set(err, -errno, "set uid %u", (unsigned) u->uid);
        return 0;
}
