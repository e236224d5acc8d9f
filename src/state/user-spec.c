/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --user specs and the passwd and group texts they resolve against, parsed: "name" or
 * "uid", optionally ":group" or ":gid", resolved as runc and Podman do, against the
 * container's own /etc/passwd and /etc/group (runtime/user.c reads them once the process is
 * inside the container's root, so an image's files, never the host's). A uid the passwd file does
 * not know runs with gid 0 and HOME /. The supplementary groups are those the group file
 * lists the user in. The texts are outside input (an image's files): every line is
 * bounded and parsed without trusting its shape. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "state.h"
#include "fs.h"
#include "strv.h"

enum { USER_NAME_MAX = 32, USER_DB_MAX = 1 << 20 };

static bool name_ok(const char *s, size_t n) {
        if (n == 0 || n > USER_NAME_MAX || s[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-' ||
                      (s[i] == '$' && i == n - 1)))
                        return false;
        return true;
}

/* A decimal id: 0 to 2^32-2 (-1 is "no id" to the kernel). */
static bool id_parse(const char *s, size_t n, uint32_t *ret) {
        if (n == 0 || n > 10)
                return false;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

typedef struct Part {
        const char *s;
        size_t n;
        bool numeric;
        uint32_t id;
} Part;

static int split_spec(const char *spec, Part *user, Part *group, RtError *err) {
        const char *colon = strchr(spec, ':');
        size_t ul = colon ? (size_t) (colon - spec) : strlen(spec);
        *user = (Part) { spec, ul };
        *group = (Part) {};
        if (colon)
                *group = (Part) { colon + 1, strlen(colon + 1) };
        Part *parts[2] = { user, group };
        for (int i = 0; i < 2; i++) {
                Part *p = parts[i];
                if (i == 1 && !colon)
                        break;
                p->numeric = id_parse(p->s, p->n, &p->id);
                /* all digits is an id, or nothing: never a name */
                bool digits = p->n > 0 && strspn(p->s, "0123456789") >= p->n;
                if (!p->numeric && (digits || !name_ok(p->s, p->n)))
                        return rt_err_setx(err, -EINVAL,
                                           "user '%.80s': '%.*s' is neither a name nor a numeric id", spec,
                                           (int) (p->n > 40 ? 40 : p->n), p->s);
        }
        return 0;
}

int ctr_user_check(const char *spec, RtError *err) {
        if (!spec || !*spec)
                return 0;
        Part u, g;
        return split_spec(spec, &u, &g, err);
}

/* Field k (0-based) of a ':'-separated line, or false when the line has fewer. */
static bool field(const char *line, size_t len, unsigned k, const char **ret, size_t *ret_n) {
        const char *p = line, *end = line + len;
        for (unsigned i = 0; i < k; i++) {
                const char *c = memchr(p, ':', (size_t) (end - p));
                if (!c)
                        return false;
                p = c + 1;
        }
        const char *c = memchr(p, ':', (size_t) (end - p));
        *ret = p;
        *ret_n = (size_t) ((c ? c : end) - p);
        return true;
}

static bool field_is(const char *line, size_t len, unsigned k, const char *s, size_t n) {
        const char *f;
        size_t fn;
        return field(line, len, k, &f, &fn) && fn == n && memcmp(f, s, n) == 0;
}

static bool field_id(const char *line, size_t len, unsigned k, uint32_t *ret) {
        const char *f;
        size_t fn;
        return field(line, len, k, &f, &fn) && id_parse(f, fn, ret);
}

/* Calls fn for each line (without its newline) until it returns true; a NUL ends the
 * text. Returns whether fn did. */
static bool each_line(const char *text, bool (*fn)(const char *line, size_t len, void *ud), void *ud) {
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                if (len > 0 && p[0] != '#' && fn(p, len, ud))
                        return true;
                p = nl ? nl + 1 : NULL;
        }
        return false;
}

typedef struct PasswdFind {
        const Part *user;
        uint32_t uid, gid;
        const char *name, *home;
        size_t name_n, home_n;
} PasswdFind;

static bool passwd_match(const char *line, size_t len, void *ud) {
        PasswdFind *f = ud;
        uint32_t uid, gid;
        const char *name, *home;
        size_t name_n, home_n;
        if (!field(line, len, 0, &name, &name_n) || !field_id(line, len, 2, &uid) ||
            !field_id(line, len, 3, &gid) || !field(line, len, 5, &home, &home_n))
                return false;
        if (f->user->numeric ? uid != f->user->id : !field_is(line, len, 0, f->user->s, f->user->n))
                return false;
        *f = (PasswdFind) { f->user, uid, gid, name, home, name_n, home_n };
        return true;
}

typedef struct GroupFind {
        const Part *group;
        uint32_t gid;
} GroupFind;

static bool group_match(const char *line, size_t len, void *ud) {
        GroupFind *f = ud;
        uint32_t gid;
        if (!field_id(line, len, 2, &gid) || !field_is(line, len, 0, f->group->s, f->group->n))
                return false;
        f->gid = gid;
        return true;
}

typedef struct MemberFind {
        const char *name;
        size_t name_n;
        CtrUser *user;
} MemberFind;

static void add_group(CtrUser *u, gid_t g) {
        for (size_t i = 0; i < u->n_groups; i++)
                if (u->groups[i] == g)
                        return;
        if (u->n_groups < CTR_USER_MAX_GROUPS)
                u->groups[u->n_groups++] = g;
}

static bool member_collect(const char *line, size_t len, void *ud) {
        MemberFind *f = ud;
        uint32_t gid;
        const char *members;
        size_t mn;
        if (!field_id(line, len, 2, &gid) || !field(line, len, 3, &members, &mn))
                return false;
        for (const char *p = members, *end = members + mn; p < end;) {
                const char *comma = memchr(p, ',', (size_t) (end - p));
                size_t n = (size_t) ((comma ? comma : end) - p);
                if (n == f->name_n && memcmp(p, f->name, n) == 0) {
                        add_group(f->user, (gid_t) gid);
                        break;
                }
                p = comma ? comma + 1 : end;
        }
        return false; /* every line */
}

int ctr_user_resolve(const char *spec, const char *passwd, const char *group, CtrUser *ret, RtError *err) {
        assert_return(spec && ret, -EINVAL);
        *ret = (CtrUser) { .home = "/" };
        Part u, g;
        int r = split_spec(spec, &u, &g, err);
        if (r < 0)
                return r;
        PasswdFind pf = { .user = &u };
        bool known = each_line(passwd, passwd_match, &pf);
        if (!known && !u.numeric)
                return rt_err_setx(err, -ENOENT, "unable to find user %.*s: no matching entries in passwd file",
                                   (int) u.n, u.s);
        ret->uid = known ? pf.uid : u.id;
        ret->gid = known ? pf.gid : 0;
        if (known && pf.home_n > 0 && pf.home_n < sizeof ret->home && pf.home[0] == '/') {
                memcpy(ret->home, pf.home, pf.home_n);
                ret->home[pf.home_n] = '\0';
        }
        if (g.n > 0) {
                GroupFind gf = { .group = &g };
                if (g.numeric)
                        ret->gid = g.id;
                else if (each_line(group, group_match, &gf))
                        ret->gid = gf.gid;
                else
                        return rt_err_setx(err, -ENOENT, "unable to find group %.*s: no matching entries in group file",
                                           (int) g.n, g.s);
        }
        add_group(ret, ret->gid);
        /* a group named in the spec replaces the primary one only, as with runc */
        if (known) {
                MemberFind mf = { pf.name, pf.name_n, ret };
                (void) each_line(group, member_collect, &mf);
        }
        return 0;
}

int ctr_user_name(const char *passwd, uid_t uid, char *buf, size_t size) {
        char spec[16];
        (void) snprintf(spec, sizeof spec, "%u", (unsigned) uid);
        Part u = { spec, strlen(spec), true, (uint32_t) uid };
        PasswdFind pf = { .user = &u };
        if (!each_line(passwd, passwd_match, &pf) || !name_ok(pf.name, pf.name_n) || pf.name_n >= size)
                return -ENOENT;
        memcpy(buf, pf.name, pf.name_n);
        buf[pf.name_n] = '\0';
        return 0;
}

