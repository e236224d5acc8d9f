/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* netns/: everything nsprov does to kernel networking, over netlink only (no `ip` anywhere).
 *
 * Writes (create, set, delete) are built with libmnl, one request per helper, checked to
 * the kernel's ack, with the kernel's extended-ack text kept in the RtError. Reads (link
 * and address dumps) go through libnl-route's object caches. Every helper that takes an
 * NlSock acts in the network namespace that socket was opened in.
 *
 * Every object made here carries the nsprov mark: its interface alias is
 * "nsprov:<owner>", so netns_find_marked() finds it even when all state files are gone. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "err.h"

#define NETNS_IFNAME_MAX 15                     /* IFNAMSIZ - 1 */
#define NETNS_NAME_MAX 200                      /* a named netns: a file under NETNS_RUN_DIR */
#define NETNS_OWNER_MAX 64
#define NETNS_RUN_DIR "/run/netns"
#define NETNS_MARK_PREFIX "nsprov:"             /* IFLA_IFALIAS of every link nsprov makes */
#define NETNS_NAME_PREFIX "nsprov-"             /* named netns nsprov makes for its containers */
#define NETNS_MAC_STRLEN 18                     /* "aa:bb:cc:dd:ee:ff" + NUL */
#define NETNS_CIDR_STRLEN (INET6_ADDRSTRLEN + 4) /* address, '/', up to 3 digits */

typedef struct NetnsMac {
        uint8_t bytes[6];
} NetnsMac;

typedef struct NetnsIp {
        int family; /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        };
} NetnsIp;

typedef struct NetnsCidr {
        NetnsIp ip;
        uint8_t prefixlen;
} NetnsCidr;

/* ---- Validation and parsing of outside input. Each names the bad value in err. ---- */

/* 1-15 bytes, printable ASCII, no '/', ':', whitespace, not "." or "..". */
int netns_ifname_check(const char *ifname, RtError *err);
/* A named netns: 1-NETNS_NAME_MAX bytes of [A-Za-z0-9_.-], not "." or "..". */
int netns_name_check(const char *name, RtError *err);
/* The owner in a mark: 1-NETNS_OWNER_MAX bytes of [A-Za-z0-9_.:-]. */
int netns_owner_check(const char *owner, RtError *err);
/* "aa:bb:cc:dd:ee:ff" (either case); any address, multicast included. */
int netns_mac_parse(const char *s, NetnsMac *ret, RtError *err);
/* A MAC an interface may carry: not multicast, not all zeros. */
int netns_mac_check_unicast(const NetnsMac *mac, RtError *err);
const char *netns_mac_format(const NetnsMac *mac, char buf[static NETNS_MAC_STRLEN]);
/* An IPv4 or IPv6 address without a prefix. */
int netns_ip_parse(const char *s, NetnsIp *ret, RtError *err);
/* "ADDR/LEN", the prefix length is required and must fit the family. */
int netns_cidr_parse(const char *s, NetnsCidr *ret, RtError *err);
const char *netns_ip_format(const NetnsIp *ip, char buf[static INET6_ADDRSTRLEN]);
const char *netns_cidr_format(const NetnsCidr *cidr, char buf[static NETNS_CIDR_STRLEN]);
/* A per-netns sysctl key, "net.ipv4.ip_forward" or "net/ipv6/conf/eth0.5/accept_dad". */
int netns_sysctl_key_check(const char *key, RtError *err);

/* ---- Netlink sockets ---- */

typedef struct NlSock NlSock;

/* A socket bound to netns_fd's network namespace (-1: the caller's). It stays bound there
 * whatever namespace the thread is in later, which is how peers get configured. */
int netns_sock_open(int netns_fd, NlSock **ret, RtError *err);
void netns_sock_free(NlSock *sk);
DEFINE_TRIVIAL_CLEANUP_FUNC(NlSock *, netns_sock_free)

/* ---- Network namespaces ---- */

/* Like `ip netns add NAME`: a new netns bind-mounted at NETNS_RUN_DIR/NAME. ret_fd, when
 * given, gets an O_CLOEXEC fd to it. Fails with -EEXIST if the name is taken. */
