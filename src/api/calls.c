/* calls — client API v2 call endpoints (§B.3, §D.1): participants/<uuid>/calls and
 * calls/<uuid>/{ack, new_candidate, update, disconnect, dtmf, statistics} and Parley's
 * calls/<uuid>/streams (tile size hints of a multistream call). */
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

/* Tile size hints (issue 13 §1): {"streams":[{"mid":"1","width":640,"height":360}]}. */
static void streams(api_call *c, conf_call *call) {
  json_t *list = c->body ? json_object_get(c->body, "streams") : NULL;
  char msg[160];
  if (!json_is_array(list))
    return reply_failed(c, 400, "streams must be an array of {mid, width, height}");
  size_t n = json_array_size(list);
  if (n > SDP_MAX_SLOTS) {
    snprintf(msg, sizeof msg, "streams: at most %d entries", SDP_MAX_SLOTS);
    return reply_failed(c, 400, msg);
  }
  conf_stream_hint hints[SDP_MAX_SLOTS];
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(list, i);
    json_t *mid = json_object_get(e, "mid"), *w = json_object_get(e, "width"),
           *h = json_object_get(e, "height");
    json_int_t wv = json_integer_value(w), hv = json_integer_value(h);
    if (!json_is_object(e) || !json_is_string(mid) || !json_is_integer(w) ||
        !json_is_integer(h))
      snprintf(msg, sizeof msg,
               "streams[%zu] must be {\"mid\": string, \"width\": integer, "
               "\"height\": integer}",
               i);
    else if (wv < 0 || hv < 0 || wv > 16384 || hv > 16384)
      snprintf(msg, sizeof msg, "streams[%zu]: width and height must be 0 to 16384", i);
    else
      msg[0] = '\0';
    for (size_t j = 0; j < i && !msg[0]; j++)
      if (strcmp(hints[j].mid, json_string_value(mid)) == 0)
        snprintf(msg, sizeof msg, "streams: mid \"%.32s\" is given twice",
                 json_string_value(mid));
    if (msg[0])
      return reply_failed(c, 400, msg);
    hints[i] = (conf_stream_hint){json_string_value(mid), (uint16_t)wv, (uint16_t)hv};
  }
  reply_status(c, conf_call_hints(call, hints, n));
}

static void statistics(api_call *c, conf_call *call) {
  (void)call;
  reply_result(c, NULL); /* accepted; server-side statistics come from RTCP */
}

static const struct {
  const char *name;
  void (*fn)(api_call *c, conf_call *call);
} call_actions[] = {
    {"ack", ack},         {"new_candidate", new_candidate},
    {"update", update},   {"disconnect", disconnect},
    {"dtmf", dtmf},       {"statistics", statistics},
    {"streams", streams},
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
