/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's netlink acks (with extended-ack TLVs) as our reply parser walks them. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nl-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        /* netlink messages are 4-byte aligned in the receive buffer */
        uint32_t *aligned = malloc(size ? (size + 3) & ~(size_t) 3 : 4);
        if (!aligned)
                return 0;
        memcpy(aligned, data, size);
        int error;
        const char *msg = NULL;
        if (nl_parse_ack((const struct nlmsghdr *) aligned, size, &error, &msg) == 0) {
                if (error > 0)
                        abort();
                /* the text, when found, lies inside the input and ends there */
                if (msg && (msg < (const char *) aligned ||
                            msg + strlen(msg) >= (const char *) aligned + size))
                        abort();
        }
        free(aligned);
        return 0;
}
