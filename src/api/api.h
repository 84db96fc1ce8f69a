/* api — the HTTP front of parleyd: routes each request to the client API v2
 * translator or the admin endpoints, which call the conference core. */
#ifndef PARLEY_API_H
#define PARLEY_API_H

#include "api/body.h"
#include "api/route.h"
#include "conf/conf.h"
#include "core/buf.h"
#include "http/server.h"
#include "store/db.h"

typedef struct {
  conf_core *core; /* NULL once shutting down */
  const config *cfg;
  http_server *srv;
  http_server *metrics_srv; /* --metrics-listen, or NULL */
  struct media_engine *media;
  struct rtm_core *rtm; /* NULL once shutting down */
  struct outbox *ob;
  store *st;
  struct store_sync *sync;    /* --store-sync, or NULL */
  struct cluster *cluster;    /* --cluster, or NULL */
  struct csync *csync;        /* cluster configuration sync (--cluster), or NULL */
  struct rtmc *rtmc;          /* RTM sessions in the cluster (--cluster), or NULL */
  struct ps_core *ps;         /* publish/subscribe sessions; NULL once shutting down */
  struct ps_recorder *ps_rec; /* their recordings (src/pubsub/ps_recording.c) */
  struct whip *whip;          /* WHIP resources (api/whip.c) */
  struct policy *policy;      /* the external policy server (--policy-url), or NULL */
} api;

/* Why an Origin header is refused before any credential is read: one longer than the
 * 511 bytes kept was once taken as no Origin at all (an API key bound to origins then
 * said "needs an Origin"). */
#define API_ORIGIN_TOO_LONG "the Origin header is over 511 bytes long, which no origin is"

/* One request on its way through the client API. */
typedef struct {
  api *api;
  h2o_req_t *req;
  api_route route;
  json_t *body;        /* parsed JSON object, or NULL for an empty body */
  participant *self;   /* whose token came with the request */
  participant *target; /* the participant named in the path */
  const char
      *client_addr; /* relayed: the client's address (X-Forwarded-For), else NULL */
  /* What a policy request for this join already took before it got here (the media
   * location, asked where a cluster join arrived): taken from the join's budget. */
  unsigned policy_spent_ms;
  /* Cluster mode: the room key the request was located by (an ad-hoc room created
   * here takes it as its first alias, so leases, tokens and Redis agree), else NULL. */
  const char *cluster_key;
} api_call;

/* The http_request_cb for http_server_start. */
void api_handle(void *ud, h2o_req_t *req);
/* Answers a client API request on this node (the route parsed, its alias known).
 * client_addr: the client's address for a relayed request, else NULL (the peer's);
 * policy_spent_ms, cluster_key: see api_call. */
void client_v2_answer_here(api *a, h2o_req_t *req, const api_route *route,
                           const char *client_addr, unsigned policy_spent_ms,
                           const char *cluster_key);
/* The request's token: the "token" header or ?token= (client API §A.4). */
bool api_read_token(h2o_req_t *req, char *out, size_t outlen);

/* relay.c, cluster mode: answers the request here, relays it to the room's home node,
 * or answers 503 (docs/ARCHITECTURE.md, "### Relay"). room_key: the room's first
 * alias. */
void relay_handle(api *a, h2o_req_t *req, const api_route *route, const char *room_key);
/* relay_handle for an alias no store has: an ad-hoc room of the policy server, whose
 * room key Redis maps (pl:alias:, pl:adhoc:) or the service configuration finds; a
 * relayed request's key comes with it (X-Parley-Room-Key). 404 when nothing knows it. */
void relay_adhoc(api *a, h2o_req_t *req, const api_route *route);
/* parley_cluster_relayed_requests_total, _relay_errors_total, _relayed_streams. */
void relay_metrics(buf *out);
/* Abandons relays in flight and frees the relay client (after the loop stopped). */
void relay_shutdown(void);

/* Replies with the client API's envelopes (client API §A, §B). */
void reply_result(api_call *c, json_t *result);
void reply_bool(api_call *c, bool value);
void reply_failed(api_call *c, int status, const char *message);
void reply_status(api_call *c, refusal st);

/* Handlers by level; each returns false if it does not know the action. */
bool client_v2_conference(api_call *c);
bool client_v2_participant(api_call *c);
void client_v2_events(api_call *c);
void client_v2_request_token(api_call *c);
/* Whether request_token asks a policy server (and so may join rooms the store lacks). */
bool client_v2_request_token_asks_policy(const api *a);
void client_v2_calls(api_call *c);
void client_v2_call_action(api_call *c);
void admin_handle(api *a, h2o_req_t *req, route_kind kind);
/* The http_request_cb of the --metrics-listen listener: /metrics and /healthz only. */
void admin_listener_handle(void *ud, h2o_req_t *req);
/* RTM: the WebSocket at /api/rtm/v1/io and POST /api/rtm/v1/session. False if the
 * path is not an RTM one. */
bool rtm_api_handle(api *a, h2o_req_t *req);
/* Publish/subscribe: the WebSocket at /api/rtc/v1 (docs/PUBSUB.md). False if the path
 * is another. */
bool rtc_ws_handle(api *a, h2o_req_t *req);

#endif
