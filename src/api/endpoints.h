/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the shim's endpoint files (one per resource: containers, exec, networks,
 * images, system, events) and its route table; not a public header. */

#include "api.h"
#include "frames.h"


/* containers.c */
json_t *api_endpoint_options(json_t *ep);
bool api_filter_match(json_t *filters, const char *key, const char *value, bool prefix);
int api_ep_container_attach(ApiConn *c, ApiRequest *r);
int api_ep_container_create(ApiConn *c, ApiRequest *r);
int api_ep_container_delete(ApiConn *c, ApiRequest *r);
int api_ep_container_exists(ApiConn *c, ApiRequest *r);
int api_ep_container_json(ApiConn *c, ApiRequest *r);
int api_ep_container_kill(ApiConn *c, ApiRequest *r);
int api_ep_container_logs(ApiConn *c, ApiRequest *r);
int api_ep_container_resize(ApiConn *c, ApiRequest *r);
int api_ep_container_restart(ApiConn *c, ApiRequest *r);
int api_ep_container_start(ApiConn *c, ApiRequest *r);
int api_ep_container_stop(ApiConn *c, ApiRequest *r);
int api_ep_container_top(ApiConn *c, ApiRequest *r);
int api_ep_container_wait(ApiConn *c, ApiRequest *r);
int api_ep_containers_list(ApiConn *c, ApiRequest *r);
int api_strv_from_map(json_t *m, char ***ret);

/* events.c */
int api_ep_events(ApiConn *c, ApiRequest *r);

/* exec.c */
int api_ep_exec_create(ApiConn *c, ApiRequest *r);
int api_ep_exec_json(ApiConn *c, ApiRequest *r);
int api_ep_exec_remove(ApiConn *c, ApiRequest *r);
int api_ep_exec_resize(ApiConn *c, ApiRequest *r);
int api_ep_exec_start(ApiConn *c, ApiRequest *r);

/* helpers.c */
int api_body_json(ApiConn *c, const ApiRequest *r, json_t **ret);
void api_hex_id(char buf[static 65]);
bool api_jbool(json_t *o, const char *key);
json_t *api_jget(json_t *o, const char *key);
unsigned short api_json_dimension(json_t *v);
const char *api_jstr(json_t *o, const char *key);
int api_load_container(ApiConn *c, const char *ref, Container *ret, int *reply);
int api_major_version(const ApiRequest *r);
int api_no_such_container(ApiConn *c, const char *ref);
bool api_query_bool(const ApiRequest *r, const char *key, bool def);
unsigned short api_query_dimension(const ApiRequest *r, const char *key);
int api_rt_error(ApiConn *c, const RtError *e, int fallback_status, const char *cause);
/* The head of a reply streamed until the connection closes (logs, events): 200, the
 * common headers, the type; -ECONNRESET when the client is gone. */
int api_stream_head(ApiConn *c, const char *content_type);

/* images.c */
int api_ep_image_exists(ApiConn *c, ApiRequest *r);
int api_ep_image_json(ApiConn *c, ApiRequest *r);
int api_ep_image_load(ApiConn *c, ApiRequest *r);
int api_ep_image_import(ApiConn *c, ApiRequest *r);
int api_ep_image_pull(ApiConn *c, ApiRequest *r);
int api_ep_images_list(ApiConn *c, ApiRequest *r);

/* networks.c */
int api_ep_network_connect(ApiConn *c, ApiRequest *r);
int api_ep_network_create(ApiConn *c, ApiRequest *r);
int api_ep_network_delete(ApiConn *c, ApiRequest *r);
int api_ep_network_disconnect(ApiConn *c, ApiRequest *r);
int api_ep_network_exists(ApiConn *c, ApiRequest *r);
int api_ep_network_json(ApiConn *c, ApiRequest *r);
int api_ep_networks_list(ApiConn *c, ApiRequest *r);

/* system.c */
int api_ep_info(ApiConn *c, ApiRequest *r);
int api_ep_ping(ApiConn *c, ApiRequest *r);
int api_ep_version(ApiConn *c, ApiRequest *r);
