/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conflists (.conflist, and .conf/.json when the first byte is odd): files anyone with
 * write access to the config dir controls. A list that loads must hold what the executor
 * relies on: a valid name and version, typed plugins whose raw bytes are one JSON object
 * that a request can be built from. */
#include <stdlib.h>
#include <string.h>

#include "cni-internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 256 * 1024)
                return 0;
        bool legacy = data[0] & 1;
        CniList l = {};
        CniError ce = {};
        if (cni_list_parse("fuzz.conflist", (const char *) data + 1, size - 1, legacy, NULL, &l, &ce) == 0) {
                if (cni_check_network_name(l.name, NULL) < 0 || !cni_version_known(l.version) || l.n_plugins == 0 ||
                    l.n_plugins > CNI_MAX_PLUGINS)
                        __builtin_trap();
                for (size_t i = 0; i < l.n_plugins; i++) {
                        if (!l.plugins[i].type[0] || strchr(l.plugins[i].type, '/'))
                                __builtin_trap();
                        char *req = NULL;
                        size_t len = 0;
                        json_t *caps = json_pack("{s:i}", "mac", 1);
                        json_t *rc = cni_runtime_config(&l.plugins[i], caps);
                        if (cni_build_request(&l, &l.plugins[i], "{}", rc, NULL, &req, &len) == 0) {
                                /* the request is JSON whose name is the list's */
                                json_t *j = json_loadb(req, len, JSON_DECODE_INT_AS_REAL, NULL);
                                if (!j || !json_is_string(json_object_get(j, "name")) ||
                                    strcmp(json_string_value(json_object_get(j, "name")), l.name) != 0)
                                        __builtin_trap();
                                json_decref(j);
                                free(req);
                        }
                        json_decref(rc);
                        json_decref(caps);
                }
                cni_list_done(&l);
        }
        if (strnlen(ce.e.msg, sizeof ce.e.msg) >= sizeof ce.e.msg)
                __builtin_trap();
        return 0;
}
