/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the network module's files (records, IPAM, NAT, networks, wiring, connect)
 * and its tests; not a public header. */

#include <jansson.h>

#include "network.h"

/* Where a network's bridge lives: a socket there, and the netns (-1: the host's). */
typedef struct BridgeSide {
        NlSock *sk;
        int netns_fd;
} BridgeSide;


/* ipam.c */
bool net_in_subnet(const NetnsCidr *c, const NetnsIp *ip);
int net_ipam_each(const CtrStore *s, int (*fn)(const CtrStore *s, const char *net, void *ud), void *ud);
int net_ipam_open(const CtrStore *s, const char *net, json_t **ret, int *ret_lock, RtError *err);
void net_ipam_release_owner(const CtrStore *s, const char *net, const char *owner);
int net_ipam_save(const CtrStore *s, const char *net, json_t *j, RtError *err);
int net_ipam_take(json_t *j, const NetSubnet *sn, const NetnsIp *want, const char *owner,
                     NetnsIp *ret, RtError *err);
int net_release_container_in(const CtrStore *s, const char *net, void *ud);
void net_subnet_host(const NetnsCidr *c, uint32_t index, NetnsIp *ret);

/* nat.c */
int net_nat_setup(const Network *n, RtError *err);
void net_nat_teardown(const Network *n);

/* networks.c */
void net_bridge_side_close(BridgeSide *b);
int net_bridge_side_open(const Network *n, const CtrStore *create_in, BridgeSide *ret, RtError *err);
int net_ensure_bridge(const BridgeSide *side, const Network *n, int *ret_ifindex, RtError *err);

/* records.c */
void net_path(const CtrStore *s, const char *name, char buf[static PATH_MAX]);
int net_save(const CtrStore *s, const Network *n, RtError *err);

/* wiring.c */
void net_unwire_one(const CtrStore *s, const char *ctr_id, NetAttachment *a);
int net_wire_one(NlSock *in, int netns_fd, const CtrStore *s, const CtrConfig *c,
                    NetAttachment *a, const Network *known, bool *have_default_route, RtError *err);
