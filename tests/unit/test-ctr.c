/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's validators and its state files, without a kernel: names, signals,
 * capabilities, image names, and config/state JSON written and read back. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "fs.h"
#include "strv.h"

static void container_names(void **state) {
        RtError e = {};
        assert_int_equal(ctr_name_check("lab-a", NULL), 0);
        assert_int_equal(ctr_name_check("A.b_c-9", NULL), 0);
        assert_int_equal(ctr_name_check("9", NULL), 0);
        assert_int_equal(ctr_name_check("-bad", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "'-bad'"));
        assert_int_equal(ctr_name_check(".bad", &e), -EINVAL);
        assert_int_equal(ctr_name_check("a/b", &e), -EINVAL);
        assert_int_equal(ctr_name_check("a b", &e), -EINVAL);
        assert_int_equal(ctr_name_check("", &e), -EINVAL);
        assert_int_equal(ctr_name_check(NULL, &e), -EINVAL);
        char n[80];
        memset(n, 'a', sizeof n);
        n[64] = '\0';
        assert_int_equal(ctr_name_check(n, NULL), 0);
        n[64] = 'a';
        n[65] = '\0';
        assert_int_equal(ctr_name_check(n, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "1-64"));
}

static void image_names(void **state) {
        assert_int_equal(ctr_image_name_check("host", NULL), 0);
        assert_int_equal(ctr_image_name_check("lnst-agent.1", NULL), 0);
        assert_int_equal(ctr_image_name_check("../etc", NULL), -EINVAL);
        assert_int_equal(ctr_image_name_check(".hidden", NULL), -EINVAL);
        assert_int_equal(ctr_image_name_check("a/b", NULL), -EINVAL);
        assert_int_equal(ctr_image_name_check("", NULL), -EINVAL);
}

static void signals(void **state) {
        char b[16];
        assert_int_equal(signal_from_string("SIGTERM"), SIGTERM);
        assert_int_equal(signal_from_string("TERM"), SIGTERM);
        assert_int_equal(signal_from_string("term"), SIGTERM);
        assert_int_equal(signal_from_string("9"), SIGKILL);
        assert_int_equal(signal_from_string("SIGRTMIN"), SIGRTMIN);
        assert_int_equal(signal_from_string("RTMIN+2"), SIGRTMIN + 2);
        assert_int_equal(signal_from_string("SIGRTMAX-1"), SIGRTMAX - 1);
        assert_int_equal(signal_from_string("RTMIN-1"), -EINVAL);
        assert_int_equal(signal_from_string("RTMAX+1"), -EINVAL);
        assert_int_equal(signal_from_string("0"), -EINVAL);
        assert_int_equal(signal_from_string("65"), -EINVAL);
        assert_int_equal(signal_from_string("SIGNOPE"), -EINVAL);
        assert_int_equal(signal_from_string(""), -EINVAL);
        assert_string_equal(signal_to_string(SIGKILL, b), "SIGKILL");
}

static void capabilities(void **state) {
        RtError e = {};
        char **set = NULL;
        assert_int_equal(caps_resolve(NULL, NULL, false, &set, &e), 0);
        assert_int_equal(strv_length(set), 11);
        assert_true(strv_contains(set, "CAP_CHOWN"));
        assert_false(strv_contains(set, "CAP_NET_ADMIN"));
        strv_free(set);

        char *add[] = { "net_admin", "CAP_NET_RAW", NULL }, *drop[] = { "CHOWN", NULL };
        assert_int_equal(caps_resolve(add, drop, false, &set, &e), 0);
        assert_true(strv_contains(set, "CAP_NET_ADMIN"));
        assert_true(strv_contains(set, "CAP_NET_RAW"));
        assert_false(strv_contains(set, "CAP_CHOWN"));
        strv_free(set);

        char *all[] = { "ALL", NULL };
        assert_int_equal(caps_resolve(NULL, all, false, &set, &e), 0);
        assert_int_equal(strv_length(set), 0);
        strv_free(set);
        assert_int_equal(caps_resolve(NULL, NULL, true, &set, &e), 0);
        assert_true(strv_contains(set, "CAP_SYS_ADMIN"));
        strv_free(set);

        char *bad[] = { "CAP_NOPE", NULL };
        assert_int_equal(caps_resolve(bad, NULL, false, &set, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "unknown capability 'CAP_NOPE'"));
}

