/* ps_media — feeds, publish and subscribe connections of pub/sub participants: the
 * publish call answered by negotiate.c, the subscribe call offered by sdp_offer.c and
 * its answers taken in order, and the media events of both. */
#include "pubsub/ps_media.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/negotiate.h"
#include "media/session.h"
#include "pubsub/ps_internal.h"
#include "pubsub/ps_recording.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_HINT_W 1280 /* before a `layer`: the full camera */
#define DEFAULT_HINT_H 720

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

/* ---- calls ---------------------------------------------------------------------- */

static media_call *new_call(ps_participant *p, media_mode mode) {
  media_call *m = xcalloc(1, sizeof *m);
  ids_uuid(m->call_uuid);
  m->mode = mode;
  m->room_key = p->s->room_key;
  negotiate_pick_ssrcs(m);
  hmap_put(p->s->core->calls, m->call_uuid, strlen(m->call_uuid), p);
  return m;
}

static void end_call(ps_core *core, media_call **m, bool *added) {
  if (!*m)
    return;
  if (*added && core->media)
    media_engine_remove_call(core->media, *m);
  hmap_remove(core->calls, (*m)->call_uuid, strlen((*m)->call_uuid));
  free(*m);
  *m = NULL;
  *added = false;
}

/* ---- the subscribe connection --------------------------------------------------- */

static uint32_t random_ssrc(void) {
  uint32_t v;
  do
    ids_random(&v, sizeof v);
  while (v == 0);
  return v;
}

static void fill_offer_local(ps_participant *p, const ps_offer *o, sdp_offer_local *l) {
  media_engine *e = p->s->core->media;
  uint16_t port = (uint16_t)media_engine_port_for(e, p->sub);
  *l = (sdp_offer_local){.ice_ufrag = o->ufrag,
                         .ice_pwd = o->pwd,
                         .fingerprint = media_engine_fingerprint(e),
                         .addresses = media_engine_announce(e),
                         .port = port,
                         .tcp_port = media_engine_ice_tcp(e) ? port : 0,
                         .cname = "parley",
                         .session_id = p->offer_session_id,
                         .version = o->version,
                         .tracks = o->tracks,
                         .n_tracks = o->n};
}

static void ensure_sub(ps_participant *p) {
  if (!p->sub)
    p->sub = new_call(p, MEDIA_PUBSUB_SUB);
  if (!p->latest.ufrag[0]) {
    ice_lite fresh;
    ice_lite_new_credentials(&fresh);
    snprintf(p->latest.ufrag, sizeof p->latest.ufrag, "%s", fresh.local_ufrag);
    snprintf(p->latest.pwd, sizeof p->latest.pwd, "%s", fresh.local_pwd);
    ids_random(&p->offer_session_id, sizeof p->offer_session_id);
    p->offer_session_id >>= 2; /* o= wants a number that fits 62 bits */
  }
}

/* A new offer from p->latest, queued as awaiting its answer; *out {sdp, tracks}. */
static int make_offer(ps_participant *p, json_t **out, refusal *why) {
  p->latest.version++;
  sdp_offer_local l;
  fill_offer_local(p, &p->latest, &l);
  buf sdp = {0};
  char err[160];
  if (sdp_offer_write(&l, &sdp, err, sizeof err) != 0) {
    buf_free(&sdp);
    return ps_refuse(why, PS_E_BAD_REQUEST, "%s", err);
  }
  ps_offer *o = xmalloc(sizeof *o);
  *o = p->latest;
  o->next = NULL;
  ps_offer **tail = &p->pending;
  while (*tail)
    tail = &(*tail)->next;
  *tail = o;
  json_t *tracks = json_array();
  for (size_t i = 0; i < p->latest.n; i++)
    if (p->latest.tracks[i].active)
      json_array_append_new(
          tracks, json_pack("{s:s, s:s, s:s}", "mid", p->latest.tracks[i].mid, "feed_id",
                            p->latest.feed_of[i], "kind",
                            p->latest.tracks[i].kind == SDP_AUDIO ? "audio" : "video"));
  *out = json_pack("{s:s%, s:o}", "sdp", sdp.data, sdp.len, "tracks", tracks);
  buf_free(&sdp);
  return 0;
}

static void free_pending(ps_participant *p) {
  while (p->pending) {
    ps_offer *o = p->pending;
    p->pending = o->next;
    free(o);
  }
}

