/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state module alone, in a temp store, no root: the ledger's attachment lists, what a
 * reader makes of a record whose monitor is gone, how a killed create is told from one in
 * progress, and the default bridge a root gets. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs.h"
#include "macro.h"
#include "state.h"
#include "strv.h"

typedef struct TmpStore {
        char dir[64];
        CtrStore s;
} TmpStore;

static int store_up(void **state) {
        TmpStore *t = calloc(1, sizeof *t);
        assert_non_null(t);
        (void) snprintf(t->dir, sizeof t->dir, "/tmp/nsprov-test-state-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        char root[128], run[128];
        (void) snprintf(root, sizeof root, "%s/root", t->dir);
        (void) snprintf(run, sizeof run, "%s/run", t->dir);
        assert_int_equal(ctr_store_init(&t->s, root, run, NULL), 0);
        *state = t;
        return 0;
}

static int store_down(void **state) {
        TmpStore *t = *state;
        (void) rm_rf(t->dir, NULL);
        free(t);
        return 0;
}

static int collect(const char *network, const char *ifname, void *userdata) {
        char line[128];
        (void) snprintf(line, sizeof line, "%s %s", network, ifname);
        return strv_push(userdata, line);
}

static void ledger_lists_add_remove_and_forget(void **state) {
        TmpStore *t = *state;
        const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char dir[PATH_MAX];
        ctr_path(&t->s, id, NULL, dir);
        assert_int_equal(mkdir_p(dir, 0700, NULL), 0);

        assert_int_equal(ledger_list_each(&t->s, id, LEDGER_LIST_LINKS, collect, NULL), 0);
        assert_int_equal(ledger_list_add(&t->s, id, LEDGER_LIST_LINKS, "lab1", "eth0", NULL), 0);
        assert_int_equal(ledger_list_add(&t->s, id, LEDGER_LIST_LINKS, "lab1", "eth1", NULL), 0);
        /* the same attachment twice (a retried connect): two entries, removed one at a time */
        assert_int_equal(ledger_list_add(&t->s, id, LEDGER_LIST_LINKS, "lab1", "eth0", NULL), 0);
        assert_int_equal(ledger_list_add(&t->s, id, LEDGER_LIST_CNI, "cninet", "eth5", NULL), 0);
        char **seen = NULL;
        assert_int_equal(ledger_list_each(&t->s, id, LEDGER_LIST_LINKS, collect, &seen), 3);
        assert_string_equal(seen[0], "lab1 eth0");
        assert_string_equal(seen[1], "lab1 eth1");
        strv_free(seen);
        seen = NULL;

        assert_int_equal(ledger_list_remove(&t->s, id, LEDGER_LIST_LINKS, "lab1", "eth0"), 0);
        assert_int_equal(ledger_list_each(&t->s, id, LEDGER_LIST_LINKS, collect, &seen), 2);
        assert_string_equal(seen[0], "lab1 eth1");
        assert_string_equal(seen[1], "lab1 eth0");
        strv_free(seen);
        seen = NULL;
        /* the lists are apart: the CNI one is untouched by the links' */
        ledger_list_forget(&t->s, id, LEDGER_LIST_LINKS);
        assert_int_equal(ledger_list_each(&t->s, id, LEDGER_LIST_LINKS, collect, &seen), 0);
        assert_int_equal(ledger_list_each(&t->s, id, LEDGER_LIST_CNI, collect, &seen), 1);
        assert_string_equal(seen[0], "cninet eth5");
        strv_free(seen);
        /* removing what is not there is no error */
        assert_int_equal(ledger_list_remove(&t->s, id, LEDGER_LIST_LINKS, "lab9", "eth9"), 0);
}

static void readers_see_a_dead_monitors_container_as_exited(void **state) {
        Container c = { .state = { .status = CTR_RUNNING, .exit_code = 0 } };
        /* this process: a monitor that lives */
        assert_int_equal(proc_id_of(getpid(), &c.state.monitor), 0);
        assert_false(ctr_state_observe(&c));
        assert_int_equal(c.state.status, CTR_RUNNING);

        /* the same pid with another start time: a pid reused, the monitor gone */
        c.state.monitor.start_time++;
        (void) snprintf(c.state.netns, sizeof c.state.netns, "/run/netns/nsprov-x");
        assert_true(ctr_state_observe(&c));
        assert_int_equal(c.state.status, CTR_EXITED);
        assert_int_equal(c.state.exit_code, 137);
        assert_string_equal(c.state.netns, "");
        assert_non_null(strstr(c.state.error, "monitor"));

        /* only a running record is judged by its monitor */
        Container created = { .state = { .status = CTR_CREATED } };
        assert_false(ctr_state_observe(&created));
        assert_int_equal(created.state.status, CTR_CREATED);
}

static void a_killed_create_is_told_by_its_age(void **state) {
        TmpStore *t = *state;
        char p[PATH_MAX];
        (void) snprintf(p, sizeof p, "%s/half-made", t->dir);
        assert_int_equal(mkdir(p, 0700), 0);
        assert_false(ctr_create_abandoned(p));
        struct timespec old[2] = { { .tv_sec = time(NULL) - CTR_CREATE_SECONDS - 5 },
                                   { .tv_sec = time(NULL) - CTR_CREATE_SECONDS - 5 } };
        assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
        assert_true(ctr_create_abandoned(p));
        (void) snprintf(p, sizeof p, "%s/not-there", t->dir);
        assert_false(ctr_create_abandoned(p));
}

static void every_root_but_the_default_gets_a_bridge_of_its_own(void **state) {
        TmpStore *t = *state;
        (void) unsetenv("NSPROV_DEFAULT_BRIDGE");
        CtrStore a, b;
        char root_a[128], root_b[128], run[128];
        (void) snprintf(root_a, sizeof root_a, "%s/a", t->dir);
        (void) snprintf(root_b, sizeof root_b, "%s/b", t->dir);
        (void) snprintf(run, sizeof run, "%s/run", t->dir);
        assert_int_equal(ctr_store_init(&a, root_a, run, NULL), 0);
        assert_int_equal(ctr_store_init(&b, root_b, run, NULL), 0);
        assert_int_equal(strncmp(a.default_bridge, "nsprov", 6), 0);
        assert_int_equal(strlen(a.default_bridge), 14); /* within IFNAMSIZ */
        assert_string_not_equal(a.default_bridge, CTR_DEFAULT_BRIDGE);
        assert_string_not_equal(a.default_bridge, b.default_bridge);
        /* the same root, the same bridge, every time */
        CtrStore again;
        assert_int_equal(ctr_store_init(&again, root_a, run, NULL), 0);
        assert_string_equal(a.default_bridge, again.default_bridge);
        /* asked for by name: that name */
        assert_int_equal(setenv("NSPROV_DEFAULT_BRIDGE", "labbr0", 1), 0);
        assert_int_equal(ctr_store_init(&a, root_a, run, NULL), 0);
        assert_string_equal(a.default_bridge, "labbr0");
        (void) unsetenv("NSPROV_DEFAULT_BRIDGE");
}

static int load_number(const CtrStore *s, const char *name, void *slot) {
        /* a record that does not load (half made): passed over */
        if (streq(name, "broken"))
                return -EBADMSG;
        *(int *) slot = atoi(name);
        return 0;
}

static void no_done(void *slot) {
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *) a - *(const int *) b;
}

