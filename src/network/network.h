/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Native networks: a bridge and veth pairs into containers, over netlink (netns/).
 * L2-only networks (no subnet: LNST's test networks, whose addresses the test sets
 * itself) and networks with IPv4/IPv6 subnets and built-in IPAM. One container may join
 * one network several times, each join a new interface.
 * A network on which the host holds no address (L2-only or --internal) keeps its bridge,
 * and the bridge ends of its veths, in a netns of its own: the host's firewall, addrconf
 * and tools never touch the lab segment, and removing the network is one netns deletion,
 * which the kernel finishes in the background (a bridge deleted on the host blocks its
 * caller for 30-50 ms). */

#include "netns.h"
#include "state.h"

typedef struct NetnsPool NetnsPool;
/* A thread that keeps target (1-4) unnamed network namespaces ready, making each once the
 * start or network create that took one has finished; what is in it when stopped (or
 * serve dies) the kernel frees. */
int netns_pool_start(size_t target, NetnsPool **ret, RtError *err);
/* A netns named name, with an fd to it: one made ahead when p (NULL: none) has one ready,
 * else a new one (-EEXIST: the name is taken). */
int netns_pool_make(NetnsPool *p, const char *name, int *ret_fd, RtError *err);
/* The operation that took one is over: time to make its successor. */
void netns_pool_refill(NetnsPool *p);
void netns_pool_stop(NetnsPool *p);

/* serve's caches of network records and attachment lists, beside the state's
 * (ctr_store_caches_open first); closed with the state's, and all of them closed when
 * these cannot be opened. */
int net_caches_open(CtrStore *s, RtError *err);

#define NET_NAME_MAX 64
#define NET_MAX_SUBNETS 4
#define NET_MAX_ATTACHMENTS 64 /* interfaces per container */

typedef struct NetSubnet {
        NetnsCidr subnet;
        NetnsIp gateway;  /* family 0: none */
        NetnsCidr range;  /* where allocation draws from; family 0: the whole subnet */
} NetSubnet;

typedef struct Network {
        char name[NET_NAME_MAX + 1];
        char id[CTR_ID_LEN + 1];
        char bridge[NETNS_IFNAME_MAX + 1];
        bool internal;
        bool ipv6;
        bool ipv6_dad; /* leave duplicate address detection on for this network's links */
        bool nat;      /* IPv4 forwarding and masquerading out of the host */
        bool own_netns; /* the bridge lives in net_bridge_netns_name(), not on the host */
        uint32_t mtu;
        NetSubnet subnets[NET_MAX_SUBNETS];
        size_t n_subnets;
        char **labels; /* "K=V" */
        uint64_t created_ns;
} Network;

typedef struct NetCreate {
        const char *name;
        const char *bridge;      /* NULL: generated */
        const char *const *subnets; /* "CIDR" */
        const char *const *gateways; /* parallel to subnets, NULL entries for the default */
        const char *const *ranges;   /* parallel to subnets, NULL entries: the whole subnet */
        size_t n_subnets;
        bool internal, ipv6, ipv6_dad, nat;
        bool host_bridge; /* keep the bridge on the host even where no address needs it */
        uint32_t mtu;
        char *const *labels;
} NetCreate;

int net_name_check(const char *name, RtError *err);
/* "nsprov-net-<name>-<id prefix>": readable, and unique across stores sharing /run/netns. */
void net_bridge_netns_name(const Network *n, char buf[static NETNS_NAME_MAX + 1]);
int net_create(const CtrStore *s, const NetCreate *spec, Network *ret, RtError *err);
/* The store's default network, created when it does not exist yet. */
int net_ensure_default(const CtrStore *s, RtError *err);
int net_load(const CtrStore *s, const char *name, Network *ret, RtError *err);
/* The parser behind net_load (the file can be edited by hand: outside input, fuzzed). */
int net_record_parse(const char *text, size_t len, Network *ret, RtError *err);
void net_done(Network *n);
int net_list(const CtrStore *s, Network **ret, size_t *ret_n, RtError *err);
void net_list_free(Network *ns, size_t n);
/* What a removal does with the interfaces still on a network: NULL refuses (-EBUSY while
 * any is); else each is detached by it (the runtime's disconnect, which takes the
 * container's lock). The front ends remove networks through the runtime
 * (ctr_networks_remove), which says that with its --force. */
typedef int (*NetDetach)(const CtrStore *s, const char *ctr_id, const char *network, const char *ifname,
                         RtError *err);
int net_remove(const CtrStore *s, const char *name, NetDetach detach, RtError *err);
/* Removes several networks, their bridges deleted in one kernel batch; report is called
 * once per name with 0 or the error that kept it. */
typedef void (*NetRemoveReport)(const char *name, int r, const RtError *err, void *userdata);
void net_remove_many(const CtrStore *s, char *const *names, size_t n, NetDetach detach,
                     NetRemoveReport report, void *userdata);
/* net_remove_many of every network of the store; fails only when they cannot be listed. */
int net_remove_every(const CtrStore *s, NetDetach detach, NetRemoveReport report, void *userdata,
                     RtError *err);

