/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a pull reads from outside: references, platforms, WWW-Authenticate challenges,
 * token answers, manifests and indexes, image configs, auth files, registries.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "strv.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void ref_is(const char *text, const char *registry, const char *repo, const char *tag, const char *digest) {
        ImageRef r;
        RtError e = {};
        if (image_ref_parse(text, &r, &e) < 0)
                fail_msg("%s: %s", text, e.msg);
        assert_string_equal(r.registry, registry);
        assert_string_equal(r.repo, repo);
        assert_string_equal(r.tag, tag);
        assert_string_equal(r.digest, digest);
}

static void ref_bad(const char *text, const char *why) {
        ImageRef r;
        RtError e = {};
        assert_int_equal(image_ref_parse(text, &r, &e), -EINVAL);
        if (!strstr(e.msg, why))
                fail_msg("%s: '%s' lacks '%s'", text, e.msg, why);
}

static void references(void **state) {
        ref_is("busybox", "", "busybox", "latest", "");
        ref_is("lnst/agent:v1", "", "lnst/agent", "v1", "");
        ref_is("docker.io/busybox", "docker.io", "library/busybox", "latest", "");
        ref_is("index.docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36", "");
        ref_is("docker.io/lnst/agent", "docker.io", "lnst/agent", "latest", "");
        ref_is("localhost/lnst", "localhost", "lnst", "latest", "");
        ref_is("127.0.0.1:5000/a/b/c:t_1.x-y", "127.0.0.1:5000", "a/b/c", "t_1.x-y", "");
        ref_is("[::1]:5000/x@sha256:" HEX64, "[::1]:5000", "x", "", "sha256:" HEX64);
        ref_is("quay.io/x:tag@sha256:" HEX64, "quay.io", "x", "tag", "sha256:" HEX64);
        ref_is("x/a__b.c-d---e/f", "", "x/a__b.c-d---e/f", "latest", "");
        /* a first component with a '.' is a registry */
        ref_bad("a__b.c/f", "invalid registry");
        /* "localhost:5000" alone is a name and a tag, as Docker reads it */
        ref_is("localhost:5000", "", "localhost", "5000", "");

        ref_bad("", "no image reference");
        ref_bad("Busybox", "it must be lowercase");
        ref_bad("a//b", "invalid repository name");
        ref_bad("a/", "invalid repository name");
        ref_bad("-a", "invalid repository name");
        ref_bad("a-.b", "invalid repository name");
        ref_bad("a___b", "invalid repository name");
        ref_bad("x:", "invalid tag");
        ref_bad("x:.t", "invalid tag");
        ref_bad("x@sha256:abc", "the digest must be");
        ref_bad("x@sha512:" HEX64 HEX64, "the digest must be");
        ref_bad("x@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "the digest must be");
        ref_bad("bad_host.io/x", "invalid registry");
        ref_bad("host.io:99999/x", "invalid registry");
        ref_bad("host-.io/x", "invalid registry");
        ref_bad("host.io/", "no repository name");
        char longref[400];
        memset(longref, 'a', sizeof longref - 1);
        longref[sizeof longref - 1] = '\0';
        ref_bad(longref, "over 255 characters");

        char out[IMAGE_REF_TEXT_MAX];
        ImageRef r;
        assert_int_equal(image_ref_parse("busybox:1.36", &r, NULL), 0);
        image_ref_format(&r, out);
        assert_string_equal(out, "busybox:1.36");
        assert_int_equal(image_ref_parse("docker.io/busybox:1@sha256:" HEX64, &r, NULL), 0);
        image_ref_format(&r, out);
        assert_string_equal(out, "docker.io/library/busybox@sha256:" HEX64);

        assert_true(registry_is_loopback("127.0.0.1:5000"));
        assert_true(registry_is_loopback("127.9.8.7"));
        assert_true(registry_is_loopback("localhost:1"));
        assert_true(registry_is_loopback("[::1]:5000"));
        assert_false(registry_is_loopback("128.0.0.1"));
        assert_false(registry_is_loopback("127.0.0.1.example.com"));
        assert_false(registry_is_loopback("docker.io"));
}

static void platforms(void **state) {
        Platform p;
        assert_int_equal(platform_parse("linux/amd64", &p, NULL), 0);
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.arch, "amd64");
        assert_string_equal(p.variant, "");
        assert_int_equal(platform_parse("linux/arm/v7", &p, NULL), 0);
        assert_string_equal(p.variant, "v7");
        char out[100];
        platform_format(&p, out);
        assert_string_equal(out, "linux/arm/v7");
        assert_int_equal(platform_parse("linux", &p, NULL), -EINVAL);
        assert_int_equal(platform_parse("linux/", &p, NULL), -EINVAL);
        assert_int_equal(platform_parse("linux/amd64/", &p, NULL), -EINVAL);
        assert_int_equal(platform_parse("linux/arm/v7/x", &p, NULL), -EINVAL);
        assert_int_equal(platform_parse("Linux/amd64", &p, NULL), -EINVAL);
        platform_host(&p);
        assert_string_equal(p.os, "linux");
        assert_true(p.arch[0]);
}