static int count_names(const CtrStore *s, const char *name, void *userdata) {
        return strv_push(userdata, name) < 0 ? 0 : 1;
}

static void the_store_names_its_paths_and_lists_its_records(void **state) {
        TmpStore *t = *state;
        char p[PATH_MAX], want[PATH_MAX];
        store_path(&t->s, STORE_IPAM, "lab", ".json", p);
        (void) snprintf(want, sizeof want, "%s/run/ipam/lab.json", t->dir);
        assert_string_equal(p, want);
        store_path(&t->s, STORE_NETWORKS, NULL, NULL, p);
        (void) snprintf(want, sizeof want, "%s/root/networks", t->dir);
        assert_string_equal(p, want);
        store_path(&t->s, STORE_RUN, "seccomp-1.bpf", NULL, p);
        (void) snprintf(want, sizeof want, "%s/run/seccomp-1.bpf", t->dir);
        assert_string_equal(p, want);

        /* a dir not made yet has no records */
        void *items = NULL;
        size_t n = 99;
        assert_int_equal(store_list(&t->s, STORE_NETWORKS, ".json", sizeof(int), load_number, no_done, cmp_int,
                                    &items, &n, NULL), 0);
        assert_int_equal(n, 0);
        free(items);

        store_path(&t->s, STORE_NETWORKS, NULL, NULL, p);
        assert_int_equal(mkdir_p(p, 0700, NULL), 0);
        const char *files[] = { "30.json", "4.json", "broken.json", "12.json", "7.lock", ".hidden.json" };
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
                char f[PATH_MAX + 32];
                (void) snprintf(f, sizeof f, "%s/%s", p, files[i]);
                assert_int_equal(write_file(f, "x", 1, 0600, false, NULL), 0);
        }
        assert_int_equal(store_list(&t->s, STORE_NETWORKS, ".json", sizeof(int), load_number, no_done, cmp_int,
                                    &items, &n, NULL), 0);
        assert_int_equal(n, 3);
        int *nums = items;
        assert_int_equal(nums[0], 4);
        assert_int_equal(nums[1], 12);
        assert_int_equal(nums[2], 30);
        free(items);
        /* every entry but dot files when no suffix is asked */
        char **names = NULL;
        assert_int_equal(store_each(&t->s, STORE_NETWORKS, NULL, count_names, &names), 5);
        strv_free(names);
}