static void env_sets_and_replaces(void **state) {
        char **env = NULL;
        assert_int_equal(strv_env_set(&env, "A=1"), 0);
        assert_int_equal(strv_env_set(&env, "B=2"), 0);
        assert_int_equal(strv_env_set(&env, "A=3"), 0);
        assert_int_equal(strv_length(env), 2);
        assert_string_equal(strv_env_get(env, "A"), "3");
        assert_null(strv_env_get(env, "AB"));
        strv_free(env);
}

static void state_round_trips(void **state) {
        char dir[] = "/tmp/nsprov-unit-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char root[256], run[256];
        (void) snprintf(root, sizeof root, "%s/root", dir);
        (void) snprintf(run, sizeof run, "%s/run", dir);
        CtrStore s;
        RtError e = {};
        assert_int_equal(ctr_store_init(&s, root, run, &e), 0);

        char *argv[] = { "sh", "-c", "echo hi", NULL }, *env[] = { "PATH=/bin", NULL };
        BindMount m = { .source = "/src", .destination = "/dst", .readonly = true };
        CtrConfig c = { .image = "host", .rootfs = "host", .argv = argv, .env = env,
                        .mounts = &m, .n_mounts = 1, .network = "none", .stop_signal = SIGTERM,
                        .stop_timeout = 7, .privileged = true, .init = true, .created_ns = 42,
                        .workdir = "/srv", .create_workdir = true };
        memset(c.id, 'a', CTR_ID_LEN);
        (void) snprintf(c.name, sizeof c.name, "lab-a");
        (void) snprintf(c.hostname, sizeof c.hostname, "machine1");
        char p[PATH_MAX];
        ctr_path(&s, c.id, NULL, p);
        assert_int_equal(mkdir_p(p, 0700, &e), 0);
        assert_int_equal(ctr_config_write(&s, &c, &e), 0);
        CtrState st = { .status = CTR_RUNNING, .exit_code = 3, .started_ns = 5,
                        .monitor = { 10, 11 }, .init = { 12, 13 } };
        (void) snprintf(st.netns, sizeof st.netns, "/run/netns/x");
        assert_int_equal(ctr_state_write(&s, c.id, &st, &e), 0);

        Container back = {};
        assert_int_equal(ctr_load(&s, c.id, &back, &e), 0);
        assert_string_equal(back.config.name, "lab-a");
        assert_string_equal(back.config.hostname, "machine1");
        assert_string_equal(back.config.argv[2], "echo hi");
        assert_int_equal(back.config.n_mounts, 1);
        assert_true(back.config.mounts[0].readonly);
        assert_string_equal(back.config.mounts[0].destination, "/dst");
        assert_true(back.config.privileged);
        assert_string_equal(back.config.workdir, "/srv");
        assert_true(back.config.create_workdir);
        assert_int_equal(back.config.stop_timeout, 7);
        assert_int_equal(back.state.status, CTR_RUNNING);
        assert_int_equal(back.state.init.pid, 12);
        assert_int_equal(back.state.monitor.start_time, 11);
        assert_string_equal(back.state.netns, "/run/netns/x");
        ctr_done(&back);

        /* A corrupt state file is an error naming the file, not a crash. */
        ctr_path(&s, c.id, "state.json", p);
        assert_int_equal(write_file_atomic(p, "{\"status\": 5", 12, 0600, 0, &e), 0);
        assert_true(ctr_load(&s, c.id, &back, &e) < 0);
        assert_non_null(strstr(e.msg, "state.json"));
        assert_int_equal(write_file_atomic(p, "{\"status\": \"bogus\"}", 19, 0600, 0, &e), 0);
        assert_true(ctr_load(&s, c.id, &back, &e) < 0);

        /* lookup: by name file, by prefix, ambiguity and absence */
        char id[CTR_ID_LEN + 1];
        (void) snprintf(p, sizeof p, "%s/names/lab-a", run);
        assert_int_equal(write_file_atomic(p, c.id, CTR_ID_LEN, 0600, 0, &e), 0);
        assert_int_equal(ctr_lookup(&s, "lab-a", id, &e), 0);
        assert_memory_equal(id, c.id, CTR_ID_LEN);
        assert_int_equal(ctr_lookup(&s, "aaaa", id, &e), 0);
        assert_int_equal(ctr_lookup(&s, "nope", id, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "no such container 'nope'"));
        assert_int_equal(rm_rf(dir, &e), 0);
}

