/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image archives (`nsprov image load`): the first byte picks the part, the rest is its
 * input. A: an archive read as a load reads it (libarchive, every member's path, the
 * manifest or index it holds); M: a docker-archive manifest.json; I: an OCI index.json;
 * O: an OCI image manifest; C: an image config; P: a layer entry's path and whiteout;
 * N: an image reference made an image name. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "fuzz.h"
#include "strv.h"

static void check_manifest(const ArchiveManifest *m) {
        /* every member it names is a plain relative path */
        char again[PATH_MAX];
        if (!m->config || image_member_path(m->config, again) < 0 || strcmp(again, m->config) || !*again)
                __builtin_trap();
        for (size_t i = 0; m->layers && m->layers[i]; i++)
                if (image_member_path(m->layers[i], again) < 0 || strcmp(again, m->layers[i]) || !*again)
                        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 1 << 20)
                return 0;
        char kind = (char) data[0];
        char *text = fuzz_cstring(data + 1, size - 1);
        if (!text)
                return 0;
        size_t len = size - 1;
        RtError e = {};
        ArchiveManifest m;
        int r = 0;
        switch (kind) {
        case 'A':
                r = image_archive_check_memory(data + 1, len, &e);
                break;
        case 'M':
                if ((r = image_docker_manifest_parse(text, len, &m, &e)) == 0) {
                        check_manifest(&m);
                        archive_manifest_done(&m);
                }
                break;
        case 'I': {
                char *manifest = NULL, *ref = NULL;
                r = image_oci_index_parse(text, len, &manifest, &ref, &e);
                if (r == 0 && (!manifest || strncmp(manifest, "blobs/", 6) || strstr(manifest, "..")))
                        __builtin_trap();
                free(manifest);
                free(ref);
                break;
        }
        case 'O':
                if ((r = image_oci_manifest_parse(text, len, &m, &e)) == 0) {
                        check_manifest(&m);
                        archive_manifest_done(&m);
                }
                break;
        case 'C': {
                ImageConfig c;
                if ((r = image_config_parse(text, len, &c, &e)) == 0) {
                        if (c.workdir && c.workdir[0] != '/')
                                __builtin_trap();
                        for (size_t i = 0; c.env && c.env[i]; i++)
                                if (!strchr(c.env[i], '=') || c.env[i][0] == '=')
                                        __builtin_trap();
                        Image img = { .config = c };
                        image_done(&img);
                }
                break;
        }
        case 'P': {
                char clean[PATH_MAX], target[PATH_MAX];
                if (image_member_path(text, clean) == 0) {
                        if (clean[0] == '/' || strstr(clean, "//") || !strcmp(clean, "..") ||
                            !strncmp(clean, "../", 3) || strstr(clean, "/../") ||
                            (strlen(clean) >= 3 && !strcmp(clean + strlen(clean) - 3, "/..")))
                                __builtin_trap();
                        int w = image_whiteout(clean, target);
                        if (w == WHITEOUT_ENTRY && (!*target || strlen(target) >= strlen(clean)))
                                __builtin_trap();
                }
                break;
        }
        case 'N': {
                char name[CTR_IMAGE_NAME_MAX + 1];
                if (image_name_from_reference(text, name, &e) == 0 && ctr_image_name_check(name, NULL) < 0)
                        __builtin_trap();
                break;
        }
        default:
                break;
        }
        if (r < 0 && (!e.msg[0] || strnlen(e.msg, sizeof e.msg) >= sizeof e.msg))
                __builtin_trap();
        free(text);
        return 0;
}