static bool subscribed(const ps_participant *p, const char *feed_id) {
  for (size_t i = 0; i < p->latest.n; i++)
    if (p->latest.tracks[i].active && strcmp(p->latest.feed_of[i], feed_id) == 0)
      return true;
  return false;
}

static void add_track(ps_participant *p, const ps_feed *f, sdp_kind kind, int stream) {
  ps_offer *o = &p->latest;
  size_t i = o->n++;
  sdp_offer_track *t = &o->tracks[i];
  media_track *m = &o->media[i];
  memset(t, 0, sizeof *t);
  memset(m, 0, sizeof *m);
  snprintf(t->mid, sizeof t->mid, "%u", p->next_mid++);
  t->kind = kind;
  t->active = true;
  t->ssrc = m->ssrc = random_ssrc();
  if (kind == SDP_VIDEO)
    t->rtx_ssrc = m->rtx_ssrc = random_ssrc();
  snprintf(t->stream_id, sizeof t->stream_id, "%s", f->id);
  snprintf(o->feed_of[i], sizeof o->feed_of[i], "%s", f->id);
  snprintf(m->src_call, sizeof m->src_call, "%s", f->owner->pub->call_uuid);
  m->src_stream = (int8_t)stream;
  m->hint_w = DEFAULT_HINT_W;
  m->hint_h = DEFAULT_HINT_H;
}

/* The feed's tracks leave p's subscribe connection (port 0, mids kept). */
static bool drop_tracks(ps_participant *p, const char *feed_id) {
  bool any = false;
  for (size_t i = 0; i < p->latest.n; i++)
    if (p->latest.tracks[i].active && strcmp(p->latest.feed_of[i], feed_id) == 0) {
      p->latest.tracks[i].active = false;
      p->latest.media[i].src_call[0] = '\0';
      any = true;
    }
  return any;
}

int ps_subscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                 refusal *why) {
  if (!p->s->core->media)
    return ps_refuse(why, PS_E_INTERNAL, "media is not available on this server");
  size_t need = 0;
  for (size_t k = 0; k < n; k++) {
    ps_feed *f = hmap_get(p->s->feeds, feed_ids[k], strlen(feed_ids[k]));
    if (!f)
      return ps_refuse(why, PS_E_NOT_FOUND, "no feed \"%s\" in this session",
                       feed_ids[k]);
    if (!subscribed(p, f->id))
      need += (size_t)(f->audio_stream >= 0) + (size_t)(f->video_stream >= 0);
  }
  if (n == 0)
    return ps_refuse(why, PS_E_BAD_REQUEST, "feed_ids names no feed");
  if (p->latest.n + need > SDP_MAX_MEDIA)
    return ps_refuse(why, PS_E_LIMIT,
                     "a subscribe connection has at most %d tracks over its life; "
                     "subscribe again on a new connection (join again)",
                     SDP_MAX_MEDIA);
  ensure_sub(p);
  for (size_t k = 0; k < n; k++) {
    ps_feed *f = hmap_get(p->s->feeds, feed_ids[k], strlen(feed_ids[k]));
    if (subscribed(p, f->id))
      continue;
    if (f->audio_stream >= 0)
      add_track(p, f, SDP_AUDIO, f->audio_stream);
    if (f->video_stream >= 0)
      add_track(p, f, SDP_VIDEO, f->video_stream);
  }
  return make_offer(p, out, why);
}

int ps_unsubscribe(ps_participant *p, const char *const *feed_ids, size_t n, json_t **out,
                   refusal *why) {
  bool any = false;
  for (size_t k = 0; k < n; k++)
    any |= drop_tracks(p, feed_ids[k]);
  if (!any)
    return ps_refuse(why, PS_E_NOT_FOUND, "not subscribed to %s", n ? feed_ids[0] : "it");
  return make_offer(p, out, why);
}

int ps_ice_restart(ps_participant *p, json_t **out, refusal *why) {
  if (!p->s->core->media)
    return ps_refuse(why, PS_E_INTERNAL, "media is not available on this server");
  if (p->latest.n == 0)
    return ps_refuse(why, PS_E_BAD_REQUEST,
                     "nothing is subscribed: no connection to restart");
  ensure_sub(p);
  ice_lite fresh;
  ice_lite_new_credentials(&fresh);
  snprintf(p->latest.ufrag, sizeof p->latest.ufrag, "%s", fresh.local_ufrag);
  snprintf(p->latest.pwd, sizeof p->latest.pwd, "%s", fresh.local_pwd);
  /* Offers still awaiting answers were lost with a dropped socket (a resumed client
   * re-sends the answer it has first): this one replaces them. */
  free_pending(p);
  return make_offer(p, out, why);
}

