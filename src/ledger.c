/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger (DESIGN.md): before nsprov makes a host object outside its own state dirs
 * for a container (its netns today; links and CNI attachments with the networks), it
 * writes the object's name down in the container's state dir; once the object is gone
 * the entry goes. gc after a crash removes exactly what the ledger lists, never anything
 * found by a name pattern. The state dir and the name file need no entry: gc finds them
 * where they live. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "fs.h"
#include "log.h"
#include "netns.h"

static const char *const kind_files[_LEDGER_KIND_MAX] = {
        [LEDGER_NETNS] = "ledger.netns",
};

int ledger_record(const CtrStore *s, const char *owner, LedgerKind kind, const char *object,
                  RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, owner, kind_files[kind], p);
        /* A plain write: an entry is a few bytes, written before its object exists, so no
         * reader can need an old content. */
        int r = write_file(p, object, strlen(object), 0600, false, err);
        if (r < 0)
                return rt_err_prefix(err, r, "ledger");
        return 0;
}

int ledger_forget(const CtrStore *s, const char *owner, LedgerKind kind) {
        char p[PATH_MAX];
        ctr_path(s, owner, kind_files[kind], p);
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

int ledger_undo(const CtrStore *s, const char *owner) {
        char p[PATH_MAX], obj[256];
        int removed = 0;
        ctr_path(s, owner, kind_files[LEDGER_NETNS], p);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, obj, sizeof obj - 1);
        close(fd);
        if (n > 0) {
                obj[n] = '\0';
                RtError e = {};
                if (netns_delete(obj, &e) == 0)
                        removed++;
                else if (e.code != -ENOENT)
                        log_debug("gc: %s", e.msg);
        }
        (void) unlink(p);
        return removed;
}

int ctr_destroy(const CtrStore *s, const char *id, const char *name) {
        int removed = ledger_undo(s, id);
        if (name) {
                /* Only if the name still points at this container: it may have been
                 * claimed again since. */
                char p[PATH_MAX], other[CTR_ID_LEN + 1] = "";
                (void) snprintf(p, sizeof p, "%s/names/%s", s->runroot, name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        ssize_t n = read(fd, other, CTR_ID_LEN);
                        close(fd);
                        if (n == CTR_ID_LEN && strncmp(other, id, CTR_ID_LEN) == 0 && unlink(p) == 0)
                                removed++;
                }
        }
        char dir[PATH_MAX];
        ctr_path(s, id, NULL, dir);
        RtError e = {};
        if (access(dir, F_OK) == 0) {
                if (rm_rf(dir, &e) == 0)
                        removed++;
                else
                        log_debug("remove %s: %s", dir, e.msg);
        }
        return removed;
}
