/* call — WebRTC calls of participants: SDP exchange, media commands, media events. */
#include "conf/call.h"

#include "conf/internal.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/negotiate.h"
#include "rtc/transport.h"

#include <stdlib.h>
#include <string.h>

void conf_set_media(conf_core *core, media_engine *engine) { core->media = engine; }

static void media_flags(conf_call *c) {
  c->has_audio = c->has_video = false;
  for (size_t i = 0; i < c->media.agreed.n_media; i++) {
    const sdp_choice *ch = &c->media.agreed.media[i];
    if (!ch->accepted || ch->direction == SDP_INACTIVE)
      continue;
    c->has_audio |= ch->kind == SDP_AUDIO;
    c->has_video |= ch->kind == SDP_VIDEO && !ch->slides;
  }
}

static conf_call *main_call(participant *p) {
  list_node *pos;
  for (pos = p->calls.next; pos != &p->calls; pos = pos->next) {
    conf_call *c = list_entry(pos, conf_call, link);
    if (c->kind == CALL_MAIN)
      return c;
  }
  return NULL;
}

/* Calls p would hold after a new one of this kind: a new main call replaces the old. */
static size_t calls_after(participant *p, call_kind kind) {
  size_t n = 1;
  list_node *pos;
  for (pos = p->calls.next; pos != &p->calls; pos = pos->next)
    n++;
  return kind == CALL_MAIN && main_call(p) ? n - 1 : n;
}

static refusal check_can_call(participant *p, const char *present, call_kind *kind) {
  conf_core *core = p->room->core;
  if (!core->media)
    return refusal_of(503, "Media is not available on this server");
  if (p->waiting)
    return refusal_of(403, "Not admitted to the conference yet");
  if (!present || !*present)
    *kind = CALL_MAIN;
  else if (strcmp(present, "send") == 0)
    *kind = CALL_PRESENT_SEND;
  else if (strcmp(present, "receive") == 0)
    *kind = CALL_PRESENT_RECEIVE;
  else
    return refusal_of(400, "present must be \"send\" or \"receive\"");
  /* Each call holds ports, SRTP state and a media-loop slot: a client needs a main
   * call and two presentation calls, so 4 leaves one spare for a replacement. */
  size_t max = (size_t)core->cfg->max_calls;
  if (calls_after(p, *kind) > max)
    return refusal_of(403, "Too many calls: a participant may hold at most %zu", max);
  return REFUSAL_NONE;
}

refusal conf_call_create(participant *p, const char *sdp, const char *present,
                         conf_call **out, buf *answer) {
  call_kind kind = CALL_MAIN;
  refusal st = check_can_call(p, present, &kind);
  if (st.status)
    return st;
  conf_core *core = p->room->core;
  conf_call *c = xcalloc(1, sizeof *c);
  ids_uuid(c->uuid);
  snprintf(c->media.call_uuid, sizeof c->media.call_uuid, "%s", c->uuid);
  negotiate_pick_ssrcs(&c->media);
  c->media.mode = p->room->cfg->test_call ? MEDIA_ECHO : MEDIA_CONFERENCE;
  c->media.room_key = p->room->key;
  c->media.muted = p->muted;
  c->media.video_muted = p->video_muted;
  c->media.spotlight = p->spotlight;
  c->media.host = p->role == ROLE_HOST;
  c->media.lecture = p->room->cfg->lecture;
  c->media.presenting = p->presenting;
  c->media.present = (int)kind;
  char err[200];
  bool restart;
  if (negotiate(core->media, sdp, &c->media, answer, &restart, err, sizeof err) != 0) {
    free(c);
    return refusal_of(400, "%s", err);
  }
  c->kind = kind;
  c->owner = p;
  c->setup_deadline_ms =
      uv_now(core->loop) + (uint64_t)core->cfg->call_setup_timeout_s * 1000;
  media_flags(c);
  conf_call *old = kind == CALL_MAIN ? main_call(p) : NULL;
  if (old)
    conf_call_end(old, "Call replaced by a new call", true);
  list_push_back(&p->calls, &c->link);
  hmap_put(core->calls, c->uuid, IDS_UUID_LEN, c);
  media_engine_add_call(core->media, &c->media);
  log_info("conf", "call %s participant=%s audio=%d video=%d", c->uuid, p->uuid,
           c->has_audio, c->has_video);
  room_emit_participant_update(p);
  *out = c;
  if (kind == CALL_PRESENT_SEND) {
    /* Sending a presentation is taking the floor (client API §D.3 B). */
    refusal floor = conf_take_floor(p, p);
    if (floor.status) {
      conf_call_end(c, floor.message, false);
      *out = NULL;
      return floor;
    }
  }
  return REFUSAL_NONE;
}

