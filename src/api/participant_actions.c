/* participant_actions — client API v2 participant- and call-level endpoints
 * (§B.2, §B.3): each reads its body and calls the conference core. */
#include "api/api.h"

#include "conf/call.h"
#include "core/mem.h"
#include "http/url.h"
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  const char *method;
  void (*fn)(api_call *c);
} action;

#define SIMPLE(name, call)                                                               \
  static void name(api_call *c) { reply_status(c, call); }

SIMPLE(mute, conf_set_muted(c->self, c->target, true))
SIMPLE(unmute, conf_set_muted(c->self, c->target, false))
SIMPLE(client_mute, conf_set_client_muted(c->self, c->target, true))
SIMPLE(client_unmute, conf_set_client_muted(c->self, c->target, false))
SIMPLE(video_muted, conf_set_video_muted(c->self, c->target, true))
SIMPLE(video_unmuted, conf_set_video_muted(c->self, c->target, false))
SIMPLE(allowrx, conf_set_rx_presentation(c->self, c->target, true))
SIMPLE(denyrx, conf_set_rx_presentation(c->self, c->target, false))
SIMPLE(spotlighton, conf_set_spotlight(c->self, c->target, true))
SIMPLE(spotlightoff, conf_set_spotlight(c->self, c->target, false))
SIMPLE(admit, conf_admit(c->self, c->target))
SIMPLE(buzz, conf_set_buzz(c->self, c->target, true))
SIMPLE(clearbuzz, conf_set_buzz(c->self, c->target, false))

static void disconnect(api_call *c) {
  refusal st = conf_disconnect(c->self, c->target);
  if (st.status)
    return reply_failed(c, st.status, st.message);
  reply_result(c, NULL);
}

/* Floor changes answer null on success (client API §B.2). */
static void take_floor(api_call *c) {
  refusal st = conf_take_floor(c->self, c->target);
  if (st.status)
    return reply_failed(c, st.status, st.message);
  reply_result(c, NULL);
}

static void release_floor(api_call *c) {
  refusal st = conf_release_floor(c->self, c->target);
  if (st.status)
    return reply_failed(c, st.status, st.message);
  reply_result(c, NULL);
}

static void with_string(api_call *c, const char *key,
                        refusal (*fn)(participant *, participant *, const char *)) {
  refusal err;
  const char *value;
  if (body_string(c->body, key, true, &value, &err) != 0)
    return reply_failed(c, err.status, err.message);
  reply_status(c, fn(c->self, c->target, value));
}

static void dtmf(api_call *c) {
  refusal err;
  const char *digits;
  if (body_string(c->body, "digits", true, &digits, &err) != 0)
    return reply_failed(c, err.status, err.message);
  refusal st = conf_dtmf(c->self, c->target, digits);
  /* Delivered as RFC 4733 events on the target's main call, when it has one. */
  if (st.status == 0 && !list_empty(&c->target->calls))
    st = conf_call_dtmf(list_entry(c->target->calls.next, conf_call, link), digits);
  reply_status(c, st);
}
static void overlaytext(api_call *c) { with_string(c, "text", conf_set_overlay_text); }
static void role(api_call *c) { with_string(c, "role", conf_set_role); }

static void message(api_call *c) {
  refusal err;
  const char *type, *payload;
  if (body_string(c->body, "type", true, &type, &err) != 0 ||
      body_string(c->body, "payload", true, &payload, &err) != 0)
    return reply_failed(c, err.status, err.message);
  reply_status(c, conf_chat(c->self, c->target, type, payload));
}

/* Accepted as a client's preference; nothing in Parley reads them yet. */
static void accept_preference(api_call *c) {
  if (!conf_may_act_on(c->self, c->target))
    return reply_failed(c, 403, "Only a host can do that");
  reply_bool(c, true);
}

/* avatar.jpg (§B.2): the policy server's image of the participant (§E.4), cached a
 * minute by the policy client, or 404 "No image available" as before. */
typedef struct {
  h2o_req_t *req;
  void **stub; /* in the request's pool; NULL-ed once answered */
  policy_call *call;
} avatar_wait;

static void avatar_reply(h2o_req_t *req, const char *jpeg, size_t len) {
  if (jpeg)
    return http_respond(req, 200, "image/jpeg", jpeg, len);
  http_respond_json(
      req, 404,
      json_pack("{s:s, s:s}", "status", "failed", "result", "No image available"));
}

