/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lab files (YAML, read with libyaml's document loader): the whole file is checked before
 * anything is made, and every refusal names FILE:LINE:COLUMN and the reason: an unknown
 * key, a NIC on a network the file does not declare, two NICs with one MAC, a name the
 * kernel or the store cannot take. The format:
 *
 *   name: LAB                      # [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 32
 *   image: IMAGE                   # defaults for every agent: image, privileged (true,
 *   privileged: true               # as LNST's agents are), ready, env
 *   ready: tcp:9999
 *   env: {K: V}
 *   management: {subnet: CIDR}     # optional: a management network of the lab's own;
 *                                  # else the store's default network
 *   networks:
 *     NET: {}                      # L2 only
 *     NET2: {subnet: CIDR}         # with addresses from IPAM
 *   agents:
 *     AGENT:
 *       image, privileged, ready, env: as above, for this agent
 *       count: N                   # a group: AGENT1 … AGENTN
 *       nics:
 *         IFNAME: {network: NET, mac: "02:…"}   # several on one network allowed
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lab.h"
#include "fs.h"
#include "parse.h"
#include "strv.h"

typedef struct Doc {
        const char *path;
        yaml_document_t doc;
} Doc;

static int at(const Doc *d, const yaml_node_t *n, RtError *err, const char *fmt, ...) _printf_(4, 5);
static int at(const Doc *d, const yaml_node_t *n, RtError *err, const char *fmt, ...) {
        char what[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return rt_err_setx(err, -EINVAL, "%s:%zu:%zu: %s", d->path, n ? n->start_mark.line + 1 : 0,
                           n ? n->start_mark.column + 1 : 0, what);
}

static const char *scalar(const yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* YAML lets a mapping name a key twice, each a value of its own: refused, as nothing
 * here could say which one is meant. */
static int unique_keys(const Doc *d, yaml_node_t *map, RtError *err) {
        yaml_document_t *doc = (yaml_document_t *) &d->doc;
        if (!map || map->type != YAML_MAPPING_NODE)
                return 0;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                const char *ks = scalar(k);
                for (yaml_node_pair_t *q = map->data.mapping.pairs.start; ks && q < p; q++) {
                        const char *other = scalar(yaml_document_get_node(doc, q->key));
                        if (other && streq(other, ks))
                                return at(d, k, err, "'%.32s' is given twice", ks);
                }
        }
        return 0;
}

static int want_string(const Doc *d, const yaml_node_t *n, const char *key, char **ret, RtError *err) {
        const char *v = scalar(n);
        if (!v)
                return at(d, n, err, "%s: expected a string", key);
        if (strlen(v) > 4096)
                return at(d, n, err, "%s: longer than 4096 characters", key);
        free(*ret);
        return (*ret = strdup(v)) ? 0 : rt_err_set(err, -ENOMEM, "lab file");
}

static int want_bool(const Doc *d, const yaml_node_t *n, const char *key, bool *ret, RtError *err) {
        const char *v = scalar(n);
        if (!v || parse_boolean(v, ret) < 0)
                return at(d, n, err, "%s: expected true or false", key);
        return 0;
}

static bool name_ok(const char *s, size_t max) {
        size_t l = strlen(s);
        if (l == 0 || l > max || !isalnum((unsigned char) s[0]))
                return false;
        for (size_t i = 0; i < l; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

/* env as a mapping {K: V} or a list of "K=V" */
static int want_env(const Doc *d, yaml_node_t *n, char ***ret, RtError *err) {
        yaml_document_t *doc = (yaml_document_t *) &d->doc;
        if (n->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
                        const char *ks = scalar(k), *vs = scalar(v);
                        if (!ks || !*ks || strchr(ks, '=') || !vs)
                                return at(d, k, err, "env: expected NAME: value");
                        _cleanup_free_ char *kv = NULL;
                        if (asprintf(&kv, "%s=%s", ks, vs) < 0 || strv_env_set(ret, kv) < 0)
                                return rt_err_set(err, -ENOMEM, "lab file");
                }
                return 0;
        }
        if (n->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                        yaml_node_t *v = yaml_document_get_node(doc, *i);
                        const char *vs = scalar(v);
                        if (!vs || !strchr(vs, '=') || vs[0] == '=')
                                return at(d, v, err, "env: expected K=V");
                        if (strv_env_set(ret, vs) < 0)
                                return rt_err_set(err, -ENOMEM, "lab file");
                }
                return 0;
        }
        return at(d, n, err, "env: expected a mapping or a list");
}

typedef struct Defaults {
        char *image, *ready;
        char **env;
        bool privileged;
} Defaults;

static int parse_nic(const Doc *d, yaml_node_t *key, yaml_node_t *val, LabNic *nic, RtError *err) {
        yaml_document_t *doc = (yaml_document_t *) &d->doc;
        const char *name = scalar(key);
        /* an interface name the kernel takes (IFNAMSIZ), that a recipe can name */
        if (!name || !name_ok(name, 15))
                return at(d, key, err, "NIC '%.32s': a name of 1-15 of [a-zA-Z0-9_.-]", name ? name : "");
        if (!(nic->name = strdup(name)))
                return rt_err_set(err, -ENOMEM, "lab file");
        if (val->type != YAML_MAPPING_NODE)
                return at(d, val, err, "NIC %s: expected {network: NET}", name);
        int ur = unique_keys(d, val, err);
        if (ur < 0)
                return ur;
        for (yaml_node_pair_t *p = val->data.mapping.pairs.start; p < val->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
                const char *ks = scalar(k);
                int r;
                if (ks && streq(ks, "network"))
                        r = want_string(d, v, "network", &nic->network, err);
                else if (ks && streq(ks, "mac")) {
                        NetnsMac mac;
                        if ((r = want_string(d, v, "mac", &nic->mac, err)) == 0 && netns_mac_parse(nic->mac, &mac, NULL) < 0)
                                r = at(d, v, err, "NIC %s: '%s' is not a unicast MAC address", name, nic->mac);
                } else
                        r = at(d, k, err, "NIC %s: unknown key '%.32s' (network, mac)", name, ks ? ks : "");
                if (r < 0)
                        return r;
        }
        if (!nic->network)
                return at(d, val, err, "NIC %s: no network", name);
        return 0;
}

static int parse_agent(const Doc *d, const Defaults *def, yaml_node_t *key, yaml_node_t *val, LabAgent *a,
                       RtError *err) {
        yaml_document_t *doc = (yaml_document_t *) &d->doc;
        const char *name = scalar(key);
        if (!name || !name_ok(name, CTR_NAME_MAX))
                return at(d, key, err, "agent '%.32s': a name of [a-zA-Z0-9][a-zA-Z0-9_.-]*", name ? name : "");
        a->count = 0;
        a->privileged = def->privileged;
        if (!(a->name = strdup(name)) || (def->image && !(a->image = strdup(def->image))) ||
            (def->ready && !(a->ready = strdup(def->ready))) || (def->env && !(a->env = strv_copy(def->env))))
                return rt_err_set(err, -ENOMEM, "lab file");
        if (val->type != YAML_MAPPING_NODE)
                return at(d, val, err, "agent %s: expected a mapping", name);
        int r = unique_keys(d, val, err);
        for (yaml_node_pair_t *p = val->data.mapping.pairs.start; r == 0 && p < val->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
                const char *ks = scalar(k) ?: "";
                if (streq(ks, "image"))
                        r = want_string(d, v, "image", &a->image, err);
                else if (streq(ks, "ready"))
                        r = want_string(d, v, "ready", &a->ready, err);
                else if (streq(ks, "privileged"))
                        r = want_bool(d, v, "privileged", &a->privileged, err);
                else if (streq(ks, "env"))
                        r = want_env(d, v, &a->env, err);
                else if (streq(ks, "count")) {
                        uint32_t c;
                        if (!scalar(v) || safe_atou32_range(scalar(v), 1, LAB_MAX_COUNT, &c) < 0)
                                r = at(d, v, err, "agent %s: count is 1-%d", name, LAB_MAX_COUNT);
                        else
                                a->count = c;
                } else if (streq(ks, "nics")) {
                        if (v->type != YAML_MAPPING_NODE) {
                                r = at(d, v, err, "agent %s: nics: expected IFNAME: {network: NET}", name);
                                break;
                        }
                        if ((r = unique_keys(d, v, err)) < 0)
                                break;
                        size_t n = (size_t) (v->data.mapping.pairs.top - v->data.mapping.pairs.start);
                        if (n > LAB_MAX_NICS) {
                                r = at(d, v, err, "agent %s: more than %d NICs", name, LAB_MAX_NICS);
                                break;
                        }
                        if (!(a->nics = calloc(n ? n : 1, sizeof *a->nics)))
                                return rt_err_set(err, -ENOMEM, "lab file");
                        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; r == 0 && q < v->data.mapping.pairs.top; q++)
                                r = parse_nic(d, yaml_document_get_node(doc, q->key), yaml_document_get_node(doc, q->value),
                                              &a->nics[a->n_nics++], err);
                } else
                        r = at(d, k, err, "agent %s: unknown key '%.32s' (image, count, privileged, ready, env, nics)",
                               name, ks);
        }
        if (r < 0)
                return r;
        if (!a->image)
                return at(d, key, err, "agent %s: no image (give one here, or image: at the top)", name);
        if ((r = ctr_ready_check(a->ready, err)) < 0)
                return at(d, key, err, "agent %s: %s", name, err->msg);
        return 0;
}

static yaml_node_t *get(yaml_document_t *doc, yaml_node_pair_t *p, bool key) {
        return yaml_document_get_node(doc, key ? p->key : p->value);
}

/* What holds across the file: names that fit the store and the kernel, NICs on declared
 * networks, no MAC twice. */
static int check_whole(const Doc *d, Lab *lab, yaml_node_t *agents_node, RtError *err) {
        char buf[NET_NAME_MAX + 16];
        if (snprintf(buf, sizeof buf, "%s-mgmt", lab->name) > NET_NAME_MAX)
                return at(d, NULL, err, "lab name too long");
        for (size_t i = 0; i < lab->n_networks; i++)
                if (snprintf(buf, sizeof buf, "%s-%s", lab->name, lab->networks[i].name) > NET_NAME_MAX ||
                    net_name_check(buf, NULL) < 0)
                        return at(d, NULL, err, "network %s: '%s-%s' is no network name the store takes (at most %d)",
                                  lab->networks[i].name, lab->name, lab->networks[i].name, NET_NAME_MAX);
        yaml_document_t *doc = (yaml_document_t *) &d->doc;
        for (size_t i = 0; i < lab->n_agents; i++) {
                LabAgent *a = &lab->agents[i];
                yaml_node_t *key = agents_node ? get(doc, agents_node->data.mapping.pairs.start + i, true) : NULL;
                char longest[CTR_NAME_MAX + 32];
                int l = snprintf(longest, sizeof longest, "%s-%s%s", lab->name, a->name, a->count ? "1000" : "");
                if (l > CTR_NAME_MAX || (a->count && strlen(a->name) + 4 > CTR_HOSTNAME_MAX))
                        return at(d, key, err, "agent %s: '%s' is longer than a container name may be (%d)", a->name,
                                  longest, CTR_NAME_MAX);
                for (size_t k = 0; k < a->n_nics; k++) {
                        LabNic *nic = &a->nics[k];
                        bool known = false;
                        for (size_t n = 0; n < lab->n_networks; n++)
                                known |= streq(lab->networks[n].name, nic->network);
                        if (!known)
                                return at(d, key, err, "agent %s: NIC %s is on network '%s', which networks: does not declare",
                                          a->name, nic->name, nic->network);
                        if (streq(nic->name, "lo"))
                                return at(d, key, err, "agent %s: lo is the agent's loopback, not a NIC to wire", a->name);
                        if (streq(nic->name, "eth0"))
                                return at(d, key, err, "agent %s: eth0 is the management NIC; name the lab's NICs eth1 and on",
                                          a->name);
                        if (nic->mac && a->count > 1)
                                return at(d, key, err, "agent %s: NIC %s of a group of %u cannot have one MAC", a->name,
                                          nic->name, a->count);
                        for (size_t j = 0; nic->mac && j <= i; j++)
                                for (size_t m = 0; m < lab->agents[j].n_nics && (j < i || m < k); m++) {
                                        const char *other = lab->agents[j].nics[m].mac;
                                        if (other && strcasecmp(other, nic->mac) == 0)
                                                return at(d, key, err, "agent %s: NIC %s has MAC %s, as NIC %s of %s has",
                                                          a->name, nic->name, nic->mac, lab->agents[j].nics[m].name,
                                                          lab->agents[j].name);
                                }
                }
        }
        return 0;
}

static int parse_document(Doc *d, Lab *lab, RtError *err) {
        yaml_document_t *doc = &d->doc;
        yaml_node_t *root = yaml_document_get_root_node(doc);
        if (!root || root->type != YAML_MAPPING_NODE)
                return at(d, root, err, "a lab file is a mapping (name:, networks:, agents:)");
        Defaults def = { .privileged = true };
        yaml_node_t *networks = NULL, *agents = NULL;
        int r = unique_keys(d, root, err);
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; r == 0 && p < root->data.mapping.pairs.top; p++) {
                yaml_node_t *k = get(doc, p, true), *v = get(doc, p, false);
                const char *ks = scalar(k) ?: "";
                if (streq(ks, "name")) {
                        if ((r = want_string(d, v, "name", &lab->name, err)) == 0 && !name_ok(lab->name, LAB_NAME_MAX))
                                r = at(d, v, err, "name '%.40s': [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most %d", lab->name,
                                       LAB_NAME_MAX);
                } else if (streq(ks, "image"))
                        r = want_string(d, v, "image", &def.image, err);
                else if (streq(ks, "ready")) {
                        if ((r = want_string(d, v, "ready", &def.ready, err)) == 0 && ctr_ready_check(def.ready, err) < 0)
                                r = at(d, v, err, "%s", err->msg);
                } else if (streq(ks, "privileged"))
                        r = want_bool(d, v, "privileged", &def.privileged, err);
                else if (streq(ks, "env"))
                        r = want_env(d, v, &def.env, err);
                else if (streq(ks, "management")) {
                        if (v->type != YAML_MAPPING_NODE)
                                r = at(d, v, err, "management: expected {subnet: CIDR}");
                        else
                                r = unique_keys(d, v, err);
                        for (yaml_node_pair_t *q = v->type == YAML_MAPPING_NODE ? v->data.mapping.pairs.start : NULL;
                             r == 0 && q && q < v->data.mapping.pairs.top; q++) {
                                const char *mk = scalar(get(doc, q, true)) ?: "";
                                r = streq(mk, "subnet") ? want_string(d, get(doc, q, false), "subnet", &lab->mgmt_subnet, err)
                                                        : at(d, get(doc, q, true), err, "management: unknown key '%.32s' (subnet)", mk);
                        }
                } else if (streq(ks, "networks"))
                        networks = v;
                else if (streq(ks, "agents"))
                        agents = v;
                else
                        r = at(d, k, err, "unknown key '%.32s' (name, image, privileged, ready, env, management, networks, agents)",
                               ks);
        }
        if (r == 0 && !lab->name)
                r = at(d, root, err, "no name: a lab is named (name: LAB)");
        if (r == 0 && networks) {
                if (networks->type != YAML_MAPPING_NODE)
                        r = at(d, networks, err, "networks: expected NET: {} or NET: {subnet: CIDR}");
                else
                        r = unique_keys(d, networks, err);
                size_t n = r == 0 ? (size_t) (networks->data.mapping.pairs.top - networks->data.mapping.pairs.start) : 0;
                if (r == 0 && !(lab->networks = calloc(n ? n : 1, sizeof *lab->networks)))
                        r = rt_err_set(err, -ENOMEM, "lab file");
                for (yaml_node_pair_t *p = r == 0 ? networks->data.mapping.pairs.start : NULL; r == 0 && p && p < networks->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = get(doc, p, true), *v = get(doc, p, false);
                        const char *ks = scalar(k);
                        LabNetwork *net = &lab->networks[lab->n_networks++];
                        if (!ks || !name_ok(ks, NET_NAME_MAX) || streq(ks, "mgmt")) {
                                r = at(d, k, err, "network '%.32s': a name of [a-zA-Z0-9][a-zA-Z0-9_.-]* (mgmt is the management network's)",
                                       ks ? ks : "");
                                break;
                        }
                        if (!(net->name = strdup(ks))) {
                                r = rt_err_set(err, -ENOMEM, "lab file");
                                break;
                        }
                        if (v->type != YAML_MAPPING_NODE && !(v->type == YAML_SCALAR_NODE && !*scalar(v))) {
                                r = at(d, v, err, "network %s: expected {} or {subnet: CIDR}", ks);
                                break;
                        }
                        if ((r = unique_keys(d, v, err)) < 0)
                                break;
                        for (yaml_node_pair_t *q = v->type == YAML_MAPPING_NODE ? v->data.mapping.pairs.start : NULL;
                             r == 0 && q && q < v->data.mapping.pairs.top; q++) {
                                const char *nk = scalar(get(doc, q, true)) ?: "";
                                r = streq(nk, "subnet") ? want_string(d, get(doc, q, false), "subnet", &net->subnet, err)
                                                        : at(d, get(doc, q, true), err, "network %s: unknown key '%.32s' (subnet)", ks, nk);
                        }
                }
        }
        if (r == 0 && (!agents || agents->type != YAML_MAPPING_NODE || agents->data.mapping.pairs.top == agents->data.mapping.pairs.start))
                r = at(d, agents ? agents : root, err, "agents: a lab has at least one agent (agents: NAME: {…})");
        if (r == 0)
                r = unique_keys(d, agents, err);
        if (r == 0) {
                size_t n = (size_t) (agents->data.mapping.pairs.top - agents->data.mapping.pairs.start);
                if (!(lab->agents = calloc(n, sizeof *lab->agents)))
                        r = rt_err_set(err, -ENOMEM, "lab file");
                for (yaml_node_pair_t *p = agents->data.mapping.pairs.start; r == 0 && p < agents->data.mapping.pairs.top; p++) {
                        r = parse_agent(d, &def, get(doc, p, true), get(doc, p, false), &lab->agents[lab->n_agents++], err);
                }
        }
        if (r == 0)
                r = check_whole(d, lab, agents, err);
        free(def.image);
        free(def.ready);
        strv_free(def.env);
        return r;
}

