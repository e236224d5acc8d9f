/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer, every fuzz target links with this and replays the files (or the
 * files in the directories) given as arguments, so each corpus entry and every crash ever
 * found runs as a regression test in the ordinary build (systemd's fuzz-main.c idea). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "fuzz.h"

static int replay_file(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f) {
                perror(path);
                return -1;
        }
        char *buf = NULL;
        size_t len = 0;
        int r = read_full_stream(f, 64 << 20, &buf, &len);
        fclose(f);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return -1;
        }
        /* A copy of exactly len bytes, so ASan sees any read past the input's end. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        free(buf);
        (void) LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        printf("ok - %s\n", path);
        return 1;
}

int main(int argc, char **argv) {
        int count = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (replay_file(argv[i]) < 0)
                                return 1;
                        count++;
                        continue;
                }
                struct dirent **names;
                int n = scandir(argv[i], &names, NULL, alphasort);
                if (n < 0) {
                        perror(argv[i]);
                        return 1;
                }
                for (int k = 0; k < n; k++) {
                        char path[4096];
                        (void) snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
                        if (names[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                                if (replay_file(path) < 0)
                                        return 1;
                                count++;
                        }
                        free(names[k]);
                }
                free(names);
        }
        printf("1..%d\n", count);
        return count > 0 ? 0 : 1;
}