int netns_create(const char *name, int *ret_fd, RtError *err);
/* A new netns with no name, held only by the fd returned: gone when the fd is closed
 * (a pool of them made ahead leaves nothing behind, whatever ends its holder). */
int netns_create_unnamed(int *ret_fd, RtError *err);
/* Gives the netns of netns_fd the name NAME (a bind mount at NETNS_RUN_DIR/NAME), as
 * netns_create would have. */
int netns_name(const char *name, int netns_fd, RtError *err);
/* NAME under NETNS_RUN_DIR, or a path when it contains '/'. */
int netns_open(const char *name_or_path, int *ret_fd, RtError *err);
int netns_open_pid(pid_t pid, int *ret_fd, RtError *err);
/* Like `ip netns del NAME`: unmount and unlink. The kernel frees the namespace, and every
 * interface in it, once the last fd and process in it are gone. */
int netns_delete(const char *name, RtError *err);
bool netns_exists(const char *name);
/* Runs fn in netns_fd's namespace on the calling thread and comes back. If it cannot come
 * back it aborts: carrying on in the wrong namespace would be worse than a crash. */
typedef int (*NetnsFunc)(void *userdata, RtError *err);
int netns_run_in(int netns_fd, NetnsFunc fn, void *userdata, RtError *err);
/* netns_fd -1: the caller's namespace. */
int netns_sysctl_write(int netns_fd, const char *key, const char *value, RtError *err);
int netns_sysctl_read(int netns_fd, const char *key, char *buf, size_t size, RtError *err);

/* ---- Links ---- */

typedef struct NetnsVeth {
        const char *ifname;      /* the end in the socket's netns */
        const char *peer_ifname; /* the end born in peer_netns_fd */
        int peer_netns_fd;       /* -1: the socket's netns */
        const NetnsMac *mac;     /* NULL: the kernel picks one */
        const NetnsMac *peer_mac;
        uint32_t mtu; /* 0: the kernel's default; both ends */
        int master_ifindex; /* 0: none; else the bridge the near end joins */
        bool up;
        /* The kernel cannot bring the peer up in the create request (veth_open() finds
         * no peer yet and fails with ENOTCONN), so it takes a second request, made on
         * peer_sk: a socket in the peer's netns. Not needed when the peer stays in sk's. */
        bool peer_up;
        NlSock *peer_sk;
        const char *owner; /* the mark; required */
} NetnsVeth;

/* One RTM_NEWLINK makes the pair with its peer already in its netns, enslaved and the near
 * end up as asked (moving a link between namespaces afterwards costs ~15 ms). ret_ifindex
 * and ret_peer_ifindex (the peer's index in its own netns) may be NULL. */
int netns_veth_add(NlSock *sk, const NetnsVeth *veth, int *ret_ifindex, int *ret_peer_ifindex,
                   RtError *err);

typedef struct NetnsBridge {
        const char *ifname;
        const NetnsMac *mac; /* NULL: the kernel's; set one to keep it from following ports */
        uint32_t mtu;
        bool up;
        const char *owner; /* the mark; required */
} NetnsBridge;

/* STP off and forward delay 0: a new port forwards at once, as a lab link must. */
int netns_bridge_add(NlSock *sk, const NetnsBridge *bridge, int *ret_ifindex, RtError *err);

typedef enum NetnsTristate {
        NETNS_UNCHANGED = -1,
        NETNS_OFF = 0,
        NETNS_ON = 1,
} NetnsTristate;

int netns_bridge_port_set(NlSock *sk, int ifindex, NetnsTristate hairpin, NetnsTristate learning,
                          RtError *err);

int netns_link_index(NlSock *sk, const char *ifname, int *ret_ifindex, RtError *err);
int netns_link_del(NlSock *sk, int ifindex, RtError *err);
/* Deletes several links in one kernel batch (one unregister, one set of RCU waits: a
 * bridge costs ~40 ms to delete alone, a few in one batch little more than one). Links
 * already gone are skipped. Returns 0, or the first error of a link that could not go. */