/* serve's caches: a load is the file's current version, a copy of its own to free */
static void loads_through_the_caches(void **state) {
        char dir[] = "/tmp/nsprov-unit-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char root[256], run[256], p[PATH_MAX];
        (void) snprintf(root, sizeof root, "%s/root", dir);
        (void) snprintf(run, sizeof run, "%s/run", dir);
        CtrStore s;
        RtError e = {};
        assert_int_equal(ctr_store_init(&s, root, run, &e), 0);
        assert_int_equal(ctr_store_caches_open(&s, &e), 0);

        char *argv[] = { "sleep", "1", NULL }, *labels[] = { "lab=a", NULL };
        BindMount m = { .source = "/src", .destination = "/dst" };
        CtrConfig c = { .image = "host", .rootfs = "host", .argv = argv, .labels = labels, .mounts = &m,
                        .n_mounts = 1, .network = "podman", .user = "nobody", .stop_signal = SIGTERM };
        memset(c.id, 'b', CTR_ID_LEN);
        (void) snprintf(c.name, sizeof c.name, "lab-b");
        ctr_path(&s, c.id, NULL, p);
        assert_int_equal(mkdir_p(p, 0700, &e), 0);
        assert_int_equal(ctr_config_write(&s, &c, &e), 0);

        for (int round = 0; round < 3; round++) {
                CtrState st = { .status = round == 1 ? CTR_RUNNING : CTR_EXITED, .exit_code = round };
                if (round > 0)
                        assert_int_equal(ctr_state_write(&s, c.id, &st, &e), 0);
                for (int again = 0; again < 2; again++) {
                        Container back = {};
                        assert_int_equal(ctr_load(&s, c.id, &back, &e), 0);
                        assert_int_equal(back.state.status, round == 0 ? CTR_CREATED : st.status);
                        assert_int_equal(back.state.exit_code, round == 0 ? 0 : round);
                        assert_string_equal(back.config.user, "nobody");
                        assert_string_equal(back.config.labels[0], "lab=a");
                        assert_string_equal(back.config.mounts[0].source, "/src");
                        assert_null(back.config.workdir);
                        assert_int_equal(strv_length(back.config.env), 0);
                        ctr_done(&back); /* a copy: the kept one lives on */
                }
        }
        /* removed: gone from the caches too, and a load says so */
        ctr_caches_forget(&s, c.id);
        ctr_path(&s, c.id, NULL, p);
        assert_int_equal(rm_rf(p, &e), 0);
        Container back = {};
        assert_int_equal(ctr_load(&s, c.id, &back, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "no such container"));

        /* a deep copy owns every string */
        CtrConfig a = {}, b = {};
        assert_int_equal(ctr_config_copy(&a, &c), 0);
        assert_ptr_not_equal(a.argv, c.argv);
        assert_ptr_not_equal(a.mounts[0].destination, m.destination);
        assert_int_equal(ctr_config_copy(&b, &a), 0);
        ctr_config_done(&a);
        assert_string_equal(b.argv[0], "sleep");
        assert_string_equal(b.mounts[0].destination, "/dst");
        assert_int_equal(b.n_mounts, 1);
        ctr_config_done(&b);
        ctr_store_caches_close(&s);
        assert_null(s.caches);
        assert_int_equal(rm_rf(dir, &e), 0);
}

static void network_names_macs_and_host_ifnames(void **state) {
        RtError e = {};
        assert_int_equal(net_name_check("lnst_container_net_net1", NULL), 0);
        assert_int_equal(net_name_check("net-1.a", NULL), 0);
        assert_int_equal(net_name_check("none", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "network mode"));
        assert_int_equal(net_name_check("host", &e), -EINVAL);
        assert_int_equal(net_name_check("-x", &e), -EINVAL);
        assert_int_equal(net_name_check("a/b", &e), -EINVAL);
        assert_int_equal(net_name_check("", &e), -EINVAL);

        NetnsMac a, b, c;
        net_derive_mac("machine1", "net1", 0, &a);
        net_derive_mac("machine1", "net1", 0, &b);
        net_derive_mac("machine1", "net1", 1, &c);
        assert_memory_equal(&a, &b, sizeof a); /* the same on every run */
        assert_memory_not_equal(&a, &c, sizeof a); /* a second NIC differs */
        assert_int_equal(a.bytes[0] & 0x03, 0x02); /* locally administered, unicast */
        assert_int_equal(netns_mac_check_unicast(&a, NULL), 0);
        net_derive_mac("machine2", "net1", 0, &c);
        assert_memory_not_equal(&a, &c, sizeof a);

        char h1[NETNS_IFNAME_MAX + 1], h2[NETNS_IFNAME_MAX + 1], h3[NETNS_IFNAME_MAX + 1];
        net_host_ifname("0123abcd", "eth0", h1);
        net_host_ifname("0123abcd", "eth0", h2);
        net_host_ifname("0123abcd", "eth1", h3);
        assert_string_equal(h1, h2);
        assert_string_not_equal(h1, h3);
        assert_int_equal(strlen(h1), NETNS_IFNAME_MAX);
        assert_int_equal(netns_ifname_check(h1, NULL), 0);
        assert_non_null(startswith(h1, "nsv"));
}

