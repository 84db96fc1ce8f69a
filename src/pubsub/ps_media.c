/* ps_media — feeds, publish and subscribe connections of pub/sub participants. */
#include "pubsub/ps_media.h"

#include "core/log.h"
#include "core/mem.h"
#include "pubsub/ps_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {"video", "screen", "audio"};

int ps_feed_type_parse(const char *text) {
  for (int i = 0; i < 3; i++)
    if (text && strcmp(text, type_names[i]) == 0)
      return i;
  return -1;
}

const char *ps_feed_type_name(ps_feed_type t) { return type_names[t]; }

void ps_core_set_media(ps_core *core, media_engine *engine) { core->media = engine; }

json_t *ps_media_feeds_json(const ps_session *s, const ps_participant *except) {
  json_t *list = json_array();
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, (list_node *)&s->all_feeds) {
    ps_feed *f = list_entry(pos, ps_feed, node);
    if (f->owner != except)
      json_array_append_new(list,
                            json_pack("{s:s, s:s, s:s}", "feed_id", f->id, "uid",
                                      f->owner->uid, "type", ps_feed_type_name(f->type)));
  }
  return list;
}

void ps_media_participant_gone(ps_participant *p) { (void)p; }

int ps_publish(ps_participant *p, const char *offer, ps_feed_type type,
               const char *const *mids, size_t n_mids, char *feed_id, buf *answer,
               refusal *why) {
  (void)p, (void)offer, (void)type, (void)mids, (void)n_mids, (void)feed_id, (void)answer;
  return ps_refuse(why, PS_E_INTERNAL, "publish is not available on this server yet");
}
int ps_unpublish(ps_participant *p, const char *feed_id, refusal *why) {
  (void)p, (void)feed_id;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_publish_update(ps_participant *p, const char *offer, buf *answer, refusal *why) {
  (void)p, (void)offer, (void)answer;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_subscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                 refusal *why) {
  (void)p, (void)feed_ids, (void)n, (void)out;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_unsubscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                   refusal *why) {
  (void)p, (void)feed_ids, (void)n, (void)out;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_ice_restart(ps_participant *p, json_t **out, refusal *why) {
  (void)p, (void)out;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_answer(ps_participant *p, const char *sdp, refusal *why) {
  (void)p, (void)sdp;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_layer(ps_participant *p, const char *feed_id, int width, int height, bool paused,
             refusal *why) {
  (void)p, (void)feed_id, (void)width, (void)height, (void)paused;
  return ps_refuse(why, PS_E_INTERNAL, "not available yet");
}
int ps_feed_lookup(ps_participant *asker, const char *feed_id, ps_feed_media *out,
                   refusal *why) {
  (void)asker, (void)feed_id, (void)out;
  return ps_refuse(why, PS_E_NOT_FOUND, "no such feed");
}
size_t ps_session_feeds(ps_participant *p, ps_feed_media *out, size_t max) {
  (void)p, (void)out, (void)max;
  return 0;
}
void ps_on_media_event(const media_event *ev, void *core) { (void)ev, (void)core; }