int netns_links_del(NlSock *sk, const int *ifindexes, size_t n, RtError *err);
int netns_link_set_up(NlSock *sk, int ifindex, bool up, RtError *err);
/* master_ifindex 0 releases the link from its master. */
int netns_link_set_master(NlSock *sk, int ifindex, int master_ifindex, RtError *err);
int netns_link_rename(NlSock *sk, int ifindex, const char *ifname, RtError *err);
int netns_link_set_mac(NlSock *sk, int ifindex, const NetnsMac *mac, RtError *err);
int netns_link_set_mtu(NlSock *sk, int ifindex, uint32_t mtu, RtError *err);
/* The mark: alias "nsprov:<owner>". */
int netns_link_mark(NlSock *sk, int ifindex, const char *owner, RtError *err);

/* ---- Addresses and routes ---- */

typedef enum NetnsAddrFlags {
        NETNS_ADDR_NODAD = 1 << 0, /* IPv6: usable at once, no duplicate address detection */
} NetnsAddrFlags;

int netns_addr_add(NlSock *sk, int ifindex, const NetnsCidr *addr, NetnsAddrFlags flags,
                   RtError *err);
int netns_addr_del(NlSock *sk, int ifindex, const NetnsCidr *addr, RtError *err);
/* Drops what the neighbour table of ifindex remembers about ip (none is fine): an
 * address handed to a new interface must not be sent to the MAC of the one before. */
int netns_neigh_forget(NlSock *sk, int ifindex, const NetnsIp *ip, RtError *err);
/* ifindex 0: let the kernel find the interface that reaches the gateway. */
int netns_route_add_default(NlSock *sk, const NetnsIp *gateway, int ifindex, RtError *err);

/* ---- Reading links back ---- */

typedef struct NetnsLinkAddr {
        NetnsCidr cidr;
        uint8_t scope;
        uint32_t flags; /* IFA_F_* */
} NetnsLinkAddr;

typedef struct NetnsLink {
        int ifindex;
        char name[NETNS_IFNAME_MAX + 1];
        char kind[32]; /* "veth", "bridge", "" for a plain device */
        NetnsMac mac;
        bool has_mac;
        uint32_t mtu;
        unsigned flags;    /* IFF_* */
        uint8_t operstate; /* IF_OPER_* */
        int master_ifindex;   /* 0: none */
        int peer_ifindex;     /* IFLA_LINK: a veth's peer; 0 when none */
        int peer_netnsid;     /* -1: the peer is in this netns (or there is none) */
        uint32_t group;       /* IFLA_GROUP; 0 is the default group */
        char alias[256];
        NetnsLinkAddr *addrs;
        size_t n_addrs;
} NetnsLink;

typedef struct NetnsLinkList {
        NetnsLink *links;
        size_t n;
} NetnsLinkList;

/* Every link of the socket's netns, with its addresses, sorted by ifindex. */
int netns_link_list(NlSock *sk, NetnsLinkList *ret, RtError *err);
void netns_link_list_done(NetnsLinkList *list);
const NetnsLink *netns_link_list_find(const NetnsLinkList *list, const char *ifname);
/* The owner in a link's mark, or NULL when nsprov did not make it. */
const char *netns_link_owner(const NetnsLink *link);

/* ---- Finding what nsprov made ---- */

typedef struct NetnsMarked {
        NetnsLinkList links; /* links whose alias carries the mark */
        char **netns;        /* named netns called NETNS_NAME_PREFIX* (NULL-terminated) */
        size_t n_netns;
} NetnsMarked;

/* owner NULL: every marked object; else only that owner's. netns_dir NULL: NETNS_RUN_DIR. */
int netns_find_marked(NlSock *sk, const char *netns_dir, const char *owner, NetnsMarked *ret,
                      RtError *err);
void netns_marked_done(NetnsMarked *m);

/* The kernel removes the links of a deleted netns in its own time (a batch, ~20 ms for
 * 100); this waits, on link events rather than by polling, until no link of owner is left
 * in sk's netns. -ETIMEDOUT names how many remain. */
int netns_wait_owner_gone(NlSock *sk, const char *owner, unsigned timeout_ms, RtError *err);

/* ---- Reachability ---- */

/* ICMP (v4 or v6) echo from inside netns_fd to dst: sends count probes, one per interval,
 * waits at most timeout_ms in all. Returns how many answered (0 is not an error). */
int netns_ping(int netns_fd, const NetnsIp *dst, unsigned count, unsigned timeout_ms,
               RtError *err);