refusal conf_call_update(conf_call *c, const char *sdp, buf *answer) {
  conf_core *core = c->owner->room->core;
  char err[200];
  bool restart = false;
  bool had_audio = c->has_audio, had_video = c->has_video;
  if (negotiate(core->media, sdp, &c->media, answer, &restart, err, sizeof err) != 0)
    return refusal_of(400, "%s", err);
  media_flags(c);
  media_engine_update_call(core->media, &c->media);
  if (restart)
    log_info("conf", "call %s: ICE restart", c->uuid);
  if (had_audio != c->has_audio || had_video != c->has_video)
    room_emit_participant_update(c->owner);
  return REFUSAL_NONE;
}

void conf_call_flags(const participant *p, bool *has_media, bool *audio_only,
                     bool *video) {
  *has_media = !list_empty(&p->calls);
  *audio_only = *video = false;
  conf_call *m = main_call((participant *)p);
  if (m) {
    *video = m->has_video;
    *audio_only = m->has_audio && !m->has_video;
  }
}

void conf_calls_sync(participant *p) {
  list_node *pos;
  for (pos = p->calls.next; pos != &p->calls; pos = pos->next) {
    conf_call *c = list_entry(pos, conf_call, link);
    media_call *m = &c->media;
    bool host = p->role == ROLE_HOST;
    if (m->muted == p->muted && m->video_muted == p->video_muted &&
        m->spotlight == p->spotlight && m->host == host && m->presenting == p->presenting)
      continue;
    m->presenting = p->presenting;
    m->muted = p->muted;
    m->video_muted = p->video_muted;
    m->spotlight = p->spotlight;
    m->host = host;
    media_engine_set_prefs(p->room->core->media, m);
  }
}

conf_call *conf_call_find(participant *p, const char *uuid) {
  conf_call *c = hmap_get(p->room->core->calls, uuid, strlen(uuid));
  return c && c->owner == p ? c : NULL;
}

static bool sends_presentation(participant *p) {
  list_node *pos;
  for (pos = p->calls.next; pos != &p->calls; pos = pos->next)
    if (list_entry(pos, conf_call, link)->kind == CALL_PRESENT_SEND)
      return true;
  return false;
}

void conf_calls_end_presenting(participant *p, const char *reason) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->calls) {
    conf_call *c = list_entry(pos, conf_call, link);
    if (c->kind == CALL_PRESENT_SEND)
      conf_call_end(c, reason, true);
  }
}

void conf_call_end(conf_call *c, const char *reason, bool server_side) {
  participant *p = c->owner;
  conf_core *core = p->room->core;
  bool was_sending = c->kind == CALL_PRESENT_SEND;
  media_engine_remove_call(core->media, &c->media);
  list_unlink(&c->link);
  hmap_remove(core->calls, c->uuid, IDS_UUID_LEN);
  log_info("conf", "call %s ended: %s", c->uuid, reason);
  if (server_side && !p->leaving)
    room_emit(p->room, "call_disconnected",
              json_pack("{s:s, s:s}", "call_uuid", c->uuid, "reason", reason), p, NULL);
  free(c);
  if (p->leaving)
    return;
  room_emit_participant_update(p);
  /* Its last presentation call gone: the floor goes too. */
  if (was_sending && p->room->presenter == p && !sends_presentation(p))
    conf_release_floor(p, p);
}

refusal conf_call_dtmf(conf_call *c, const char *digits) {
  for (const char *d = digits; *d; d++)
    if (!strchr("0123456789*#ABCD", *d))
      return refusal_of(400, "digits may contain only 0-9, *, #, A-D");
  if (!*digits || strlen(digits) > 30)
    return refusal_of(400, "digits must be 1 to 30 characters");
  media_engine_send_dtmf(c->owner->room->core->media, &c->media, digits);
  return REFUSAL_NONE;
}

void conf_calls_end_all(participant *p, const char *reason) {
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->calls)
      conf_call_end(list_entry(pos, conf_call, link), reason, false);
}

/* The media side ended a call. A peer that stopped sending ICE consent checks is gone
 * (a closed tab, a dead machine): once its last call has gone that way it leaves at once,
 * rather than stay on everyone's roster until its token lapses (--token-lifetime, 120 s),
 * since no client is left to refresh or release it. */
static void on_media_ended(conf_call *c, const char *reason) {
  participant *p = c->owner;
  conf_call_end(c, reason, true);
  if (strcmp(reason, TRANSPORT_CONSENT_EXPIRED) == 0 && list_empty(&p->calls))
    conf_leave(p, reason);
}

