/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cni/: loading, identifiers, CNI_ARGS, requests, results, cache and outcome rules, each
 * named after its ID in shared/cni-checklist.md. No root, no plugin runs. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base64.h"
#include "cni-internal.h"
#include "fs.h"
#include "strv.h"

static char tmpdir[] = "/tmp/nsprov-unit-cni-XXXXXX";

static int make_tmp(void **state) {
        strcpy(tmpdir, "/tmp/nsprov-unit-cni-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int remove_tmp(void **state) {
        assert_int_equal(rm_rf(tmpdir, NULL), 0);
        return 0;
}

static void put(const char *name, const char *text) {
        char path[512];
        (void) snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        char *slash = strrchr(path, '/');
        *slash = 0;
        assert_int_equal(mkdir_p(path, 0755, NULL), 0);
        *slash = '/';
        assert_int_equal(write_file(path, text, strlen(text), 0644, false, NULL), 0);
}

static int parse(const char *text, bool legacy, CniList *l, CniError *ce) {
        return cni_list_parse("t.conflist", text, strlen(text), legacy, NULL, l, ce);
}

/* ---- identifiers (section 5), T-39 ---- */

static void v10_container_ids(void **state) {
        CniError ce = {};
        assert_int_equal(cni_check_container_id("abc-1_2.3", &ce), 0);
        assert_int_equal(cni_check_container_id("", &ce), -EINVAL);
        assert_int_equal(ce.code, 3);
        assert_int_equal(cni_check_container_id("-x", &ce), -EINVAL);
        assert_int_equal(ce.code, 4);
        assert_int_equal(cni_check_container_id("a b", &ce), -EINVAL);
        assert_int_equal(ce.category, CNI_ERR_INVALID);
}

static void v15_ifnames(void **state) {
        CniError ce = {};
        assert_int_equal(cni_check_ifname("eth0", &ce), 0);
        assert_int_equal(cni_check_ifname("eth01234567890a", &ce), 0); /* 15 bytes */
        const char *bad[] = { "eth0123456789abc", "..", ".", "a/b", "a:b", "a b", "", "eth\xc2\xa0" "0",
                              "a\tb", "x\xe3\x80\x80" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(cni_check_ifname(bad[i], &ce), -EINVAL);
                assert_int_equal(ce.code, 4);
        }
        assert_non_null(strstr((cni_check_ifname("eth0123456789abc", &ce), ce.e.msg), "too long"));
}

static void v20_network_names(void **state) {
        CniError ce = {};
        assert_int_equal(cni_check_network_name("lab-1", &ce), 0);
        assert_int_equal(cni_check_network_name("bad/name", &ce), -EINVAL);
        assert_int_equal(ce.code, 7);
        assert_int_equal(cni_check_network_name("", &ce), -EINVAL);
}

/* ---- CNI_ARGS (I-20), T-26 ---- */

static void i20_args(void **state) {
        CniError ce = {};
        char **v = NULL;
        assert_int_equal(cni_args_parse("IgnoreUnknown=1;K8S_POD_NAME=web", &v, &ce), 0);
        assert_int_equal(strv_length(v), 2);
        char *joined = cni_args_join(v);
        assert_string_equal(joined, "IgnoreUnknown=1;K8S_POD_NAME=web");
        free(joined);
        strv_free(v);

        assert_int_equal(cni_args_parse("", &v, &ce), 0);
        assert_int_equal(strv_length(v), 0);
        joined = cni_args_join(v);
        assert_string_equal(joined, "");
        free(joined);
        strv_free(v);

        const char *bad[] = { "=v", "a=b=c", "k" };
        for (size_t i = 0; i < 3; i++) {
                v = NULL;
                assert_int_equal(cni_args_parse(bad[i], &v, &ce), -EINVAL);
                assert_null(v);
        }
        /* pairs handed over as a list: key with ';', value with ';' */
        char *k_semi[] = { (char *) "a;b=1", NULL }, *v_semi[] = { (char *) "a=x;y", NULL };
        assert_int_equal(cni_args_check(k_semi, &ce), -EINVAL);
        assert_int_equal(cni_args_check(v_semi, &ce), -EINVAL);
}

/* ---- versions (V-30) ---- */

static void v30_versions(void **state) {
        unsigned v[3];
        assert_int_equal(cni_version_parse("", v), 0);
        assert_true(v[0] == 0 && v[1] == 1 && v[2] == 0);
        assert_int_equal(cni_version_parse("1", v), 0);
        assert_true(v[0] == 1 && v[1] == 0 && v[2] == 0);
        assert_int_equal(cni_version_parse("abc", v), -EINVAL);
        assert_int_equal(cni_version_parse("1.2.3.4", v), -EINVAL);
        assert_int_equal(cni_version_parse("1..2", v), -EINVAL);
        assert_true(cni_version_cmp("0.4.0", "1.0.0") < 0);
        assert_true(cni_version_cmp("", "0.1.0") == 0);
        assert_true(cni_version_cmp("0.10.0", "0.9.0") > 0);
        assert_true(cni_version_known("0.3.1"));
        assert_false(cni_version_known("9.9.9"));
}

/* ---- parsing (1.3) ---- */

static void t04_invalid_lists_name_the_reason(void **state) {
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "{\"name\":", "t.conflist:1:" },
                { "{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"x\"}]}", "no name" },
                { "{\"name\":7,\"plugins\":[{\"type\":\"x\"}]}", "invalid name type" },
                { "{\"name\":\"n\",\"plugins\":[]}", "no plugins in list" },
                { "{\"name\":\"n\",\"plugins\":[{\"a\":1}]}", "failed to parse plugin config 0: missing 'type'" },
                { "{\"name\":\"n\",\"plugins\":[{\"type\":\"x\"},{\"type\":\"\"}]}", "plugin config 1: missing 'type'" },
                { "{\"name\":\"n\",\"disableCheck\":\"maybe\",\"plugins\":[{\"type\":\"x\"}]}", "invalid value for disableCheck" },
                { "{\"name\":\"n\",\"plugins\":{}}", "plugins: expected an array" },
                { "[1]", "not a JSON object" },
                { "{\"name\":\"n\",\"name\":\"m\",\"plugins\":[{\"type\":\"x\"}]}", "duplicate" },
                { "{\"name\":\"n\",\"plugins\":[{\"type\":\"x\"}]} junk", "t.conflist:1:" },
                { "{\"name\":\"bad/name\",\"plugins\":[{\"type\":\"x\"}]}", "network name" },
                { "{\"name\":\"n\",\"cniVersion\":\"abc\",\"plugins\":[{\"type\":\"x\"}]}", "invalid cniVersion" },
                { "{\"name\":\"n\",\"cniVersion\":\"9.9.9\",\"plugins\":[{\"type\":\"x\"}]}", "not one nsprov knows" },
                { "{\"name\":\"n\",\"plugins\":[{\"type\":\"x\",\"capabilities\":[1]}]}", "capabilities" },
                { "{\"name\":\"n\",\"plugins\":[{\"type\":\"a/b\"}]}", "invalid plugin name" },
                { "{\"name\":\"n\",\"loadOnlyInlinedPlugins\":true}", "loadOnlyInlinedPlugins" },
                { "{\"name\":\"n\",\"plugins\":[{\"type\":\"x\",\"s\":\"a\\u0000b\"}]}", "t.conflist:1:" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                CniList l = {};
                CniError ce = {};
                assert_true(parse(cases[i].text, false, &l, &ce) < 0);
                if (!strstr(ce.e.msg, cases[i].want))
                        fail_msg("case %zu: '%s' lacks '%s'", i, ce.e.msg, cases[i].want);
                assert_non_null(strstr(ce.e.msg, "t.conflist"));
        }
}

