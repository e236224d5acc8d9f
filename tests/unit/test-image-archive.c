/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of an image archive's load that read its input: member and entry paths,
 * whiteouts, docker-archive manifests, OCI indexes and manifests, image configs, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <limits.h>

#include "image.h"
#include "fs.h"
#include "strv.h"

static const char *clean(const char *raw) {
        static char out[PATH_MAX];
        return image_member_path(raw, out) == 0 ? out : NULL;
}

static void member_paths(void **state) {
        assert_string_equal(clean("a/b"), "a/b");
        assert_string_equal(clean("./a//b/"), "a/b");
        assert_string_equal(clean("/etc/./passwd"), "etc/passwd");
        assert_string_equal(clean("./"), "");
        assert_string_equal(clean(""), "");
        assert_string_equal(clean("a/..b/c.."), "a/..b/c..");
        assert_null(clean("../x"));
        assert_null(clean("a/../../x"));
        assert_null(clean("a/.."));
        assert_null(clean("/.."));
        char longname[NAME_MAX + 2];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        assert_null(clean(longname));
}

static void whiteouts(void **state) {
        char t[PATH_MAX];
        assert_int_equal(image_whiteout("etc/motd", t), WHITEOUT_NONE);
        assert_int_equal(image_whiteout("etc/.wh.motd", t), WHITEOUT_ENTRY);
        assert_string_equal(t, "etc/motd");
        assert_int_equal(image_whiteout(".wh.top", t), WHITEOUT_ENTRY);
        assert_string_equal(t, "top");
        assert_int_equal(image_whiteout("srv/keep/.wh..wh..opq", t), WHITEOUT_OPAQUE);
        assert_string_equal(t, "srv/keep");
        assert_int_equal(image_whiteout(".wh..wh..opq", t), WHITEOUT_OPAQUE);
        assert_string_equal(t, "");
        /* nothing to remove, or not a whiteout of ours: refused */
        assert_int_equal(image_whiteout("a/.wh.", t), -EINVAL);
        assert_int_equal(image_whiteout("a/.wh..", t), -EINVAL);
        assert_int_equal(image_whiteout("a/.wh...", t), -EINVAL);
        assert_int_equal(image_whiteout("a/.wh..wh.plnk", t), -EINVAL);
        /* only the last component counts */
        assert_int_equal(image_whiteout(".wh.dir/file", t), WHITEOUT_NONE);
}

#define DOCKER_MANIFEST(layers) \
        "[{\"Config\":\"abc.json\",\"RepoTags\":[\"localhost/lnst:latest\"],\"Layers\":" layers "}]"

static void docker_manifests(void **state) {
        ArchiveManifest m;
        RtError e = {};
        const char *ok = DOCKER_MANIFEST("[\"l1/layer.tar\",\"./l2/layer.tar\"]");
        assert_int_equal(image_docker_manifest_parse(ok, strlen(ok), &m, &e), 0);
        assert_string_equal(m.config, "abc.json");
        assert_int_equal(strv_length(m.layers), 2);
        assert_string_equal(m.layers[1], "l2/layer.tar");
        assert_string_equal(m.reference, "localhost/lnst:latest");
        archive_manifest_done(&m);

        const char *none = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[]}]";
        assert_int_equal(image_docker_manifest_parse(none, strlen(none), &m, &e), 0);
        assert_null(m.reference);
        assert_int_equal(strv_length(m.layers), 0);
        archive_manifest_done(&m);

        static const char *const bad[] = {
                "{}", "[]", "[{}]", "not json",
                DOCKER_MANIFEST("[\"../escape.tar\"]"),
                DOCKER_MANIFEST("[1]"),
                DOCKER_MANIFEST("\"l1\""),
                "[{\"Config\":\"/\",\"Layers\":[]}]",
                "[{\"Config\":\"a.json\",\"Config\":\"b.json\",\"Layers\":[]}]", /* duplicate key */
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                e = (RtError) {};
                assert_int_equal(image_docker_manifest_parse(bad[i], strlen(bad[i]), &m, &e), -EBADMSG);
                assert_true(e.msg[0]);
        }
        const char *two = "[{\"Config\":\"a\",\"Layers\":[]},{\"Config\":\"b\",\"Layers\":[]}]";
        assert_int_equal(image_docker_manifest_parse(two, strlen(two), &m, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "2 images"));
}

