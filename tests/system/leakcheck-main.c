/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The leak check for shell-level tests: `nsprov-leakcheck PREFIX` exits 1 and lists what
 * carries PREFIX; with --sweep it also removes the links, netns and mounts it found. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syslib.h"

int main(int argc, char **argv) {
        bool sweep = argc == 3 && strcmp(argv[1], "--sweep") == 0;
        const char *prefix = argv[sweep ? 2 : 1];
        if (argc != (sweep ? 3 : 2) || strlen(prefix) < 4) {
                fprintf(stderr, "usage: nsprov-leakcheck [--sweep] PREFIX (4+ characters)\n");
                return 2;
        }
        char report[8192];
        /* The kernel removes the links of a deleted netns in its own time: give it up to
         * 3 s before calling anything a leak. */
        int n = 0;
        for (int tries = 0; tries < 30; tries++) {
                n = leak_scan(prefix, report, sizeof report);
                if (n == 0)
                        break;
                (void) usleep(100 * 1000);
        }
        if (n > 0) {
                printf("left behind: %s\n", report);
                if (sweep)
                        leak_sweep(prefix);
        }
        return n > 0;
}