static void network_records_parse_strictly(void **state) {
        RtError e = {};
        Network n = {};
        char good[512];
        (void) snprintf(good, sizeof good,
                        "{\"name\":\"lab\",\"id\":\"%064d\",\"bridge\":\"nsbr1\",\"mtu\":1500,"
                        "\"subnets\":[{\"subnet\":\"203.0.113.0/24\",\"gateway\":\"203.0.113.1\"}]}",
                        0);
        assert_int_equal(net_record_parse(good, strlen(good), &n, &e), 0);
        assert_string_equal(n.bridge, "nsbr1");
        assert_int_equal(n.n_subnets, 1);
        assert_int_equal(n.subnets[0].subnet.prefixlen, 24);
        /* a record of an earlier version: its bridge is on the host */
        assert_false(n.own_netns);
        net_done(&n);
        char lab[512];
        (void) snprintf(lab, sizeof lab,
                        "{\"name\":\"lab.1\",\"id\":\"ab12cd34%056d\",\"bridge\":\"nsbr2\",\"bridgeNetns\":true,"
                        "\"subnets\":[]}",
                        0);
        assert_int_equal(net_record_parse(lab, strlen(lab), &n, &e), 0);
        assert_true(n.own_netns);
        char ns[NETNS_NAME_MAX + 1];
        net_bridge_netns_name(&n, ns);
        /* the network's readable name, and enough of its id to keep stores apart */
        assert_string_equal(ns, "nsprov-net-lab.1-ab12cd34");
        assert_int_equal(netns_name_check(ns, NULL), 0);
        net_done(&n);
        /* the longest network name still makes a valid netns name */
        Network longest = { .id = "ab12cd34" };
        memset(longest.name, 'x', NET_NAME_MAX);
        net_bridge_netns_name(&longest, ns);
        assert_int_equal(netns_name_check(ns, NULL), 0);
        const char *bad[] = {
                "{\"name\":\"lab\"}",
                "{\"name\":\"lab\",\"id\":\"short\",\"bridge\":\"b\",\"subnets\":[]}",
                "[1,2]",
                "{\"name\":\"a\",\"name\":\"b\"}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(net_record_parse(bad[i], strlen(bad[i]), &n, &e), -EBADMSG);
        /* what is wrong, and where: a file edited by hand */
        struct {
                const char *tail, *msg;
        } wrong[] = {
                { "\"subnets\":[{\"subnet\":\"203.0.113.0/24\",\"gateway\":\"nope\"}]}", ".subnets[0].gateway: " },
                { "\"subnets\":[],\"colour\":\"red\"}", ".colour: unknown key" },
                { "\"subnets\":[],\"mtu\":70000}", ".mtu: 70000 is outside 0-65535" },
                { "\"subnets\":[],\"driver\":\"macvlan\"}", ".driver: the only driver is" },
                { "\"subnets\":[{\"gateway\":\"203.0.113.1\"}]}", ".subnets[0].subnet: missing" },
        };
        for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
                char text[512];
                (void) snprintf(text, sizeof text, "{\"name\":\"lab\",\"id\":\"%064d\",\"bridge\":\"nsbr1\",%s", 0,
                                wrong[i].tail);
                e = (RtError) {};
                assert_true(net_record_parse(text, strlen(text), &n, &e) < 0);
                if (!strstr(e.msg, wrong[i].msg))
                        fail_msg("'%s' gave '%s'", wrong[i].tail, e.msg);
        }

        NetAttachment *a = NULL;
        size_t na = 0;
        const char *atts = "[{\"network\":\"lab\",\"ifname\":\"eth0\",\"mac\":\"02:00:00:00:00:01\"}]";
        assert_int_equal(net_attachments_parse(atts, strlen(atts), &a, &na, NULL), 0);
        assert_int_equal(na, 1);
        assert_string_equal(a[0].ifname, "eth0");
        free(a);
        const char *evil = "[{\"network\":\"lab\",\"ifname\":\"../x\",\"mac\":\"02:00:00:00:00:01\"}]";
        e = (RtError) {};
        assert_true(net_attachments_parse(evil, strlen(evil), &a, &na, &e) < 0);
        assert_non_null(strstr(e.msg, "[0].ifname: "));
}

