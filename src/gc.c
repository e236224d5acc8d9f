/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* system gc and reset: after a monitor, or the whole host, was killed, remove what
 * belongs to no live container. Only what this store's ledger lists, and links marked
 * with such an owner: never anything found by a name pattern. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "fs.h"
#include "log.h"
#include "netns.h"

static bool owner_is_id(const char *s) {
        if (strlen(s) != CTR_ID_LEN)
                return false;
        for (const char *p = s; *p; p++)
                if (!isxdigit((unsigned char) *p))
                        return false;
        return true;
}

int ctr_gc(const CtrStore *s, RtError *err) {
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/ledger", s->runroot);
        _cleanup_closedir_ DIR *d = opendir(p);
        if (!d)
                return rt_err_set(err, -errno, "read %s", p);
        int removed = 0;
        char **dead = NULL;
        size_t n_dead = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!owner_is_id(de->d_name))
                        continue;
                const char *id = de->d_name;
                char lockp[PATH_MAX];
                ctr_path(s, id, "lock", lockp);
                Container c = {};
                if (access(lockp, F_OK) == 0) {
                        int lock = lock_file(lockp, true, NULL);
                        int r = ctr_load(s, id, &c, NULL);
                        if (lock >= 0)
                                close(lock);
                        if (r == 0) {
                                bool was_running = c.state.status == CTR_RUNNING;
                                ctr_reconcile(s, &c);
                                removed += was_running && c.state.status != CTR_RUNNING;
                                bool live = c.state.status == CTR_RUNNING;
                                ctr_done(&c);
                                if (live)
                                        continue;
                                /* An exited container stays (podman keeps them too); only
                                 * what it no longer needs goes: its netns. */
                                char ns[128];
                                ctr_netns_name(id, ns);
                                if (netns_delete(ns, NULL) == 0)
                                        removed++;
                                (void) ledger_forget(s, id, LEDGER_NETNS);
                                char **nd = realloc(dead, (n_dead + 1) * sizeof *nd);
                                if (nd) {
                                        dead = nd;
                                        dead[n_dead++] = strdup(id);
                                }
                                continue;
                        }
                }
                /* No loadable container: a create that died halfway, or a removal that
                 * did. Everything the ledger lists goes. */
                removed += ledger_sweep(s, id);
                char **nd = realloc(dead, (n_dead + 1) * sizeof *nd);
                if (nd) {
                        dead = nd;
                        dead[n_dead++] = strdup(id);
                }
        }

        /* Links whose mark names one of those dead owners. */
        _cleanup_(netns_sock_freep) NlSock *sk = NULL;
        NetnsMarked m = {};
        if (n_dead && netns_sock_open(-1, &sk, NULL) == 0 &&
            netns_find_marked(sk, NULL, NULL, &m, NULL) == 0) {
                for (size_t i = 0; i < m.links.n; i++) {
                        const char *owner = netns_link_owner(&m.links.links[i]);
                        for (size_t k = 0; owner && k < n_dead; k++)
                                if (dead[k] && streq(owner, dead[k]) &&
                                    netns_link_del(sk, m.links.links[i].ifindex, NULL) == 0)
                                        removed++;
                }
                netns_marked_done(&m);
        }
        for (size_t i = 0; i < n_dead; i++)
                free(dead[i]);
        free(dead);
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
                if (ctr_remove(s, cs[i].config.id, true, &e) < 0) {
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
