/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lab files: YAML written by people, read whole before anything is made. What a parsed lab
 * promises: at least one agent, each with an image, every NIC on a declared network, a
 * count within bounds; and a refusal that says where. */
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        Lab lab;
        RtError e = {};
        int r = lab_parse("lab.yaml", (const char *) data, size, &lab, &e);
        if (r < 0) {
                if (strncmp(e.msg, "lab.yaml", 8) != 0 && r != -ENOMEM)
                        __builtin_trap();
                return 0;
        }
        if (!lab.name || lab.n_agents == 0)
                __builtin_trap();
        for (size_t i = 0; i < lab.n_agents; i++) {
                const LabAgent *a = &lab.agents[i];
                if (!a->image || a->count > LAB_MAX_COUNT)
                        __builtin_trap();
                for (size_t k = 0; k < a->n_nics; k++) {
                        bool known = false;
                        for (size_t n = 0; n < lab.n_networks; n++)
                                known |= strcmp(lab.networks[n].name, a->nics[k].network) == 0;
                        if (!known || strlen(a->nics[k].name) > 15)
                                __builtin_trap();
                }
        }
        lab_done(&lab);
        return 0;
}