static void config_records_say_where_they_are_wrong(void **state) {
        char good[1024];
        const char *fmt = "{\"id\":\"%064d\",\"name\":\"lab-a\",\"image\":\"host\",\"rootfs\":\"host\","
                          "\"hostname\":\"a\",\"argv\":[\"sleep\",\"1\"],\"env\":[],\"workdir\":null,\"user\":null,"
                          "\"caps\":[],\"labels\":[],\"mounts\":[{\"source\":\"/a\",\"destination\":\"/b\",\"readonly\":true}],"
                          "\"network\":\"none\",\"stopSignal\":15,\"stopTimeout\":10,\"privileged\":false,\"tty\":false,"
                          "\"interactive\":false,\"rm\":false,\"init\":true,\"created\":1,\"createWorkdir\":false%s}";
        (void) snprintf(good, sizeof good, fmt, 0, "");
        Container c = {};
        RtError e = {};
        assert_int_equal(ctr_config_parse(good, strlen(good), &c.config, &e), 0);
        assert_string_equal(c.config.argv[0], "sleep");
        assert_int_equal(c.config.n_mounts, 1);
        assert_true(c.config.mounts[0].readonly);
        ctr_done(&c);
        struct {
                const char *extra, *msg;
        } wrong[] = {
                { ",\"colour\":1", ".colour: unknown key" },
                /* a key twice: refused where the text says so */
                { ",\"rm\":true", "config:1:" },
        };
        for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
                char text[1024];
                (void) snprintf(text, sizeof text, fmt, 0, wrong[i].extra);
                e = (RtError) {};
                CtrConfig k = {};
                assert_true(ctr_config_parse(text, strlen(text), &k, &e) < 0);
                if (!strstr(e.msg, wrong[i].msg))
                        fail_msg("'%s' gave '%s'", wrong[i].extra, e.msg);
        }
        /* a mount without its destination */
        char nodest[1024];
        (void) snprintf(nodest, sizeof nodest, fmt, 0, "");
        char *d = strstr(nodest, ",\"destination\":\"/b\"");
        memmove(d, d + strlen(",\"destination\":\"/b\""), strlen(d + strlen(",\"destination\":\"/b\"")) + 1);
        CtrConfig m = {};
        assert_true(ctr_config_parse(nodest, strlen(nodest), &m, &e) < 0);
        assert_non_null(strstr(e.msg, ".mounts[0].destination: missing"));
        /* a signal no kernel has */
        char bad[1024];
        (void) snprintf(bad, sizeof bad, fmt, 0, "");
        char *sig = strstr(bad, "\"stopSignal\":15");
        memcpy(sig, "\"stopSignal\":99", strlen("\"stopSignal\":99"));
        CtrConfig k = {};
        assert_int_equal(ctr_config_parse(bad, strlen(bad), &k, &e), -ERANGE);
        assert_non_null(strstr(e.msg, ".stopSignal: 99 is outside 1-"));
}