void conf_calls_sweep(conf_core *core) {
  size_t n = hmap_count(core->calls), n_late = 0, pos = 0;
  if (n == 0)
    return;
  /* Their ids are collected first: ending a call changes the map, and may end
   * others (the floor goes with a presentation). */
  char(*late)[IDS_UUID_LEN + 1] = xcalloc(n, sizeof *late);
  conf_call *c;
  uint64_t now = uv_now(core->loop);
  while ((c = hmap_next(core->calls, &pos)))
    if (!c->connected && now >= c->setup_deadline_ms)
      memcpy(late[n_late++], c->uuid, sizeof *late);
  for (size_t i = 0; i < n_late; i++)
    if ((c = hmap_get(core->calls, late[i], IDS_UUID_LEN)))
      conf_call_end(c, "Call setup timed out", true);
  free(late);
}

/* The mid of a call's tile slot i, or NULL. */
static const char *slot_mid(const conf_call *c, int i) {
  for (size_t m = 0; m < c->media.agreed.n_media; m++)
    if (c->media.agreed.media[m].accepted && c->media.agreed.media[m].slot == i)
      return c->media.agreed.media[m].mid;
  return NULL;
}

/* parley_streams (issue 13 §1): what each tile slot of a multistream call shows, to
 * the call's own participant only. Source calls become their participants. */
static void emit_streams(conf_core *core, conf_call *c, const media_streams *ms) {
  json_t *list = json_array();
  for (int i = 0; i < ms->n && i < SDP_MAX_SLOTS; i++) {
    const char *mid = slot_mid(c, i);
    if (!mid)
      continue;
    char uuid[sizeof ms->slot[i].call_uuid];
    memcpy(uuid, ms->slot[i].call_uuid, sizeof uuid);
    uuid[sizeof uuid - 1] = '\0';
    conf_call *src = uuid[0] ? hmap_get(core->calls, uuid, strlen(uuid)) : NULL;
    char layer[2] = {ms->slot[i].layer, 0};
    json_array_append_new(
        list, json_pack("{s:s, s:o, s:o}", "mid", mid, "participant_uuid",
                        src ? json_string(src->owner->uuid) : json_null(), "layer",
                        src && layer[0] ? json_string(layer) : json_null()));
  }
  room_emit(c->owner->room, "parley_streams",
            json_pack("{s:s, s:o}", "call_uuid", c->uuid, "streams", list), c->owner,
            NULL);
}

refusal conf_call_hints(conf_call *c, const conf_stream_hint *hints, size_t n) {
  uint16_t w[SDP_MAX_SLOTS] = {0}, h[SDP_MAX_SLOTS] = {0};
  for (size_t k = 0; k < n; k++) {
    int slot = -1;
    for (int i = 0; i < SDP_MAX_SLOTS && slot < 0; i++) {
      const char *mid = slot_mid(c, i);
      if (mid && strcmp(mid, hints[k].mid) == 0)
        slot = i;
    }
    if (slot < 0)
      return refusal_of(400, "streams: mid \"%s\" is not a video tile of this call",
                        hints[k].mid);
    w[slot] = hints[k].width;
    h[slot] = hints[k].height;
  }
  if (c->media.agreed.n_slots < 2 && n == 0)
    w[0] = 1280, h[0] = 720; /* a single-video call's tile is never "not shown" */
  memcpy(c->media.hint_width, w, sizeof w);
  memcpy(c->media.hint_height, h, sizeof h);
  media_engine_set_hints(c->owner->room->core->media, &c->media);
  return REFUSAL_NONE;
}

void conf_on_media_event(const media_event *ev, void *ud) {
  conf_core *core = ud;
  conf_call *c = hmap_get(core->calls, ev->call_uuid, strlen(ev->call_uuid));
  if (!c)
    return; /* ended here first */
  switch (ev->kind) {
  case MEDIA_EVENT_CONNECTED:
    c->connected = true;
    log_info("conf", "call %s media connected", c->uuid);
    break;
  case MEDIA_EVENT_ENDED:
    on_media_ended(c, ev->text);
    break;
  case MEDIA_EVENT_SPEAKER:
    conf_on_speaker(c->owner);
    break;
  case MEDIA_EVENT_STREAMS:
    emit_streams(core, c, &ev->streams);
    break;
  case MEDIA_EVENT_DTMF:
    c->dtmf_received++;
    core->dtmf_digits_received++;
    log_info("conf", "dtmf received call=%s participant=%s digit=%s", c->uuid,
             c->owner->uuid, ev->text);
    room_emit(c->owner->room, "dtmf_received",
              json_pack("{s:s, s:s}", "call_uuid", c->uuid, "digit", ev->text), c->owner,
              NULL);
    break;
  default:
    break; /* RTM's events: the RTM core takes them */
  }
}