/* The answered offer becomes the subscribe call; the sizes are the newest. */
static void apply_answer(ps_participant *p, const ps_offer *o,
                         const sdp_offer_result *res) {
  ps_core *core = p->s->core;
  ensure_sub(p);
  media_call *m = p->sub;
  m->agreed = res->agreed;
  snprintf(m->remote_ufrag, sizeof m->remote_ufrag, "%s", res->remote_ufrag);
  snprintf(m->remote_fingerprint, sizeof m->remote_fingerprint, "%s",
           res->remote_fingerprint);
  snprintf(m->local_ufrag, sizeof m->local_ufrag, "%s", o->ufrag);
  snprintf(m->local_pwd, sizeof m->local_pwd, "%s", o->pwd);
  m->n_tracks = (uint8_t)o->n;
  memcpy(m->tracks, o->media, sizeof m->tracks);
  for (size_t i = 0; i < o->n && i < p->latest.n; i++) {
    m->tracks[i].hint_w = p->latest.media[i].hint_w;
    m->tracks[i].hint_h = p->latest.media[i].hint_h;
  }
  if (p->sub_added) {
    media_engine_update_call(core->media, m);
  } else {
    media_engine_add_call(core->media, m);
    p->sub_added = true;
  }
}

int ps_answer(ps_participant *p, const char *sdp, refusal *why) {
  if (!p->pending)
    return ps_refuse(why, PS_E_BAD_REQUEST, "no offer awaits an answer");
  char err[200] = "", first_err[200] = "";
  for (ps_offer *o = p->pending; o; o = o->next) {
    sdp_offer_local l;
    fill_offer_local(p, o, &l);
    sdp_offer_result *res = xmalloc(sizeof *res);
    int rc = sdp_offer_accept(&l, sdp, strlen(sdp), res, err, sizeof err);
    if (rc == 0) {
      /* Answers come in order: older offers left unanswered are done with. */
      while (p->pending != o) {
        ps_offer *old = p->pending;
        p->pending = old->next;
        free(old);
      }
      p->pending = o->next;
      apply_answer(p, o, res);
      free(res);
      free(o);
      return 0;
    }
    free(res);
    if (!first_err[0])
      snprintf(first_err, sizeof first_err, "%s", err);
  }
  return ps_refuse(why, PS_E_BAD_REQUEST, "the answer does not fit the offer: %s",
                   first_err);
}

int ps_layer(ps_participant *p, const char *feed_id, int width, int height, bool paused,
             refusal *why) {
  bool any = false;
  for (size_t i = 0; i < p->latest.n; i++) {
    if (!p->latest.tracks[i].active || p->latest.tracks[i].kind != SDP_VIDEO ||
        strcmp(p->latest.feed_of[i], feed_id) != 0)
      continue;
    media_track *t = &p->latest.media[i];
    bool sized = width > 0 && height > 0;
    t->hint_w = paused  ? 0
                : sized ? (uint16_t)(width > 8192 ? 8192 : width)
                        : DEFAULT_HINT_W;
    t->hint_h = paused  ? 0
                : sized ? (uint16_t)(height > 8192 ? 8192 : height)
                        : DEFAULT_HINT_H;
    if (p->sub && i < p->sub->n_tracks) {
      p->sub->tracks[i].hint_w = t->hint_w;
      p->sub->tracks[i].hint_h = t->hint_h;
    }
    any = true;
  }
  if (!any)
    return ps_refuse(why, PS_E_NOT_FOUND, "no video of feed %s is subscribed", feed_id);
  if (p->sub_added)
    media_engine_set_hints(p->s->core->media, p->sub);
  return 0;
}

/* ---- feeds ---------------------------------------------------------------------- */