static void log_lines_parse(void **state) {
        CtrLogLine l;
        const char *full = "2026-11-28T15:28:00.123456789Z stderr F oops";
        assert_int_equal(ctr_log_line_parse(full, strlen(full), &l), 0);
        assert_true(l.is_stderr && l.full);
        assert_int_equal(l.time_len, strlen("2026-11-28T15:28:00.123456789Z"));
        assert_int_equal(l.text_len, 4);
        assert_memory_equal(l.text, "oops", 4);
        const char *part = "2026-11-28T15:28:00Z stdout P ";
        assert_int_equal(ctr_log_line_parse(part, strlen(part), &l), 0);
        assert_true(!l.is_stderr && !l.full && l.text_len == 0);
        const char *bad[] = { "", "t stdout", "t stdout F", "t stdout FF x", "t stdout\tF x" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(ctr_log_line_parse(bad[i], strlen(bad[i]), &l), -EBADMSG);
}

static void users_resolve_in_the_containers_files(void **state) {
        const char *passwd = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "broken line without fields\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                             "lnst:x:1000:1000::/home/lnst:/bin/sh"; /* no newline at the end */
        const char *group = "root:x:0:\nwheel:x:10:lnst,other\nlnst:x:1000:\nnet:x:42:other,lnst\n"
                            "bad:x:notanumber:lnst\n";
        CtrUser u;
        RtError e = {};
        assert_int_equal(ctr_user_resolve("lnst", passwd, group, &u, &e), 0);
        assert_int_equal(u.uid, 1000);
        assert_int_equal(u.gid, 1000);
        assert_string_equal(u.home, "/home/lnst");
        /* the primary group first, then those that list the user, once each */
        assert_int_equal(u.n_groups, 3);
        assert_int_equal(u.groups[0], 1000);
        assert_int_equal(u.groups[1], 10);
        assert_int_equal(u.groups[2], 42);

        assert_int_equal(ctr_user_resolve("65534", passwd, group, &u, &e), 0);
        assert_int_equal(u.uid, 65534);
        assert_int_equal(u.gid, 65534);
        assert_string_equal(u.home, "/nonexistent");
        /* a uid the file does not know: gid 0, HOME / */
        assert_int_equal(ctr_user_resolve("4242", passwd, group, &u, &e), 0);
        assert_true(u.uid == 4242 && u.gid == 0 && u.n_groups == 1);
        assert_string_equal(u.home, "/");
        assert_int_equal(ctr_user_resolve("lnst:net", passwd, group, &u, &e), 0);
        assert_true(u.uid == 1000 && u.gid == 42 && u.groups[0] == 42);
        assert_int_equal(ctr_user_resolve("1000:7", NULL, NULL, &u, &e), 0);
        assert_true(u.uid == 1000 && u.gid == 7);

        assert_int_equal(ctr_user_resolve("ghost", passwd, group, &u, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "unable to find user ghost"));
        assert_int_equal(ctr_user_resolve("lnst:ghosts", passwd, group, &u, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "unable to find group ghosts"));
        assert_int_equal(ctr_user_resolve("lnst", NULL, NULL, &u, &e), -ENOENT);

        /* uid to name, as top shows it */
        char name[33];
        assert_int_equal(ctr_user_name(passwd, 1000, name, sizeof name), 0);
        assert_string_equal(name, "lnst");
        assert_int_equal(ctr_user_name(passwd, 4242, name, sizeof name), -ENOENT);
        assert_int_equal(ctr_user_name(NULL, 0, name, sizeof name), -ENOENT);
        assert_int_equal(ctr_user_name(passwd, 65534, name, 4), -ENOENT); /* too long for buf */

        /* the syntax, before any file is read */
        const char *good[] = { "", "root", "0", "0:0", "a.b-c_d", "user$", "4294967294" };
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                assert_int_equal(ctr_user_check(good[i], NULL), 0);
        assert_int_equal(ctr_user_check(NULL, NULL), 0);
        const char *bad[] = { ":", "lnst:", ":lnst", "-lnst", "a b", "a/b", "4294967295", "1:2:3",
                              "x123456789012345678901234567890123", "../etc" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(ctr_user_check(bad[i], NULL), -EINVAL);

        /* the env a command run as the user gets: HOME from passwd unless it is set */
        CtrUser lnst;
        assert_int_equal(ctr_user_resolve("lnst", passwd, group, &lnst, &e), 0);
        char *with[] = { "PATH=/bin", "HOME=/elsewhere", NULL }, *without[] = { "PATH=/bin", NULL };
        assert_ptr_equal(ctr_user_env(with, &lnst), with);
        char **env = ctr_user_env(without, &lnst);
        assert_true(env && env != without);
        assert_string_equal(strv_env_get(env, "HOME"), "/home/lnst");
        assert_string_equal(strv_env_get(env, "PATH"), "/bin");
        assert_null(strv_env_get(without, "HOME")); /* the caller's untouched */
        strv_free(env);
        env = ctr_user_env(NULL, &lnst); /* no env at all */
        assert_true(env && strv_length(env) == 1);
        assert_string_equal(strv_env_get(env, "HOME"), "/home/lnst");
        strv_free(env);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(container_names), cmocka_unit_test(image_names),
                cmocka_unit_test(signals),         cmocka_unit_test(capabilities),
                cmocka_unit_test(env_sets_and_replaces), cmocka_unit_test(state_round_trips),
                cmocka_unit_test(loads_through_the_caches),
                cmocka_unit_test(network_names_macs_and_host_ifnames),
                cmocka_unit_test(network_records_parse_strictly),
                cmocka_unit_test(config_records_say_where_they_are_wrong),
                cmocka_unit_test(log_lines_parse),
                cmocka_unit_test(users_resolve_in_the_containers_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
