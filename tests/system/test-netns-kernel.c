/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netns/ against the real kernel, as root. Every object is named with the test's prefix;
 * every check reads the kernel's own view (`ip -j`, `bridge -j`), never our own code's. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "syslib.h"

typedef struct Fx {
        char p[TEST_PREFIX_LEN + 1];
        char owner[32];
        NlSock *host;
} Fx;

static char name_ring[32][64]; /* names outlive the call that made them, for a whole test */
static unsigned name_next;

/* "<prefix>-<suffix>", kept in the fixture so it outlives the call. */
static const char *nm(Fx *fx, const char *suffix) {
        char *s = name_ring[name_next++ % 32];
        (void) snprintf(s, 64, "%s-%s", fx->p, suffix);
        return s;
}

/* A named netns carrying nsprov's prefix and the test's. */
static const char *nsname(Fx *fx, const char *suffix) {
        char *s = name_ring[name_next++ % 32];
        (void) snprintf(s, 64, "%s%s-%s", NETNS_NAME_PREFIX, fx->p, suffix);
        return s;
}

static int setup(void **state) {
        Fx *fx = calloc(1, sizeof *fx);
        test_prefix_new(fx->p);
        (void) snprintf(fx->owner, sizeof fx->owner, "test-%s", fx->p);
        RtError e = {};
        if (netns_sock_open(-1, &fx->host, &e) < 0) {
                fprintf(stderr, "# %s\n", e.msg);
                free(fx);
                return -1;
        }
        *state = fx;
        return 0;
}

static int teardown(void **state) {
        Fx *fx = *state;
        char report[4096];
        int n = 0;
        /* links of a deleted netns go when the kernel gets to it: up to 3 s */
        for (int tries = 0; tries < 30 && (n = leak_scan(fx->p, report, sizeof report)) > 0; tries++)
                usleep(100 * 1000);
        if (n > 0) {
                fprintf(stderr, "# LEAK: the test left behind: %s\n", report);
                leak_sweep(fx->p);
        }
        netns_sock_free(fx->host);
        free(fx);
        return n > 0 ? -1 : 0;
}