static void readiness_declarations_parse_and_refuse(void **state) {
        CtrReady r;
        assert_int_equal(ctr_ready_parse("tcp:9999", &r, NULL), 0);
        assert_int_equal(r.kind, CTR_READY_TCP);
        assert_int_equal(r.port, 9999);
        assert_int_equal(ctr_ready_parse("unix:/run/agent.sock", &r, NULL), 0);
        assert_int_equal(r.kind, CTR_READY_UNIX);
        assert_string_equal(r.arg, "/run/agent.sock");
        assert_int_equal(ctr_ready_parse("unix:@abstract", &r, NULL), 0);
        assert_int_equal(ctr_ready_parse("cmd:test -e /tmp/up", &r, NULL), 0);
        assert_int_equal(r.kind, CTR_READY_CMD);
        assert_string_equal(r.arg, "test -e /tmp/up");
        assert_int_equal(ctr_ready_parse("none", &r, NULL), 0);
        assert_int_equal(r.kind, CTR_READY_NONE);
        assert_int_equal(ctr_ready_parse(NULL, &r, NULL), 0);
        assert_int_equal(r.kind, CTR_READY_NONE);
        const char *bad[] = { "tcp:0", "tcp:65536", "tcp:", "tcp:99a", "tcp:-1", "unix:relative", "unix:/",
                              "unix:/with space", "cmd:", "http:80", "tcp:80\n", "9999" };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                RtError e = {};
                assert_int_equal(ctr_ready_parse(bad[k], &r, &e), -EINVAL);
                assert_true(e.msg[0]);
        }
        char long_path[200] = "unix:/";
        memset(long_path + 6, 'a', 120);
        assert_int_equal(ctr_ready_parse(long_path, &r, NULL), -EINVAL);
}

static void socket_tables_show_listeners_only(void **state) {
        /* as /proc/PID/net/tcp and tcp6 print them: 9999 = 0x270F listening (0A), 8080 = 0x1F90
         * only connected (01) */
        const char *tcp =
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                "   0: 00000000:270F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
                "   1: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        assert_true(ctr_ready_tcp_listening(tcp, 9999));
        assert_false(ctr_ready_tcp_listening(tcp, 8080));
        assert_false(ctr_ready_tcp_listening(tcp, 80));
        const char *tcp6 =
                "  sl  local_address                         remote_address                        st\n"
                "   0: 00000000000000000000000000000000:270F 00000000000000000000000000000000:0000 0A 0:0\n";
        assert_true(ctr_ready_tcp_listening(tcp6, 9999));
        assert_false(ctr_ready_tcp_listening("", 9999));
        assert_false(ctr_ready_tcp_listening("garbage\n\n:::: 0A\n", 9999));
        const char *unix_table =
                "Num       RefCount Protocol Flags    Type St Inode Path\n"
                "0000000000000000: 00000002 00000000 00010000 0001 01 2001 /run/agent.sock\n"
                "0000000000000000: 00000002 00000000 00000000 0001 03 2002 /run/client.sock\n"
                "0000000000000000: 00000002 00000000 00010000 0001 01 2003 @abstract\n"
                "0000000000000000: 00000002 00000000 00000000 0001 03 2004\n";
        assert_true(ctr_ready_unix_listening(unix_table, "/run/agent.sock"));
        assert_true(ctr_ready_unix_listening(unix_table, "@abstract"));
        assert_false(ctr_ready_unix_listening(unix_table, "/run/client.sock"));
        assert_false(ctr_ready_unix_listening(unix_table, "/run/agent"));
        assert_false(ctr_ready_unix_listening(unix_table, "/run/agent.sock.x"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(ledger_lists_add_remove_and_forget, store_up, store_down),
                cmocka_unit_test(readers_see_a_dead_monitors_container_as_exited),
                cmocka_unit_test(readiness_declarations_parse_and_refuse),
                cmocka_unit_test(socket_tables_show_listeners_only),
                cmocka_unit_test_setup_teardown(the_store_names_its_paths_and_lists_its_records, store_up, store_down),
                cmocka_unit_test_setup_teardown(a_killed_create_is_told_by_its_age, store_up, store_down),
                cmocka_unit_test_setup_teardown(every_root_but_the_default_gets_a_bridge_of_its_own, store_up,
                                                store_down),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
