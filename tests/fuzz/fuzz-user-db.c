/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --user against an image's /etc/passwd and /etc/group: files of the image, so outside
 * input. The input is "SPEC\nPASSWD\0GROUP" (a missing part: no such file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        char *text = fuzz_cstring(data, size);
        if (!text)
                return 0;
        char *nl = memchr(text, '\n', size);
        const char *passwd = NULL, *group = NULL;
        if (nl) {
                *nl = '\0';
                passwd = nl + 1;
                size_t plen = strlen(passwd);
                if ((size_t) (passwd - text) + plen < size)
                        group = passwd + plen + 1;
        }
        CtrUser u;
        RtError e = {};
        int r = ctr_user_resolve(text, passwd, group, &u, &e);
        /* what a resolved user promises: a bounded group list with the primary first, an
         * absolute home; and a failure the syntax check agrees with ("" is root to the
         * check, and never resolved) */
        if (r == 0 && (u.n_groups < 1 || u.n_groups > CTR_USER_MAX_GROUPS || u.groups[0] != u.gid ||
                       u.home[0] != '/' || strnlen(u.home, sizeof u.home) >= sizeof u.home))
                __builtin_trap();
        if (r == -EINVAL && *text && ctr_user_check(text, NULL) != -EINVAL)
                __builtin_trap();
        if (strnlen(e.msg, sizeof e.msg) >= sizeof e.msg)
                __builtin_trap();
        /* and the other way, uid to name, as top asks */
        char name[33];
        if (r == 0 && ctr_user_name(passwd, u.uid, name, sizeof name) == 0 &&
            strnlen(name, sizeof name) >= sizeof name)
                __builtin_trap();
        free(text);
        return 0;
}