/* The feed goes: everyone hears publisher_left, its subscribers an offer without it. */
static void feed_remove(ps_feed *f) {
  ps_participant *owner = f->owner;
  ps_session *s = owner->s;
  ps_recording_feed_gone(s->core, s->cid, s->sid, f->id); /* its recording stops */
  ps_broadcast(s, owner, "publisher_left",
               json_pack("{s:s, s:s}", "uid", owner->uid, "feed_id", f->id));
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &s->members) {
    ps_participant *q = list_entry(pos, ps_participant, node);
    json_t *offer = NULL;
    refusal why;
    if (drop_tracks(q, f->id) && make_offer(q, &offer, &why) == 0)
      ps_emit(q, "offer", offer);
  }
  hmap_remove(s->feeds, f->id, strlen(f->id));
  list_unlink(&f->node);
  owner->feeds[f->type] = NULL;
  s->core->n.feeds--;
  log_info("pubsub", "feed %s of %s in session %s ended", f->id, owner->uid, s->sid);
  free(f);
}

static void remove_feeds(ps_participant *p) {
  for (int t = 0; t < 3; t++)
    if (p->feeds[t])
      feed_remove(p->feeds[t]);
}

void ps_media_greet(ps_participant *p) {
  if (p->s->speaker[0])
    ps_emit(p, "speaker", json_pack("{s:s}", "uid", p->s->speaker));
}

void ps_media_participant_gone(ps_participant *p) {
  ps_core *core = p->s->core;
  if (strcmp(p->s->speaker, p->uid) == 0)
    p->s->speaker[0] = '\0';
  remove_feeds(p);
  end_call(core, &p->pub, &p->pub_added);
  end_call(core, &p->sub, &p->sub_added);
  free_pending(p);
}

static bool mid_in_feed(const ps_participant *p, const char *mid) {
  for (int t = 0; t < 3; t++) {
    const ps_feed *f = p->feeds[t];
    if (f && (strcmp(f->audio_mid, mid) == 0 || strcmp(f->video_mid, mid) == 0))
      return true;
  }
  return false;
}

static const sdp_choice *agreed_mid(const media_call *m, const char *mid) {
  for (size_t i = 0; i < m->agreed.n_media; i++)
    if (strcmp(m->agreed.media[i].mid, mid) == 0)
      return &m->agreed.media[i];
  return NULL;
}

/* The new feed's m-lines in the offer: named by mids, or every live one not in a feed
 * (n_mids 0). At most one audio and one video. */
static int pick_mids(ps_participant *p, const sdp_session *o, const char *const *mids,
                     size_t n_mids, char *audio, char *video, refusal *why) {
  audio[0] = video[0] = '\0';
  for (size_t i = 0; i < o->n_media; i++) {
    const sdp_media *m = &o->media[i];
    bool named = n_mids == 0;
    for (size_t k = 0; k < n_mids; k++)
      named |= strcmp(mids[k], m->mid) == 0;
    if (!named || (n_mids == 0 && (m->port == 0 || mid_in_feed(p, m->mid))))
      continue;
    if (m->kind != SDP_AUDIO && m->kind != SDP_VIDEO) {
      if (n_mids)
        return ps_refuse(why, PS_E_BAD_REQUEST, "m-line %s is neither audio nor video",
                         m->mid);
      continue;
    }
    if (mid_in_feed(p, m->mid))
      return ps_refuse(why, PS_E_BAD_REQUEST, "m-line %s is in a feed already", m->mid);
    char *slot = m->kind == SDP_AUDIO ? audio : video;
    if (slot[0])
      return ps_refuse(why, PS_E_BAD_REQUEST, "a feed has at most one %s m-line",
                       m->kind == SDP_AUDIO ? "audio" : "video");
    snprintf(slot, 32, "%s", m->mid);
  }
  for (size_t k = 0; k < n_mids; k++)
    if (strcmp(mids[k], audio) != 0 && strcmp(mids[k], video) != 0)
      return ps_refuse(why, PS_E_BAD_REQUEST, "the offer has no m-line with mid \"%s\"",
                       mids[k]);
  if (!audio[0] && !video[0])
    return ps_refuse(why, PS_E_BAD_REQUEST, "the feed has no audio or video m-line");
  return 0;
}