static void t04_error_carries_line_and_column(void **state) {
        CniList l = {};
        CniError ce = {};
        assert_true(parse("{\n  \"name\": \"n\",\n  \"plugins\": [ { \"type\": \"x\" }, ]\n}", false, &l, &ce) < 0);
        assert_non_null(strstr(ce.e.msg, "t.conflist:3:"));
}

static void t05_flags(void **state) {
        static const struct {
                const char *value;
                int r;
                bool want;
        } cases[] = { { "true", 0, true }, { "\"TRUE\"", 0, true }, { "\"false\"", 0, false }, { "1", -EINVAL, false } };
        for (size_t i = 0; i < 4; i++) {
                char text[256];
                (void) snprintf(text, sizeof text, "{\"name\":\"n\",\"disableCheck\":%s,\"plugins\":[{\"type\":\"x\"}]}",
                                cases[i].value);
                CniList l = {};
                CniError ce = {};
                assert_int_equal(parse(text, false, &l, &ce), cases[i].r);
                if (cases[i].r == 0)
                        assert_int_equal(l.disable_check, cases[i].want);
                cni_list_done(&l);
        }
}

static void t06_version_selection(void **state) {
        CniList l = {};
        CniError ce = {};
        assert_int_equal(parse("{\"name\":\"n\",\"cniVersion\":\"0.4.0\",\"cniVersions\":[\"1.0.0\",\"9.9.9\",\"0.3.1\"],"
                               "\"plugins\":[{\"type\":\"x\"}]}", false, &l, &ce), 0);
        assert_string_equal(l.version, "1.0.0");
        cni_list_done(&l);
        assert_int_equal(parse("{\"name\":\"n\",\"cniVersions\":[\"x.y\"],\"plugins\":[{\"type\":\"x\"}]}", false, &l, &ce),
                         -EINVAL);
        assert_int_equal(parse("{\"name\":\"n\",\"plugins\":[{\"type\":\"x\"}]}", false, &l, &ce), 0);
        assert_string_equal(l.version, "");
        cni_list_done(&l);
        /* 9.9.9 alone is refused, but rescued by a known entry of cniVersions */
        assert_int_equal(parse("{\"name\":\"n\",\"cniVersion\":\"9.9.9\",\"cniVersions\":[\"1.1.0\"],"
                               "\"plugins\":[{\"type\":\"x\"}]}", false, &l, &ce), 0);
        assert_string_equal(l.version, "1.1.0");
        cni_list_done(&l);
}

