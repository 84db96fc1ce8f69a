/* participant — a participant's life: creation, its JSON view (client API §C.4),
 * who may act on it, and the timer that removes it when its tokens lapse. */
#include "conf/internal.h"

#include "conf/call.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

double conf_now_epoch(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static char *dup_or_empty(const char *s) { return xstrdup(s ? s : ""); }

participant *participant_new(room *r, const join_request *req, conf_role role) {
  participant *p = xcalloc(1, sizeof *p);
  if (req->uuid && strlen(req->uuid) == IDS_UUID_LEN)
    memcpy(p->uuid, req->uuid, IDS_UUID_LEN + 1);
  else
    ids_uuid(p->uuid);
  p->room = r;
  LIST_INIT(&p->link);
  LIST_INIT(&p->sinks);
  LIST_INIT(&p->tokens);
  LIST_INIT(&p->calls);
  p->display_name = dup_or_empty(req->display_name);
  p->overlay_text = dup_or_empty(req->display_name);
  p->call_tag = dup_or_empty(req->call_tag);
  p->vendor = dup_or_empty(req->vendor);
  p->joined_alias = dup_or_empty(req->alias);
  snprintf(p->remote_addr, sizeof p->remote_addr, "%s",
           req->remote_addr ? req->remote_addr : "");
  p->role = role;
  p->supports_direct_chat = req->supports_direct_chat;
  p->start_time = conf_now_epoch();
  p->chat_tokens = r->core->cfg->chat_burst;
  p->chat_refill_ms = uv_now(r->core->loop);
  uv_timer_init(r->core->loop, &p->lapse_timer);
  p->lapse_timer.data = p;
  return p;
}

static void free_after_close(uv_handle_t *h) { free(h->data); }

const char *participant_json_text(participant *p) {
  if (!p->json_text) {
    json_t *o = conf_participant_json(p);
    p->json_text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
  }
  return p->json_text;
}

void participant_free(participant *p) {
  uv_timer_stop(&p->lapse_timer);
  free(p->json_text);
  free(p->display_name);
  free(p->overlay_text);
  free(p->call_tag);
  free(p->vendor);
  free(p->joined_alias);
  /* The struct itself goes once libuv has let go of the timer. */
  uv_close((uv_handle_t *)&p->lapse_timer, free_after_close);
}

static void on_lapse(uv_timer_t *t) {
  participant *p = t->data;
  log_info("conf", "participant %s token lapsed", p->uuid);
  conf_leave(p, "Timer expired awaiting token refresh");
}

void participant_arm_lapse(participant *p, uint64_t delay_ms) {
  uv_timer_start(&p->lapse_timer, on_lapse, delay_ms, 0);
}

bool participant_may_control(const participant *actor, const participant *target) {
  return !actor->waiting && (actor == target || actor->role == ROLE_HOST);
}

bool conf_may_act_on(const participant *actor, const participant *target) {
  return participant_may_control(actor, target);
}

const char *conf_service_type(const participant *p) {
  if (p->waiting)
    return "waiting_room";
  if (p->room->cfg->test_call)
    return "test_call";
  return p->room->cfg->lecture ? "lecture" : "conference";
}

static const char *yes_no(bool b) { return b ? "YES" : "NO"; }

json_t *conf_participant_json(const participant *p) {
  json_t *o = json_object();
  json_object_set_new(o, "uuid", json_string(p->uuid));
  json_object_set_new(o, "display_name", json_string(p->display_name));
  json_object_set_new(o, "overlay_text", json_string(p->overlay_text));
  json_object_set_new(o, "role", json_string(p->role == ROLE_HOST ? "chair" : "guest"));
  json_object_set_new(o, "service_type", json_string(conf_service_type(p)));
  json_object_set_new(o, "is_muted", json_string(yes_no(p->muted)));
  json_object_set_new(o, "is_client_muted", json_boolean(p->client_muted));
  json_object_set_new(o, "is_video_muted", json_boolean(p->video_muted));
  json_object_set_new(o, "is_presenting", json_string(yes_no(p->presenting)));
  json_object_set_new(o, "spotlight", json_real(p->spotlight));
  json_object_set_new(o, "buzz_time", json_real(p->buzz_time));
  json_object_set_new(o, "start_time", json_real(p->start_time));
  json_object_set_new(o, "call_direction", json_string("in"));
  json_object_set_new(o, "protocol", json_string("api"));
  json_object_set_new(o, "local_alias", json_string(p->joined_alias));
  json_object_set_new(o, "uri", json_string(""));
  json_object_set_new(o, "vendor", json_string(p->vendor));
  /* Media is always DTLS-SRTP; a participant without calls is control-only. */
  bool has_media, audio_only, video;
  conf_call_flags(p, &has_media, &audio_only, &video);
  json_object_set_new(o, "encryption", json_string("On"));
  json_object_set_new(o, "has_media", json_boolean(has_media));
  json_object_set_new(o, "is_audio_only_call", json_string(yes_no(audio_only)));
  json_object_set_new(o, "is_video_call", json_string(yes_no(video)));
  json_object_set_new(o, "mute_supported", json_string("YES"));
  json_object_set_new(o, "disconnect_supported", json_string("YES"));
  json_object_set_new(o, "transfer_supported", json_string("NO"));
  json_object_set_new(o, "fecc_supported", json_string("NO"));
  json_object_set_new(o, "presentation_supported", json_string("YES"));
  json_object_set_new(o, "rx_presentation_policy",
                      json_string(p->rx_presentation_denied ? "DENY" : "ALLOW"));
  json_object_set_new(o, "is_streaming_conference", json_false());
  json_object_set_new(o, "is_external", json_false());
  json_object_set_new(o, "external_node_uuid", json_string(""));
  json_object_set_new(o, "is_video_silent", json_false());
  json_object_set_new(o, "is_main_video_dropped_out", json_false());
  json_object_set_new(o, "is_transferring", json_false());
  json_object_set_new(o, "is_conjoined", json_false());
  json_object_set_new(o, "is_idp_authenticated", json_false());
  json_object_set_new(o, "needs_presentation_in_mix", json_false());
  json_object_set_new(o, "supports_direct_chat", json_boolean(p->supports_direct_chat));
  json_object_set_new(o, "call_tag", json_string(p->call_tag));
  char api_url[64];
  snprintf(api_url, sizeof api_url, "/participants/%s", p->uuid);
  json_object_set_new(o, "api_url", json_string(api_url));
  json_object_set_new(o, "last_spoken_time", json_real(p->last_spoken));
  json_object_set_new(o, "can_receive_personal_mix", json_false());
  json_object_set_new(
      o, "receive_from_video_mix",
      json_pack("{s:s, s:f}", "mix_name", "main", "timestamp", p->start_time));
  return o;
}