static int check_kinds(ps_participant *p, ps_feed_type type, const char *audio,
                       const char *video, refusal *why) {
  if (type == PS_FEED_AUDIO && video[0])
    return ps_refuse(why, PS_E_BAD_REQUEST, "an audio feed has no video m-line");
  if (type != PS_FEED_AUDIO && !video[0])
    return ps_refuse(why, PS_E_BAD_REQUEST, "a %s feed needs a video m-line",
                     ps_feed_type_name(type));
  if (p->feeds[type])
    return ps_refuse(why, PS_E_LIMIT,
                     "a participant publishes at most one %s feed: unpublish %s first",
                     ps_feed_type_name(type), p->feeds[type]->id);
  for (int t = 0; t < 3 && audio[0]; t++)
    if (p->feeds[t] && p->feeds[t]->audio_stream >= 0)
      return ps_refuse(why, PS_E_LIMIT,
                       "a participant publishes one microphone: feed %s has its audio",
                       p->feeds[t]->id);
  return 0;
}

int ps_publish(ps_participant *p, const char *offer, ps_feed_type type,
               const char *const *mids, size_t n_mids, char *feed_id, buf *answer,
               refusal *why) {
  ps_core *core = p->s->core;
  if (!core->media)
    return ps_refuse(why, PS_E_INTERNAL, "media is not available on this server");
  if (!p->who.can_publish)
    return ps_refuse(why, PS_E_FORBIDDEN, "this credential may not publish");
  sdp_session *o = xmalloc(sizeof *o);
  char err[200], audio[32], video[32];
  int rc = sdp_parse(offer, strlen(offer), o, err, sizeof err);
  if (rc != 0)
    ps_refuse(why, PS_E_BAD_REQUEST, "the offer is not usable SDP: %s", err);
  else
    rc = pick_mids(p, o, mids, n_mids, audio, video, why);
  free(o);
  if (rc != 0 || check_kinds(p, type, audio, video, why) != 0)
    return -1;
  bool fresh = !p->pub;
  if (fresh)
    p->pub = new_call(p, MEDIA_PUBSUB_PUB);
  media_call before = *p->pub;
  if (type == PS_FEED_SCREEN)
    snprintf(p->pub->slides_mid, sizeof p->pub->slides_mid, "%s", video);
  bool restart;
  rc = negotiate(core->media, offer, p->pub, answer, &restart, err, sizeof err);
  const sdp_choice *a = rc == 0 && audio[0] ? agreed_mid(p->pub, audio) : NULL;
  const sdp_choice *v = rc == 0 && video[0] ? agreed_mid(p->pub, video) : NULL;
  if (rc == 0 &&
      ((audio[0] && (!a || !a->accepted)) || (video[0] && (!v || !v->accepted)))) {
    snprintf(err, sizeof err,
             "the feed's %s m-line cannot be received (codec or "
             "transport not supported, or a second one of its kind)",
             audio[0] && (!a || !a->accepted) ? "audio" : "video");
    rc = -1;
  }
  if (rc != 0) {
    if (fresh) {
      bool added = false;
      end_call(core, &p->pub, &added);
    } else {
      *p->pub = before;
    }
    return ps_refuse(why, PS_E_BAD_REQUEST, "%s", err);
  }
  if (p->pub_added) {
    media_engine_update_call(core->media, p->pub);
  } else {
    media_engine_add_call(core->media, p->pub);
    p->pub_added = true;
  }
  ps_feed *f = xcalloc(1, sizeof *f);
  char u[IDS_UUID_LEN + 1];
  ids_uuid(u);
  snprintf(f->id, sizeof f->id, "f-%s", u);
  f->owner = p;
  f->type = type;
  f->audio_stream = audio[0] ? STREAM_AUDIO : -1;
  f->video_stream = !video[0]                ? -1
                    : type == PS_FEED_SCREEN ? STREAM_SLIDES
                                             : STREAM_VIDEO;
  snprintf(f->audio_mid, sizeof f->audio_mid, "%s", audio);
  snprintf(f->video_mid, sizeof f->video_mid, "%s", video);
  hmap_put(p->s->feeds, f->id, strlen(f->id), f);
  list_push_back(&p->s->all_feeds, &f->node);
  p->feeds[type] = f;
  core->n.feeds++;
  snprintf(feed_id, PS_ID_MAX + 1, "%s", f->id);
  log_info("pubsub", "feed %s (%s) of %s in session %s, call %s", f->id,
           ps_feed_type_name(type), p->uid, p->s->sid, p->pub->call_uuid);
  ps_broadcast(p->s, p, "publisher",
               json_pack("{s:s, s:s, s:s}", "uid", p->uid, "feed_id", f->id, "type",
                         ps_feed_type_name(type)));
  return 0;
}