static void l17_t07_request_is_byte_faithful(void **state) {
        const char *text = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"args\":{\"podman_labels\":{\"a\":\"b\"}},\"plugins\":["
                           "{\"type\":\"x\",\"mtu\":1500,\"big\":12345678901234567890,\"f\":1.50,"
                           "\"nested\":{\"k\":[1,{\"z\":\"\\u00e9\"}]},\"name\":\"other\",\"cniVersion\":\"0.3.1\","
                           "\"prevResult\":{\"static\":1},\"cni.dev/x\":1}]}";
        CniList l = {};
        CniError ce = {};
        assert_int_equal(parse(text, false, &l, &ce), 0);
        char *req;
        size_t len;
        assert_int_equal(cni_build_request(&l, &l.plugins[0], NULL, NULL, NULL, &req, &len), 0);
        assert_non_null(strstr(req, "\"mtu\":1500"));
        assert_non_null(strstr(req, "\"big\":12345678901234567890"));
        assert_non_null(strstr(req, "\"f\":1.50"));
        assert_non_null(strstr(req, "\"nested\":{\"k\":[1,{\"z\":\"\\u00e9\"}]}"));
        assert_null(strstr(req, "other"));
        assert_null(strstr(req, "0.3.1"));
        assert_null(strstr(req, "podman_labels"));
        assert_null(strstr(req, "prevResult")); /* a static one is stripped */
        assert_null(strstr(req, "cni.dev/x"));
        json_t *j = json_loadb(req, len, JSON_DECODE_INT_AS_REAL, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "n");
        assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "1.0.0");
        json_decref(j);
        free(req);
        cni_list_done(&l);
}

static void i31_i32_t11_prev_result_and_runtime_config(void **state) {
        CniList l = {};
        CniError ce = {};
        assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"a\"},"
                               "{\"type\":\"pm\",\"capabilities\":{\"portMappings\":true,\"mac\":false},"
                               "\"runtimeConfig\":{\"old\":1}}]}", false, &l, &ce), 0);
        json_t *caps = json_loads("{\"portMappings\":[{\"hostPort\":1}],\"mac\":\"x\",\"other\":1}", 0, NULL);
        json_t *rc0 = cni_runtime_config(&l.plugins[0], caps);
        assert_null(rc0);
        json_t *rc1 = cni_runtime_config(&l.plugins[1], caps);
        assert_non_null(rc1);
        assert_int_equal(json_object_size(rc1), 1);
        assert_non_null(json_object_get(rc1, "portMappings"));
        char *req;
        size_t len;
        assert_int_equal(cni_build_request(&l, &l.plugins[1], "{\"cniVersion\":\"0.4.0\",\"ips\":[]}", rc1, NULL, &req, &len), 0);
        json_t *j = json_loadb(req, len, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "prevResult"), "cniVersion")), "0.4.0");
        assert_null(json_object_get(json_object_get(j, "runtimeConfig"), "old"));
        assert_non_null(json_object_get(json_object_get(j, "runtimeConfig"), "portMappings"));
        json_decref(j);
        free(req);
        /* no capability args: the static runtimeConfig stays as the file has it */
        assert_int_equal(cni_build_request(&l, &l.plugins[1], NULL, NULL, NULL, &req, &len), 0);
        assert_non_null(strstr(req, "\"runtimeConfig\":{\"old\":1}"));
        free(req);
        json_decref(rc1);
        json_decref(caps);
        cni_list_done(&l);
}

static void l30_l31_t03_legacy_conf(void **state) {
        const char *text = "  {\"cniVersion\":\"1.0.0\",\"name\":\"s\",\"type\":\"fake-ok\",\"k\":1.0}\n";
        CniList l = {};
        CniError ce = {};
        assert_int_equal(cni_list_parse("s.conf", text, strlen(text), true, NULL, &l, &ce), 0);
        assert_string_equal(l.name, "s");
        assert_string_equal(l.version, "1.0.0");
        assert_int_equal(l.n_plugins, 1);
        assert_string_equal(l.plugins[0].raw, "{\"cniVersion\":\"1.0.0\",\"name\":\"s\",\"type\":\"fake-ok\",\"k\":1.0}");
        assert_string_equal(l.raw, "{\"cniVersion\":\"1.0.0\",\"name\":\"s\",\"plugins\":[{\"cniVersion\":\"1.0.0\","
                                   "\"name\":\"s\",\"type\":\"fake-ok\",\"k\":1.0}]}");
        cni_list_done(&l);
        assert_int_equal(cni_list_parse("x.conf", "{\"name\":\"s\"}", 12, true, NULL, &l, &ce), -EINVAL);
        assert_non_null(strstr(ce.e.msg, "missing 'type'"));
}

