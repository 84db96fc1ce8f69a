/* request_token — joining through the client API (§A.1): reads the body and the pin
 * header, asks the policy server when there is one (service configuration, then
 * participant properties, the reply deferred meanwhile), asks the core, and answers
 * with a token or the prompt clients expect. */
#include "api/api.h"
#include "api/ice_servers.h"
#include "cluster/cluster.h"
#include "core/log.h"
#include "core/mem.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PIN_HEADER_MAX 64

static json_t *version_json(void) {
  return json_pack("{s:s, s:s}", "version_id", "36", "pseudo_version", "parley-0.1.0");
}

/* turn and stun (only when configured: absent, not empty, as Infinity does), and
 * use_relay_candidates_only for the room. The TURN user is the participant's uuid, so
 * coturn's log names who used the relay; the password is minted per request. */
static void add_ice(api_call *c, json_t *r, const participant *p) {
  static bool warned;
  json_t *turn = ice_turn_json(c->api->cfg, p->uuid, (int64_t)time(NULL));
  json_t *stun = ice_stun_json(c->api->cfg);
  if (turn)
    json_object_set_new(r, "turn", turn);
  if (stun)
    json_object_set_new(r, "stun", stun);
  json_object_set_new(r, "use_relay_candidates_only",
                      json_boolean(p->room->cfg->relay_only));
  if (p->room->cfg->relay_only && !turn && !warned) {
    warned = true;
    log_warn("api",
             "room %s is relay-only but parleyd has no --turn-url: its clients "
             "cannot connect media",
             p->room->cfg->aliases[0]);
  }
}

static json_t *token_result(api_call *c, const join_result *res) {
  const participant *p = res->p;
  const room_record *rec = p->room->cfg;
  char expires[16];
  snprintf(expires, sizeof expires, "%d", conf_token_lifetime(c->api->core));
  json_t *r = json_object();
  json_object_set_new(r, "token", json_string(res->token));
  json_object_set_new(r, "expires", json_string(expires));
  json_object_set_new(r, "participant_uuid", json_string(p->uuid));
  json_object_set_new(r, "version", version_json());
  json_object_set_new(r, "role", json_string(p->role == ROLE_HOST ? "HOST" : "GUEST"));
  json_object_set_new(r, "display_name", json_string(p->display_name));
  json_object_set_new(r, "current_service_type", json_string(conf_service_type(p)));
  json_object_set_new(r, "service_type",
                      json_string(rec->test_call ? "test_call"
                                  : rec->lecture ? "lecture"
                                                 : "conference"));
  json_object_set_new(r, "conference_name", json_string(rec->name));
  json_object_set_new(r, "service_name", json_string(rec->name));
  json_object_set_new(r, "call_tag", json_string(p->call_tag));
  json_object_set_new(r, "call_type", json_string("video"));
  json_object_set_new(r, "chat_enabled", json_true());
  json_object_set_new(r, "guests_can_present", json_boolean(p->room->guests_can_present));
  json_object_set_new(r, "fecc_enabled", json_false());
  json_object_set_new(r, "allow_1080p", json_true());
  json_object_set_new(r, "vp9_enabled", json_true());
  json_object_set_new(r, "rtmp_enabled", json_false());
  json_object_set_new(r, "rtsp_enabled", json_false());
  json_object_set_new(r, "trickle_ice_enabled", json_true());
  json_object_set_new(r, "analytics_enabled", json_false());
  json_object_set_new(r, "route_via_registrar", json_false());
  json_object_set_new(r, "idp_uuid", json_string(""));
  add_ice(c, r, p);
  json_object_set_new(r, "direct_media", json_false());
  json_object_set_new(r, "breakout_rooms", json_false());
  return r;
}

static void reply_prompt(api_call *c, json_t *result) {
  /* Prompts use "success": PexRTC only treats a 403 as a prompt then (§A.1). */
  http_respond_json(c->req, 403,
                    json_pack("{s:s, s:o}", "status", "success", "result", result));
}

static void reply_join(api_call *c, const join_result *res) {
  switch (res->outcome) {
  case JOIN_OK:
    return reply_result(c, token_result(c, res));
  case JOIN_PIN_PROMPT:
    return reply_prompt(c, json_pack("{s:s, s:s, s:o}", "pin",
                                     res->host_pin_required ? "required" : "none",
                                     "guest_pin",
                                     res->guest_pin_required ? "required" : "none",
                                     "version", version_json()));
  case JOIN_EXTENSION_PROMPT:
    return reply_prompt(c, json_pack("{s:s, s:s}", "conference_extension", "required",
                                     "conference_extension_type", "standard"));
  case JOIN_INVALID_PIN:
    return reply_failed(c, 403, "Invalid PIN");
  case JOIN_PIN_RETRIES:
    return reply_failed(c, 403, "Participant exceeded PIN entry retries");
  case JOIN_PIN_WAIT: {
    char secs[16];
    int n = snprintf(secs, sizeof secs, "%u", (unsigned)res->retry_after_s);
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                   h2o_strdup(&c->req->pool, secs, (size_t)n).base, (size_t)n);
    return reply_failed(c, 429,
                        "Too many wrong PINs for this conference: try again later");
  }
  case JOIN_NOT_FOUND:
    return reply_failed(c, 404, "Neither conference nor gateway found");
  case JOIN_FULL: /* Pexip's wording and class (client API §A.1) */
    return reply_failed(c, 503, "Participant limit reached");
  }
}

