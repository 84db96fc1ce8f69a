/* calls — client API v2 call endpoints (§B.3, §D.1): participants/<uuid>/calls and
 * calls/<uuid>/{ack, new_candidate, update, disconnect, dtmf, statistics}. */
#include "api/api.h"

#include "conf/call.h"

#include <stdio.h>
#include <string.h>

static bool own_calls_only(api_call *c) {
  if (c->self == c->target)
    return true;
  reply_failed(c, 403, "A participant can only manage its own calls");
  return false;
}

void client_v2_calls(api_call *c) {
  if (!own_calls_only(c))
    return;
  refusal err;
  const char *call_type, *sdp, *present;
  if (body_string(c->body, "call_type", true, &call_type, &err) != 0 ||
      body_string(c->body, "present", false, &present, &err) != 0)
    return reply_failed(c, err.status, err.message);
  if (strcmp(call_type, "WEBRTC") != 0)
    return reply_failed(c, 403, "Not supported by this server: RTMP calls");
  if (body_string(c->body, "sdp", true, &sdp, &err) != 0)
    return reply_failed(c, err.status, err.message);
  buf answer = {0};
  conf_call *call;
  refusal st = conf_call_create(c->self, sdp, present, &call, &answer);
  if (st.status) {
    buf_free(&answer);
    return reply_failed(c, st.status, st.message);
  }
  reply_result(c, json_pack("{s:s, s:s}", "call_uuid", call->uuid, "sdp", answer.data));
  buf_free(&answer);
}

static void ack(api_call *c, conf_call *call) {
  /* The answer is applied; with ICE-lite nothing waits for this. */
  call->acked = true;
  reply_bool(c, true);
}

static void new_candidate(api_call *c, conf_call *call) {
  (void)call;
  refusal err;
  const char *candidate, *mid;
  if (body_string(c->body, "candidate", true, &candidate, &err) != 0 ||
      body_string(c->body, "mid", false, &mid, &err) != 0)
    return reply_failed(c, err.status, err.message);
  /* ICE-lite learns the peer's addresses from its checks; candidates need no action. */
  reply_result(c, NULL);
}

static void update(api_call *c, conf_call *call) {
  refusal err;
  const char *sdp;
  if (body_string(c->body, "sdp", true, &sdp, &err) != 0)
    return reply_failed(c, err.status, err.message);
  buf answer = {0};
  refusal st = conf_call_update(call, sdp, &answer);
  if (st.status == 0)
    reply_result(c, json_string(answer.data));
  else
    reply_failed(c, st.status, st.message);
  buf_free(&answer);
}

static void disconnect(api_call *c, conf_call *call) {
  conf_call_end(call, "Call disconnected", false);
  reply_result(c, NULL);
}

static void dtmf(api_call *c, conf_call *call) {
  refusal err;
  const char *digits;
  if (body_string(c->body, "digits", true, &digits, &err) != 0)
    return reply_failed(c, err.status, err.message);
  reply_status(c, conf_call_dtmf(call, digits));
}

static void statistics(api_call *c, conf_call *call) {
  (void)call;
  reply_result(c, NULL); /* accepted; server-side statistics come from RTCP */
}

static const struct {
  const char *name;
  void (*fn)(api_call *c, conf_call *call);
} call_actions[] = {
    {"ack", ack},       {"new_candidate", new_candidate},
    {"update", update}, {"disconnect", disconnect},
    {"dtmf", dtmf},     {"statistics", statistics},
};

void client_v2_call_action(api_call *c) {
  if (!own_calls_only(c))
    return;
  if (!http_method_is(c->req, "POST"))
    return reply_failed(c, 405, "Method not allowed: use POST");
  conf_call *call = conf_call_find(c->self, c->route.call);
  if (!call)
    return reply_failed(c, 404, "Call not found");
  for (size_t i = 0; i < sizeof call_actions / sizeof *call_actions; i++)
    if (strcmp(call_actions[i].name, c->route.action) == 0)
      return call_actions[i].fn(c, call);
  if (strcmp(c->route.action, "fecc") == 0)
    return reply_failed(c, 403, "Not supported by this server: fecc");
  reply_failed(c, 404, "Unknown endpoint");
}