static void t01_t02_lookup_order_and_diagnostics(void **state) {
        put("conf/10-b.conflist", "{\"name\":\"n\",\"plugins\":[{\"type\":\"fa\"}]}");
        put("conf/2-a.conflist", "{\"name\":\"n\",\"plugins\":[{\"type\":\"fb\"}]}");
        put("conf/00-x.conf", "{\"name\":\"x\",\"type\":\"from-conf\"}");
        put("conf/50-x.conflist", "{\"name\":\"x\",\"plugins\":[{\"type\":\"from-conflist\"}]}");
        put("conf/70-s.conf", "{\"cniVersion\":\"1.0.0\",\"name\":\"s\",\"type\":\"fake-ok\"}");
        put("conf/71-j.json", "{\"name\":\"j\",\"type\":\"fake-ok\"}");
        put("conf/00-broken.conflist", "{\"name\":");
        put("conf/a.conflist.bak", "{\"name\":\"bak\",\"plugins\":[{\"type\":\"x\"}]}");
        put("conf/b.CONFLIST", "{\"name\":\"upper\",\"plugins\":[{\"type\":\"x\"}]}");
        put("conf/.hidden.conflist", "{\"name\":\"hidden\",\"plugins\":[{\"type\":\"x\"}]}");
        char dir[512];
        (void) snprintf(dir, sizeof dir, "%s/conf", tmpdir);
        CniConfig cfg = { .conf_dir = dir };
        CniList l = {};
        CniError ce = {};
        CniDiag *d = NULL;
        size_t nd = 0;
        assert_int_equal(cni_find(&cfg, "n", &l, &d, &nd, &ce), 0);
        assert_string_equal(l.plugins[0].type, "fa"); /* 10-b sorts before 2-a */
        cni_list_done(&l);
        assert_int_equal(nd, 1); /* 00-broken, skipped (L-07) */
        assert_non_null(strstr(d[0].file, "00-broken"));
        cni_diags_free(d, nd);
        d = NULL;
        nd = 0;
        assert_int_equal(cni_find(&cfg, "x", &l, NULL, NULL, &ce), 0);
        assert_string_equal(l.plugins[0].type, "from-conflist");
        cni_list_done(&l);
        assert_int_equal(cni_find(&cfg, "j", &l, NULL, NULL, &ce), 0);
        assert_string_equal(l.plugins[0].type, "fake-ok");
        cni_list_done(&l);
        assert_int_equal(cni_find(&cfg, "hidden", &l, NULL, NULL, &ce), 0);
        cni_list_done(&l);
        assert_int_equal(cni_find(&cfg, "bak", &l, NULL, NULL, &ce), -ENOENT);
        assert_int_equal(cni_find(&cfg, "upper", &l, NULL, NULL, &ce), -ENOENT);
        assert_non_null(strstr(ce.e.msg, "no net configuration with name \"upper\" in"));

        /* strict: libcni's stop at the first unparsable file */
        cfg.strict = true;
        assert_true(cni_find(&cfg, "n", &l, NULL, NULL, &ce) < 0);
        assert_non_null(strstr(ce.e.msg, "00-broken"));
        cfg.strict = false;

        CniList *all = NULL;
        size_t n = 0;
        assert_int_equal(cni_list_all(&cfg, &all, &n, &d, &nd, &ce), 0);
        assert_int_equal(n, 5); /* hidden, n, x, s, j */
        bool dup_named = false;
        for (size_t i = 0; i < nd; i++)
                if (strstr(d[i].file, "2-a") && strstr(d[i].msg, "10-b"))
                        dup_named = true;
        assert_true(dup_named);
        cni_lists_free(all, n);
        cni_diags_free(d, nd);

        CniConfig none = { .conf_dir = "/nonexistent-nsprov-dir" };
        assert_int_equal(cni_list_all(&none, &all, &n, NULL, NULL, &ce), 0);
        assert_int_equal(n, 0);
        free(all);
}

