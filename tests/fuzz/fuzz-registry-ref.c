/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a pull takes from its user and from a registry's headers, a line each: image
 * references (a command line, an API query), WWW-Authenticate headers and platforms. A
 * reference that parses must format to one that parses again to the same parts. */
#include <string.h>

#include "registry.h"
#include "fuzz.h"

static void check_ref(const char *line) {
        ImageRef ref, again;
        RtError e = {};
        if (image_ref_parse(line, &ref, &e) < 0) {
                if (!e.msg[0])
                        __builtin_trap();
                return;
        }
        if (!ref.repo[0] || (ref.digest[0] && !image_digest_valid(ref.digest)) || (!ref.tag[0] && !ref.digest[0]))
                __builtin_trap();
        char text[IMAGE_REF_TEXT_MAX];
        image_ref_format(&ref, text);
        if (image_ref_parse(text, &again, NULL) < 0 || strcmp(again.registry, ref.registry) ||
            strcmp(again.repo, ref.repo) || strcmp(again.digest, ref.digest) ||
            (!ref.digest[0] && strcmp(again.tag, ref.tag)))
                __builtin_trap();
        (void) registry_is_loopback(ref.registry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 64 * 1024)
                return 0;
        char *text = fuzz_cstring(data, size);
        if (!text)
                return 0;
        for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                check_ref(line);
                RegistryChallenge ch;
                RtError e = {};
                if (registry_challenge_parse(line, &ch, &e) == 0) {
                        if (ch.scheme == CHALLENGE_BEARER && strncmp(ch.realm, "http", 4) != 0)
                                __builtin_trap();
                } else if (!e.msg[0])
                        __builtin_trap();
                Platform p;
                if (platform_parse(line, &p, NULL) == 0 && (!p.os[0] || !p.arch[0]))
                        __builtin_trap();
        }
        free(text);
        return 0;
}
