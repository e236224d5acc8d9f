/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Labs as files: one YAML file names a lab's networks and agents; `lab up` makes them
 * (agents started in parallel and awaited until ready), `lab down` removes them, `lab
 * reset` returns every agent to its just-up state, `lab pool` writes LNST's own pool files
 * for it. Every object of a lab carries the label io.nsprov.lab=NAME. */

#include "runtime.h"

#define LAB_LABEL "io.nsprov.lab"
#define LAB_AGENT_LABEL "io.nsprov.lab.agent"
#define LAB_NAME_MAX 32
#define LAB_MAX_COUNT 1000
#define LAB_MAX_NICS 64   /* of one agent, beside its management NIC */
#define LAB_FILE_MAX (4u << 20)

typedef struct LabNic {
        char *name;    /* the interface in the agent */
        char *network; /* the lab's name of the network */
        char *mac;     /* NULL: derived */
} LabNic;

typedef struct LabNetwork {
        char *name;
        char *subnet; /* NULL: L2 only */
} LabNetwork;

typedef struct LabAgent {
        char *name;
        char *image;
        char *ready;
        char **env;    /* "K=V" */
        unsigned count; /* 1: one agent named name; N: name1 … nameN */
        bool privileged;
        LabNic *nics;
        size_t n_nics;
} LabAgent;

typedef struct Lab {
        char *name;
        char *mgmt_subnet; /* NULL: the store's default network is the management network */
        LabNetwork *networks;
        size_t n_networks;
        LabAgent *agents;
        size_t n_agents;
} Lab;

/* A lab file's text, checked whole: an error says "FILE:LINE:COLUMN: what is wrong". */
int lab_parse(const char *path, const char *text, size_t len, Lab *ret, RtError *err);
int lab_load_file(const char *path, Lab *ret, RtError *err);
void lab_done(Lab *lab);
/* The kernel's and the store's names of a lab's objects. */
void lab_network_name(const Lab *lab, const char *network, char buf[static NET_NAME_MAX + 1]);
void lab_mgmt_name(const Lab *lab, char buf[static NET_NAME_MAX + 1]);
/* instance: 0 for an agent without count, else 1..count */
void lab_agent_instance(const LabAgent *a, unsigned instance, char buf[static CTR_NAME_MAX + 1]);

typedef struct LabUpOptions {
        unsigned workers;  /* agents started at once (0: 4) */
        char *const *limit; /* agents (AGENT or a group's AGENTn) to bring up; NULL: all */
        bool keep_on_error;
        FILE *progress;    /* a line per agent as it is ready; NULL: quiet */
} LabUpOptions;
int lab_up(const CtrStore *s, const Lab *lab, const LabUpOptions *o, RtError *err);
/* The lab as a picture: Graphviz's dot, or Mermaid (format "dot" or "mermaid"). */
int lab_graph(const CtrStore *s, const char *name, const char *format, FILE *out, RtError *err);
/* Every container and network labelled with the lab's name; returns how many went. */
int lab_down(const CtrStore *s, const char *name, RtError *err);
/* Every agent restarted (a fresh netns: addresses, routes and links as the file made
 * them, its MACs kept), returning once each is ready again. */
int lab_reset(const CtrStore *s, const char *name, unsigned workers, RtError *err);
/* The labs of the store: "NAME AGENTS NETWORKS" per lab. */
int lab_list(const CtrStore *s, char ***ret_names, RtError *err);
/* The lab as JSON: its agents (container, status, management address, NICs) and networks. */
struct json_t *lab_inspect_json(const CtrStore *s, const char *name, RtError *err);
/* One LNST agentmachine XML per agent into dir (schema-am.rng): hostname the management
 * address, rpc_port the agent's ready port (9999 when none), an eth per NIC with its
 * network's name as label and its MAC. Returns how many files were written. */
int lab_pool(const CtrStore *s, const char *name, const char *dir, RtError *err);
