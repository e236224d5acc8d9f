/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "netns.h"

static void ifnames(void **state) {
        RtError e = {};
        const char *good[] = { "eth0", "a", "br-lab", "veth.5", "123456789012345",
                               "nsprov0", "e_1" };
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                assert_int_equal(netns_ifname_check(good[i], NULL), 0);

        assert_int_equal(netns_ifname_check("x123456789012345", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "'x123456789012345' is 16 bytes long"));
        assert_int_equal(netns_ifname_check("", &e), -EINVAL);
        assert_int_equal(netns_ifname_check(NULL, &e), -EINVAL);
        assert_int_equal(netns_ifname_check(".", &e), -EINVAL);
        assert_int_equal(netns_ifname_check("..", &e), -EINVAL);
        assert_int_equal(netns_ifname_check("a/b", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "'a/b'"));
        assert_int_equal(netns_ifname_check("a b", &e), -EINVAL);
        assert_int_equal(netns_ifname_check("a\tb", &e), -EINVAL);
        assert_int_equal(netns_ifname_check("a:b", &e), -EINVAL);
        assert_int_equal(netns_ifname_check("a\nb", &e), -EINVAL);
        /* the bad byte is not echoed raw: no forged lines */
        assert_null(strchr(e.msg, '\n'));
        assert_int_equal(netns_ifname_check("\xc3\xa9th0", &e), -EINVAL);
}

static void netns_names_and_owners(void **state) {
        RtError e = {};
        assert_int_equal(netns_name_check("nsprov-0123abcd", NULL), 0);
        assert_int_equal(netns_name_check("a.b_c-d", NULL), 0);
        assert_int_equal(netns_name_check("../etc", &e), -EINVAL);
        assert_int_equal(netns_name_check("a/b", &e), -EINVAL);
        assert_int_equal(netns_name_check("..", &e), -EINVAL);
        assert_int_equal(netns_name_check("", &e), -EINVAL);
        char long_name[NETNS_NAME_MAX + 2];
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = '\0';
        assert_int_equal(netns_name_check(long_name, &e), -EINVAL);
        long_name[NETNS_NAME_MAX] = '\0';
        assert_int_equal(netns_name_check(long_name, NULL), 0);
        /* a very long bad value is shortened in the message */
        long_name[0] = '/';
        assert_int_equal(netns_name_check(long_name, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "..."));

        assert_int_equal(netns_owner_check("ctr:0123abcd", NULL), 0);
        assert_int_equal(netns_owner_check("demo-x", NULL), 0);
        assert_int_equal(netns_owner_check("a b", &e), -EINVAL);
        assert_int_equal(netns_owner_check("a/b", &e), -EINVAL);
        assert_int_equal(netns_owner_check(NULL, &e), -EINVAL);
}

static void macs(void **state) {
        RtError e = {};
        NetnsMac m;
        char buf[NETNS_MAC_STRLEN];
        assert_int_equal(netns_mac_parse("02:00:5E:10:aB:ff", &m, &e), 0);
        assert_string_equal(netns_mac_format(&m, buf), "02:00:5e:10:ab:ff");
        assert_int_equal(netns_mac_check_unicast(&m, NULL), 0);

        const char *bad[] = { "", "02:00:5e:10:ab", "02:00:5e:10:ab:ff:00", "2:0:5e:10:ab:ff",
                              "02-00-5e-10-ab-ff", "02:00:5e:10:ab:fg", "02:00:5e:10:ab:f",
                              "0200.5e10.abff", " 02:00:5e:10:ab:ff" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(netns_mac_parse(bad[i], &m, &e), -EINVAL);
                assert_non_null(strstr(e.msg, "aa:bb:cc:dd:ee:ff"));
        }
        assert_int_equal(netns_mac_parse(NULL, &m, &e), -EINVAL);

        assert_int_equal(netns_mac_parse("01:00:5e:00:00:01", &m, NULL), 0);
        assert_int_equal(netns_mac_check_unicast(&m, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "multicast"));
        assert_int_equal(netns_mac_parse("00:00:00:00:00:00", &m, NULL), 0);
        assert_int_equal(netns_mac_check_unicast(&m, &e), -EINVAL);
        assert_int_equal(netns_mac_parse("ff:ff:ff:ff:ff:ff", &m, NULL), 0);
        assert_int_equal(netns_mac_check_unicast(&m, &e), -EINVAL);
}

static void ips_and_cidrs(void **state) {
        RtError e = {};
        NetnsIp ip;
        NetnsCidr c;
        char buf[NETNS_CIDR_STRLEN];

        assert_int_equal(netns_ip_parse("10.88.0.1", &ip, NULL), 0);
        assert_int_equal(ip.family, AF_INET);
        assert_int_equal(netns_ip_parse("fd00::1", &ip, NULL), 0);
        assert_int_equal(ip.family, AF_INET6);
        assert_int_equal(netns_ip_parse("10.88.0", &ip, &e), -EINVAL);
        assert_int_equal(netns_ip_parse("10.88.0.256", &ip, &e), -EINVAL);
        assert_int_equal(netns_ip_parse("fd00:::1", &ip, &e), -EINVAL);
        assert_int_equal(netns_ip_parse("", &ip, &e), -EINVAL);

        assert_int_equal(netns_cidr_parse("10.88.0.5/16", &c, &e), 0);
        assert_int_equal(c.prefixlen, 16);
        assert_string_equal(netns_cidr_format(&c, buf), "10.88.0.5/16");
        assert_int_equal(netns_cidr_parse("2001:db8::1/64", &c, &e), 0);
        assert_string_equal(netns_cidr_format(&c, buf), "2001:db8::1/64");
        assert_int_equal(netns_cidr_parse("0.0.0.0/0", &c, &e), 0);
        assert_int_equal(netns_cidr_parse("::/128", &c, &e), 0);

        assert_int_equal(netns_cidr_parse("10.88.0.5", &c, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "no prefix length"));
        assert_int_equal(netns_cidr_parse("10.88.0.5/33", &c, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "0 to 32"));
        assert_int_equal(netns_cidr_parse("fd00::1/129", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("10.88.0.5/", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("10.88.0.5/-1", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("10.88.0.5/08", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("10.88.0.5/8x", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("/8", &c, &e), -EINVAL);
        assert_int_equal(netns_cidr_parse("x/8", &c, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "'x/8'"));
}

static void sysctl_keys(void **state) {
        RtError e = {};
        assert_int_equal(netns_sysctl_key_check("net.ipv4.ip_forward", NULL), 0);
        assert_int_equal(netns_sysctl_key_check("net/ipv6/conf/eth0.5/accept_dad", NULL), 0);
        assert_int_equal(netns_sysctl_key_check("kernel.hostname", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "not under net."));
        assert_int_equal(netns_sysctl_key_check("net/../kernel/hostname", &e), -EINVAL);
        assert_int_equal(netns_sysctl_key_check("net..ipv4", &e), -EINVAL);
        assert_int_equal(netns_sysctl_key_check("net/ipv4/", &e), -EINVAL);
        assert_int_equal(netns_sysctl_key_check("net.ipv4 ip_forward", &e), -EINVAL);
        assert_int_equal(netns_sysctl_key_check("", &e), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ifnames),
                cmocka_unit_test(netns_names_and_owners),
                cmocka_unit_test(macs),
                cmocka_unit_test(ips_and_cidrs),
                cmocka_unit_test(sysctl_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