int lab_parse(const char *path, const char *text, size_t len, Lab *ret, RtError *err) {
        *ret = (Lab) {};
        if (len > LAB_FILE_MAX)
                return rt_err_setx(err, -E2BIG, "%s: larger than %u bytes", path, LAB_FILE_MAX);
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return rt_err_set(err, -ENOMEM, "yaml parser");
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
        Doc d = { .path = path };
        int r = 0;
        if (!yaml_parser_load(&parser, &d.doc)) {
                r = rt_err_setx(err, -EINVAL, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                                parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
                yaml_parser_delete(&parser);
                return r;
        }
        yaml_parser_delete(&parser);
        Lab lab = {};
        r = parse_document(&d, &lab, err);
        yaml_document_delete(&d.doc);
        if (r < 0) {
                lab_done(&lab);
                return r;
        }
        *ret = lab;
        return 0;
}

int lab_load_file(const char *path, Lab *ret, RtError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file(path, LAB_FILE_MAX, &text, &len, err);
        return r < 0 ? r : lab_parse(path, text, len, ret, err);
}

void lab_done(Lab *lab) {
        free(lab->name);
        free(lab->mgmt_subnet);
        for (size_t i = 0; i < lab->n_networks; i++) {
                free(lab->networks[i].name);
                free(lab->networks[i].subnet);
        }
        free(lab->networks);
        for (size_t i = 0; i < lab->n_agents; i++) {
                LabAgent *a = &lab->agents[i];
                free(a->name);
                free(a->image);
                free(a->ready);
                strv_free(a->env);
                for (size_t k = 0; k < a->n_nics; k++) {
                        free(a->nics[k].name);
                        free(a->nics[k].network);
                        free(a->nics[k].mac);
                }
                free(a->nics);
        }
        free(lab->agents);
        *lab = (Lab) {};
}

void lab_network_name(const Lab *lab, const char *network, char buf[static NET_NAME_MAX + 1]) {
        (void) snprintf(buf, NET_NAME_MAX + 1, "%s-%s", lab->name, network);
}

void lab_mgmt_name(const Lab *lab, char buf[static NET_NAME_MAX + 1]) {
        (void) snprintf(buf, NET_NAME_MAX + 1, "%s-mgmt", lab->name);
}

void lab_agent_instance(const LabAgent *a, unsigned instance, char buf[static CTR_NAME_MAX + 1]) {
        if (instance)
                (void) snprintf(buf, CTR_NAME_MAX + 1, "%s%u", a->name, instance);
        else
                (void) snprintf(buf, CTR_NAME_MAX + 1, "%s", a->name);
}
