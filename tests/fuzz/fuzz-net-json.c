/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network records (root/networks/<name>.json) and a container's attachment list
 * (networks.json): files a user can edit, read by every network command. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        RtError e = {};
        Network n = {};
        if (net_record_parse((const char *) data, size, &n, &e) == 0) {
                /* what a valid record promises the code that wires links */
                if (n.n_subnets > NET_MAX_SUBNETS || netns_ifname_check(n.bridge, NULL) < 0)
                        __builtin_trap();
                net_done(&n);
        }
        NetAttachment *a = NULL;
        size_t na = 0;
        if (net_attachments_parse((const char *) data, size, &a, &na, NULL) == 0) {
                for (size_t i = 0; i < na; i++)
                        if (netns_ifname_check(a[i].ifname, NULL) < 0)
                                __builtin_trap();
                free(a);
        }
        if (strnlen(e.msg, sizeof e.msg) >= sizeof e.msg)
                __builtin_trap();
        return 0;
}