static void oci_layouts(void **state) {
        RtError e = {};
        char *manifest, *ref;
        const char *index = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                            "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:0123abcd\","
                            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/lnst:v2\"}}]}";
        assert_int_equal(image_oci_index_parse(index, strlen(index), &manifest, &ref, &e), 0);
        assert_string_equal(manifest, "blobs/sha256/0123abcd");
        assert_string_equal(ref, "localhost/lnst:v2");
        free(manifest);
        free(ref);

        static const char *const bad_index[] = {
                "{}", "{\"manifests\":[]}", "{\"manifests\":[{\"digest\":\"sha256:../../x\"}]}",
                "{\"manifests\":[{\"digest\":\"nocolon\"}]}", "{\"manifests\":[{\"digest\":\"SHA:ab\"}]}",
                "{\"manifests\":[{\"digest\":\"sha256:\"}]}", "{\"manifests\":[{}]}",
        };
        for (size_t i = 0; i < sizeof bad_index / sizeof *bad_index; i++)
                assert_int_equal(image_oci_index_parse(bad_index[i], strlen(bad_index[i]), &manifest, &ref, &e),
                                 -EBADMSG);
        const char *nested = "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                             "\"digest\":\"sha256:ab\"}]}";
        assert_int_equal(image_oci_index_parse(nested, strlen(nested), &manifest, &ref, &e), -EOPNOTSUPP);

        ArchiveManifest m;
        const char *man = "{\"config\":{\"digest\":\"sha256:cc\"},\"layers\":["
                          "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:l1\"},"
                          "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"sha512:l2\"}]}";
        assert_int_equal(image_oci_manifest_parse(man, strlen(man), &m, &e), 0);
        assert_string_equal(m.config, "blobs/sha256/cc");
        assert_string_equal(m.layers[0], "blobs/sha256/l1");
        assert_string_equal(m.layers[1], "blobs/sha512/l2");
        archive_manifest_done(&m);
        const char *foreign = "{\"config\":{\"digest\":\"sha256:cc\"},\"layers\":["
                              "{\"mediaType\":\"application/vnd.cncf.helm.chart.content.v1\",\"digest\":\"sha256:l1\"}]}";
        assert_int_equal(image_oci_manifest_parse(foreign, strlen(foreign), &m, &e), -EOPNOTSUPP);
        const char *no_config = "{\"layers\":[]}";
        assert_int_equal(image_oci_manifest_parse(no_config, strlen(no_config), &m, &e), -EBADMSG);
}

static void configs(void **state) {
        RtError e = {};
        ImageConfig c;
        const char *full = "{\"config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"],\"Entrypoint\":null,"
                           "\"Env\":[\"PATH=/bin\",\"A=b=c\"],\"WorkingDir\":\"srv\",\"StopSignal\":\"SIGINT\","
                           "\"User\":\"lnst\"},\"rootfs\":{}}";
        assert_int_equal(image_config_parse(full, strlen(full), &c, &e), 0);
        assert_int_equal(strv_length(c.cmd), 3);
        assert_null(c.entrypoint);
        assert_string_equal(c.env[1], "A=b=c");
        assert_string_equal(c.workdir, "/srv");
        assert_string_equal(c.stop_signal, "SIGINT");
        Image img = { .config = c };
        image_done(&img);

        const char *empty = "{\"config\":{\"WorkingDir\":\"\",\"StopSignal\":\"\"}}";
        assert_int_equal(image_config_parse(empty, strlen(empty), &c, &e), 0);
        assert_null(c.workdir);
        assert_null(c.stop_signal);
        assert_null(c.cmd);
        assert_int_equal(image_config_parse("{}", 2, &c, &e), 0);

        static const char *const bad[] = {
                "[]", "{\"config\":[]}", "{\"config\":{\"Cmd\":\"sh\"}}", "{\"config\":{\"Env\":[\"NOEQUALS\"]}}",
                "{\"config\":{\"Env\":[\"=v\"]}}", "{\"config\":{\"Cmd\":[1]}}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                e = (RtError) {};
                assert_int_equal(image_config_parse(bad[i], strlen(bad[i]), &c, &e), -EBADMSG);
                assert_true(e.msg[0]);
        }
}

static void names_from_references(void **state) {
        char n[CTR_IMAGE_NAME_MAX + 1];
        RtError e = {};
        static const struct {
                const char *ref, *name;
        } ok[] = {
                { "localhost/lnst:latest", "lnst" },   { "lnst", "lnst" },
                { "quay.io/lnst/agent:v1.2", "agent-v1.2" }, { "registry:5000/a/b", "b" },
                { "busybox@sha256:0123", "busybox" }, { "docker.io/library/fedora:41", "fedora-41" },
        };
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
                assert_int_equal(image_name_from_reference(ok[i].ref, n, &e), 0);
                assert_string_equal(n, ok[i].name);
        }
        static const char *const bad[] = { NULL, "", "localhost/", "x/-bad", "a/b c", "../lnst", "a//b",
                                           "./lnst", "a:1/b:2/c", "/lnst" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                e = (RtError) {};
                assert_int_equal(image_name_from_reference(bad[i], n, &e), -EINVAL);
                assert_non_null(strstr(e.msg, "--name"));
        }
}

