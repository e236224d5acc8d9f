/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plugin output and result cache files: what a plugin prints (ADD results, error JSON,
 * VERSION replies) and what any CNI tool left in the cache. A result that passes the
 * check converts to every version without a crash, and conversions stay valid results. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cni-internal.h"
#include "fuzz.h"

static const char *const versions[] = { "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        /* as ADD output, with each exit status the table distinguishes */
        CniOutput o = { .out = (char *) data, .out_len = size };
        for (int status = 0; status <= 1; status++) {
                o.wait_status = status << 8;
                json_t *r = NULL;
                CniError ce = {};
                if (cni_outcome(&o, "fuzz", 0, "ADD", true, "1.0.0", &r, &ce) == 0) {
                        if (status != 0 || cni_result_check(r, NULL) < 0)
                                __builtin_trap();
                        for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
                                json_t *c = NULL;
                                if (cni_result_convert(r, versions[i], &c, NULL) == 0) {
                                        if (cni_result_check(c, NULL) < 0)
                                                __builtin_trap();
                                        json_decref(c);
                                }
                        }
                        json_decref(r);
                }
        }
        CniCacheEntry e = {};
        if (cni_cache_parse((const char *) data, size, &e, NULL) == 0) {
                json_t *j = cni_cache_entry_json(&e);
                json_decref(j);
                cni_cache_entry_done(&e);
        }
        return 0;
}