static void challenges(void **state) {
        RegistryChallenge c;
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                                  "scope=\"repository:library/busybox:pull\"",
                                                  &c, NULL),
                         0);
        assert_int_equal(c.scheme, CHALLENGE_BEARER);
        assert_string_equal(c.realm, "https://auth.docker.io/token");
        assert_string_equal(c.service, "registry.docker.io");
        assert_string_equal(c.scope, "repository:library/busybox:pull");
        assert_int_equal(registry_challenge_parse("bearer  Realm = \"http://h/t?a=\\\"b\\\"\" , service=svc", &c, NULL), 0);
        assert_string_equal(c.realm, "http://h/t?a=\"b\"");
        assert_string_equal(c.service, "svc");
        assert_int_equal(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c, NULL), 0);
        assert_int_equal(c.scheme, CHALLENGE_BASIC);
        assert_int_equal(registry_challenge_parse("Basic", &c, NULL), 0);
        RtError e = {};
        assert_int_equal(registry_challenge_parse("Negotiate abc", &c, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "nsprov does not know"));
        assert_int_equal(registry_challenge_parse("Bearer realm=\"ftp://x\"", &c, NULL), -EBADMSG);
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://x", &c, NULL), -EBADMSG);
        assert_int_equal(registry_challenge_parse("Bearer realm=\"https://x\" junk", &c, NULL), -EBADMSG);
        assert_int_equal(registry_challenge_parse("Bearer =x", &c, NULL), -EBADMSG);

        char *t = NULL;
        assert_int_equal(registry_token_parse("{\"token\":\"abc.def\"}", 19, &t, NULL), 0);
        assert_string_equal(t, "abc.def");
        free(t);
        const char *at = "{\"access_token\":\"xyz\"}";
        assert_int_equal(registry_token_parse(at, strlen(at), &t, NULL), 0);
        assert_string_equal(t, "xyz");
        free(t);
        const char *nl = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
        assert_int_equal(registry_token_parse(nl, strlen(nl), &t, NULL), -EBADMSG);
        assert_int_equal(registry_token_parse("{}", 2, &t, NULL), -EBADMSG);
        assert_int_equal(registry_token_parse("nope", 4, &t, NULL), -EBADMSG);
}

#define D "\"sha256:" HEX64 "\""

static int parse(const char *type, const char *text, RegistryManifest *m, RtError *e) {
        return registry_manifest_parse(type, text, strlen(text), m, e);
}

