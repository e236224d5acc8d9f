/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's JSON files (config.json, state.json) as its readers parse them: they sit
 * in a directory a user can edit, so they are outside input like any other. */
#include <string.h>

#include "state.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        RtError e = {};
        Container c = {};
        if (ctr_config_parse((const char *) data, size, &c.config, &e) == 0) {
                /* what a valid config promises the runtime */
                if (!c.config.argv || !c.config.argv[0] || c.config.stop_signal <= 0)
                        __builtin_trap();
                ctr_done(&c);
        }
        CtrState st;
        (void) ctr_state_parse((const char *) data, size, &st, &e);
        if (strnlen(e.msg, sizeof e.msg) >= sizeof e.msg)
                __builtin_trap();
        return 0;
}