static const char *copy_header(h2o_req_t *req, const char *name, char *out, size_t outlen,
                               bool *too_long) {
  size_t len;
  const char *v = http_header(req, name, &len);
  *too_long = false;
  if (!v)
    return NULL;
  if (len >= outlen || memchr(v, '\0', len)) {
    *too_long = true;
    return NULL;
  }
  memcpy(out, v, len);
  out[len] = '\0';
  return out;
}

/* ---- with a policy server: the join waits for its answers ---- */

typedef struct pending_join {
  api *api;
  h2o_req_t *req;
  struct pending_join **stub; /* in the request's pool; NULL-ed when we answer */
  char *alias, *display_name, *call_tag, *pin, *extension, *vendor;
  char *cluster_key; /* cluster mode: the room key the join was located by */
  char addr[64];
  bool direct_chat, bypass_lock, admit, from_policy;
  conf_role role;
  char uuid[IDS_UUID_LEN + 1];
  char service_tag[128];
  room_record *rec; /* the room to enter (our copy) */
  policy_call *call;
  uv_loop_t *loop;
  uint64_t deadline_ms; /* the join's whole budget (loop time): one --policy-timeout */
} pending_join;

static char *dup_opt(const char *s) { return s ? xstrdup(s) : NULL; }

static void pending_free(pending_join *pj) {
  policy_call_cancel(pj->call);
  room_record_free(pj->rec);
  free(pj->alias);
  free(pj->display_name);
  free(pj->call_tag);
  free(pj->pin);
  free(pj->extension);
  free(pj->vendor);
  free(pj->cluster_key);
  free(pj);
}

/* h2o let the request go (the client left): nothing is answered. */
static void pending_dispose(void *stub) {
  pending_join *pj = *(pending_join **)stub;
  if (pj)
    pending_free(pj);
}

static join_request pending_request(const pending_join *pj) {
  return (join_request){.alias = pj->alias,
                        .display_name = pj->display_name,
                        .call_tag = pj->call_tag,
                        .pin = pj->pin,
                        .conference_extension = pj->extension,
                        .vendor = pj->vendor,
                        .remote_addr = pj->addr,
                        .supports_direct_chat = pj->direct_chat,
                        .uuid = pj->uuid,
                        .bypass_lock = pj->bypass_lock};
}

static policy_params pending_params(const pending_join *pj) {
  return (policy_params){.local_alias = pj->alias,
                         .remote_alias = pj->display_name,
                         .remote_display_name = pj->display_name,
                         .remote_address = pj->addr,
                         .call_tag = pj->call_tag,
                         .vendor = pj->vendor,
                         .participant_uuid = pj->uuid,
                         .service_name = pj->rec ? pj->rec->name : NULL,
                         .service_tag = pj->service_tag};
}

/* Answers and frees pj: the stub is cleared first, so h2o disposing the request while
 * we answer finds nothing to free twice. */
static void pending_answer_failed(pending_join *pj, int status, const char *msg) {
  *pj->stub = NULL;
  api_call c = {.api = pj->api, .req = pj->req};
  reply_failed(&c, status, msg);
  pending_free(pj);
}

/* Media location, on a single node: asked after the join and logged by the policy
 * client (there is no other location to choose). In cluster mode the node the join
 * arrived at asked it before placing the room (relay.c), so it is not asked again. */
static void ask_location(api *a, const pending_join *pj) {
  if (a->cluster || !policy_asks(a->policy, POLICY_KIND_LOCATION))
    return;
  policy_params q = pending_params(pj);
  policy_ask_location(a->policy, &q, NULL, NULL);
}