/* references resolve as Podman resolves them, and as a load names what it loaded */
static void references_resolve(void **state) {
        char dir[] = "/tmp/nsprov-unit-XXXXXX", root[64], run[64];
        assert_non_null(mkdtemp(dir));
        (void) snprintf(root, sizeof root, "%s/root", dir);
        (void) snprintf(run, sizeof run, "%s/run", dir);
        CtrStore s;
        RtError e = {};
        assert_int_equal(ctr_store_init(&s, root, run, &e), 0);
        static const char *const names[] = { "lnst", "agent-v1" };
        for (size_t i = 0; i < 2; i++) {
                Image img = { .name = (char *) names[i], .rootfs = (char *) CTR_HOST_IMAGE };
                assert_int_equal(ctr_image_add(&s, &img, &e), 0);
        }
        static const struct {
                const char *ref, *name;
        } ok[] = {
                { "lnst", "lnst" }, { "localhost/lnst:latest", "lnst" }, { "lnst:latest", "lnst" },
                { "docker.io/library/lnst", "lnst" }, { "quay.io/x/agent:v1", "agent-v1" }, { "host", "host" },
        };
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
                Image img = {};
                assert_int_equal(ctr_image_resolve(&s, ok[i].ref, &img, &e), 0);
                assert_string_equal(img.name, ok[i].name);
                image_done(&img);
        }
        static const char *const missing[] = { "localhost/lnst:v2", "nope", "../lnst", "" };
        for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
                Image img = {};
                e = (RtError) {};
                assert_true(ctr_image_resolve(&s, missing[i], &img, &e) < 0);
                assert_true(e.msg[0]);
        }
        assert_int_equal(rm_rf(dir, &e), 0);
}

static void import_changes(void **state) {
        Image img = {};
        ImageConfig *c = &img.config;
        assert_int_equal(image_change_apply("CMD [\"sh\", \"-c\", \"echo hi\"]", c, NULL), 0);
        assert_string_equal(c->cmd[2], "echo hi");
        assert_int_equal(image_change_apply("cmd=echo shell form", c, NULL), 0);
        assert_string_equal(c->cmd[0], "/bin/sh");
        assert_string_equal(c->cmd[2], "echo shell form");
        assert_int_equal(image_change_apply("CMD []", c, NULL), 0);
        assert_null(c->cmd);
        assert_int_equal(image_change_apply("ENTRYPOINT []", c, NULL), 0);
        assert_non_null(c->entrypoint);
        assert_null(c->entrypoint[0]);
        assert_int_equal(image_change_apply("ENV FOO=bar baz", c, NULL), 0);
        assert_int_equal(image_change_apply("ENV K V w", c, NULL), 0);
        assert_int_equal(image_change_apply("ENV FOO=again", c, NULL), 0);
        assert_string_equal(c->env[0], "FOO=again");
        assert_string_equal(c->env[1], "K=V w");
        assert_int_equal(image_change_apply("WORKDIR srv", c, NULL), 0);
        assert_string_equal(c->workdir, "/srv");
        assert_int_equal(image_change_apply("STOPSIGNAL SIGINT", c, NULL), 0);
        assert_string_equal(c->stop_signal, "SIGINT");
        assert_int_equal(image_change_apply("LABEL io.nsprov.ready=tcp:9999", c, NULL), 0);
        assert_string_equal(c->ready, "tcp:9999");
        const struct {
                const char *change;
                int code;
        } bad[] = {
                { "USER nobody", -EOPNOTSUPP }, { "EXPOSE 80", -EOPNOTSUPP },  { "LABEL a=b", -EOPNOTSUPP },
                { "LABEL io.nsprov.ready=tcp:0", -EINVAL }, { "CMD [1, 2]", -EINVAL }, { "CMD", -EINVAL },
                { "WORKDIR /a/../b", -EINVAL }, { "STOPSIGNAL SIGNOPE", -EINVAL }, { "ENV =x", -EINVAL },
                { "ENV lonely", -EINVAL }, { "FROM scratch", -EINVAL }, { "", -EINVAL }, { "CMD a\nb", -EINVAL },
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                RtError e = {};
                assert_int_equal(image_change_apply(bad[i].change, c, &e), bad[i].code);
                assert_true(e.msg[0]);
        }
        /* a refused change left the config as it was */
        assert_string_equal(c->ready, "tcp:9999");
        image_done(&img);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(member_paths),     cmocka_unit_test(whiteouts),
                cmocka_unit_test(docker_manifests), cmocka_unit_test(oci_layouts),
                cmocka_unit_test(configs),          cmocka_unit_test(names_from_references),
                cmocka_unit_test(references_resolve), cmocka_unit_test(import_changes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
