/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small lab built with netns/ alone: a bridge, two network namespaces wired to it with
 * veth pairs, IPv4 and IPv6 addresses, pings both ways, a table of what was made, and a
 * teardown that leaves nothing behind. The main job of README.md until the container
 * runtime lands. */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

typedef struct Host {
        char netns[64];
        char veth[NETNS_IFNAME_MAX + 1];
        int netns_fd;
        NetnsCidr v4, v6;
        NetnsMac mac;
} Host;

typedef struct Lab {
        char prefix[9];
        char owner[NETNS_OWNER_MAX + 1];
        char bridge[NETNS_IFNAME_MAX + 1];
        bool bridge_made;
        Host hosts[2];
} Lab;

static double ms_since(const struct timespec *t0) {
        struct timespec t;
        (void) clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) (t.tv_sec - t0->tv_sec) * 1e3 + (double) (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int build(Lab *lab, NlSock *host, RtError *e) {
        int r, br;
        const NetnsBridge b = { .ifname = lab->bridge, .up = true, .owner = lab->owner };
        r = netns_bridge_add(host, &b, &br, e);
        if (r < 0)
                return r;
        lab->bridge_made = true;

        for (int i = 0; i < 2; i++) {
                Host *h = &lab->hosts[i];
                r = netns_create(h->netns, &h->netns_fd, e);
                if (r < 0)
                        return r;
                _cleanup_(netns_sock_freep) NlSock *in = NULL;
                r = netns_sock_open(h->netns_fd, &in, e);
                if (r < 0)
                        return r;
                const NetnsVeth v = { .ifname = h->veth, .peer_ifname = "eth0",
                                      .peer_netns_fd = h->netns_fd, .peer_mac = &h->mac,
                                      .master_ifindex = br, .up = true, .peer_up = true,
                                      .peer_sk = in, .owner = lab->owner };
                int eth0, lo;
                r = netns_veth_add(host, &v, NULL, &eth0, e);
                if (r < 0)
                        return r;
                if ((r = netns_link_index(in, "lo", &lo, e)) < 0 ||
                    (r = netns_link_set_up(in, lo, true, e)) < 0 ||
                    (r = netns_addr_add(in, eth0, &h->v4, 0, e)) < 0 ||
                    (r = netns_addr_add(in, eth0, &h->v6, NETNS_ADDR_NODAD, e)) < 0)
                        return rt_err_prefix(e, r, "configure %s", h->netns);
        }
        return 0;
}

static int pings(Lab *lab, RtError *e) {
        for (int i = 0; i < 2; i++) {
                Host *from = &lab->hosts[i], *to = &lab->hosts[1 - i];
                const NetnsIp *dst[] = { &to->v4.ip, &to->v6.ip };
                for (size_t k = 0; k < ELEMENTSOF(dst); k++) {
                        char a[INET6_ADDRSTRLEN];
                        int got = netns_ping(from->netns_fd, dst[k], 3, 3000, e);
                        if (got < 0)
                                return got;
                        printf("  ping %-6s -> %-18s %d/3 replies\n", i == 0 ? "a" : "b",
                               netns_ip_format(dst[k], a), got);
                        if (got == 0)
                                return rt_err_setx(e, -EHOSTUNREACH, "no reply from %s to %s",
                                                   from->netns, a);
                }
        }
        return 0;
}

static void print_link_row(const char *where, const NetnsLink *l, const NetnsLinkList *all) {
        char mac[NETNS_MAC_STRLEN], addrs[256] = "";
        for (size_t i = 0; i < l->n_addrs; i++) {
                char c[NETNS_CIDR_STRLEN];
                if (l->addrs[i].scope == 253) /* link-local: the kernel's, not ours */
                        continue;
                size_t n = strlen(addrs);
                (void) snprintf(addrs + n, sizeof addrs - n, "%s%s", n ? " " : "",
                                netns_cidr_format(&l->addrs[i].cidr, c));
        }
        const char *master = "";
        for (size_t i = 0; all && i < all->n; i++)
                if (all->links[i].ifindex == l->master_ifindex)
                        master = all->links[i].name;
        printf("  %-24s %-15s %-7s %-17s %-9s %s\n", where, l->name, *l->kind ? l->kind : "-",
               l->has_mac ? netns_mac_format(&l->mac, mac) : "-", *master ? master : "-",
               *addrs ? addrs : "-");
}

static int show(Lab *lab, NlSock *host, RtError *e) {
        _cleanup_(netns_marked_done) NetnsMarked m = {};
        _cleanup_(netns_link_list_done) NetnsLinkList all = {};
        int r = netns_link_list(host, &all, e);
        if (r < 0)
                return r;
        r = netns_find_marked(host, NULL, lab->owner, &m, e);
        if (r < 0)
                return r;
        printf("\nWhat was made (every link carries the alias '%s%s'):\n", NETNS_MARK_PREFIX,
               lab->owner);
        printf("  %-24s %-15s %-7s %-17s %-9s %s\n", "NAMESPACE", "INTERFACE", "KIND", "MAC",
               "MASTER", "ADDRESSES");
        for (size_t i = 0; i < m.links.n; i++)
                print_link_row("(host)", &m.links.links[i], &all);
        for (int i = 0; i < 2; i++) {
                _cleanup_(netns_sock_freep) NlSock *in = NULL;
                _cleanup_(netns_link_list_done) NetnsLinkList l = {};
                r = netns_sock_open(lab->hosts[i].netns_fd, &in, e);
                if (r >= 0)
                        r = netns_link_list(in, &l, e);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < l.n; k++)
                        print_link_row(lab->hosts[i].netns, &l.links[k], &l);
        }
        return 0;
}

