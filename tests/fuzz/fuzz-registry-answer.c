/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A registry's answers and a user's files, whole: the first byte picks the parser (a
 * manifest or an index with its Content-Type, a token server's answer, an image config's
 * platform, an auth file, a registries.conf), the rest is the text. */
#include <string.h>

#include "registry.h"
#include "strv.h"
#include "fuzz.h"

static void manifest(const char *text, size_t len) {
        static const char *const types[] = { NULL, "application/vnd.oci.image.index.v1+json",
                                             "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8" };
        for (size_t t = 0; t < 3; t++) {
                RegistryManifest m;
                RtError e = {};
                if (registry_manifest_parse(types[t], text, len, &m, &e) < 0) {
                        if (!e.msg[0])
                                __builtin_trap();
                        continue;
                }
                if (m.n_layers > REGISTRY_MAX_LAYERS || m.n_entries > REGISTRY_MAX_INDEX)
                        __builtin_trap();
                for (size_t i = 0; i < m.n_layers; i++)
                        if (!image_digest_valid(m.layers[i].digest))
                                __builtin_trap();
                if (!m.is_index && !image_digest_valid(m.config.digest))
                        __builtin_trap();
                Platform host;
                platform_host(&host);
                size_t i;
                if (m.is_index && registry_index_select(&m, &host, &i, &e) == 0 &&
                    (i >= m.n_entries || !image_digest_valid(m.entries[i].manifest.digest)))
                        __builtin_trap();
                registry_manifest_done(&m);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 1024 * 1024)
                return 0;
        char *text = fuzz_cstring(data + 1, size - 1);
        if (!text)
                return 0;
        size_t len = size - 1;
        RtError e = {};
        switch (data[0] % 5) {
        case 0:
                manifest(text, len);
                break;
        case 1: {
                char *token = NULL;
                if (registry_token_parse(text, len, &token, &e) == 0 && (!*token || strpbrk(token, " \r\n")))
                        __builtin_trap();
                free(token);
                Platform p;
                (void) registry_config_platform(text, len, &p, NULL);
                break;
        }
        case 2: {
                char *user = NULL, *pass = NULL;
                if (registry_auth_lookup(text, len, "127.0.0.1:5000", "lnst/agent", &user, &pass, &e) == 0 &&
                    (!user || !pass))
                        __builtin_trap();
                free(user);
                free(pass);
                if (registry_auth_lookup(text, len, "docker.io", "library/busybox", &user, &pass, &e) == 0) {
                        free(user);
                        free(pass);
                }
                break;
        }
        default: {
                RegistriesConf conf = {};
                if (registries_conf_parse("fuzz.conf", text, len, &conf, &e) < 0 && !e.msg[0])
                        __builtin_trap();
                if (strv_length(conf.aliases) % 2)
                        __builtin_trap();
                (void) registries_conf_alias(&conf, "busybox");
                (void) registries_conf_matches(conf.insecure, "127.0.0.1:5000", "lnst/agent");
                registries_conf_done(&conf);
                break;
        }
        }
        free(text);
        return 0;
}
