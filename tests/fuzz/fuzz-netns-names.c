/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every validator and parser of names and addresses that CLI flags, API bodies and
 * conflists will feed: the input is one candidate string, tried as each kind. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 4096)
                return 0;
        char *s = fuzz_cstring(data, size);
        if (!s)
                return 0;

        RtError e = {};
        NetnsMac mac;
        NetnsIp ip;
        NetnsCidr cidr;
        char buf[NETNS_CIDR_STRLEN];
        (void) netns_ifname_check(s, &e);
        (void) netns_name_check(s, &e);
        (void) netns_owner_check(s, &e);
        (void) netns_sysctl_key_check(s, &e);
        if (netns_mac_parse(s, &mac, &e) == 0) {
                char m[NETNS_MAC_STRLEN];
                (void) netns_mac_check_unicast(&mac, &e);
                /* what we print parses back to the same address */
                NetnsMac again;
                if (netns_mac_parse(netns_mac_format(&mac, m), &again, NULL) != 0 ||
                    memcmp(&mac, &again, sizeof mac) != 0)
                        abort();
        }
        if (netns_ip_parse(s, &ip, &e) == 0)
                (void) netns_ip_format(&ip, buf);
        if (netns_cidr_parse(s, &cidr, &e) == 0) {
                NetnsCidr again;
                if (netns_cidr_parse(netns_cidr_format(&cidr, buf), &again, NULL) != 0 ||
                    again.prefixlen != cidr.prefixlen || again.ip.family != cidr.ip.family)
                        abort();
        }
        /* messages stay NUL-terminated and within the buffer whatever came in */
        if (strnlen(e.msg, sizeof e.msg) >= sizeof e.msg)
                abort();
        free(s);
        return 0;
}