static void l21_t08_sibling_plugin_dir(void **state) {
        put("conf/n.conflist", "{\"name\":\"n\",\"plugins\":[{\"type\":\"fake-a\"}]}");
        put("conf/n/10-extra.conf", " {\"type\":\"fake-b\"}\n");
        put("conf/n/20-ignored.json", "{\"type\":\"fake-c\"}");
        put("conf/i.conflist", "{\"name\":\"i\",\"loadOnlyInlinedPlugins\":\"true\",\"plugins\":[{\"type\":\"fake-a\"}]}");
        put("conf/i/10-extra.conf", "{\"type\":\"fake-b\"}");
        put("conf/e.conflist", "{\"name\":\"e\"}");
        put("conf/d.conflist", "{\"name\":\"d\"}");
        put("conf/d/1.conf", "{\"type\":\"only\"}");
        char dir[512];
        (void) snprintf(dir, sizeof dir, "%s/conf", tmpdir);
        CniConfig cfg = { .conf_dir = dir };
        CniList l = {};
        CniError ce = {};
        assert_int_equal(cni_find(&cfg, "n", &l, NULL, NULL, &ce), 0);
        assert_int_equal(l.n_plugins, 2);
        assert_string_equal(l.plugins[1].type, "fake-b");
        assert_string_equal(l.plugins[1].raw, "{\"type\":\"fake-b\"}");
        cni_list_done(&l);
        assert_int_equal(cni_find(&cfg, "i", &l, NULL, NULL, &ce), 0);
        assert_int_equal(l.n_plugins, 1);
        cni_list_done(&l);
        assert_int_equal(cni_find(&cfg, "d", &l, NULL, NULL, &ce), 0);
        assert_int_equal(l.n_plugins, 1);
        cni_list_done(&l);
        CniDiag *d = NULL;
        size_t nd = 0;
        assert_int_equal(cni_find(&cfg, "e", &l, &d, &nd, &ce), -ENOENT);
        assert_int_equal(nd, 1);
        assert_non_null(strstr(d[0].msg, "no plugin configs found"));
        cni_diags_free(d, nd);
}

/* ---- results (R-10 … R-20), T-44 ---- */

static json_t *load(const char *s) {
        json_error_t je;
        json_t *j = json_loads(s, 0, &je);
        if (!j)
                fail_msg("%s: %s", s, je.text);
        return j;
}

static const char *const modern_1_0 =
        "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\",\"mtu\":1500}],"
        "\"ips\":[{\"interface\":0,\"address\":\"10.1.1.2/24\",\"gateway\":\"10.1.1.1\"},"
        "{\"interface\":0,\"address\":\"fd00::2/64\"}],"
        "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.1.1\",\"mtu\":9000},{\"dst\":\"::/0\"}],\"dns\":{}}";

static void r20_t44_conversions(void **state) {
        json_t *res = load(modern_1_0), *out = NULL;
        RtError e = {};
        assert_int_equal(cni_result_check(res, &e), 0);

        assert_int_equal(cni_result_convert(res, "0.4.0", &out, &e), 0);
        json_t *ips = json_object_get(out, "ips");
        assert_string_equal(json_string_value(json_object_get(json_array_get(ips, 0), "version")), "4");
        assert_string_equal(json_string_value(json_object_get(json_array_get(ips, 1), "version")), "6");
        assert_null(json_object_get(json_array_get(json_object_get(out, "routes"), 0), "mtu"));
        assert_null(json_object_get(json_array_get(json_object_get(out, "interfaces"), 0), "mtu"));
        /* and back: version dropped */
        json_t *back = NULL;
        assert_int_equal(cni_result_convert(out, "1.0.0", &back, &e), 0);
        assert_null(json_object_get(json_array_get(json_object_get(back, "ips"), 0), "version"));
        json_decref(back);
        json_decref(out);

        assert_int_equal(cni_result_convert(res, "0.2.0", &out, &e), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(out, "ip4"), "ip")), "10.1.1.2/24");
        assert_string_equal(json_string_value(json_object_get(json_object_get(out, "ip4"), "gateway")), "10.1.1.1");
        assert_int_equal(json_array_size(json_object_get(json_object_get(out, "ip4"), "routes")), 1);
        assert_string_equal(json_string_value(json_object_get(json_object_get(out, "ip6"), "ip")), "fd00::2/64");
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(out, "ip6"), "routes"), 0), "dst")),
                            "::/0");
        assert_null(json_object_get(out, "interfaces"));
        /* and up again: ip4 first, routes joined, no interface index */
        json_t *up = NULL;
        assert_int_equal(cni_result_convert(out, "0.4.0", &up, &e), 0);
        assert_int_equal(json_array_size(json_object_get(up, "ips")), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(up, "ips"), 0), "version")), "4");
        assert_int_equal(json_array_size(json_object_get(up, "routes")), 2);
        json_decref(up);
        json_decref(out);

        assert_int_equal(cni_result_convert(res, "1.1.0", &out, &e), 0);
        assert_string_equal(json_string_value(json_object_get(out, "cniVersion")), "1.1.0");
        json_decref(out);
        assert_int_equal(cni_result_convert(res, "1.0.0", &out, &e), 0);
        assert_ptr_equal(out, res);
        json_decref(out);
        assert_int_equal(cni_result_convert(res, "2.0.0", &out, &e), -EPROTONOSUPPORT);
        json_decref(res);

        /* no IP at all cannot go down to 0.2.0 */
        res = load("{\"cniVersion\":\"1.0.0\",\"interfaces\":[],\"dns\":{}}");
        assert_int_equal(cni_result_convert(res, "0.2.0", &out, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "no valid IP addresses"));
        json_decref(res);
}

