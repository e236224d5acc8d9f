/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger (DESIGN.md): before nsprov makes a host object for a container it writes
 * runroot/ledger/<owner>/<kind>, holding the object's name; once the object is gone the
 * entry goes. gc after a crash removes exactly what the ledger lists, never by pattern. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "fs.h"
#include "log.h"
#include "netns.h"

static const char *const kind_names[_LEDGER_KIND_MAX] = {
        [LEDGER_NETNS] = "netns",
        [LEDGER_STATEDIR] = "statedir",
        [LEDGER_NAME] = "name",
};

static void entry_path(const CtrStore *s, const char *owner, const char *kind,
                       char buf[static PATH_MAX]) {
        (void) snprintf(buf, PATH_MAX, "%s/ledger/%s%s%s", s->runroot, owner, kind ? "/" : "",
                        kind ? kind : "");
}

int ledger_record(const CtrStore *s, const char *owner, LedgerKind kind, const char *object,
                  RtError *err) {
        char p[PATH_MAX];
        entry_path(s, owner, NULL, p);
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return rt_err_set(err, -errno, "ledger: create %s", p);
        entry_path(s, owner, kind_names[kind], p);
        /* A plain write: an entry is a few bytes, written once before its object exists,
         * so a reader never needs the old content. */
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return rt_err_set(err, -errno, "ledger: create %s", p);
        size_t l = strlen(object);
        ssize_t n = write(fd, object, l);
        int r = n == (ssize_t) l ? 0 : -(n < 0 ? errno : EIO);
        close(fd);
        if (r < 0)
                return rt_err_set(err, r, "ledger: write %s", p);
        return 0;
}

int ledger_forget(const CtrStore *s, const char *owner, LedgerKind kind) {
        char p[PATH_MAX];
        entry_path(s, owner, kind_names[kind], p);
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        entry_path(s, owner, NULL, p);
        /* The owner's directory goes with its last entry. */
        (void) rmdir(p);
        return 0;
}

static bool read_entry(const CtrStore *s, const char *owner, LedgerKind kind, char *buf, size_t size) {
        char p[PATH_MAX];
        entry_path(s, owner, kind_names[kind], p);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        return true;
}

int ledger_sweep(const CtrStore *s, const char *owner) {
        int removed = 0;
        char obj[PATH_MAX];
        RtError e = {};
        if (read_entry(s, owner, LEDGER_NETNS, obj, sizeof obj)) {
                if (netns_delete(obj, &e) == 0)
                        removed++;
                else if (e.code != -ENOENT)
                        log_debug("gc: %s", e.msg);
                (void) ledger_forget(s, owner, LEDGER_NETNS);
        }
        if (read_entry(s, owner, LEDGER_NAME, obj, sizeof obj)) {
                /* Only if the name still points at this owner: it may have been reused. */
                char p[PATH_MAX], id[CTR_ID_LEN + 1] = "";
                (void) snprintf(p, sizeof p, "%s/names/%s", s->runroot, obj);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        ssize_t n = read(fd, id, CTR_ID_LEN);
                        close(fd);
                        if (n == CTR_ID_LEN && strncmp(id, owner, CTR_ID_LEN) == 0 && unlink(p) == 0)
                                removed++;
                }
                (void) ledger_forget(s, owner, LEDGER_NAME);
        }
        if (read_entry(s, owner, LEDGER_STATEDIR, obj, sizeof obj)) {
                if (access(obj, F_OK) == 0 && rm_rf(obj, &e) == 0)
                        removed++;
                else if (access(obj, F_OK) == 0)
                        log_debug("gc: %s", e.msg);
                (void) ledger_forget(s, owner, LEDGER_STATEDIR);
        }
        return removed;
}
