/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

static uint64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static uint16_t inet_csum(const void *data, size_t len) {
        const uint8_t *p = data;
        uint32_t sum = 0;
        for (; len > 1; p += 2, len -= 2)
                sum += (uint32_t) (p[0] << 8 | p[1]);
        if (len)
                sum += (uint32_t) (p[0] << 8);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t) ~sum);
}

typedef struct PingSock {
        int family;
        int fd;
} PingSock;

static int open_cb(void *userdata, RtError *err) {
        PingSock *p = userdata;
        /* Raw sockets, not ICMP datagram sockets: those need net.ipv4.ping_group_range,
         * which a fresh netns leaves at "1 0" (nobody). */
        p->fd = socket(p->family, SOCK_RAW | SOCK_CLOEXEC,
                       p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
        if (p->fd < 0)
                return rt_err_set(err, -errno, "open ICMP socket");
        return 0;
}

/* Is this datagram our echo reply? v4 raw sockets hand us the IP header too. */
static bool is_our_reply(int family, const uint8_t *buf, size_t n, uint16_t id) {
        if (family == AF_INET) {
                if (n < sizeof(struct ip))
                        return false;
                size_t hl = (size_t) (((const struct ip *) buf)->ip_hl) * 4;
                if (n < hl + sizeof(struct icmphdr))
                        return false;
                const struct icmphdr *h = (const void *) (buf + hl);
                return h->type == ICMP_ECHOREPLY && h->un.echo.id == id;
        }
        if (n < sizeof(struct icmp6_hdr))
                return false;
        const struct icmp6_hdr *h = (const void *) buf;
        return h->icmp6_type == ICMP6_ECHO_REPLY && h->icmp6_id == id;
}

int netns_ping(int netns_fd, const NetnsIp *dst, unsigned count, unsigned timeout_ms,
               RtError *err) {
        assert_return(netns_fd >= 0 && dst && count > 0, -EINVAL);
        char a[INET6_ADDRSTRLEN];
        if (dst->family != AF_INET && dst->family != AF_INET6)
                return rt_err_setx(err, -EAFNOSUPPORT, "ping: family %d", dst->family);

        PingSock ps = { .family = dst->family, .fd = -1 };
        int r = netns_run_in(netns_fd, open_cb, &ps, err);
        if (r < 0)
                return rt_err_prefix(err, r, "ping %s", netns_ip_format(dst, a));
        _cleanup_close_ int fd = ps.fd;

        struct sockaddr_storage ss = {};
        socklen_t sl;
        if (dst->family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
                sin->sin_family = AF_INET;
                sin->sin_addr = dst->v4;
                sl = sizeof *sin;
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_addr = dst->v6;
                sl = sizeof *sin6;
                /* The kernel fills the ICMPv6 checksum (it needs the pseudo-header); only
                 * echo replies need to reach us. */
                struct icmp6_filter f;
                ICMP6_FILTER_SETBLOCKALL(&f);
                ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
                (void) setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
        }

        uint16_t id = htons((uint16_t) (getpid() ^ (uintptr_t) &ss));
        uint64_t deadline = now_ms() + timeout_ms;
        unsigned interval = count > 1 ? timeout_ms / (count + 1) : timeout_ms;
        if (interval > 200)
                interval = 200;
        unsigned sent = 0, received = 0;
        uint64_t next_send = 0;

        while (received < count) {
                uint64_t t = now_ms();
                if (t >= deadline)
                        break;
                if (sent < count && t >= next_send) {
                        uint8_t pkt[64] = {};
                        if (dst->family == AF_INET) {
                                struct icmphdr *h = (struct icmphdr *) pkt;
                                h->type = ICMP_ECHO;
                                h->un.echo.id = id;
                                h->un.echo.sequence = htons((uint16_t) sent);
                                h->checksum = inet_csum(pkt, sizeof pkt);
                        } else {
                                struct icmp6_hdr *h = (struct icmp6_hdr *) pkt;
                                h->icmp6_type = ICMP6_ECHO_REQUEST;
                                h->icmp6_id = id;
                                h->icmp6_seq = htons((uint16_t) sent);
                        }
                        /* A send error (no route yet, neighbour not resolved) counts as a
                         * lost probe, as it would for ping(8). */
                        (void) sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *) &ss, sl);
                        sent++;
                        next_send = t + interval;
                }
                uint64_t wake = sent < count && next_send < deadline ? next_send : deadline;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int n = poll(&pfd, 1, (int) (wake > t ? wake - t : 0));
                if (n < 0 && errno != EINTR)
                        return rt_err_set(err, -errno, "ping %s: poll", netns_ip_format(dst, a));
                if (n <= 0)
                        continue;
                uint8_t buf[512];
                ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got > 0 && is_our_reply(dst->family, buf, (size_t) got, id))
                        received++;
        }
        return (int) received;
}
