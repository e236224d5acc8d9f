/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "netns.h"
#include "parse.h"

/* Bad input is echoed back in messages; keep it printable and short so a hostile name
 * cannot forge log lines or flood an error buffer. */
static const char *shown(const char *s, char buf[static 72]) {
        size_t j = 0;
        for (size_t i = 0; s[i] && j < 64; i++) {
                unsigned char c = (unsigned char) s[i];
                buf[j++] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
        }
        if (strlen(s) > 64) {
                memcpy(buf + j, "...", 3);
                j += 3;
        }
        buf[j] = '\0';
        return buf;
}

int netns_ifname_check(const char *ifname, RtError *err) {
        char b[72];
        if (!ifname || !*ifname)
                return rt_err_setx(err, -EINVAL, "interface name is empty");
        size_t l = strlen(ifname);
        if (l > NETNS_IFNAME_MAX)
                return rt_err_setx(err, -EINVAL,
                                   "interface name '%s' is %zu bytes long, the kernel allows %d",
                                   shown(ifname, b), l, NETNS_IFNAME_MAX);
        if (streq(ifname, ".") || streq(ifname, ".."))
                return rt_err_setx(err, -EINVAL, "interface name '%s' is reserved", ifname);
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) ifname[i];
                /* The kernel itself refuses '/', ':' and whitespace (dev_valid_name); control
                 * and non-ASCII bytes it allows, but they break every tool that shows them. */
                if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
                        return rt_err_setx(err, -EINVAL,
                                           "interface name '%s' has a forbidden character at "
                                           "byte %zu (no '/', ':', whitespace or control bytes)",
                                           shown(ifname, b), i);
        }
        return 0;
}

static int check_charset(const char *what, const char *s, size_t max, const char *extra,
                         RtError *err) {
        char b[72];
        if (!s || !*s)
                return rt_err_setx(err, -EINVAL, "%s is empty", what);
        size_t l = strlen(s);
        if (l > max)
                return rt_err_setx(err, -EINVAL, "%s '%s' is %zu bytes long, at most %zu allowed",
                                   what, shown(s, b), l, max);
        if (streq(s, ".") || streq(s, ".."))
                return rt_err_setx(err, -EINVAL, "%s '%s' is reserved", what, s);
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) s[i];
                if (!isascii(c) || !(isalnum(c) || strchr(extra, c)))
                        return rt_err_setx(err, -EINVAL,
                                           "%s '%s' has a forbidden character at byte %zu "
                                           "(allowed: letters, digits and '%s')",
                                           what, shown(s, b), i, extra);
        }
        return 0;
}

int netns_name_check(const char *name, RtError *err) {
        return check_charset("network namespace name", name, NETNS_NAME_MAX, "_.-", err);
}

