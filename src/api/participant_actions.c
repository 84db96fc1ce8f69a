/* participant_actions — client API v2 participant- and call-level endpoints
 * (§B.2, §B.3): each reads its body and calls the conference core. */
#include "api/api.h"

#include "conf/call.h"

#include <stdio.h>
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

static void avatar(api_call *c) { reply_failed(c, 404, "No image available"); }

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