/* One interface of a container on a network: what was asked, and what it got. */
typedef struct NetAttachment {
        char network[NET_NAME_MAX + 1];
        char ifname[NETNS_IFNAME_MAX + 1];
        NetnsMac mac;
        bool mac_given;
        NetnsIp ip, ip6;   /* requested; family 0: allocate */
        bool cni; /* a CNI network: plugins from its conflist do the wiring */
        /* while wired */
        bool cni_attached; /* ADD done, DEL not yet */
        char host_ifname[NETNS_IFNAME_MAX + 1];
        NetnsCidr addr4, addr6; /* family 0: none */
        NetnsIp gateway4, gateway6;
        /* the addresses it had last: taken again at its next start when still free, so a
         * restart keeps the address a controller knows it by (Podman keeps them too) */
        NetnsIp last4, last6;
} NetAttachment;

typedef struct NetConnect {
        const char *network;
        const char *ifname;   /* NULL: the next free ethN */
        const char *mac;      /* NULL: derived from (container, network, index) */
        const char *ip, *ip6; /* NULL: allocated (networks with subnets) */
        /* Podman's rule without an interface name: one interface per network and
         * container; a second connect is -EALREADY */
        bool once;
} NetConnect;

/* Attachments a container has, in its state dir (networks.json). */
int net_attachments_load(const CtrStore *s, const char *ctr_id, NetAttachment **ret, size_t *ret_n,
                         RtError *err);
int net_attachments_save(const CtrStore *s, const char *ctr_id, const NetAttachment *a, size_t n,
                         RtError *err);
/* The parser behind net_attachments_load, fuzzed like the others. */
int net_attachments_parse(const char *text, size_t len, NetAttachment **ret, size_t *ret_n, RtError *err);

/* Adds an attachment to a container (created, exited or running: a running one is wired
 * at once). The caller holds the container's lock (ctr_network_connect takes it). */
int net_connect_locked(const CtrStore *s, const Container *c, const NetConnect *nc, NetAttachment *ret,
                       RtError *err);
/* ifname NULL: the container's only interface on that network. Under the lock, too. */
int net_disconnect_locked(const CtrStore *s, const Container *c, const char *network, const char *ifname,
                          RtError *err);

/* Wires every attachment of a container into netns_fd (at start), or the one given
 * (hot plug). fresh: the netns was just made for a start, and its lo goes up too (the
 * socket in there is ours already; PID 1 need not make its own). On failure nothing of it
 * stays. */
int net_wire(const CtrStore *s, const CtrConfig *c, int netns_fd, NetAttachment *a, size_t n, bool fresh,
             RtError *err);
/* Gives back what a stopped container's attachments held (addresses); its veths went
 * with its netns. */
void net_release(const CtrStore *s, const char *ctr_id, NetAttachment *a, size_t n);

/* Releases every address a container holds and forgets where it was wired (its netns,
 * and with it its veths, is gone or going). Best effort. */
void net_release_container(const CtrStore *s, const char *ctr_id);

/* Under the container's lock, for a running one: the veths of hot plugs that the ledger
 * lists but the attachment list does not (a connect killed halfway) are deleted and their
 * addresses given back. Returns how many links went. */
int net_links_reconcile(const CtrStore *s, const char *ctr_id);

/* Addresses held for containers that are not running: after a crash. Returns how many
 * went. */
int net_gc(const CtrStore *s);
/* The ports of this store's bridges whose mark names a container the store has no record
 * of (its state wiped while its netns lived on): deleted, with the netns they lead to.
 * Returns how many links went. */
int net_gc_orphan_ports(const CtrStore *s);

/* ---- CNI networks (cni/), beside the native ones ---- */
struct CniConfig;
/* The executor's settings from the store; *ret_path owns ret->path. */
int net_cni_config(const CtrStore *s, struct CniConfig *ret, char ***ret_path);
/* 0 when name is a CNI network of the config dir, -ENOENT when not. */
int net_cni_exists(const CtrStore *s, const char *name, RtError *err);
/* ADD of one attachment into the netns at netns_path (recorded in the ledger first); the
 * addresses and MAC the plugins returned are written into a. Nothing stays on failure. */
int net_cni_wire(const CtrStore *s, const CtrConfig *c, const char *netns_path, NetAttachment *a,
                 RtError *err);
/* DEL of one attachment (its cached config and args first, as Podman does); the ledger
 * entry goes once it succeeded. netns_path may be gone already. The caller forgets the
 * addresses. */
int net_cni_unwire(const CtrStore *s, const char *ctr_id, const char *netns_path, const NetAttachment *a,
                   RtError *err);
/* DEL of every CNI attachment the ledger lists for owner; returns how many went. */
int net_cni_undo(const CtrStore *s, const char *owner);
/* The plugins' GC for the CNI networks our containers use, every cached attachment
 * counted valid (we DEL'ed our dead ones already; the rest may be another tool's). */
int net_cni_gc(const CtrStore *s, char *const *networks);
/* The CNI networks of the config dir as Network records (driver "cni") for ls/inspect. */
typedef struct CniNetworkInfo {
        char *name;
        char *version;
        char *file;
        char **plugins;
} CniNetworkInfo;
int net_cni_list(const CtrStore *s, CniNetworkInfo **ret, size_t *ret_n, RtError *err);
void net_cni_list_free(CniNetworkInfo *l, size_t n);

/* A 64-hex id stable for a name (CNI networks have none; Podman derives one too). */
void net_cni_id(const char *name, char buf[static 65]);

/* A locally administered unicast MAC, the same for the same (container, network, index)
 * on every run, so a recipe knows it before the container starts. */
void net_derive_mac(const char *ctr_name, const char *network, unsigned index, NetnsMac *ret);
/* The host end's name: short, unique per (container id, interface). */
void net_host_ifname(const char *ctr_id, const char *ifname, char buf[static NETNS_IFNAME_MAX + 1]);