static void r14_r30_lenient_shapes(void **state) {
        RtError e = {};
        /* Debian's loopback: a 0.2.0 label on a 1.0.0 shape */
        json_t *lo = load("{\"cniVersion\":\"0.2.0\",\"interfaces\":[{\"name\":\"lo\",\"mac\":\"00:00:00:00:00:00\","
                          "\"sandbox\":\"/x\"}],\"ips\":[{\"interface\":0,\"address\":\"127.0.0.1/8\"}],\"dns\":{}}");
        assert_int_equal(cni_result_check(lo, &e), 0);
        json_t *out = NULL;
        assert_int_equal(cni_result_convert(lo, "1.0.0", &out, &e), 0);
        assert_int_equal(json_array_size(json_object_get(out, "ips")), 1);
        json_decref(out);
        json_decref(lo);
        static const char *const bad[] = {
                "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1\"}]}",
                "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":3}],\"interfaces\":[]}",
                "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"address\":\"10.0.0.1/24\",\"version\":\"5\"}]}",
                "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"gateway\":\"10.0.0.1\"}}",
                "{\"cniVersion\":\"9.0.0\"}",
                "{\"cniVersion\":\"1.0.0\",\"routes\":[{\"gw\":\"1.1.1.1\"}]}",
                "{\"cniVersion\":\"1.0.0\",\"dns\":[]}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                json_t *j = load(bad[i]);
                if (cni_result_check(j, &e) == 0)
                        fail_msg("accepted %s", bad[i]);
                json_decref(j);
        }
}

/* ---- cache (section 4): T-41 fields, T-43 legacy and corrupt ---- */

