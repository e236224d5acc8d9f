/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --nat: IPv4 forwarding and masquerading out of the host, in an nftables table of the
 * network's own; libnftables loaded only when such a network needs it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "network-internal.h"
#include "dynlib.h"
#include "filecache.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "strv.h"

static void nat_table(const Network *n, char buf[static 48]) {
        (void) snprintf(buf, 48, "nsprov-%.12s", n->id);
}

/* libnftables (and libnftnl, libxtables, libgmp with it) only when a --nat network
 * needs it: see dynlib.h. */
typedef struct NftLib {
        typeof(&nft_ctx_new) ctx_new;
        typeof(&nft_ctx_free) ctx_free;
        typeof(&nft_ctx_buffer_output) buffer_output;
        typeof(&nft_ctx_buffer_error) buffer_error;
        typeof(&nft_ctx_get_error_buffer) get_error_buffer;
        typeof(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
} NftLib;

static NftLib nft_syms;
static RtError nft_load_error;

static void nft_load(void) {
        const DynSym syms[] = {
                { "nft_ctx_new", (void **) &nft_syms.ctx_new },
                { "nft_ctx_free", (void **) &nft_syms.ctx_free },
                { "nft_ctx_buffer_output", (void **) &nft_syms.buffer_output },
                { "nft_ctx_buffer_error", (void **) &nft_syms.buffer_error },
                { "nft_ctx_get_error_buffer", (void **) &nft_syms.get_error_buffer },
                { "nft_run_cmd_from_buffer", (void **) &nft_syms.run_cmd_from_buffer },
        };
        (void) dynlib_load("libnftables.so.1", syms, ELEMENTSOF(syms), "--nat", &nft_load_error);
}

static int nft_lib(const NftLib **ret, RtError *err) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&once, nft_load);
        if (!nft_syms.ctx_new)
                return rt_err_setx(err, nft_load_error.code, "%s", nft_load_error.msg);
        *ret = &nft_syms;
        return 0;
}

static int nft_run(const char *cmd, RtError *err) {
        const NftLib *nft = NULL;
        int r = nft_lib(&nft, err);
        if (r < 0)
                return r;
        struct nft_ctx *ctx = nft->ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return rt_err_set(err, -ENOMEM, "nftables");
        (void) nft->buffer_output(ctx);
        (void) nft->buffer_error(ctx);
        int rc = nft->run_cmd_from_buffer(ctx, cmd);
        if (rc != 0) {
                const char *msg = nft->get_error_buffer(ctx);
                char first[256] = "";
                if (msg)
                        (void) snprintf(first, sizeof first, "%.*s", (int) strcspn(msg, "\n"), msg);
                r = rt_err_setx(err, -EIO, "nftables: %s", *first ? first : "command failed");
        }
        nft->ctx_free(ctx);
        return r;
}

/* Masquerading for what leaves the host from the network's IPv4 subnets, and forwarding
 * for it; an L2-only network never gets either. */
int net_nat_setup(const Network *n, RtError *err) {
        char table[48], cmd[4096];
        nat_table(n, table);
        size_t l = (size_t) snprintf(cmd, sizeof cmd,
                                     "table ip %s {\n"
                                     " chain postrouting { type nat hook postrouting priority srcnat; }\n"
                                     " chain forward { type filter hook forward priority filter; }\n"
                                     "}\nflush table ip %s\n",
                                     table, table);
        for (size_t i = 0; i < n->n_subnets && l < sizeof cmd; i++) {
                char c[NETNS_CIDR_STRLEN];
                if (n->subnets[i].subnet.ip.family != AF_INET)
                        continue;
                l += (size_t) snprintf(cmd + l, sizeof cmd - l,
                                       "add rule ip %s postrouting ip saddr %s oifname != \"%s\" masquerade\n"
                                       "add rule ip %s forward iifname \"%s\" accept\n"
                                       "add rule ip %s forward oifname \"%s\" ct state established,related accept\n",
                                       table, netns_cidr_format(&n->subnets[i].subnet, c), n->bridge, table,
                                       n->bridge, table, n->bridge);
        }
        int r = nft_run(cmd, err);
        if (r < 0)
                return rt_err_prefix(err, r, "network '%s': NAT", n->name);
        /* Forwarding is host-wide; nsprov only ever turns it on, and only when asked. */
        r = netns_sysctl_write(-1, "net.ipv4.ip_forward", "1", err);
        return r < 0 ? rt_err_prefix(err, r, "network '%s'", n->name) : 0;
}

void net_nat_teardown(const Network *n) {
        char table[48], cmd[128];
        nat_table(n, table);
        (void) snprintf(cmd, sizeof cmd, "delete table ip %s", table);
        (void) nft_run(cmd, NULL);
}