int ps_unpublish(ps_participant *p, const char *feed_id, refusal *why) {
  ps_feed *f = feed_id ? hmap_get(p->s->feeds, feed_id, strlen(feed_id)) : NULL;
  if (!f || f->owner != p)
    return ps_refuse(why, PS_E_NOT_FOUND, "you publish no feed \"%s\"",
                     feed_id ? feed_id : "");
  feed_remove(f);
  return 0;
}

int ps_publish_update(ps_participant *p, const char *offer, buf *answer, refusal *why) {
  ps_core *core = p->s->core;
  if (!core->media)
    return ps_refuse(why, PS_E_INTERNAL, "media is not available on this server");
  if (!p->pub)
    return ps_refuse(why, PS_E_BAD_REQUEST, "nothing is published: publish first");
  char err[200];
  bool restart;
  if (negotiate(core->media, offer, p->pub, answer, &restart, err, sizeof err) != 0)
    return ps_refuse(why, PS_E_BAD_REQUEST, "%s", err);
  if (p->pub_added)
    media_engine_update_call(core->media, p->pub);
  else {
    media_engine_add_call(core->media, p->pub);
    p->pub_added = true;
  }
  if (restart)
    log_info("pubsub", "publish call %s of %s: ICE restart", p->pub->call_uuid, p->uid);
  return 0;
}

/* ---- lookups for recording ----------------------------------------------------------
 */

static void feed_media(const ps_feed *f, ps_feed_media *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->call_uuid, sizeof out->call_uuid, "%s", f->owner->pub->call_uuid);
  out->audio_stream = f->audio_stream;
  out->video_stream = f->video_stream;
  snprintf(out->uid, sizeof out->uid, "%s", f->owner->uid);
  snprintf(out->type, sizeof out->type, "%s", ps_feed_type_name(f->type));
  snprintf(out->feed_id, sizeof out->feed_id, "%s", f->id);
}

int ps_feed_lookup(ps_participant *asker, const char *feed_id, ps_feed_media *out,
                   refusal *why) {
  ps_feed *f = hmap_get(asker->s->feeds, feed_id, strlen(feed_id));
  if (!f)
    return ps_refuse(why, PS_E_NOT_FOUND, "no feed \"%s\" in this session", feed_id);
  feed_media(f, out);
  return 0;
}

size_t ps_session_feeds(ps_participant *p, ps_feed_media *out, size_t max) {
  size_t n = 0;
  list_node *pos, *tmp;
  list_for_each_safe(pos, tmp, &p->s->all_feeds) {
    if (n == max)
      break;
    feed_media(list_entry(pos, ps_feed, node), &out[n++]);
  }
  return n;
}

/* ---- media events --------------------------------------------------------------- */

void ps_on_media_event(const media_event *ev, void *ud) {
  ps_core *core = ud;
  ps_participant *p = hmap_get(core->calls, ev->call_uuid, strlen(ev->call_uuid));
  if (!p)
    return;
  bool pub = p->pub && strcmp(p->pub->call_uuid, ev->call_uuid) == 0;
  switch (ev->kind) {
  case MEDIA_EVENT_CONNECTED:
    log_info("pubsub", "%s call %s of %s connected", pub ? "publish" : "subscribe",
             ev->call_uuid, p->uid);
    break;
  case MEDIA_EVENT_ENDED:
    log_info("pubsub", "%s call %s of %s ended: %s", pub ? "publish" : "subscribe",
             ev->call_uuid, p->uid, ev->text);
    if (pub) {
      p->pub_added = false; /* gone on the media side already */
      remove_feeds(p);
      end_call(core, &p->pub, &p->pub_added);
    } else {
      p->sub_added = false; /* the next answer starts a new one */
      end_call(core, &p->sub, &p->sub_added);
    }
    break;
  case MEDIA_EVENT_SPEAKER:
    if (pub && strcmp(p->s->speaker, p->uid) != 0) {
      snprintf(p->s->speaker, sizeof p->s->speaker, "%s", p->uid);
      ps_broadcast(p->s, NULL, "speaker", json_pack("{s:s}", "uid", p->uid));
    }
    break;
  default:
    break;
  }
}