#define assert_ok(expr, e)                                                                         \
        do {                                                                                       \
                int _r = (expr);                                                                   \
                if (_r < 0) {                                                                      \
                        fprintf(stderr, "# %s failed: %d: %s\n", #expr, _r, (e).msg);             \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

static json_t *link_json(const char *netns, const char *ifname) {
        json_t *a = netns ? run_json("ip -n '%s' -j -d link show dev '%s' 2>/dev/null", netns, ifname)
                          : run_json("ip -j -d link show dev '%s' 2>/dev/null", ifname);
        if (!a || json_array_size(a) != 1) {
                json_decref(a);
                return NULL;
        }
        json_t *l = json_incref(json_array_get(a, 0));
        json_decref(a);
        return l;
}

static bool link_exists(const char *netns, const char *ifname) {
        json_t *l = link_json(netns, ifname);
        json_decref(l);
        return l != NULL;
}

/* Links in a deleted netns go when the kernel's cleanup work runs: wait for it, bounded. */
static bool link_gone(const char *ifname) {
        for (int i = 0; i < 300 && link_exists(NULL, ifname); i++)
                usleep(10000);
        return !link_exists(NULL, ifname);
}

static bool has_flag(json_t *link, const char *flag) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(link, "flags"), i, f) if (strcmp(json_string_value(f), flag) == 0) return true;
        return false;
}

static const char *jstr(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

static long long jint(json_t *o, const char *key) {
        return json_integer_value(json_object_get(o, key));
}

static bool netns_listed(const char *name) {
        char *out = NULL;
        (void) run_cmd(&out, "ip netns list");
        bool found = false;
        for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n"))
                if (strncmp(line, name, strlen(name)) == 0 &&
                    (line[strlen(name)] == '\0' || line[strlen(name)] == ' '))
                        found = true;
        free(out);
        return found;
}

static void netns_lifecycle(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "a");
        int fd = -1, fd2 = -1;

        assert_ok(netns_create(ns, &fd, &e), e);
        assert_true(fd >= 0);
        assert_true(netns_listed(ns));
        assert_true(netns_exists(ns));

        /* the fd and the name are one namespace */
        assert_ok(netns_open(ns, &fd2, &e), e);
        struct stat a, b;
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstat(fd2, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        close(fd2);
        char path[128];
        (void) snprintf(path, sizeof path, "/run/netns/%s", ns);
        assert_ok(netns_open(path, &fd2, &e), e);
        close(fd2);
        assert_ok(netns_open_pid(getpid(), &fd2, &e), e);
        assert_int_equal(fstat(fd2, &b), 0);
        assert_int_not_equal(a.st_ino, b.st_ino);
        close(fd2);

        assert_int_equal(netns_create(ns, NULL, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "already exists"));
        assert_true(netns_listed(ns)); /* the failed create did not touch the existing one */

        close(fd);
        assert_ok(netns_delete(ns, &e), e);
        assert_false(netns_listed(ns));
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(netns_delete(ns, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "does not exist"));
        assert_int_equal(netns_open(ns, &fd2, &e), -ENOENT);
        assert_int_equal(netns_open_pid(999999999, &fd2, &e), -ESRCH);

        /* bad names never reach the filesystem */
        assert_int_equal(netns_create("../etc", NULL, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "network namespace name '../etc'"));
        assert_int_equal(netns_open("/dev/null", &fd2, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "not a network namespace"));

        /* made ahead without a name, named later: the same namespace under the name */
        const char *later = nsname(fx, "later");
        assert_ok(netns_create_unnamed(&fd, &e), e);
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_not_equal(a.st_ino, b.st_ino); /* not ours */
        assert_false(netns_listed(later));
        assert_ok(netns_name(later, fd, &e), e);
        assert_true(netns_listed(later));
        assert_int_equal(netns_name(later, fd, &e), -EEXIST);
        assert_ok(netns_open(later, &fd2, &e), e);
        assert_int_equal(fstat(fd2, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        close(fd2);
        close(fd);
        assert_ok(netns_delete(later, &e), e);
        assert_int_equal(netns_name("../etc", 0, &e), -EINVAL);
}

typedef struct Inside {
        struct stat st;
        int called;
} Inside;

static int record_netns(void *userdata, RtError *err) {
        Inside *in = userdata;
        in->called++;
        return stat("/proc/thread-self/ns/net", &in->st) < 0 ? -errno : 0;
}

static void run_in_comes_back(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "r");
        int fd = -1;
        struct stat before, after, target;
        assert_ok(netns_create(ns, &fd, &e), e);
        assert_int_equal(stat("/proc/thread-self/ns/net", &before), 0);
        assert_int_equal(fstat(fd, &target), 0);

        Inside in = {};
        assert_ok(netns_run_in(fd, record_netns, &in, &e), e);
        assert_int_equal(in.called, 1);
        assert_int_equal(in.st.st_ino, target.st_ino);
        assert_int_equal(stat("/proc/thread-self/ns/net", &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        close(fd);
        assert_ok(netns_delete(ns, &e), e);
}

static void veth_born_in_netns(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "v");
        const char *host_if = nm(fx, "h0");
        int fd = -1, ifindex = 0, peer_ifindex = 0;
        NetnsMac mac, pmac;
        assert_ok(netns_mac_parse("02:aa:00:00:00:01", &mac, &e), e);
        assert_ok(netns_mac_parse("02:aa:00:00:00:02", &pmac, &e), e);
        assert_ok(netns_create(ns, &fd, &e), e);
        NlSock *in = NULL;
        assert_ok(netns_sock_open(fd, &in, &e), e);

        NetnsVeth v = { .ifname = host_if, .peer_ifname = "eth0", .peer_netns_fd = fd,
                        .mac = &mac, .peer_mac = &pmac, .mtu = 1400, .up = true,
                        .peer_up = true, .peer_sk = in, .owner = fx->owner };
        assert_ok(netns_veth_add(fx->host, &v, &ifindex, &peer_ifindex, &e), e);

        json_t *h = link_json(NULL, host_if);
        assert_non_null(h);
        assert_int_equal(jint(h, "ifindex"), ifindex);
        assert_string_equal(jstr(h, "address"), "02:aa:00:00:00:01");
        assert_int_equal(jint(h, "mtu"), 1400);
        assert_true(has_flag(h, "UP"));
        char alias[64];
        (void) snprintf(alias, sizeof alias, "nsprov:%s", fx->owner);
        assert_string_equal(jstr(h, "ifalias"), alias);
        assert_string_equal(jstr(json_object_get(h, "linkinfo"), "info_kind"), "veth");
        json_decref(h);

        json_t *p = link_json(ns, "eth0");
        assert_non_null(p);
        assert_int_equal(jint(p, "ifindex"), peer_ifindex);
        assert_string_equal(jstr(p, "address"), "02:aa:00:00:00:02");
        assert_int_equal(jint(p, "mtu"), 1400);
        assert_true(has_flag(p, "UP"));
        assert_int_equal(jint(p, "link_index"), ifindex);
        json_decref(p);

        netns_sock_free(in);
        close(fd);
        /* destroying the netns takes the pair with it */
        assert_ok(netns_delete(ns, &e), e);
        assert_true(link_gone(host_if));
}

static void bridge_and_ports(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *br = nm(fx, "br"), *v0 = nm(fx, "v0"), *v1 = nm(fx, "v1");
        int bri = 0, v0i = 0;
        NetnsMac mac;
        assert_ok(netns_mac_parse("02:bb:00:00:00:01", &mac, &e), e);
        NetnsBridge b = { .ifname = br, .mac = &mac, .up = true, .owner = fx->owner };
        assert_ok(netns_bridge_add(fx->host, &b, &bri, &e), e);

        json_t *j = link_json(NULL, br);
        assert_non_null(j);
        assert_int_equal(jint(j, "ifindex"), bri);
        assert_string_equal(jstr(j, "address"), "02:bb:00:00:00:01");
        json_t *data = json_object_get(json_object_get(j, "linkinfo"), "info_data");
        assert_string_equal(jstr(json_object_get(j, "linkinfo"), "info_kind"), "bridge");
        assert_int_equal(jint(data, "stp_state"), 0);
        assert_int_equal(jint(data, "forward_delay"), 0);
        assert_non_null(strstr(jstr(j, "ifalias"), fx->owner));
        json_decref(j);

        /* a pair that stays on the host: both ends get the mark */
        NetnsVeth v = { .ifname = v0, .peer_ifname = v1, .peer_netns_fd = -1, .up = true,
                        .peer_up = true, .owner = fx->owner };
        assert_ok(netns_veth_add(fx->host, &v, &v0i, NULL, &e), e);
        j = link_json(NULL, v1);
        assert_non_null(strstr(jstr(j, "ifalias"), fx->owner));
        assert_true(has_flag(j, "UP"));
        json_decref(j);

        assert_ok(netns_link_set_master(fx->host, v0i, bri, &e), e);
        json_t *ports = run_json("bridge -j link show");
        size_t i;
        json_t *port;
        bool enslaved = false;
        json_array_foreach(ports, i, port) if (strcmp(jstr(port, "ifname"), v0) == 0 &&
                                                   jstr(port, "master") &&
                                                   strcmp(jstr(port, "master"), br) == 0) enslaved = true;
        json_decref(ports);
        assert_true(enslaved);

        assert_ok(netns_bridge_port_set(fx->host, v0i, NETNS_ON, NETNS_OFF, &e), e);
        ports = run_json("bridge -j -d link show dev '%s'", v0);
        assert_non_null(ports);
        port = json_array_get(ports, 0);
        assert_true(json_is_true(json_object_get(port, "hairpin")));
        assert_true(json_is_false(json_object_get(port, "learning")));
        json_decref(ports);
        assert_ok(netns_bridge_port_set(fx->host, v0i, NETNS_OFF, NETNS_UNCHANGED, &e), e);
        ports = run_json("bridge -j -d link show dev '%s'", v0);
        port = json_array_get(ports, 0);
        assert_true(json_is_false(json_object_get(port, "hairpin")));
        assert_true(json_is_false(json_object_get(port, "learning")));
        json_decref(ports);

        assert_ok(netns_link_set_master(fx->host, v0i, 0, &e), e);
        j = link_json(NULL, v0);
        assert_null(json_object_get(j, "master"));
        json_decref(j);

        assert_ok(netns_link_del(fx->host, v0i, &e), e);
        assert_false(link_exists(NULL, v0));
        assert_false(link_exists(NULL, v1));
        assert_ok(netns_link_del(fx->host, bri, &e), e);
        assert_false(link_exists(NULL, br));
        assert_int_equal(netns_link_del(fx->host, bri, &e), -ENODEV);
}

/* Several bridges go in one group delete; a link already gone is skipped and a link not
 * in the batch (its group untouched) stays. */
static void batch_delete_takes_only_its_links(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *names[] = { nm(fx, "g1"), nm(fx, "g2"), nm(fx, "g3") };
        const char *keep = nm(fx, "gk"), *gone = nm(fx, "gx");
        int ix[4] = {};
        for (size_t i = 0; i < 3; i++) {
                NetnsBridge b = { .ifname = names[i], .owner = fx->owner };
                assert_ok(netns_bridge_add(fx->host, &b, &ix[i], &e), e);
        }
        NetnsBridge kb = { .ifname = keep, .owner = fx->owner }, gb = { .ifname = gone, .owner = fx->owner };
        int keep_ix = 0;
        assert_ok(netns_bridge_add(fx->host, &kb, &keep_ix, &e), e);
        assert_ok(netns_bridge_add(fx->host, &gb, &ix[3], &e), e);
        assert_ok(netns_link_del(fx->host, ix[3], &e), e);

        assert_ok(netns_links_del(fx->host, ix, 4, &e), e);
        for (size_t i = 0; i < 3; i++)
                assert_false(link_exists(NULL, names[i]));
        json_t *k = link_json(NULL, keep);
        assert_non_null(k);
        assert_string_equal(json_string_value(json_object_get(k, "group")), "default");
        json_decref(k);
        assert_ok(netns_links_del(fx->host, &keep_ix, 1, &e), e);
        assert_false(link_exists(NULL, keep));
        assert_ok(netns_links_del(fx->host, &keep_ix, 1, &e), e); /* gone already: nothing to do */
}

/* A burst of link events overruns a socket that listens; the wait must leave its caller's
 * socket a plain request socket. It used to listen on that very socket, and an overrun
 * socket drops every ack sent to it until its queue is read empty: the next request
 * waited for its ack for good (seen as a hung bench). */
static void wait_after_a_burst_leaves_the_socket_usable(void **state) {
        Fx *fx = *state;
        RtError e = {};
        enum { PAIRS = 150 };
        const char *ns = nsname(fx, "burst");
        int nsfd = -1;
        assert_ok(netns_create(ns, &nsfd, &e), e);
        for (int i = 0; i < PAIRS; i++) {
                char host[16], peer[16];
                (void) snprintf(host, sizeof host, "%s-b%d", fx->p, i);
                (void) snprintf(peer, sizeof peer, "eth%d", i);
                NetnsVeth v = { .ifname = host, .peer_ifname = peer, .peer_netns_fd = nsfd, .owner = fx->owner };
                assert_ok(netns_veth_add(fx->host, &v, NULL, NULL, &e), e);
        }
        /* the kernel takes all the pairs with the netns, in one batch */
        close(nsfd);
        assert_ok(netns_delete(ns, &e), e);
        assert_ok(netns_wait_owner_gone(fx->host, fx->owner, 20000, &e), e);
        alarm(20); /* a lost ack fails the test instead of hanging it */
        NetnsBridge b = { .ifname = nm(fx, "after"), .owner = fx->owner };
        int ix = 0;
        assert_ok(netns_bridge_add(fx->host, &b, &ix, &e), e);
        assert_ok(netns_link_del(fx->host, ix, &e), e);
        alarm(0);
}

static void link_settings(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *a = nm(fx, "a"), *b = nm(fx, "b"), *renamed = nm(fx, "ren");
        int ai = 0;
        NetnsVeth v = { .ifname = a, .peer_ifname = b, .peer_netns_fd = -1, .owner = fx->owner };
        assert_ok(netns_veth_add(fx->host, &v, &ai, NULL, &e), e);

        json_t *j = link_json(NULL, a);
        assert_false(has_flag(j, "UP"));
        json_decref(j);
        assert_ok(netns_link_set_up(fx->host, ai, true, &e), e);
        j = link_json(NULL, a);
        assert_true(has_flag(j, "UP"));
        json_decref(j);
        assert_ok(netns_link_set_up(fx->host, ai, false, &e), e);
        j = link_json(NULL, a);
        assert_false(has_flag(j, "UP"));
        json_decref(j);

        assert_ok(netns_link_rename(fx->host, ai, renamed, &e), e);
        assert_false(link_exists(NULL, a));
        j = link_json(NULL, renamed);
        assert_int_equal(jint(j, "ifindex"), ai);
        json_decref(j);

        NetnsMac mac;
        assert_ok(netns_mac_parse("02:cc:00:00:00:07", &mac, &e), e);
        assert_ok(netns_link_set_mac(fx->host, ai, &mac, &e), e);
        assert_ok(netns_link_set_mtu(fx->host, ai, 9000, &e), e);
        j = link_json(NULL, renamed);
        assert_string_equal(jstr(j, "address"), "02:cc:00:00:00:07");
        assert_int_equal(jint(j, "mtu"), 9000);
        json_decref(j);

        /* bad values are refused before the kernel sees them, and named */
        assert_ok(netns_mac_parse("01:00:5e:00:00:01", &mac, &e), e);
        assert_int_equal(netns_link_set_mac(fx->host, ai, &mac, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "multicast"));
        assert_int_equal(netns_link_set_mtu(fx->host, ai, 20, &e), -EINVAL);
        assert_int_equal(netns_link_rename(fx->host, ai, "much-too-long-name", &e), -EINVAL);

        int idx = 0;
        assert_ok(netns_link_index(fx->host, renamed, &idx, &e), e);
        assert_int_equal(idx, ai);
        assert_int_equal(netns_link_index(fx->host, a, &idx, &e), -ENODEV);
        assert_non_null(strstr(e.msg, "does not exist"));
        assert_ok(netns_link_del(fx->host, ai, &e), e);
}

/* A netns with "eth0" (a veth whose other end is on the host) ready for addresses. */
static int make_host(Fx *fx, const char *ns, const char *host_if, int bridge, int *ret_fd,
                     NlSock **ret_in, int *ret_eth0, RtError *e) {
        int r = netns_create(ns, ret_fd, e);
        if (r < 0)
                return r;
        r = netns_sock_open(*ret_fd, ret_in, e);
        if (r < 0)
                return r;
        NetnsVeth v = { .ifname = host_if, .peer_ifname = "eth0", .peer_netns_fd = *ret_fd,
                        .master_ifindex = bridge, .up = true, .peer_up = true,
                        .peer_sk = *ret_in, .owner = fx->owner };
        r = netns_veth_add(fx->host, &v, NULL, ret_eth0, e);
        if (r < 0)
                return r;
        int lo;
        r = netns_link_index(*ret_in, "lo", &lo, e);
        if (r < 0)
                return r;
        return netns_link_set_up(*ret_in, lo, true, e);
}

static json_t *addr_of(json_t *addrs, const char *ip) {
        size_t i;
        json_t *ai;
        json_array_foreach(json_object_get(json_array_get(addrs, 0), "addr_info"), i, ai) if (strcmp(jstr(ai, "local"), ip) == 0) return ai;
        return NULL;
}

static void addresses_and_routes(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "ad"), *host_if = nm(fx, "ad");
        int fd = -1, eth0 = 0;
        NlSock *in = NULL;
        assert_ok(make_host(fx, ns, host_if, 0, &fd, &in, &eth0, &e), e);

        NetnsCidr v4, v6;
        assert_ok(netns_cidr_parse("198.51.100.7/24", &v4, &e), e);
        assert_ok(netns_cidr_parse("2001:db8:7::7/64", &v6, &e), e);
        assert_ok(netns_addr_add(in, eth0, &v4, 0, &e), e);
        assert_ok(netns_addr_add(in, eth0, &v6, NETNS_ADDR_NODAD, &e), e);

        json_t *addrs = run_json("ip -n '%s' -j addr show dev eth0", ns);
        json_t *a4 = addr_of(addrs, "198.51.100.7"), *a6 = addr_of(addrs, "2001:db8:7::7");
        assert_non_null(a4);
        assert_int_equal(jint(a4, "prefixlen"), 24);
        assert_non_null(a6);
        assert_int_equal(jint(a6, "prefixlen"), 64);
        /* usable at once: no DAD, so never "tentative" */
        assert_null(json_object_get(a6, "tentative"));
        assert_true(json_is_true(json_object_get(a6, "nodad")));
        json_decref(addrs);

        assert_int_equal(netns_addr_add(in, eth0, &v4, 0, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "198.51.100.7/24"));

        NetnsIp gw4, gw6;
        assert_ok(netns_ip_parse("198.51.100.254", &gw4, &e), e);
        assert_ok(netns_ip_parse("2001:db8:7::fe", &gw6, &e), e);
        assert_ok(netns_route_add_default(in, &gw4, eth0, &e), e);
        assert_ok(netns_route_add_default(in, &gw6, 0, &e), e);
        json_t *r4 = run_json("ip -n '%s' -j route show default", ns);
        assert_int_equal(json_array_size(r4), 1);
        assert_string_equal(jstr(json_array_get(r4, 0), "gateway"), "198.51.100.254");
        assert_string_equal(jstr(json_array_get(r4, 0), "dev"), "eth0");
        json_decref(r4);
        json_t *r6 = run_json("ip -n '%s' -6 -j route show default", ns);
        assert_int_equal(json_array_size(r6), 1);
        assert_string_equal(jstr(json_array_get(r6, 0), "gateway"), "2001:db8:7::fe");
        json_decref(r6);
        assert_int_equal(netns_route_add_default(in, &gw4, eth0, &e), -EEXIST);

        /* a gateway no interface reaches: the kernel says why */
        NetnsIp far;
        assert_ok(netns_ip_parse("203.0.113.1", &far, &e), e);
        NlSock *in2 = NULL;
        assert_ok(netns_sock_open(fd, &in2, &e), e);
        int r = netns_route_add_default(in2, &far, 0, &e);
        assert_true(r < 0);
        fprintf(stderr, "# unreachable gateway: %s\n", e.msg);
        /* the kernel's own words (extended ack) are kept */
        assert_non_null(strstr(e.msg, "203.0.113.1"));
        netns_sock_free(in2);

        assert_ok(netns_addr_del(in, eth0, &v4, &e), e);
        addrs = run_json("ip -n '%s' -j addr show dev eth0", ns);
        assert_null(addr_of(addrs, "198.51.100.7"));
        assert_non_null(addr_of(addrs, "2001:db8:7::7"));
        json_decref(addrs);
        assert_int_equal(netns_addr_del(in, eth0, &v4, &e), -EADDRNOTAVAIL);

        netns_sock_free(in);
        close(fd);
        assert_ok(netns_delete(ns, &e), e);
        assert_true(link_gone(host_if));
}

static void sysctls_stay_in_their_netns(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "sy");
        int fd = -1;
        char host_before[32], host_after[32], v[32];
        assert_ok(netns_create(ns, &fd, &e), e);
        assert_ok(netns_sysctl_read(-1, "net.ipv4.ip_forward", host_before, sizeof host_before, &e), e);

        assert_ok(netns_sysctl_write(fd, "net.ipv4.ip_forward", "1", &e), e);
        char *out = NULL;
        assert_int_equal(run_cmd(&out, "ip netns exec '%s' cat /proc/sys/net/ipv4/ip_forward", ns), 0);
        assert_string_equal(out, "1\n");
        free(out);
        assert_ok(netns_sysctl_read(fd, "net.ipv4.ip_forward", v, sizeof v, &e), e);
        assert_string_equal(v, "1");
        assert_ok(netns_sysctl_read(-1, "net.ipv4.ip_forward", host_after, sizeof host_after, &e), e);
        assert_string_equal(host_before, host_after);

        /* the slashed form, for names with dots */
        assert_ok(netns_sysctl_write(fd, "net/ipv6/conf/lo/accept_dad", "0", &e), e);
        assert_int_equal(run_cmd(&out, "ip netns exec '%s' cat /proc/sys/net/ipv6/conf/lo/accept_dad", ns), 0);
        assert_string_equal(out, "0\n");
        free(out);

        assert_int_equal(netns_sysctl_write(fd, "kernel.hostname", "x", &e), -EINVAL);
        assert_int_equal(netns_sysctl_write(fd, "net.ipv4.no_such_key", "1", &e), -ENOENT);
        assert_non_null(strstr(e.msg, "does not exist"));
        close(fd);
        assert_ok(netns_delete(ns, &e), e);
}

static void listing_matches_kernel(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "ls"), *host_if = nm(fx, "ls");
        int fd = -1, eth0 = 0;
        NlSock *in = NULL;
        assert_ok(make_host(fx, ns, host_if, 0, &fd, &in, &eth0, &e), e);
        NetnsCidr v4, v6;
        assert_ok(netns_cidr_parse("198.51.100.9/25", &v4, &e), e);
        assert_ok(netns_cidr_parse("2001:db8:9::9/64", &v6, &e), e);
        assert_ok(netns_addr_add(in, eth0, &v4, 0, &e), e);
        assert_ok(netns_addr_add(in, eth0, &v6, NETNS_ADDR_NODAD, &e), e);

        NetnsLinkList list = {};
        assert_ok(netns_link_list(in, &list, &e), e);
        json_t *kernel = run_json("ip -n '%s' -j -d addr show", ns);
        assert_int_equal(list.n, json_array_size(kernel));
        size_t i;
        json_t *k;
        json_array_foreach(kernel, i, k) {
                const NetnsLink *l = netns_link_list_find(&list, jstr(k, "ifname"));
                assert_non_null(l);
                assert_int_equal(l->ifindex, jint(k, "ifindex"));
                assert_int_equal(l->mtu, jint(k, "mtu"));
                char mac[NETNS_MAC_STRLEN];
                assert_true(l->has_mac);
                assert_string_equal(netns_mac_format(&l->mac, mac), jstr(k, "address"));
                assert_int_equal(l->n_addrs, json_array_size(json_object_get(k, "addr_info")));
                size_t j;
                json_t *ai;
                json_array_foreach(json_object_get(k, "addr_info"), j, ai) {
                        bool found = false;
                        for (size_t m = 0; m < l->n_addrs; m++) {
                                char c[NETNS_CIDR_STRLEN], want[NETNS_CIDR_STRLEN];
                                (void) snprintf(want, sizeof want, "%s/%lld", jstr(ai, "local"),
                                                jint(ai, "prefixlen"));
                                if (strcmp(netns_cidr_format(&l->addrs[m].cidr, c), want) == 0)
                                        found = true;
                        }
                        assert_true(found);
                }
                if (json_object_get(k, "link_index"))
                        assert_int_equal(l->peer_ifindex, jint(k, "link_index"));
        }
        const NetnsLink *l = netns_link_list_find(&list, "eth0");
        assert_string_equal(l->kind, "veth");
        assert_true(l->flags & 1 /* IFF_UP */);
        assert_true(l->peer_netnsid >= 0); /* its peer lives in another netns */
        assert_null(netns_link_owner(l));  /* the peer is unmarked; its netns carries the name */
        json_decref(kernel);
        netns_link_list_done(&list);

        /* the host side, seen from the host */
        assert_ok(netns_link_list(fx->host, &list, &e), e);
        l = netns_link_list_find(&list, host_if);
        assert_non_null(l);
        assert_string_equal(netns_link_owner(l), fx->owner);
        netns_link_list_done(&list);

        netns_sock_free(in);
        close(fd);
        assert_ok(netns_delete(ns, &e), e);
        assert_true(link_gone(host_if));
}

static void finder_sees_only_marked(void **state) {
        Fx *fx = *state;
        RtError e = {};
        char other[40];
        (void) snprintf(other, sizeof other, "%s-other", fx->owner);
        const char *b1 = nm(fx, "m1"), *b2 = nm(fx, "m2"), *u0 = nm(fx, "u0"), *u1 = nm(fx, "u1");
        const char *ns = nsname(fx, "m");
        NetnsBridge a = { .ifname = b1, .owner = fx->owner }, b = { .ifname = b2, .owner = other };
        assert_ok(netns_bridge_add(fx->host, &a, NULL, &e), e);
        assert_ok(netns_bridge_add(fx->host, &b, NULL, &e), e);
        assert_int_equal(run_cmd(NULL, "ip link add '%s' type veth peer name '%s'", u0, u1), 0);
        assert_ok(netns_create(ns, NULL, &e), e);

        NetnsMarked m = {};
        assert_ok(netns_find_marked(fx->host, NULL, NULL, &m, &e), e);
        bool saw1 = false, saw2 = false, saw_u = false, saw_ns = false;
        for (size_t i = 0; i < m.links.n; i++) {
                saw1 |= strcmp(m.links.links[i].name, b1) == 0;
                saw2 |= strcmp(m.links.links[i].name, b2) == 0;
                saw_u |= strncmp(m.links.links[i].name, u0, 6) == 0 &&
                         strstr(m.links.links[i].name, "-u");
        }
        for (size_t i = 0; i < m.n_netns; i++)
                saw_ns |= strcmp(m.netns[i], ns) == 0;
        assert_true(saw1 && saw2 && saw_ns);
        assert_false(saw_u);
        netns_marked_done(&m);

        assert_ok(netns_find_marked(fx->host, NULL, fx->owner, &m, &e), e);
        assert_int_equal(m.links.n, 1);
        assert_string_equal(m.links.links[0].name, b1);
        assert_int_equal(m.n_netns, 0);
        netns_marked_done(&m);

        /* the CLI shows the same */
        const char *bin = getenv("NSPROV_BIN");
        assert_non_null(bin);
        json_t *j = run_json("'%s' system marked --format json --owner '%s'", bin, other);
        assert_non_null(j);
        assert_int_equal(json_array_size(json_object_get(j, "links")), 1);
        assert_string_equal(jstr(json_array_get(json_object_get(j, "links"), 0), "name"), b2);
        assert_string_equal(jstr(json_array_get(json_object_get(j, "links"), 0), "owner"), other);
        json_decref(j);
        char *out = NULL;
        assert_int_equal(run_cmd(&out, "'%s' system marked", bin), 0);
        assert_non_null(strstr(out, b1));
        assert_non_null(strstr(out, ns));
        assert_null(strstr(out, u0));
        free(out);

        int idx;
        assert_ok(netns_link_index(fx->host, b1, &idx, &e), e);
        assert_ok(netns_link_del(fx->host, idx, &e), e);
        assert_ok(netns_link_index(fx->host, b2, &idx, &e), e);
        assert_ok(netns_link_del(fx->host, idx, &e), e);
        assert_int_equal(run_cmd(NULL, "ip link del '%s'", u0), 0);
        assert_ok(netns_delete(ns, &e), e);
}

static void traffic_crosses_the_bridge(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *br = nm(fx, "br");
        const char *ns[2] = { nsname(fx, "ta"), nsname(fx, "tb") };
        const char *hif[2] = { nm(fx, "ta"), nm(fx, "tb") };
        const char *v4[2] = { "198.51.100.11/24", "198.51.100.12/24" };
        const char *v6[2] = { "2001:db8:11::1/64", "2001:db8:11::2/64" };
        int bri, fd[2], eth0[2];
        NlSock *in[2] = {};
        NetnsCidr c4[2], c6[2];

        NetnsBridge b = { .ifname = br, .up = true, .owner = fx->owner };
        assert_ok(netns_bridge_add(fx->host, &b, &bri, &e), e);
        for (int i = 0; i < 2; i++) {
                assert_ok(make_host(fx, ns[i], hif[i], bri, &fd[i], &in[i], &eth0[i], &e), e);
                assert_ok(netns_cidr_parse(v4[i], &c4[i], &e), e);
                assert_ok(netns_cidr_parse(v6[i], &c6[i], &e), e);
                assert_ok(netns_addr_add(in[i], eth0[i], &c4[i], 0, &e), e);
                assert_ok(netns_addr_add(in[i], eth0[i], &c6[i], NETNS_ADDR_NODAD, &e), e);
        }
        for (int i = 0; i < 2; i++) {
                assert_true(netns_ping(fd[i], &c4[1 - i].ip, 2, 3000, &e) >= 1);
                assert_true(netns_ping(fd[i], &c6[1 - i].ip, 2, 3000, &e) >= 1);
        }
        /* and by an independent pinger, where the host has one */
        if (run_cmd(NULL, "command -v ping >/dev/null") == 0) {
                assert_int_equal(run_cmd(NULL, "ip netns exec '%s' ping -c1 -W3 198.51.100.12 >/dev/null", ns[0]), 0);
                assert_int_equal(run_cmd(NULL, "ip netns exec '%s' ping -6 -c1 -W3 2001:db8:11::1 >/dev/null", ns[1]), 0);
        }
        /* nobody answers an address that is not there */
        NetnsIp nobody;
        assert_ok(netns_ip_parse("198.51.100.99", &nobody, &e), e);
        assert_int_equal(netns_ping(fd[0], &nobody, 1, 300, &e), 0);

        for (int i = 0; i < 2; i++) {
                netns_sock_free(in[i]);
                close(fd[i]);
                assert_ok(netns_delete(ns[i], &e), e);
        }
        assert_ok(netns_link_del(fx->host, bri, &e), e);
        assert_true(link_gone(hif[0]) && link_gone(hif[1]));
}

static void failures_leave_nothing(void **state) {
        Fx *fx = *state;
        RtError e = {};
        const char *ns = nsname(fx, "f");
        const char *taken = nm(fx, "tk"), *taken_peer = nm(fx, "tkp"), *fresh = nm(fx, "fr");
        int fd = -1;
        NlSock *in = NULL;
        assert_ok(netns_create(ns, &fd, &e), e);
        assert_ok(netns_sock_open(fd, &in, &e), e);

        /* an existing host-side name: EEXIST, and the user's link is left exactly as it was */
        assert_int_equal(run_cmd(NULL, "ip link add '%s' type veth peer name '%s'", taken, taken_peer), 0);
        NetnsVeth v = { .ifname = taken, .peer_ifname = "eth0", .peer_netns_fd = fd,
                        .owner = fx->owner };
        assert_int_equal(netns_veth_add(fx->host, &v, NULL, NULL, &e), -EEXIST);
        assert_non_null(strstr(e.msg, taken));
        json_t *j = link_json(NULL, taken);
        assert_null(json_object_get(j, "ifalias"));
        json_decref(j);
        assert_false(link_exists(ns, "eth0"));

        /* the same for a bridge */
        NetnsBridge b = { .ifname = taken, .owner = fx->owner };
        assert_int_equal(netns_bridge_add(fx->host, &b, NULL, &e), -EEXIST);
        j = link_json(NULL, taken);
        assert_null(json_object_get(j, "ifalias"));
        json_decref(j);
        assert_int_equal(run_cmd(NULL, "ip link del '%s'", taken), 0);

        /* a peer name taken inside the netns: nothing stays on the host */
        NetnsVeth first = { .ifname = nm(fx, "p1"), .peer_ifname = "eth0", .peer_netns_fd = fd,
                            .owner = fx->owner };
        assert_ok(netns_veth_add(fx->host, &first, NULL, NULL, &e), e);
        NetnsVeth clash = { .ifname = fresh, .peer_ifname = "eth0", .peer_netns_fd = fd,
                            .owner = fx->owner };
        assert_int_equal(netns_veth_add(fx->host, &clash, NULL, NULL, &e), -EEXIST);
        assert_false(link_exists(NULL, fresh));

        /* a peer netns fd that is no netns */
        int notns = open("/dev/null", O_RDONLY | O_CLOEXEC);
        NetnsVeth badns = { .ifname = fresh, .peer_ifname = "eth1", .peer_netns_fd = notns,
                            .owner = fx->owner };
        assert_true(netns_veth_add(fx->host, &badns, NULL, NULL, &e) < 0);
        assert_false(link_exists(NULL, fresh));
        close(notns);

        /* input refused before any request: too long, bad owner, bad MAC, peer_up without
         * a socket in the peer's netns */
        NetnsVeth longname = { .ifname = "nstxxxxx-much-too-long", .peer_ifname = "eth1",
                               .peer_netns_fd = fd, .owner = fx->owner };
        assert_int_equal(netns_veth_add(fx->host, &longname, NULL, NULL, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "nstxxxxx-much-too-long"));
        NetnsVeth badowner = { .ifname = fresh, .peer_ifname = "eth1", .peer_netns_fd = fd,
                               .owner = "no spaces" };
        assert_int_equal(netns_veth_add(fx->host, &badowner, NULL, NULL, &e), -EINVAL);
        NetnsMac mc;
        assert_ok(netns_mac_parse("03:00:00:00:00:01", &mc, &e), e);
        NetnsVeth badmac = { .ifname = fresh, .peer_ifname = "eth1", .peer_netns_fd = fd,
                             .peer_mac = &mc, .owner = fx->owner };
        assert_int_equal(netns_veth_add(fx->host, &badmac, NULL, NULL, &e), -EINVAL);
        NetnsVeth nosock = { .ifname = fresh, .peer_ifname = "eth1", .peer_netns_fd = fd,
                             .peer_up = true, .owner = fx->owner };
        assert_int_equal(netns_veth_add(fx->host, &nosock, NULL, NULL, &e), -EINVAL);
        assert_false(link_exists(NULL, fresh));
        assert_false(link_exists(ns, "eth1"));

        /* a missing netns is named */
        int fd2;
        assert_int_equal(netns_open(nsname(fx, "missing"), &fd2, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "missing"));

        netns_sock_free(in);
        close(fd);
        assert_ok(netns_delete(ns, &e), e);
        assert_true(link_gone(first.ifname));
}

int main(void) {
        sys_require_root();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(netns_lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(run_in_comes_back, setup, teardown),
                cmocka_unit_test_setup_teardown(veth_born_in_netns, setup, teardown),
                cmocka_unit_test_setup_teardown(bridge_and_ports, setup, teardown),
                cmocka_unit_test_setup_teardown(batch_delete_takes_only_its_links, setup, teardown),
                cmocka_unit_test_setup_teardown(wait_after_a_burst_leaves_the_socket_usable, setup, teardown),
                cmocka_unit_test_setup_teardown(link_settings, setup, teardown),
                cmocka_unit_test_setup_teardown(addresses_and_routes, setup, teardown),
                cmocka_unit_test_setup_teardown(sysctls_stay_in_their_netns, setup, teardown),
                cmocka_unit_test_setup_teardown(listing_matches_kernel, setup, teardown),
                cmocka_unit_test_setup_teardown(finder_sees_only_marked, setup, teardown),
                cmocka_unit_test_setup_teardown(traffic_crosses_the_bridge, setup, teardown),
                cmocka_unit_test_setup_teardown(failures_leave_nothing, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
