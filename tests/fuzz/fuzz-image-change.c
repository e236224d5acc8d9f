/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `import --change` instructions, which the API takes from a client's query, and the
 * readiness declarations an image label or a create body carries: lines of "INSTRUCTION
 * value", each applied to one config, then a readiness parsed from the last line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 256 * 1024)
                return 0;
        char *text = fuzz_cstring(data, size);
        if (!text)
                return 0;
        Image img = {};
        char *last = text;
        for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                RtError e = {};
                int r = image_change_apply(line, &img.config, &e);
                if (r < 0 && !e.msg[0])
                        __builtin_trap();
                last = line;
        }
        /* what an applied config promises: commands with a first word, an absolute workdir,
         * every env entry K=V, a readiness that parses */
        if ((img.config.cmd && !img.config.cmd[0]) || (img.config.workdir && img.config.workdir[0] != '/') ||
            (img.config.ready && ctr_ready_check(img.config.ready, NULL) < 0))
                __builtin_trap();
        for (char **e = img.config.env; e && *e; e++)
                if (!strchr(*e, '=') || **e == '=')
                        __builtin_trap();
        CtrReady ready;
        if (ctr_ready_parse(last, &ready, NULL) == 0 &&
            ((ready.kind == CTR_READY_TCP && ready.port == 0) || (ready.kind == CTR_READY_UNIX && !ready.arg)))
                __builtin_trap();
        image_done(&img);
        free(text);
        return 0;
}