/* Best effort and complete: runs after success and after any failure alike. */
static int teardown(Lab *lab, NlSock *host) {
        int failures = 0;
        RtError e = {};
        for (int i = 0; i < 2; i++) {
                Host *h = &lab->hosts[i];
                h->netns_fd = safe_close(h->netns_fd);
                if (netns_exists(h->netns) && netns_delete(h->netns, &e) < 0) {
                        log_warning("%s", e.msg);
                        failures++;
                }
        }
        if (lab->bridge_made) {
                int br;
                if (netns_link_index(host, lab->bridge, &br, &e) < 0 ||
                    netns_link_del(host, br, &e) < 0) {
                        log_warning("%s", e.msg);
                        failures++;
                }
        }
        return failures;
}

static void usage(void) {
        printf("Usage: nsprov-netlink-demo [--prefix PREFIX]\n\n"
               "Builds a two-host lab over netlink (bridge, namespaces, veths, IPv4 and\n"
               "IPv6), pings across it both ways, shows it, and removes it all.\n"
               "PREFIX (at most 8 characters of [a-z0-9]) names everything it makes.\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "prefix", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Lab lab = {};
        (void) snprintf(lab.prefix, sizeof lab.prefix, "nsd%05d", (int) (getpid() % 100000));
        int c;
        while ((c = getopt_long(argc, argv, "hp:", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        if (strlen(optarg) < 1 || strlen(optarg) > 8 ||
                            strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(optarg)) {
                                fprintf(stderr, "nsprov-netlink-demo: --prefix takes 1-8 of [a-z0-9]\n");
                                return 125;
                        }
                        (void) snprintf(lab.prefix, sizeof lab.prefix, "%s", optarg);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        usage();
                        return 125;
                }
        log_parse_environment();

        (void) snprintf(lab.owner, sizeof lab.owner, "demo-%s", lab.prefix);
        (void) snprintf(lab.bridge, sizeof lab.bridge, "%s-br", lab.prefix);
        for (int i = 0; i < 2; i++) {
                Host *h = &lab.hosts[i];
                RtError pe = {};
                h->netns_fd = -1;
                (void) snprintf(h->netns, sizeof h->netns, "%s%s-%c", NETNS_NAME_PREFIX, lab.prefix,
                                'a' + i);
                (void) snprintf(h->veth, sizeof h->veth, "%s-%c", lab.prefix, 'a' + i);
                /* Documentation ranges: the lab never routes anywhere but its own bridge. */
                char v4[32], v6[48];
                (void) snprintf(v4, sizeof v4, "198.51.100.%d/24", i + 1);
                (void) snprintf(v6, sizeof v6, "2001:db8:100::%d/64", i + 1);
                if (netns_cidr_parse(v4, &h->v4, &pe) < 0 || netns_cidr_parse(v6, &h->v6, &pe) < 0)
                        return log_error("%s", pe.msg), 125;
                /* Locally administered, unicast, and readable: 02:00:00:00:00:0N. */
                h->mac = (NetnsMac) { { 0x02, 0, 0, 0, 0, (uint8_t) (i + 1) } };
        }

        /* A Ctrl-C mid-build must not leave half a lab: hold the signals until teardown has
         * run; the default action then ends us as the user asked. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &block, &old);

        RtError e = {};
        _cleanup_(netns_sock_freep) NlSock *host = NULL;
        if (netns_sock_open(-1, &host, &e) < 0) {
                log_error("%s", e.msg);
                return 125;
        }

        struct timespec t0;
        (void) clock_gettime(CLOCK_MONOTONIC, &t0);
        printf("Building lab '%s': bridge %s, namespaces %s and %s\n", lab.prefix, lab.bridge,
               lab.hosts[0].netns, lab.hosts[1].netns);
        int r = build(&lab, host, &e);
        double t_build = ms_since(&t0);
        if (r >= 0) {
                printf("  built in %.2f ms\n", t_build);
                r = pings(&lab, &e);
        }
        if (r >= 0)
                r = show(&lab, host, &e);
        if (r < 0)
                log_error("Demo failed: %s", e.msg);

        struct timespec t1;
        (void) clock_gettime(CLOCK_MONOTONIC, &t1);
        int failures = teardown(&lab, host);
        RtError ge = {};
        int gone = netns_wait_owner_gone(host, lab.owner, 2000, &ge);
        if (gone < 0) {
                log_error("Teardown left objects behind: %s", ge.msg);
                failures++;
        } else
                printf("\nTorn down in %.2f ms; nothing carrying '%s%s' is left.\n", ms_since(&t1),
                       NETNS_MARK_PREFIX, lab.owner);

        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r < 0 || failures ? 125 : 0;
}