static void avatar_dispose(void *stub) {
  avatar_wait *w = *(avatar_wait **)stub;
  if (w) {
    policy_call_cancel(w->call);
    free(w);
  }
}

static void on_avatar(const char *jpeg, size_t len, void *ud) {
  avatar_wait *w = ud;
  *w->stub = NULL;
  h2o_req_t *req = w->req;
  free(w);
  avatar_reply(req, jpeg, len);
}

static int query_int(h2o_req_t *req, const char *key, int dflt) {
  size_t qlen;
  const char *q = http_query(req, &qlen);
  char text[8];
  if (!q || url_query_param(q, qlen, key, text, sizeof text) <= 0)
    return dflt;
  int v = atoi(text);
  return v >= 16 && v <= 2048 ? v : dflt;
}

static void avatar(api_call *c) {
  policy *pol = c->api->policy;
  if (!policy_asks(pol, POLICY_KIND_AVATAR))
    return reply_failed(c, 404, "No image available");
  const participant *t = c->target;
  policy_params q = {.local_alias = c->route.alias,
                     .remote_alias = t->display_name,
                     .remote_display_name = t->display_name,
                     .remote_address = t->remote_addr,
                     .call_tag = t->call_tag,
                     .vendor = t->vendor,
                     .participant_uuid = t->uuid,
                     .service_name = t->room->cfg->name,
                     .role = t->role == ROLE_HOST ? "chair" : "guest",
                     .width = query_int(c->req, "width", 256),
                     .height = query_int(c->req, "height", 256)};
  const char *jpeg;
  size_t len;
  if (policy_avatar_cached(pol, &q, &jpeg, &len))
    return avatar_reply(c->req, jpeg, len);
  avatar_wait *w = xcalloc(1, sizeof *w);
  w->req = c->req;
  w->stub = h2o_mem_alloc_shared(&c->req->pool, sizeof *w->stub, avatar_dispose);
  *w->stub = w;
  w->call = policy_ask_avatar(pol, &q, on_avatar, w);
}

static const action participant_actions[] = {
    {"mute", "POST", mute},
    {"unmute", "POST", unmute},
    {"client_mute", "POST", client_mute},
    {"client_unmute", "POST", client_unmute},
    {"video_muted", "POST", video_muted},
    {"video_unmuted", "POST", video_unmuted},
    {"allowrxpresentation", "POST", allowrx},
    {"denyrxpresentation", "POST", denyrx},
    {"spotlighton", "POST", spotlighton},
    {"spotlightoff", "POST", spotlightoff},
    {"unlock", "POST", admit},
    {"buzz", "POST", buzz},
    {"clearbuzz", "POST", clearbuzz},
    {"disconnect", "POST", disconnect},
    {"dtmf", "POST", dtmf},
    {"overlaytext", "POST", overlaytext},
    {"role", "POST", role},
    {"message", "POST", message},
    {"take_floor", "POST", take_floor},
    {"release_floor", "POST", release_floor},
    {"pres_in_mix", "POST", accept_preference},
    {"preferred_aspect_ratio", "POST", accept_preference},
    {"notify_not_afk", "POST", accept_preference},
    {"avatar.jpg", "GET", avatar},
    {"calls", "POST", client_v2_calls},
};

static const char *const unsupported[] = {"transfer", "fecc", "show_live_captions",
                                          "hide_live_captions"};

bool client_v2_participant(api_call *c) {
  if (c->route.kind == ROUTE_CALL) {
    client_v2_call_action(c);
    return true;
  }
  for (size_t i = 0; i < sizeof participant_actions / sizeof *participant_actions; i++) {
    const action *a = &participant_actions[i];
    if (strcmp(a->name, c->route.action) != 0)
      continue;
    if (!http_method_is(c->req, a->method)) {
      char msg[80];
      snprintf(msg, sizeof msg, "Method not allowed: use %s", a->method);
      reply_failed(c, 405, msg);
    } else {
      a->fn(c);
    }
    return true;
  }
  for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
    if (strcmp(unsupported[i], c->route.action) == 0) {
      char msg[120];
      snprintf(msg, sizeof msg, "Not supported by this server: %s", c->route.action);
      reply_failed(c, 403, msg);
      return true;
    }
  return false;
}
