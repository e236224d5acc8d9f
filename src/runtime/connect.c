/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's networks as the front ends change them: the network module does the
 * wiring; here it happens under the container's lock, on records repaired first (a dead
 * monitor's container is exited, whatever the state file said). */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "runtime-internal.h"

/* The container's lock (an fd to close), and the container as it is under it. */
static int lock_container(const CtrStore *s, const char *ctr_id, Container *ret, RtError *err) {
        char p[PATH_MAX];
        ctr_path(s, ctr_id, "lock", p);
        int lock = lock_file(p, true, err);
        if (lock < 0)
                return lock;
        int r = ctr_load(s, ctr_id, ret, err);
        if (r < 0) {
                close(lock);
                return r;
        }
        ctr_repair(s, ret);
        return lock;
}

int ctr_network_connect(const CtrStore *s, const char *ctr_id, const NetConnect *nc,
                        NetAttachment *ret, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        _cleanup_close_ int lock = lock_container(s, ctr_id, &c, err);
        if (lock < 0)
                return lock;
        return net_connect_locked(s, &c, nc, ret, err);
}

int ctr_network_disconnect(const CtrStore *s, const char *ctr_id, const char *network,
                           const char *ifname, RtError *err) {
        _cleanup_(ctr_done) Container c = {};
        _cleanup_close_ int lock = lock_container(s, ctr_id, &c, err);
        if (lock < 0)
                return lock;
        return net_disconnect_locked(s, &c, network, ifname, err);
}

int ctr_network_remove(const CtrStore *s, const char *name, bool force, RtError *err) {
        return net_remove(s, name, force ? ctr_network_disconnect : NULL, err);
}

void ctr_networks_remove(const CtrStore *s, char *const *names, size_t n, bool force,
                         NetRemoveReport report, void *userdata) {
        net_remove_many(s, names, n, force ? ctr_network_disconnect : NULL, report, userdata);
}

int ctr_networks_remove_all(const CtrStore *s, bool force, NetRemoveReport report, void *userdata,
                            RtError *err) {
        return net_remove_every(s, force ? ctr_network_disconnect : NULL, report, userdata, err);
}