int netns_owner_check(const char *owner, RtError *err) {
        return check_charset("owner", owner, NETNS_OWNER_MAX, "_.:-", err);
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int netns_mac_parse(const char *s, NetnsMac *ret, RtError *err) {
        char b[72];
        NetnsMac mac;
        if (!s)
                return rt_err_setx(err, -EINVAL, "MAC address is empty");
        /* Exactly six two-digit groups: "a:b:c:d:e:f" parses with ether_aton, but a
         * one-digit group is nearly always a typo in a lab recipe. */
        if (strlen(s) != 17)
                goto bad;
        for (int i = 0; i < 6; i++) {
                int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
                if (hi < 0 || lo < 0)
                        goto bad;
                if (i < 5 && s[3 * i + 2] != ':')
                        goto bad;
                mac.bytes[i] = (uint8_t) (hi << 4 | lo);
        }
        *ret = mac;
        return 0;
bad:
        return rt_err_setx(err, -EINVAL, "MAC address '%s' is not of the form aa:bb:cc:dd:ee:ff",
                           shown(s, b));
}

int netns_mac_check_unicast(const NetnsMac *mac, RtError *err) {
        char b[NETNS_MAC_STRLEN];
        static const NetnsMac zero = {};
        if (mac->bytes[0] & 0x01)
                return rt_err_setx(err, -EINVAL,
                                   "MAC address %s is a multicast address, an interface needs a "
                                   "unicast one (even first octet)",
                                   netns_mac_format(mac, b));
        if (memcmp(mac, &zero, sizeof zero) == 0)
                return rt_err_setx(err, -EINVAL, "MAC address 00:00:00:00:00:00 is not usable");
        return 0;
}

const char *netns_mac_format(const NetnsMac *mac, char buf[static NETNS_MAC_STRLEN]) {
        const uint8_t *m = mac->bytes;
        (void) snprintf(buf, NETNS_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                        m[3], m[4], m[5]);
        return buf;
}

int netns_ip_parse(const char *s, NetnsIp *ret, RtError *err) {
        char b[72];
        NetnsIp ip = {};
        if (!s || !*s)
                return rt_err_setx(err, -EINVAL, "IP address is empty");
        /* inet_pton is strict already: no leading zeros in IPv4, no trailing junk. */
        if (strchr(s, ':')) {
                ip.family = AF_INET6;
                if (inet_pton(AF_INET6, s, &ip.v6) != 1)
                        return rt_err_setx(err, -EINVAL, "'%s' is not an IPv6 address", shown(s, b));
        } else {
                ip.family = AF_INET;
                if (inet_pton(AF_INET, s, &ip.v4) != 1)
                        return rt_err_setx(err, -EINVAL, "'%s' is not an IPv4 address", shown(s, b));
        }
        *ret = ip;
        return 0;
}

int netns_cidr_parse(const char *s, NetnsCidr *ret, RtError *err) {
        char b[72];
        char addr[INET6_ADDRSTRLEN];
        if (!s || !*s)
                return rt_err_setx(err, -EINVAL, "address with prefix length is empty");
        const char *slash = strrchr(s, '/');
        if (!slash)
                return rt_err_setx(err, -EINVAL, "'%s' has no prefix length (write ADDRESS/LENGTH)",
                                   shown(s, b));
        size_t al = (size_t) (slash - s);
        if (al == 0 || al >= sizeof addr)
                return rt_err_setx(err, -EINVAL, "'%s' is not an address with prefix length",
                                   shown(s, b));
        memcpy(addr, s, al);
        addr[al] = '\0';

        NetnsCidr c = {};
        int r = netns_ip_parse(addr, &c.ip, err);
        if (r < 0)
                return rt_err_prefix(err, r, "'%s'", shown(s, b));
        uint32_t max = c.ip.family == AF_INET ? 32 : 128, len;
        /* A leading '0' would be a second spelling of the same length; refuse it. */
        if ((slash[1] == '0' && slash[2] != '\0') || safe_atou32_range(slash + 1, 0, max, &len) < 0)
                return rt_err_setx(err, -EINVAL, "'%s': prefix length must be 0 to %u", shown(s, b),
                                   max);
        c.prefixlen = (uint8_t) len;
        *ret = c;
        return 0;
}

const char *netns_ip_format(const NetnsIp *ip, char buf[static INET6_ADDRSTRLEN]) {
        if (!inet_ntop(ip->family, ip->family == AF_INET ? (const void *) &ip->v4
                                                         : (const void *) &ip->v6,
                       buf, INET6_ADDRSTRLEN))
                (void) snprintf(buf, INET6_ADDRSTRLEN, "(family %d)", ip->family);
        return buf;
}

const char *netns_cidr_format(const NetnsCidr *cidr, char buf[static NETNS_CIDR_STRLEN]) {
        char a[INET6_ADDRSTRLEN];
        (void) snprintf(buf, NETNS_CIDR_STRLEN, "%s/%u", netns_ip_format(&cidr->ip, a),
                        cidr->prefixlen);
        return buf;
}

int netns_sysctl_key_check(const char *key, RtError *err) {
        char b[72];
        int r = check_charset("sysctl key", key, 256, "_.-/", err);
        if (r < 0)
                return r;
        /* Only the per-netns tree: anything else would change the whole host from inside
         * what the caller believes is an isolated namespace. */
        if (!startswith(key, "net.") && !startswith(key, "net/"))
                return rt_err_setx(err, -EINVAL,
                                   "sysctl key '%s' is not under net.: only those are per netns",
                                   shown(key, b));
        if (strstr(key, "..") || strstr(key, "//") || key[strlen(key) - 1] == '/' ||
            key[strlen(key) - 1] == '.')
                return rt_err_setx(err, -EINVAL, "sysctl key '%s' is malformed", shown(key, b));
        return 0;
}