static void pending_finish(pending_join *pj) {
  api *a = pj->api;
  api_call c = {.api = a, .req = pj->req};
  *pj->stub = NULL;
  if (!a->core) {
    reply_failed(&c, 503, "Service is shutting down");
    return pending_free(pj);
  }
  join_result res;
  join_request jr = pending_request(pj);
  if (pj->admit) {
    conf_join_admit(a->core, pj->rec, &jr, pj->role, &res);
  } else { /* the PIN's answer (a prompt, most likely), decided again now */
    bool admit;
    conf_role role;
    const room_record *target;
    conf_join_decide(a->core, pj->rec, &jr, &res, &admit, &role, &target);
    if (admit)
      conf_join_admit(a->core, target, &jr, role, &res);
  }
  if (res.outcome == JOIN_OK)
    ask_location(a, pj);
  const room_record *in = res.outcome == JOIN_OK && res.p ? res.p->room->cfg : NULL;
  if (a->cluster && in && in->adhoc && !in->test_call && in->n_aliases && in->name)
    cluster_adhoc_note(a->cluster, in->aliases[0], in->name, pj->alias);
  reply_join(&c, &res);
  pending_free(pj);
}

static void on_participant(const policy_participant *ans, void *ud) {
  pending_join *pj = ud;
  pj->call = NULL;
  if (ans->verdict == POLICY_REJECT) {
    log_info("policy", "participant %s refused for %s by the policy server%s%s",
             pj->display_name, pj->alias, ans->reject_reason[0] ? ": " : "",
             ans->reject_reason);
    return pending_answer_failed(
        pj, 403, ans->reject_reason[0] ? ans->reject_reason : "Call rejected");
  }
  if (ans->verdict == POLICY_USE) {
    if (ans->display_name[0]) {
      free(pj->display_name);
      pj->display_name = xstrdup(ans->display_name);
    }
    if (ans->call_tag[0]) {
      free(pj->call_tag);
      pj->call_tag = xstrdup(ans->call_tag);
    }
    if (ans->bypass_lock >= 0)
      pj->bypass_lock = ans->bypass_lock == 1;
    if (ans->role != POLICY_ROLE_KEEP) { /* as if that PIN was entered (§E.3) */
      pj->admit = true;
      pj->role = ans->role == POLICY_ROLE_HOST ? ROLE_HOST : ROLE_GUEST;
    }
  }
  pending_finish(pj);
}

/* The room is known (the policy's or the store's): the PIN's verdict, then participant
 * properties when the caller would get in or be asked for a PIN. */
static void pending_decide(pending_join *pj) {
  api *a = pj->api;
  if (!a->core)
    return pending_answer_failed(pj, 503, "Service is shutting down");
  join_result res;
  join_request jr = pending_request(pj);
  const room_record *target;
  conf_join_decide(a->core, pj->rec, &jr, &res, &pj->admit, &pj->role, &target);
  bool ask = policy_asks(a->policy, POLICY_KIND_PARTICIPANT) &&
             (pj->admit || res.outcome == JOIN_PIN_PROMPT);
  if (!ask && !pj->admit) {
    *pj->stub = NULL;
    api_call c = {.api = a, .req = pj->req};
    reply_join(&c, &res);
    return pending_free(pj);
  }
  if (target != pj->rec) { /* a reception routed the caller: the target from now on */
    room_record *copy = room_record_copy(target);
    room_record_free(pj->rec);
    pj->rec = copy;
  }
  /* One budget for the whole join: what the service request used is not given again
   * (a hanging server costs a join 5 s, not 10). */
  uint64_t now = uv_now(pj->loop);
  int left = now + 50 < pj->deadline_ms ? (int)(pj->deadline_ms - now) : 0;
  if (ask && !left)
    log_warn("policy",
             "participant properties for %s not asked: the join's budget is spent",
             pj->alias);
  if (!ask || !left)
    return pending_finish(pj);
  policy_params q = pending_params(pj);
  q.timeout_ms = left;
  q.preauthenticated_role = !pj->admit ? "" : pj->role == ROLE_HOST ? "chair" : "guest";
  pj->call = policy_ask_participant(a->policy, &q, on_participant, pj);
}

/* Cluster mode: an ad-hoc room is entered with the room key it was located by as its
 * first alias (the key other nodes found for its name), so its lease, its tokens and
 * Redis's map name one key whichever alias its first joiner here dialled. */
static void adhoc_keyed(pending_join *pj) {
  room_record *rec = pj->rec;
  const char *k = pj->cluster_key;
  if (!k || !rec->adhoc || rec->test_call ||
      (rec->n_aliases && !strcmp(rec->aliases[0], k)))
    return;
  if (rec->n_aliases == ROOM_MAX_ALIASES)
    free(rec->aliases[--rec->n_aliases]);
  memmove(rec->aliases + 1, rec->aliases, rec->n_aliases * sizeof *rec->aliases);
  rec->aliases[0] = xstrdup(k);
  rec->n_aliases++;
}

