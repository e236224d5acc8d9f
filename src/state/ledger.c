/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ledger (DESIGN.md): before nsprov makes a host object outside its own state dirs
 * for a container (its netns, the veths of hot plugs, CNI attachments), it
 * writes the object's name down in the container's state dir; once the object is gone
 * the entry goes. gc after a crash removes exactly what the ledger lists, never anything
 * found by a name pattern. The state dir and the name file need no entry: gc finds them
 * where they live. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "cleanup.h"
#include "fileio.h"
#include "fs.h"
#include "log.h"
#include "netns.h"

static const char *const kind_files[_LEDGER_KIND_MAX] = {
        [LEDGER_NETNS] = "ledger.netns",
        [LEDGER_CGROUP] = "ledger.cgroup",
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

bool ledger_recorded(const CtrStore *s, const char *owner, LedgerKind kind) {
        char p[PATH_MAX];
        ctr_path(s, owner, kind_files[kind], p);
        return access(p, F_OK) == 0;
}

int ledger_forget(const CtrStore *s, const char *owner, LedgerKind kind) {
        char p[PATH_MAX];
        ctr_path(s, owner, kind_files[kind], p);
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

/* ---- Lists of attachments, several per owner: one line "<network> <ifname>" each ---- */

static const char *const list_files[_LEDGER_LIST_MAX] = {
        [LEDGER_LIST_CNI] = "ledger.cni",
        [LEDGER_LIST_LINKS] = "ledger.links",
};

/* The list's text, NULL when there is none. */
static char *list_read(const CtrStore *s, const char *owner, LedgerList list, char p[static PATH_MAX],
                       size_t *len) {
        char *text = NULL;
        ctr_path(s, owner, list_files[list], p);
        return read_file(p, 64 * 1024, &text, len, NULL) < 0 ? NULL : text;
}

int ledger_list_add(const CtrStore *s, const char *owner, LedgerList list, const char *network,
                    const char *ifname, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, owner, list_files[list], p);
        int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return rt_err_set(err, -errno, "ledger %s", p);
        char line[NAME_MAX * 2];
        int n = snprintf(line, sizeof line, "%s %s\n", network, ifname);
        /* one write of a short line on O_APPEND: entries never interleave */
        ssize_t w = write(fd, line, (size_t) n);
        int r = w == n ? 0 : rt_err_set(err, w < 0 ? -errno : -EIO, "ledger %s", p);
        close(fd);
        return r;
}

int ledger_list_each(const CtrStore *s, const char *owner, LedgerList list,
                     int (*fn)(const char *network, const char *ifname, void *userdata), void *userdata) {
        char p[PATH_MAX];
        size_t len;
        _cleanup_free_ char *text = list_read(s, owner, list, p, &len);
        if (!text)
                return 0;
        int count = 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                int r = fn(line, sp + 1, userdata);
                if (r < 0)
                        return r;
                count++;
        }
        return count;
}

int ledger_list_remove(const CtrStore *s, const char *owner, LedgerList list, const char *network,
                       const char *ifname) {
        char p[PATH_MAX];
        size_t len;
        _cleanup_free_ char *text = list_read(s, owner, list, p, &len);
        if (!text)
                return 0;
        char want[NAME_MAX * 2];
        (void) snprintf(want, sizeof want, "%s %s", network, ifname);
        _cleanup_free_ char *kept = calloc(1, len + 1);
        if (!kept)
                return -ENOMEM;
        size_t used = 0;
        bool gone = false;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (!gone && streq(line, want)) {
                        gone = true; /* one entry per attachment, even with repeats */
                        continue;
                }
                used += (size_t) sprintf(kept + used, "%s\n", line);
        }
        if (used == 0)
                return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
        return write_file_atomic(p, kept, used, 0600, 0, NULL);
}

bool ledger_list_empty(const CtrStore *s, const char *owner, LedgerList list) {
        char p[PATH_MAX];
        ctr_path(s, owner, list_files[list], p);
        /* an empty list has no file: the last removal unlinks it */
        return access(p, F_OK) < 0;
}

void ledger_list_forget(const CtrStore *s, const char *owner, LedgerList list) {
        char p[PATH_MAX];
        ctr_path(s, owner, list_files[list], p);
        (void) unlink(p);
}

int ledger_undo_netns(const CtrStore *s, const char *owner) {
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

int ctr_records_remove(const CtrStore *s, const char *id, const char *name) {
        int removed = 0;
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
        ctr_caches_forget(s, id);
        return removed;
}
