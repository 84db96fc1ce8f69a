/* request_token — joining through the client API (§A.1): reads the body and the pin
 * header, asks the core, and answers with a token or the prompt clients expect. */
#include "api/api.h"
#include "api/ice_servers.h"
#include "core/log.h"

#include <stdio.h>
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
  join_result res;
  conf_join(c->api->core, &jr, &res);
  reply_join(c, &res);
}
