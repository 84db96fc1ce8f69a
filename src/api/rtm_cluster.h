/* rtm_cluster — RTM in cluster mode: which node holds a session. Every agent session
 * reserved or live here is registered in Redis as pl:rtm:<session_id> =
 * "<node_id>\n<cid>\n<ws_endpoint>" (PX 8000, rewritten every 2 s while it lasts,
 * deleted when it ends), so a node asked about a session it does not hold can name the
 * node that does (docs/ARCHITECTURE.md, "#### RTM"). Never blocks: every command is
 * credis's asynchronous one; Redis down means "held nowhere else". */
#ifndef PARLEY_API_RTM_CLUSTER_H
#define PARLEY_API_RTM_CLUSTER_H

#include "cluster/cluster.h"
#include "rtm/rtm.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define RTMC_TTL_MS 8000
#define RTMC_REFRESH_MS 2000

typedef struct rtmc rtmc;
typedef struct rtmc_lookup rtmc_lookup;

/* A session's registration as read from Redis. */
typedef struct {
  bool found; /* false: no node holds it, or Redis could not say */
  char node_id[64];
  char cid[64];
  char ws_endpoint[300];
} rtmc_where;

/* node_url: this node's --node-url (http or https); its ws(s) twin is the endpoint. */
rtmc *rtmc_new(uv_loop_t *loop, cluster *c, rtm_core *core, const char *node_url);
/* Stops the refresh; replies still on their way free themselves. NULL is ignored. */
void rtmc_free(rtmc *m);
/* This node's RTM WebSocket URL, e.g. ws://10.0.0.5:8080/api/rtm/v1/io. */
const char *rtmc_endpoint(const rtmc *m);
const char *rtmc_node_id(const rtmc *m);
/* ws(s)://host[:port]/api/rtm/v1/io for an http(s)://host[:port][/...] URL; false when
 * the URL is neither. Pure (unit-tested). */
bool rtmc_ws_url(const char *http_url, char *out, size_t n);
/* Parses a pl:rtm: value into w (found set); false when it is malformed. Pure. */
bool rtmc_parse_value(const char *v, size_t len, rtmc_where *w);

/* Registers session_id (of account cid) as held here now; done, when given, runs once
 * Redis has answered or failed (exactly once, maybe on the next loop iteration). */
void rtmc_register(rtmc *m, const char *session_id, const char *cid,
                   void (*done)(void *ud), void *ud);
/* The session ended here: its key goes (only while it still names this node). */
void rtmc_unregister(rtmc *m, const char *session_id);
/* Where session_id is held; cb runs exactly once (unless cancelled), never before
 * rtmc_find returns. */
rtmc_lookup *rtmc_find(rtmc *m, const char *session_id,
                       void (*cb)(const rtmc_where *w, void *ud), void *ud);
/* cb will not run; NULL is ignored. */
void rtmc_find_cancel(rtmc_lookup *l);

#endif