static void manifests(void **state) {
        RegistryManifest m;
        RtError e = {};
        const char *oci = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                          "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":" D ",\"size\":7},"
                          "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":" D ",\"size\":9},"
                          "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":" D ",\"size\":0}]}";
        assert_int_equal(parse(NULL, oci, &m, &e), 0);
        assert_false(m.is_index);
        assert_int_equal(m.config.size, 7);
        assert_int_equal(m.n_layers, 2);
        assert_int_equal(m.layers[0].compression, LAYER_ZSTD);
        assert_int_equal(m.layers[1].compression, LAYER_PLAIN);
        registry_manifest_done(&m);

        /* Docker schema 2, its kind from the Content-Type alone */
        const char *v2s2 = "{\"schemaVersion\":2,\"config\":{\"digest\":" D ",\"size\":1},\"layers\":"
                           "[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":" D ",\"size\":2}]}";
        assert_int_equal(parse("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", v2s2, &m, &e), 0);
        assert_int_equal(m.layers[0].compression, LAYER_GZIP);
        registry_manifest_done(&m);

        const char *list = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
                           "\"manifests\":["
                           "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":" D ",\"size\":3,"
                           "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
                           "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":" D ",\"size\":3,"
                           "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
                           "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":" D ",\"size\":4,"
                           "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
                           "{\"digest\":" D ",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        assert_int_equal(parse(NULL, list, &m, &e), 0);
        assert_true(m.is_index);
        assert_int_equal(m.n_entries, 3); /* the attestation-like "unknown" one is no platform's */
        size_t i;
        Platform want = { "linux", "amd64", "" };
        assert_int_equal(registry_index_select(&m, &want, &i, NULL), 0);
        assert_int_equal(m.entries[i].manifest.size, 5);
        Platform arm64 = { "linux", "arm64", "v8" };
        assert_int_equal(registry_index_select(&m, &arm64, &i, NULL), 0);
        assert_int_equal(m.entries[i].manifest.size, 4);
        Platform armv6 = { "linux", "arm", "v6" };
        assert_int_equal(registry_index_select(&m, &armv6, &i, &e), -ENOENT);
        assert_string_equal(e.msg, "no image for linux/arm/v6 in the index (it has linux/arm/v7, linux/arm64, linux/amd64)");
        registry_manifest_done(&m);

        assert_int_equal(parse(NULL, "{\"schemaVersion\":1,\"name\":\"x\"}", &m, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "schema 1"));
        assert_int_equal(parse(NULL, "[1]", &m, &e), -EBADMSG);
        assert_int_equal(parse(NULL, "{\"schemaVersion\":2}", &m, &e), -EOPNOTSUPP);
        assert_int_equal(parse(NULL, "{\"schemaVersion\":2,\"layers\":[]}", &m, &e), -EBADMSG); /* no config */
        assert_int_equal(parse(NULL, "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:ab\",\"size\":1},\"layers\":[]}",
                               &m, &e),
                         -EBADMSG);
        const char *artifact = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\","
                               "\"digest\":" D ",\"size\":1},\"layers\":[]}";
        assert_int_equal(parse(NULL, artifact, &m, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "an artifact"));
        const char *foreign = "{\"schemaVersion\":2,\"config\":{\"digest\":" D ",\"size\":1},\"layers\":"
                              "[{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"digest\":" D
                              ",\"size\":2}]}";
        assert_int_equal(parse(NULL, foreign, &m, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "foreign layer"));
        const char *negative = "{\"schemaVersion\":2,\"config\":{\"digest\":" D ",\"size\":-1},\"layers\":[]}";
        assert_int_equal(parse(NULL, negative, &m, &e), -EBADMSG);
        const char *dup = "{\"schemaVersion\":2,\"schemaVersion\":2}";
        assert_int_equal(parse(NULL, dup, &m, &e), -EBADMSG);

        Platform p;
        const char *cfg = "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\",\"config\":{}}";
        assert_int_equal(registry_config_platform(cfg, strlen(cfg), &p, NULL), 0);
        assert_string_equal(p.arch, "arm");
        assert_string_equal(p.variant, "v7");
        assert_int_equal(registry_config_platform("{\"os\":\"linux\"}", 15, &p, NULL), -EBADMSG);
}

static void auth_files(void **state) {
        /* lnst:secret, a:b, u:p:q */
        const char *text = "{\"auths\":{"
                           "\"127.0.0.1:5000\":{\"auth\":\"bG5zdDpzZWNyZXQ=\"},"
                           "\"127.0.0.1:5000/lnst\":{\"auth\":\"YTpi\"},"
                           "\"https://index.docker.io/v1/\":{\"auth\":\"dTpwOnE=\"},"
                           "\"bad.io\":{\"auth\":\"!!!\"},"
                           "\"nocolon.io\":{\"auth\":\"YWJj\"}}}";
        char *u = NULL, *p = NULL;
        assert_int_equal(registry_auth_lookup(text, strlen(text), "127.0.0.1:5000", "other/x", &u, &p, NULL), 0);
        assert_string_equal(u, "lnst");
        assert_string_equal(p, "secret");
        free(u), free(p);
        /* the most specific key wins */
        assert_int_equal(registry_auth_lookup(text, strlen(text), "127.0.0.1:5000", "lnst/agent", &u, &p, NULL), 0);
        assert_string_equal(u, "a");
        free(u), free(p);
        /* a prefix of a path component is no match */
        assert_int_equal(registry_auth_lookup(text, strlen(text), "127.0.0.1:5000", "lnstx/agent", &u, &p, NULL), 0);
        assert_string_equal(u, "lnst");
        free(u), free(p);
        assert_int_equal(registry_auth_lookup(text, strlen(text), "docker.io", "library/busybox", &u, &p, NULL), 0);
        assert_string_equal(u, "u");
        assert_string_equal(p, "p:q");
        free(u), free(p);
        assert_int_equal(registry_auth_lookup(text, strlen(text), "127.0.0.1:50", "x", &u, &p, NULL), -ENOENT);
        assert_int_equal(registry_auth_lookup(text, strlen(text), "quay.io", "x", &u, &p, NULL), -ENOENT);
        RtError e = {};
        assert_int_equal(registry_auth_lookup(text, strlen(text), "bad.io", "x", &u, &p, &e), -EBADMSG);
        assert_int_equal(registry_auth_lookup(text, strlen(text), "nocolon.io", "x", &u, &p, &e), -EBADMSG);
        assert_int_equal(registry_auth_lookup("{}", 2, "bad.io", "x", &u, &p, &e), -ENOENT);
        assert_int_equal(registry_auth_lookup("{", 1, "bad.io", "x", &u, &p, &e), -EBADMSG);
}

