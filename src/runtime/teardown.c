/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container owns outside its records, undone from its ledger; and a container gone
 * for good. Best effort: whatever cannot go now stays in the ledger for gc. */
#include "runtime-internal.h"

int ctr_undo_ledger(const CtrStore *s, const char *id) {
        /* the CNI attachments first: their plugins DEL best while the netns is there */
        int removed = net_cni_undo(s, id);
        int cg = ctr_cgroup_remove(s, id);
        return removed + ledger_undo_netns(s, id) + (cg > 0 ? cg : 0);
}

int ctr_destroy(const CtrStore *s, const char *id, const char *name) {
        int removed = ctr_undo_ledger(s, id);
        return removed + ctr_records_remove(s, id, name);
}
