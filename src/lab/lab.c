/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A lab's life: up (networks, then every agent created, then started and awaited until
 * ready by a bounded pool of worker processes), down, reset, and the views of it (ls,
 * inspect, LNST's pool files). A lab is what carries its label: the store keeps no
 * record of its own beside the containers' and networks'. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "fs.h"
#include "log.h"
#include "strv.h"

enum { LAB_DEFAULT_WORKERS = 4, LAB_MAX_WORKERS = 64, LAB_AGENT_PORT = 9999 };

static bool of_lab(char *const *labels, const char *name) {
        const char *v = strv_env_get(labels, LAB_LABEL);
        return v && streq(v, name);
}

/* ---- up ---- */

static int ensure_network(const CtrStore *s, const Lab *lab, const char *name, const char *subnet, RtError *err) {
        Network n;
        if (net_load(s, name, &n, NULL) == 0) {
                bool ours = of_lab(n.labels, lab->name);
                net_done(&n);
                return ours ? 0 : rt_err_setx(err, -EEXIST, "network '%s' exists and is not lab %s's", name, lab->name);
        }
        char label[LAB_NAME_MAX + 32];
        (void) snprintf(label, sizeof label, "%s=%s", LAB_LABEL, lab->name);
        char *const labels[] = { label, NULL };
        const char *const subnets[] = { subnet, NULL };
        NetCreate nc = { .name = name, .subnets = subnet ? subnets : NULL, .n_subnets = subnet ? 1 : 0, .labels = labels };
        int r = net_create(s, &nc, &n, err);
        if (r == 0)
                net_done(&n);
        return r < 0 ? rt_err_prefix(err, r, "lab %s: network %s", lab->name, name) : 0;
}

static int reconcile_nics(const CtrStore *s, const Lab *lab, const LabAgent *a, const char *id, RtError *err);

static int create_agent(const CtrStore *s, const Lab *lab, const LabAgent *a, unsigned instance, const char *mgmt,
                        char ret_id[static CTR_ID_LEN + 1], RtError *err) {
        char host[CTR_NAME_MAX + 1], cname[CTR_NAME_MAX + 1 + LAB_NAME_MAX + 1];
        lab_agent_instance(a, instance, host);
        (void) snprintf(cname, sizeof cname, "%s-%s", lab->name, host);
        char id[CTR_ID_LEN + 1];
        if (ctr_lookup(s, cname, id, NULL) == 0) {
                Container c;
                if (ctr_load(s, id, &c, NULL) < 0)
                        return rt_err_setx(err, -EIO, "lab %s: container %s cannot be read", lab->name, cname);
                bool ours = of_lab(c.config.labels, lab->name);
                ctr_done(&c);
                if (!ours)
                        return rt_err_setx(err, -EEXIST, "lab %s: a container named %s exists and is not the lab's",
                                           lab->name, cname);
                memcpy(ret_id, id, sizeof id); /* up again: what is there stays, its NICs as the file says */
                int r = reconcile_nics(s, lab, a, id, err);
                return r < 0 ? rt_err_prefix(err, r, "lab %s: agent %s", lab->name, host) : 0;
        }
        /* the management network first, then the file's NICs */
        char nets[LAB_MAX_NICS + 1][NET_NAME_MAX + 1];
        char *networks[LAB_MAX_NICS + 2] = {};
        const char *ifnames[LAB_MAX_NICS + 2] = {}, *macs[LAB_MAX_NICS + 2] = {};
        (void) snprintf(nets[0], sizeof nets[0], "%s", mgmt);
        networks[0] = nets[0];
        ifnames[0] = "eth0";
        for (size_t k = 0; k < a->n_nics && k < LAB_MAX_NICS; k++) {
                lab_network_name(lab, a->nics[k].network, nets[k + 1]);
                networks[k + 1] = nets[k + 1];
                ifnames[k + 1] = a->nics[k].name;
                macs[k + 1] = a->nics[k].mac;
        }
        char label[LAB_NAME_MAX + 32], agent_label[CTR_NAME_MAX + 32];
        (void) snprintf(label, sizeof label, "%s=%s", LAB_LABEL, lab->name);
        (void) snprintf(agent_label, sizeof agent_label, "%s=%s", LAB_AGENT_LABEL, a->name);
        char *const labels[] = { label, agent_label, NULL };
        CtrSpec spec = {
                .name = cname, .image = a->image, .hostname = host, .env = a->env, .labels = labels,
                .networks = networks, .net_ifnames = ifnames, .net_macs = macs, .privileged = a->privileged,
                .ready = a->ready, .stop_timeout = -1,
        };
        int r = ctr_create(s, &spec, ret_id, err);
        return r < 0 ? rt_err_prefix(err, r, "lab %s: agent %s", lab->name, host) : 0;
}

typedef int (*AgentOp)(const CtrStore *s, const char *id, RtError *err);

static int op_start(const CtrStore *s, const char *id, RtError *err) {
        return ctr_start(s, id, NULL, NULL, err);
}

static int op_restart(const CtrStore *s, const char *id, RtError *err) {
        return ctr_restart(s, id, -1, err);
}

static int op_remove(const CtrStore *s, const char *id, RtError *err) {
        return ctr_remove(s, id, true, err);
}

/* op on every id by a pool of worker processes (a start forks its monitor, which a
 * threaded caller must not; a process each keeps that plain). Each failure comes back as
 * one line on a pipe; the first is the error. */
static int run_workers(const CtrStore *s, char *const *ids, size_t n, unsigned workers, AgentOp op, FILE *progress,
                       RtError *err) {
        if (n == 0)
                return 0;
        workers = workers ? workers : LAB_DEFAULT_WORKERS;
        if (workers > LAB_MAX_WORKERS)
                workers = LAB_MAX_WORKERS;
        if (workers > n)
                workers = (unsigned) n;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return rt_err_set(err, -errno, "pipe");
        (void) fflush(NULL);
        pid_t pids[LAB_MAX_WORKERS];
        unsigned started = 0;
        for (; started < workers; started++) {
                pid_t pid = fork();
                if (pid < 0)
                        break;
                if (pid == 0) {
                        close(p[0]);
                        int rc = 0;
                        for (size_t i = started; i < n; i += workers) {
                                RtError e = {};
                                if (op(s, ids[i], &e) < 0) {
                                        char line[PIPE_BUF];
                                        int l = snprintf(line, sizeof line, "%s\n", e.msg);
                                        (void) !write(p[1], line, (size_t) MIN(l, (int) sizeof line - 1));
                                        rc = 1;
                                } else if (progress) {
                                        Container c;
                                        if (ctr_load(s, ids[i], &c, NULL) == 0) {
                                                fprintf(progress, "%s: up\n", c.config.name);
                                                (void) fflush(progress);
                                                ctr_done(&c);
                                        }
                                }
                        }
                        _exit(rc);
                }
                pids[started] = pid;
        }
        close(p[1]);
        int r = started < workers ? rt_err_set(err, -errno, "fork a worker") : 0;
        FILE *f = fdopen(p[0], "r");
        char line[PIPE_BUF];
        while (f && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = '\0';
                if (r == 0)
                        r = rt_err_setx(err, -EIO, "%s", line);
                else
                        log_error("%s", line);
        }
        if (f)
                fclose(f);
        else
                close(p[0]);
        for (unsigned i = 0; i < started; i++) {
                int status;
                while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                        ;
        }
        return r;
}

static bool limited_out(const LabUpOptions *o, const LabAgent *a, unsigned instance) {
        char host[CTR_NAME_MAX + 1];
        lab_agent_instance(a, instance, host);
        return o->limit && !strv_contains(o->limit, a->name) && !strv_contains(o->limit, host);
}

/* An agent that is there already, brought in line with the file: a NIC the file no
 * longer has (or has on another network, or with another MAC) is disconnected, one it
 * lacks is connected (hot plugged when it runs). Its PID 1 and its other links stay. */
static int reconcile_nics(const CtrStore *s, const Lab *lab, const LabAgent *a, const char *id, RtError *err) {
        NetAttachment *as = NULL;
        size_t na = 0;
        int r = net_attachments_load(s, id, &as, &na, err);
        if (r < 0)
                return r;
        char net[NET_NAME_MAX + 1];
        /* which of the file's NICs is there as the file says (the first attachment is the
         * management NIC, which the file does not name); the rest of what is there goes */
        bool kept[LAB_MAX_NICS] = {};
        for (size_t i = 1; r == 0 && i < na; i++) {
                bool wanted = false;
                for (size_t k = 0; k < a->n_nics && !wanted; k++) {
                        NetnsMac mac;
                        lab_network_name(lab, a->nics[k].network, net);
                        wanted = streq(a->nics[k].name, as[i].ifname) && streq(net, as[i].network) &&
                                 (!a->nics[k].mac || (netns_mac_parse(a->nics[k].mac, &mac, NULL) == 0 &&
                                                      memcmp(&mac, &as[i].mac, sizeof mac) == 0));
                        kept[k] |= wanted;
                }
                if (!wanted)
                        r = ctr_network_disconnect(s, id, as[i].network, as[i].ifname, err);
        }
        free(as);
        for (size_t k = 0; r == 0 && k < a->n_nics; k++) {
                if (kept[k])
                        continue;
                lab_network_name(lab, a->nics[k].network, net);
                NetConnect nc = { .network = net, .ifname = a->nics[k].name, .mac = a->nics[k].mac };
                r = ctr_network_connect(s, id, &nc, NULL, err);
        }
        return r;
}

static int lab_containers(const CtrStore *s, const char *name, Container **ret, size_t *ret_n, RtError *err);
static int lab_networks(const CtrStore *s, const char *name, char ***ret, RtError *err);

static int prune(const CtrStore *s, const Lab *lab, char *const *keep_ids, const char *mgmt, RtError *err) {
        Container *cs = NULL;
        size_t n = 0;
        int r = lab_containers(s, lab->name, &cs, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (!strv_contains(keep_ids, cs[i].config.id))
                        r = ctr_remove(s, cs[i].config.id, true, err);
        ctr_list_free(cs, n);
        _cleanup_(strv_freep) char **nets = NULL;
        if (r < 0 || (r = lab_networks(s, lab->name, &nets, err)) < 0)
                return r;
        for (char **net = nets; r == 0 && net && *net; net++) {
                bool named = streq(*net, mgmt);
                char name[NET_NAME_MAX + 1];
                for (size_t k = 0; k < lab->n_networks && !named; k++) {
                        lab_network_name(lab, lab->networks[k].name, name);
                        named = streq(name, *net);
                }
                if (!named)
                        r = ctr_network_remove(s, *net, true, err);
        }
        return r;
}

int lab_up(const CtrStore *s, const Lab *lab, const LabUpOptions *o, RtError *err) {
        char mgmt[NET_NAME_MAX + 1];
        int r;
        /* a --limit naming no agent of the file is a typo, not an empty lab */
        for (char *const *l = o->limit; l && *l; l++) {
                bool found = false;
                for (size_t i = 0; i < lab->n_agents && !found; i++)
                        for (unsigned k = lab->agents[i].count ? 1 : 0; k <= lab->agents[i].count && !found; k++)
                                found = !limited_out(&(LabUpOptions) { .limit = (char *[]) { *l, NULL } }, &lab->agents[i], k);
                if (!found)
                        return rt_err_setx(err, -ENOENT, "lab %s: --limit names '%s', which is no agent of the file", lab->name,
                                           *l);
        }
        if (lab->mgmt_subnet) {
                lab_mgmt_name(lab, mgmt);
                r = ensure_network(s, lab, mgmt, lab->mgmt_subnet, err);
        } else if (streq(s->default_network, "none"))
                return rt_err_setx(err, -EINVAL,
                                   "lab %s: no management network: give management: {subnet: CIDR} in the file, or the "
                                   "store a default network",
                                   lab->name);
        else {
                (void) snprintf(mgmt, sizeof mgmt, "%s", s->default_network);
                r = net_ensure_default(s, err);
        }
        for (size_t i = 0; r == 0 && i < lab->n_networks; i++) {
                char name[NET_NAME_MAX + 1];
                lab_network_name(lab, lab->networks[i].name, name);
                r = ensure_network(s, lab, name, lab->networks[i].subnet, err);
        }
        _cleanup_(strv_freep) char **ids = NULL;
        for (size_t i = 0; r == 0 && i < lab->n_agents; i++) {
                const LabAgent *a = &lab->agents[i];
                for (unsigned k = a->count ? 1 : 0; r == 0 && k <= a->count; k++) {
                        char id[CTR_ID_LEN + 1];
                        if (limited_out(o, a, k))
                                continue;
                        if ((r = create_agent(s, lab, a, k, mgmt, id, err)) == 0 && strv_push(&ids, id) < 0)
                                r = rt_err_set(err, -ENOMEM, "lab %s", lab->name);
                }
        }
        /* up again after the file changed: what it no longer names goes (not with --limit,
         * which names a part) */
        if (r == 0 && !o->limit)
                r = prune(s, lab, ids, mgmt, err);
        if (r == 0)
                r = run_workers(s, ids, strv_length(ids), o->workers, op_start, o->progress, err);
        if (r < 0 && !o->keep_on_error) {
                RtError e2 = {};
                (void) lab_down(s, lab->name, &e2);
        }
        return r;
}

/* ---- the lab's containers and networks ---- */

static int by_hostname(const void *a, const void *b) {
        return strverscmp(((const Container *) a)->config.hostname, ((const Container *) b)->config.hostname);
}

/* The lab's containers, by agent name (machine2 before machine10) */
static int lab_containers(const CtrStore *s, const char *name, Container **ret, size_t *ret_n, RtError *err) {
        Container *cs = NULL;
        size_t n = 0, kept = 0;
        int r = ctr_list(s, &cs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (of_lab(cs[i].config.labels, name))
                        cs[kept++] = cs[i];
                else
                        ctr_done(&cs[i]);
        }
        qsort(cs, kept, sizeof *cs, by_hostname);
        *ret = cs;
        *ret_n = kept;
        return 0;
}

static int lab_networks(const CtrStore *s, const char *name, char ***ret, RtError *err) {
        Network *ns = NULL;
        size_t n = 0;
        int r = net_list(s, &ns, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (of_lab(ns[i].labels, name) && strv_push(ret, ns[i].name) < 0)
                        r = rt_err_set(err, -ENOMEM, "lab %s", name);
        net_list_free(ns, n);
        return r;
}

static void report_removal(const char *name, int r, const RtError *err, void *userdata) {
        int *failed = userdata;
        if (r < 0) {
                log_error("%s", err->msg);
                (*failed)++;
        }
}

/* The ids of the lab's containers, by agent name */
static int lab_container_ids(const CtrStore *s, const char *name, char ***ret, RtError *err) {
        Container *cs = NULL;
        size_t n = 0;
        int r = lab_containers(s, name, &cs, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (strv_push(ret, cs[i].config.id) < 0)
                        r = rt_err_set(err, -ENOMEM, "lab %s", name);
        ctr_list_free(cs, n);
        return r < 0 ? r : (int) n;
}

int lab_down(const CtrStore *s, const char *name, RtError *err) {
        _cleanup_(strv_freep) char **ids = NULL;
        int n = lab_container_ids(s, name, &ids, err);
        if (n < 0)
                return n;
        /* a container each, in parallel: a removal waits for its monitor's teardown */
        RtError e = {};
        int failed = run_workers(s, ids, (size_t) n, LAB_DEFAULT_WORKERS, op_remove, NULL, &e) < 0;
        if (failed)
                log_error("%s", e.msg);
        _cleanup_(strv_freep) char **nets = NULL;
        int r = lab_networks(s, name, &nets, err);
        if (r < 0)
                return r;
        size_t nn = strv_length(nets);
        ctr_networks_remove(s, nets, nn, true, report_removal, &failed);
        if (failed)
                return rt_err_setx(err, -EIO, "lab %s: some of it could not be removed (above)", name);
        return n + (int) nn;
}

int lab_reset(const CtrStore *s, const char *name, unsigned workers, RtError *err) {
        _cleanup_(strv_freep) char **ids = NULL;
        int n = lab_container_ids(s, name, &ids, err);
        if (n == 0)
                return rt_err_setx(err, -ENOENT, "no lab %s", name);
        return n < 0 ? n : run_workers(s, ids, (size_t) n, workers, op_restart, NULL, err);
}

static int add_lab_of(char *const *labels, char ***names) {
        const char *v = strv_env_get(labels, LAB_LABEL);
        return v && !strv_contains(*names, v) ? strv_push(names, v) : 0;
}

int lab_list(const CtrStore *s, char ***ret_names, RtError *err) {
        Container *cs = NULL;
        size_t n = 0;
        int r = ctr_list(s, &cs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = add_lab_of(cs[i].config.labels, ret_names);
        ctr_list_free(cs, n);
        Network *ns = NULL;
        size_t nn = 0;
        if (r == 0 && (r = net_list(s, &ns, &nn, err)) == 0) {
                for (size_t i = 0; r == 0 && i < nn; i++)
                        r = add_lab_of(ns[i].labels, ret_names);
                net_list_free(ns, nn);
        }
        return r == -ENOMEM ? rt_err_set(err, r, "labs") : r;
}

/* ---- views ---- */

/* The lab's name of a store network ("hello-net1" of lab hello: "net1"). */
static const char *lab_net_label(const char *lab, const char *network) {
        size_t l = strlen(lab);
        return strncmp(network, lab, l) == 0 && network[l] == '-' ? network + l + 1 : network;
}

static int agent_port(const CtrConfig *k) {
        CtrReady ready;
        return ctr_ready_parse(k->ready, &ready, NULL) == 0 && ready.kind == CTR_READY_TCP ? ready.port
                                                                                            : LAB_AGENT_PORT;
}

json_t *lab_inspect_json(const CtrStore *s, const char *name, RtError *err) {
        Container *cs = NULL;
        size_t n = 0;
        if (lab_containers(s, name, &cs, &n, err) < 0)
                return NULL;
        _cleanup_(strv_freep) char **nets = NULL;
        if (lab_networks(s, name, &nets, err) < 0) {
                ctr_list_free(cs, n);
                return NULL;
        }
        if (n == 0 && !nets) {
                ctr_list_free(cs, n);
                (void) rt_err_setx(err, -ENOENT, "no lab %s", name);
                return NULL;
        }
        json_t *agents = json_array();
        for (size_t i = 0; i < n; i++) {
                const CtrConfig *k = &cs[i].config;
                NetAttachment *as = NULL;
                size_t na = 0;
                json_t *nics = json_array();
                char mgmt[INET6_ADDRSTRLEN] = "";
                if (net_attachments_load(s, k->id, &as, &na, NULL) == 0) {
                        for (size_t a = 0; a < na; a++) {
                                char mac[NETNS_MAC_STRLEN];
                                if (a == 0) {
                                        if (as[a].addr4.ip.family)
                                                (void) netns_ip_format(&as[a].addr4.ip, mgmt);
                                        continue;
                                }
                                json_array_append_new(nics, json_pack("{s:s, s:s, s:s}", "Name", as[a].ifname, "Network",
                                                                      lab_net_label(name, as[a].network), "Mac",
                                                                      netns_mac_format(&as[a].mac, mac)));
                        }
                        free(as);
                }
                json_array_append_new(agents, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "Name", k->hostname,
                                                        "Container", k->name, "Id", k->id, "Status",
                                                        ctr_status_to_string(cs[i].state.status), "Management", mgmt,
                                                        "RpcPort", agent_port(k), "Nics", nics));
        }
        ctr_list_free(cs, n);
        return json_pack("{s:s, s:o, s:o}", "Name", name, "Agents", agents, "Networks", strv_to_json(nets));
}

static int write_agentmachine(const char *dir, json_t *agent, const char *lab, RtError *err) {
        const char *host = json_string_value(json_object_get(agent, "Name"));
        const char *mgmt = json_string_value(json_object_get(agent, "Management"));
        if (!mgmt || !*mgmt)
                return rt_err_setx(err, -EADDRNOTAVAIL, "lab %s: agent %s has no management address (is it up?)", lab,
                                   host);
        _cleanup_free_ char *xml = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&xml, &len);
        if (!f)
                return rt_err_set(err, -ENOMEM, "pool");
        /* names, addresses and MACs are of [a-zA-Z0-9_.:-] (the lab file's checks): no
         * escaping needed */
        fprintf(f, "<agentmachine>\n  <params>\n    <param name=\"hostname\" value=\"%s\"/>\n"
                   "    <param name=\"rpc_port\" value=\"%d\"/>\n  </params>\n  <interfaces>\n",
                mgmt, (int) json_integer_value(json_object_get(agent, "RpcPort")));
        size_t i;
        json_t *nic;
        json_array_foreach(json_object_get(agent, "Nics"), i, nic)
                fprintf(f, "    <eth id=\"%s\" label=\"%s\">\n      <params>\n"
                           "        <param name=\"hwaddr\" value=\"%s\"/>\n      </params>\n    </eth>\n",
                        json_string_value(json_object_get(nic, "Name")), json_string_value(json_object_get(nic, "Network")),
                        json_string_value(json_object_get(nic, "Mac")));
        fprintf(f, "  </interfaces>\n</agentmachine>\n");
        if (fclose(f) != 0)
                return rt_err_set(err, -ENOMEM, "pool");
        char path[PATH_MAX];
        (void) snprintf(path, sizeof path, "%s/%s.xml", dir, host);
        return write_file_atomic(path, xml, len, 0644, 0, err);
}

int lab_pool(const CtrStore *s, const char *name, const char *dir, RtError *err) {
        json_t *j = lab_inspect_json(s, name, err);
        if (!j)
                return -ENOENT;
        int r = mkdir_p(dir, 0755, err), written = 0;
        size_t i;
        json_t *agent;
        json_array_foreach(json_object_get(j, "Agents"), i, agent) {
                if (r < 0)
                        break;
                if ((r = write_agentmachine(dir, agent, name, err)) == 0)
                        written++;
        }
        json_decref(j);
        return r < 0 ? r : written;
}

/* ---- graph ---- */

int lab_graph(const CtrStore *s, const char *name, const char *format, FILE *out, RtError *err) {
        bool mermaid = streq(format, "mermaid");
        if (!mermaid && !streq(format, "dot"))
                return rt_err_setx(err, -EINVAL, "graph format '%s': dot, svg or mermaid", format);
        json_t *j = lab_inspect_json(s, name, err);
        if (!j)
                return -ENOENT;
        /* node ids: a_N for agents, n_NAME for networks (names are [a-zA-Z0-9_.-]: quoted) */
        if (mermaid)
                fprintf(out, "graph LR\n  mgmt((management))\n");
        else
                fprintf(out, "graph \"%s\" {\n  rankdir=LR;\n  node [fontname=\"sans\"];\n"
                             "  mgmt [label=\"management\", shape=ellipse, style=dashed];\n", name);
        size_t i, k;
        json_t *a, *net;
        json_array_foreach(json_object_get(j, "Networks"), i, net) {
                const char *nn = lab_net_label(name, json_string_value(net));
                if (streq(nn, "mgmt")) /* drawn apart, as the management network */
                        continue;
                if (mermaid)
                        fprintf(out, "  n_%zu[(%s)]\n", i, nn);
                else
                        fprintf(out, "  \"n_%s\" [label=\"%s\", shape=box, style=rounded];\n", nn, nn);
        }
        json_array_foreach(json_object_get(j, "Agents"), i, a) {
                const char *an = json_string_value(json_object_get(a, "Name"));
                const char *mg = json_string_value(json_object_get(a, "Management"));
                if (mermaid)
                        fprintf(out, "  a_%zu[%s]\n  a_%zu -. %s .- mgmt\n", i, an, i, *mg ? mg : "eth0");
                else
                        fprintf(out, "  \"a_%s\" [label=\"%s\", shape=box];\n  \"a_%s\" -- mgmt [style=dashed, label=\"%s\"];\n",
                                an, an, an, *mg ? mg : "eth0");
                json_t *nic;
                json_array_foreach(json_object_get(a, "Nics"), k, nic) {
                        const char *nn = json_string_value(json_object_get(nic, "Network"));
                        const char *ifn = json_string_value(json_object_get(nic, "Name"));
                        const char *mac = json_string_value(json_object_get(nic, "Mac"));
                        if (mermaid) {
                                size_t idx = 0, m;
                                json_t *v;
                                json_array_foreach(json_object_get(j, "Networks"), m, v)
                                        if (streq(lab_net_label(name, json_string_value(v)), nn))
                                                idx = m;
                                fprintf(out, "  a_%zu -- \"%s %s\" --- n_%zu\n", i, ifn, mac, idx);
                        } else
                                fprintf(out, "  \"a_%s\" -- \"n_%s\" [label=\"%s\\n%s\"];\n", an, nn, ifn, mac);
                }
        }
        if (!mermaid)
                fprintf(out, "}\n");
        json_decref(j);
        return 0;
}
