/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* system gc and reset: after a monitor, or the whole host, was killed, remove what
 * belongs to no live container: what the ledgers of dead containers list, state dirs and
 * names that a create or a removal left halfway, and links marked with a dead owner.
 * Never anything found by a name pattern. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "fs.h"
#include "log.h"
#include "netns.h"
#include "strv.h"

/* Exit codes of --rm containers are kept this long for a late wait. */
#define GC_EXIT_CODE_SECONDS 60

static bool old_enough(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0 && time(NULL) - st.st_mtime > GC_EXIT_CODE_SECONDS;
}


/* One container dir: returns objects removed; adds the id to dead when it is not live.
 * Repairs only under the container's lock, and leaves a container whose lock is held
 * alone: a start, stop or connect is at it (a starting container's monitor holds it until
 * "running" is on record), and what it makes is not ours to judge halfway. */
static int gc_container(const CtrStore *s, const char *id, void *userdata) {
        char ***dead = userdata;
        if (ctr_id_check(id, NULL) < 0)
                return 0;
        char lockp[PATH_MAX], dir[PATH_MAX];
        ctr_path(s, id, "lock", lockp);
        ctr_path(s, id, NULL, dir);
        _cleanup_close_ int lock = lock_file(lockp, false, NULL);
        if (lock == -EBUSY)
                return 0;
        _cleanup_(ctr_done) Container c = {};
        int r = ctr_load(s, id, &c, NULL);
        if (r < 0) {
                /* No loadable config, and its lock free: a create or removal that died
                 * halfway (a create holds the lock from its first second on). */
                if (!ctr_create_abandoned(dir))
                        return 0;
                (void) strv_push(dead, id);
                return ctr_destroy(s, id, NULL);
        }
        bool was_running = c.state.status == CTR_RUNNING;
        ctr_repair(s, &c);
        int removed = was_running && c.state.status != CTR_RUNNING;
        if (c.state.status != CTR_RUNNING) {
                /* An exited container stays (Podman keeps them too); what it no longer
                 * needs goes. */
                removed += ctr_undo_ledger(s, id);
                (void) strv_push(dead, id);
        } else
                removed += net_links_reconcile(s, id);
        return removed;
}

/* A name whose container is gone: its dir, or a config in it, never came (a create
 * killed before it wrote one) or went. */
static int gc_name(const CtrStore *s, const char *name, void *userdata) {
        char np[PATH_MAX], id[CTR_ID_LEN + 1] = "", dir[PATH_MAX];
        store_path(s, STORE_NAMES, name, NULL, np);
        int fd = open(np, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, id, CTR_ID_LEN);
        close(fd);
        bool valid = n == CTR_ID_LEN && ctr_id_check(id, NULL) == 0;
        if (valid)
                ctr_path(s, id, NULL, dir);
        if (valid && access(dir, F_OK) == 0)
                return 0;
        /* a name being claimed is locked until its config is written */
        _cleanup_close_ int nl = lock_file(np, false, NULL);
        return nl >= 0 && ctr_create_abandoned(np) && unlink(np) == 0;
}

static int gc_exit_code(const CtrStore *s, const char *id, void *userdata) {
        char xp[PATH_MAX];
        store_path(s, STORE_EXITS, id, NULL, xp);
        return ctr_id_check(id, NULL) == 0 && old_enough(xp) && unlink(xp) == 0;
}

int ctr_gc(const CtrStore *s, RtError *err) {
        char p[PATH_MAX];
        int removed = 0;
        _cleanup_(strv_freep) char **dead = NULL;

        store_path(s, STORE_CONTAINERS, NULL, NULL, p);
        if (access(p, F_OK) < 0)
                return rt_err_set(err, -errno, "read %s", p);
        removed += store_each(s, STORE_CONTAINERS, NULL, gc_container, &dead);
        /* names whose container is gone; exit codes of --rm containers kept for a late
         * wait: a few minutes are enough */
        removed += store_each(s, STORE_NAMES, NULL, gc_name, NULL);
        removed += store_each(s, STORE_EXITS, NULL, gc_exit_code, NULL);

        /* Addresses held for containers that are not running. */
        removed += net_gc(s);

        /* The CNI networks our containers use: their plugins' GC (1.1.0 lists), every
         * cached attachment counted valid, since ours that were not went with the ledger
         * above and the rest may be another tool's. */
        Container *cs = NULL;
        size_t nc = 0;
        _cleanup_(strv_freep) char **cni_nets = NULL;
        if (ctr_list(s, &cs, &nc, NULL) == 0) {
                for (size_t i = 0; i < nc; i++) {
                        _cleanup_free_ NetAttachment *as = NULL;
                        size_t na = 0;
                        if (net_attachments_load(s, cs[i].config.id, &as, &na, NULL) < 0)
                                continue;
                        for (size_t k = 0; k < na; k++)
                                if (as[k].cni && !strv_contains(cni_nets, as[k].network))
                                        (void) strv_push(&cni_nets, as[k].network);
                }
                ctr_list_free(cs, nc);
        }
        if (cni_nets)
                (void) net_cni_gc(s, cni_nets);

        /* Ports of our bridges leading to containers of no record at all. */
        removed += net_gc_orphan_ports(s);

        /* Links whose mark names one of the dead owners. */
        _cleanup_(netns_sock_freep) NlSock *sk = NULL;
        NetnsMarked m = {};
        if (dead && netns_sock_open(-1, &sk, NULL) == 0 &&
            netns_find_marked(sk, NULL, NULL, &m, NULL) == 0) {
                _cleanup_free_ int *orphans = calloc(m.links.n + 1, sizeof *orphans);
                size_t n = 0;
                for (size_t i = 0; orphans && i < m.links.n; i++) {
                        const char *owner = netns_link_owner(&m.links.links[i]);
                        if (owner && strv_contains(dead, owner))
                                orphans[n++] = m.links.links[i].ifindex;
                }
                /* One batch: orphaned bridges cost ~40 ms each deleted one by one. */
                if (n && netns_links_del(sk, orphans, n, NULL) == 0)
                        removed += (int) n;
                netns_marked_done(&m);
        }
        return removed;
}

int ctr_reset(const CtrStore *s, RtError *err) {
        Container *cs = NULL;
        size_t n = 0;
        int r = ctr_list(s, &cs, &n, err);
        if (r < 0)
                return r;
        int failed = 0;
        for (size_t i = 0; i < n; i++) {
                RtError e = {};
                char dir[PATH_MAX];
                ctr_path(s, cs[i].config.id, NULL, dir);
                /* gone meanwhile is removed: an --rm container's monitor was at it */
                if (ctr_remove(s, cs[i].config.id, true, &e) < 0 && access(dir, F_OK) == 0) {
                        log_warning("reset: %s", e.msg);
                        failed++;
                }
        }
        ctr_list_free(cs, n);
        r = ctr_gc(s, err);
        if (r < 0)
                return r;
        if (failed)
                return rt_err_setx(err, -EBUSY, "%d container(s) could not be removed", failed);
        return (int) n;
}