static void registries_conf(void **state) {
        const char *text = "# a comment\n"
                           "unqualified-search-registries = [\"docker.io\", 'quay.io', # trailing\n"
                           "   \"127.0.0.1:5000\",\n]\n"
                           "short-name-mode = \"enforcing\"\n"
                           "credential-helpers = [ \"containers-auth.json\" ]\n"
                           "[[registry]]\n"
                           "prefix = \"127.0.0.1:5000/lnst\"\n"
                           "location = \"127.0.0.1:5000\"\n"
                           "insecure = true\n"
                           "[[registry.mirror]]\n"
                           "location = \"mirror.example\"\n"
                           "insecure = false\n"
                           "[[registry]]\n"
                           "location = \"evil.example\"\n"
                           "blocked = true\n"
                           "[aliases]\n"
                           "\"busybox\" = \"docker.io/library/busybox\"\n"
                           "lnst = \"127.0.0.1:5000/lnst/agent\"  # ours\n"
                           "[engine]\n"
                           "n = 3\n"
                           "t = { a = 1 }\n";
        RegistriesConf c = {};
        RtError e = {};
        assert_int_equal(registries_conf_parse("r.conf", text, strlen(text), &c, &e), 0);
        assert_int_equal(strv_length(c.search), 3);
        assert_string_equal(c.search[2], "127.0.0.1:5000");
        assert_string_equal(registries_conf_alias(&c, "busybox"), "docker.io/library/busybox");
        assert_string_equal(registries_conf_alias(&c, "lnst"), "127.0.0.1:5000/lnst/agent");
        assert_null(registries_conf_alias(&c, "fedora"));
        assert_true(registries_conf_matches(c.insecure, "127.0.0.1:5000", "lnst/agent"));
        assert_true(registries_conf_matches(c.insecure, "127.0.0.1:5000", "other"));
        assert_false(registries_conf_matches(c.insecure, "127.0.0.1:50", "x"));
        assert_false(registries_conf_matches(c.insecure, "mirror.example", "x"));
        assert_true(registries_conf_matches(c.blocked, "evil.example", "x"));

        /* a drop-in: its search list replaces, its aliases add and override */
        const char *dropin = "unqualified-search-registries = []\n[aliases]\nlnst = \"quay.io/lnst/agent\"\nx = 'y'\n";
        assert_int_equal(registries_conf_parse("d.conf", dropin, strlen(dropin), &c, &e), 0);
        assert_int_equal(strv_length(c.search), 0);
        assert_non_null(c.search);
        assert_string_equal(registries_conf_alias(&c, "lnst"), "quay.io/lnst/agent");
        assert_string_equal(registries_conf_alias(&c, "busybox"), "docker.io/library/busybox");
        registries_conf_done(&c);

        /* the version 1 format */
        const char *v1 = "[registries.search]\nregistries = ['a.io', 'b.io']\n[registries.insecure]\nregistries = ['c.io']\n";
        assert_int_equal(registries_conf_parse("v1.conf", v1, strlen(v1), &c, &e), 0);
        assert_int_equal(strv_length(c.search), 2);
        assert_true(registries_conf_matches(c.insecure, "c.io", "x"));
        registries_conf_done(&c);

        static const struct {
                const char *text, *why;
        } bad[] = {
                { "unqualified-search-registries = \"x\"\n", "r.conf:1: unqualified-search-registries is not an array" },
                { "a = [\"x\"\n", "an array is not closed" },
                { "\n\na = \"x\n", "r.conf:3: a string is not closed" },
                { "[aliases]\nx = 1\n", "an alias is not a string" },
                { "a = \"x\" b = 2\n", "one key or table a line" },
                { "[aliases\n", "a table header is not closed" },
                { "= 1\n", "a key was expected" },
                { "a 1\n", "'=' expected" },
                { "a = [1]\n", "an array of other than strings" },
                { "a = \"\\u0041\"\n", "an escape nsprov does not read" },
                { "t = { a = 1\n", "an inline table is not closed" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                e = (RtError) {};
                assert_int_equal(registries_conf_parse("r.conf", bad[i].text, strlen(bad[i].text), &c, &e), -EBADMSG);
                if (!strstr(e.msg, bad[i].why))
                        fail_msg("'%s': '%s' lacks '%s'", bad[i].text, e.msg, bad[i].why);
                registries_conf_done(&c);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(references), cmocka_unit_test(platforms),   cmocka_unit_test(challenges),
                cmocka_unit_test(manifests),  cmocka_unit_test(auth_files), cmocka_unit_test(registries_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