static void c04_cache_round_trip(void **state) {
        char root[512];
        (void) snprintf(root, sizeof root, "%s/cache", tmpdir);
        CniConfig cfg = { .cache_dir = root };
        char *args[] = { (char *) "IgnoreUnknown=1", (char *) "K8S_POD_NAME=web", NULL };
        json_t *caps = load("{\"mac\":\"c2:11:22:33:44:55\",\"other\":1}");
        json_t *res = load(modern_1_0);
        const char config[] = "{ \"name\": \"nt\" }\n";
        CniCacheEntry e = { .container_id = (char *) "c1", .ifname = (char *) "eth0", .network = (char *) "nt",
                            .netns = (char *) "/run/netns/x", .config = (char *) config, .config_len = sizeof config - 1,
                            .args = args, .cap_args = caps, .result = res };
        RtError err = {};
        assert_int_equal(cni_cache_write(&cfg, &e, &err), 0);
        char *path = cni_cache_path(&cfg, "nt", "c1", "eth0");
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        char results[600];
        (void) snprintf(results, sizeof results, "%s/results", root);
        assert_int_equal(stat(results, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        char *text = NULL;
        size_t len;
        assert_int_equal(read_file(path, 1 << 20, &text, &len, NULL), 0);
        assert_non_null(strstr(text, "{\"kind\":\"cniCacheV1\",\"containerId\":\"c1\",\"config\":\""));
        assert_non_null(strstr(text, "\"cniArgs\":[[\"IgnoreUnknown\",\"1\"],[\"K8S_POD_NAME\",\"web\"]]"));
        free(text);

        CniCacheEntry back = {};
        assert_int_equal(cni_cache_read(path, &back, &err), 0);
        assert_false(back.legacy);
        assert_string_equal(back.container_id, "c1");
        assert_string_equal(back.netns, "/run/netns/x");
        assert_int_equal(back.config_len, sizeof config - 1);
        assert_memory_equal(back.config, config, sizeof config - 1);
        assert_string_equal(back.args[1], "K8S_POD_NAME=web");
        assert_true(json_equal(back.cap_args, caps));
        assert_true(json_equal(back.result, res));
        cni_cache_entry_done(&back);

        CniCacheEntry *list = NULL;
        size_t n = 0;
        put("cache/results/nt-junk-eth0", "not json");
        put("cache/results/other-c2-eth0", "{\"kind\":\"cniCacheV1\",\"containerId\":\"c2\",\"ifName\":\"eth0\",\"networkName\":\"other\"}");
        assert_int_equal(cni_cache_list(&cfg, "nt", &list, &n, &err), 0);
        assert_int_equal(n, 1);
        cni_cache_entries_free(list, n);
        assert_int_equal(cni_cache_list(&cfg, NULL, &list, &n, &err), 0);
        assert_int_equal(n, 2);
        cni_cache_entries_free(list, n);

        free(path);
        json_decref(caps);
        json_decref(res);
}

static void c06_t43_legacy_and_corrupt_cache(void **state) {
        CniCacheEntry e = {};
        RtError err = {};
        const char *legacy = "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.1.1.1/24\"}]}";
        assert_int_equal(cni_cache_parse(legacy, strlen(legacy), &e, &err), 0);
        assert_true(e.legacy);
        assert_non_null(e.result);
        cni_cache_entry_done(&e);
        assert_int_equal(cni_cache_parse("not json", 8, &e, &err), -EINVAL);
        const char *bad_b64 = "{\"kind\":\"cniCacheV1\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"config\":\"@@\"}";
        assert_int_equal(cni_cache_parse(bad_b64, strlen(bad_b64), &e, &err), -EINVAL);
        const char *bad_args = "{\"kind\":\"cniCacheV1\",\"containerId\":\"c\",\"ifName\":\"e\",\"networkName\":\"n\",\"cniArgs\":[[\"k\"]]}";
        assert_int_equal(cni_cache_parse(bad_args, strlen(bad_args), &e, &err), -EINVAL);
        /* a Podman-style entry: no netns, 0.4.0 result, aliases */
        const char *podman = "{\"kind\":\"cniCacheV1\",\"containerId\":\"abc\",\"config\":\"e30=\",\"ifName\":\"eth0\","
                             "\"networkName\":\"podman\",\"cniArgs\":[[\"IgnoreUnknown\",\"1\"],[\"K8S_POD_NAME\",\"web\"]],"
                             "\"capabilityArgs\":{\"aliases\":{\"podman\":[\"abc\"]}},\"result\":{\"cniVersion\":\"0.4.0\"}}";
        assert_int_equal(cni_cache_parse(podman, strlen(podman), &e, &err), 0);
        assert_null(e.netns);
        assert_string_equal(e.config, "{}");
        cni_cache_entry_done(&e);
}

static void base64_round_trip(void **state) {
        const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        for (size_t i = 0; i < 7; i++) {
                char *enc, *dec;
                size_t len;
                assert_int_equal(base64_encode(in[i], strlen(in[i]), &enc), 0);
                assert_string_equal(enc, out[i]);
                assert_int_equal(base64_decode(enc, strlen(enc), &dec, &len), 0);
                assert_int_equal(len, strlen(in[i]));
                assert_memory_equal(dec, in[i], len);
                free(enc);
                free(dec);
        }
        char *dec;
        size_t len;
        assert_int_equal(base64_decode("Zm9", 3, &dec, &len), -EINVAL);
        assert_int_equal(base64_decode("Zm9v\n", 5, &dec, &len), -EINVAL);
        assert_int_equal(base64_decode("Z===", 4, &dec, &len), -EINVAL);
}

/* ---- outcome (I-40), T-14 … T-21 without processes ---- */

static int outcome(const char *out, int wait_status, const char *err_text, bool want, json_t **ret, CniError *ce) {
        CniOutput o = { .out = (char *) out, .out_len = out ? strlen(out) : 0, .err = (char *) err_text,
                        .err_len = err_text ? strlen(err_text) : 0, .wait_status = wait_status };
        return cni_outcome(&o, "fake", 1, "ADD", want, "1.0.0", ret, ce);
}

#define EXITED(n) ((n) << 8)

static void i40_outcome_table(void **state) {
        CniError ce = {};
        json_t *r = NULL;
        assert_int_equal(outcome("{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"try later\",\"details\":\"db locked\"}",
                                 EXITED(1), NULL, true, &r, &ce), -EIO);
        assert_int_equal(ce.code, 11);
        assert_int_equal(ce.origin, CNI_ORIGIN_PLUGIN);
        assert_int_equal(ce.index, 1);
        assert_string_equal(ce.e.msg, "plugin type=\"fake\" failed (add): try later; db locked");

        assert_int_equal(outcome("this is not json", EXITED(2), NULL, true, &r, &ce), -EIO);
        assert_non_null(strstr(ce.e.msg, "not valid JSON"));
        assert_string_equal(ce.details, "this is not json");
        assert_int_equal(ce.exit_status, 2);

        assert_int_equal(outcome(NULL, EXITED(3), "boom on stderr\n", true, &r, &ce), -EIO);
        assert_string_equal(ce.msg, "boom on stderr");

        assert_int_equal(outcome(NULL, EXITED(4), NULL, true, &r, &ce), -EIO);
        assert_string_equal(ce.msg, "plugin failed with no error message: exit status 4");

        assert_int_equal(outcome(NULL, SIGSEGV, NULL, true, &r, &ce), -EIO);
        assert_int_equal(ce.category, CNI_ERR_SIGNAL);
        assert_non_null(strstr(ce.e.msg, "signal: Segmentation fault"));

        assert_int_equal(outcome("garbage", 0, NULL, true, &r, &ce), -EIO);
        assert_int_equal(outcome("", 0, NULL, true, &r, &ce), -EIO);
        assert_non_null(strstr(ce.e.msg, "unexpected end of JSON input"));
        assert_int_equal(outcome("null", 0, NULL, true, &r, &ce), -EIO);
        /* DEL reads no output */
        assert_int_equal(outcome("garbage", 0, NULL, false, NULL, &ce), 0);
        assert_int_equal(outcome("", 0, NULL, false, NULL, &ce), 0);

        /* T-20: no version is the list's */
        assert_int_equal(outcome("{\"ips\":[{\"address\":\"10.9.9.9/24\"}]}", 0, NULL, true, &r, &ce), 0);
        assert_string_equal(json_string_value(json_object_get(r, "cniVersion")), "1.0.0");
        json_decref(r);
        /* T-21: an error object with exit 0 is an empty result */
        assert_int_equal(outcome("{\"code\":7,\"msg\":\"bad\"}", 0, NULL, true, &r, &ce), 0);
        assert_null(json_object_get(r, "code"));
        json_decref(r);
        /* I-41: a version above ours */
        assert_int_equal(outcome("{\"cniVersion\":\"2.0.0\"}", 0, NULL, true, &r, &ce), -EIO);
        assert_non_null(strstr(ce.e.msg, "unsupported CNI result version"));
}

static void error_json_has_cni_fields(void **state) {
        CniError ce = {};
        assert_int_equal(outcome("{\"code\":11,\"msg\":\"m\",\"details\":\"d\"}", EXITED(1), NULL, true, NULL, &ce), -EIO);
        json_t *j = cni_error_json(&ce);
        assert_int_equal(json_integer_value(json_object_get(j, "code")), 11);
        assert_string_equal(json_string_value(json_object_get(j, "msg")), "m");
        assert_string_equal(json_string_value(json_object_get(j, "details")), "d");
        assert_string_equal(json_string_value(json_object_get(j, "origin")), "plugin");
        assert_string_equal(json_string_value(json_object_get(j, "plugin")), "fake");
        json_decref(j);
}

static void raw_scanner_spans(void **state) {
        const char *t = " { \"a\" : [1, {\"b\":\"}\\\"\"}] , \"c\":true,\"d\":-1.5e3 } ";
        JsonMember m[4];
        size_t n;
        assert_int_equal(json_raw_members(t, strlen(t), m, 4, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(m[0].value.len, strlen("[1, {\"b\":\"}\\\"\"}]"));
        assert_memory_equal(m[2].value.p, "-1.5e3", 6);
        assert_int_equal(m[2].value.len, 6);
        assert_int_equal(json_raw_members(t, strlen(t), m, 2, &n), -E2BIG);
        JsonSpan e[4];
        assert_int_equal(json_raw_elements("[]", 2, e, 4, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(json_raw_elements("{}", 2, e, 4, &n), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(v10_container_ids),
                cmocka_unit_test(v15_ifnames),
                cmocka_unit_test(v20_network_names),
                cmocka_unit_test(i20_args),
                cmocka_unit_test(v30_versions),
                cmocka_unit_test(t04_invalid_lists_name_the_reason),
                cmocka_unit_test(t04_error_carries_line_and_column),
                cmocka_unit_test(t05_flags),
                cmocka_unit_test(t06_version_selection),
                cmocka_unit_test(l17_t07_request_is_byte_faithful),
                cmocka_unit_test(i31_i32_t11_prev_result_and_runtime_config),
                cmocka_unit_test(l30_l31_t03_legacy_conf),
                cmocka_unit_test_setup_teardown(t01_t02_lookup_order_and_diagnostics, make_tmp, remove_tmp),
                cmocka_unit_test_setup_teardown(l21_t08_sibling_plugin_dir, make_tmp, remove_tmp),
                cmocka_unit_test(r20_t44_conversions),
                cmocka_unit_test(r14_r30_lenient_shapes),
                cmocka_unit_test_setup_teardown(c04_cache_round_trip, make_tmp, remove_tmp),
                cmocka_unit_test(c06_t43_legacy_and_corrupt_cache),
                cmocka_unit_test(base64_round_trip),
                cmocka_unit_test(i40_outcome_table),
                cmocka_unit_test(error_json_has_cni_fields),
                cmocka_unit_test(raw_scanner_spans),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