static void on_service(policy_service *ans, void *ud) {
  pending_join *pj = ud;
  pj->call = NULL;
  if (ans->verdict == POLICY_REJECT) {
    log_info("policy", "join of %s refused by the policy server", pj->alias);
    return pending_answer_failed(pj, 404, "Neither conference nor gateway found");
  }
  if (ans->verdict == POLICY_USE) {
    pj->rec = ans->rec;
    ans->rec = NULL;
    adhoc_keyed(pj);
    snprintf(pj->service_tag, sizeof pj->service_tag, "%s", ans->service_tag);
    pj->from_policy = true;
  } else {
    const room_record *rec =
        pj->api->core ? conf_find_alias(pj->api->core, pj->alias) : NULL;
    if (!rec)
      return pending_answer_failed(pj, 404, "Neither conference nor gateway found");
    pj->rec = room_record_copy(rec);
  }
  pending_decide(pj);
}

static void request_token_policy(api_call *c, const join_request *jr) {
  api *a = c->api;
  pending_join *pj = xcalloc(1, sizeof *pj);
  pj->api = a;
  pj->req = c->req;
  pj->alias = xstrdup(jr->alias);
  pj->display_name = xstrdup(jr->display_name);
  pj->call_tag = dup_opt(jr->call_tag);
  pj->pin = dup_opt(jr->pin);
  pj->extension = dup_opt(jr->conference_extension);
  pj->vendor = dup_opt(jr->vendor);
  pj->cluster_key = a->cluster ? dup_opt(c->cluster_key) : NULL;
  snprintf(pj->addr, sizeof pj->addr, "%s", jr->remote_addr);
  pj->direct_chat = jr->supports_direct_chat;
  ids_uuid(pj->uuid);
  pj->loop = c->req->conn->ctx->loop;
  /* One budget per join, also across nodes: what the media location took where a cluster
   * join arrived is not given again here (a hanging server costs 5 s, not 10). */
  uint64_t budget = (uint64_t)a->cfg->policy_timeout_ms;
  budget = c->policy_spent_ms < budget ? budget - c->policy_spent_ms : 0;
  pj->deadline_ms = uv_now(pj->loop) + budget;
  pj->stub = h2o_mem_alloc_shared(&c->req->pool, sizeof *pj->stub, pending_dispose);
  *pj->stub = pj;
  if (policy_asks(a->policy, POLICY_KIND_SERVICE) && budget >= 50) {
    policy_params q = pending_params(pj);
    q.timeout_ms = (int)budget;
    pj->call = policy_ask_service(a->policy, &q, on_service, pj);
    return;
  }
  if (policy_asks(a->policy, POLICY_KIND_SERVICE))
    log_warn("policy",
             "service configuration for %s not asked: the join's budget is spent",
             pj->alias);
  const room_record *rec = conf_find_alias(a->core, pj->alias);
  if (!rec)
    return pending_answer_failed(pj, 404, "Neither conference nor gateway found");
  pj->rec = room_record_copy(rec);
  pending_decide(pj);
}

bool client_v2_request_token_asks_policy(const api *a) {
  return policy_asks(a->policy, POLICY_KIND_SERVICE) ||
         policy_asks(a->policy, POLICY_KIND_PARTICIPANT);
}

void client_v2_request_token(api_call *c) {
  refusal err;
  join_request jr = {.alias = c->route.alias};
  bool direct_chat = false;
  if (body_string(c->body, "display_name", true, &jr.display_name, &err) != 0 ||
      body_string(c->body, "call_tag", false, &jr.call_tag, &err) != 0 ||
      body_string(c->body, "conference_extension", false, &jr.conference_extension,
                  &err) != 0 ||
      body_bool(c->body, "supports_direct_chat", false, &direct_chat, &err) != 0)
    return reply_failed(c, err.status, err.message);
  if (strlen(jr.display_name) > 250)
    return reply_failed(c, 400, "display_name is longer than 250 characters");
  jr.supports_direct_chat = direct_chat;
  char pin[PIN_HEADER_MAX], vendor[200], addr[64];
  bool pin_too_long, vendor_too_long;
  jr.pin = copy_header(c->req, "pin", pin, sizeof pin, &pin_too_long);
  if (pin_too_long)
    jr.pin = "x"; /* cannot match any PIN; counts as a wrong attempt */
  jr.vendor = copy_header(c->req, "user-agent", vendor, sizeof vendor, &vendor_too_long);
  if (c->client_addr)
    snprintf(addr, sizeof addr, "%s", c->client_addr);
  else
    http_peer_addr(c->req, addr, sizeof addr);
  jr.remote_addr = addr;
  if (client_v2_request_token_asks_policy(c->api))
    return request_token_policy(c, &jr);
  join_result res;
  conf_join(c->api->core, &jr, &res);
  reply_join(c, &res);
}
