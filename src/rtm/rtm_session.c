/* rtm_session — RTM sessions: start, renegotiation, pings, supervisors, the sweep of
 * timers, and termination through SHUTDOWN to TERMINATED with its webhook. */
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/outbox.h"
#include "delivery/webhook.h"
#include "media/negotiate.h"
#include "rtm/rtm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SWEEP_MS 500
/* A recording's file closes in well under this; if its news never comes (a lost
 * event), the session ends anyway rather than hang in SHUTDOWN. */
#define SHUTDOWN_WAIT_MS 60000

static const char *const state_names[] = {"INIT", "SETUP", "ACTIVE", "SHUTDOWN",
                                          "TERMINATED"};

const char *rtm_state_name(rtm_state st) { return state_names[st]; }
const char *rtm_session_id(const rtm_session *s) { return s->id; }
const char *rtm_session_client_id(const rtm_session *s) { return s->client_id; }
rtm_state rtm_session_state(const rtm_session *s) { return s->state; }
bool rtm_session_is_supervisor(const rtm_session *s) { return s->supervisor; }
bool rtm_session_known(const rtm_core *core, const char *session_id) {
  return hmap_get(core->sessions, session_id, strlen(session_id)) != NULL;
}
void rtm_core_each_agent(rtm_core *core,
                         void (*cb)(const char *session_id, const char *cid, void *ud),
                         void *ud) {
  size_t pos = 0;
  rtm_session *s;
  while ((s = hmap_next(core->sessions, &pos)))
    if (!s->supervisor && s->state <= RTM_ACTIVE)
      cb(s->id, s->who.cid, ud);
}
void rtm_core_counters(const rtm_core *core, rtm_counters *out) {
  *out = core->counters;
  out->sessions = hmap_count(core->sessions);
  out->recordings_open = hmap_count(core->recordings);
}

int64_t rtm_wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The HTTP class of an RTM error code, for a refusal read over HTTP. */
static int status_of(const char *code) {
  if (strcmp(code, RTM_E_FORBIDDEN) == 0)
    return 403;
  if (strcmp(code, RTM_E_STATE) == 0)
    return 409;
  if (strcmp(code, RTM_E_INTERNAL) == 0)
    return 500;
  if (strcmp(code, RTM_E_SHUTDOWN) == 0)
    return 503;
  return 400;
}

bool rtm_refuse(refusal *why, const char *code, const char *msg) {
  refusal_set(why, status_of(code), code, "%s", msg);
  return false;
}

void rtm_send(rtm_session *s, const char *type, json_t *data) {
  if (s->link.send)
    s->link.send(s->link_ud, type, s->id, data);
  else
    json_decref(data);
}

static void send_state(rtm_session *s) {
  json_t *data = json_pack("{s:s}", "state", rtm_state_name(s->state));
  if (s->cause)
    json_object_set_new(data, "termination_cause", json_string(s->cause));
  rtm_send(s, "session_state", data);
}

static void set_state(rtm_session *s, rtm_state st) {
  s->state = st;
  log_info("rtm", "session %s client=%s %s%s%s", s->id, s->client_id, rtm_state_name(st),
           s->cause ? " cause=" : "", s->cause ? s->cause : "");
  send_state(s);
}

static void finished_webhook(rtm_session *s) {
  if (!s->webhook_url[0] || !s->core->ob)
    return;
  char *body = webhook_session_finished_body(s->supervisor, s->id, s->client_id, s->cause,
                                             s->started_unix_ms, s->stopped_unix_ms);
  outbox_webhook(s->core->ob, s->webhook_url, s->who.webhook_secret, body);
  free(body);
}

static void free_session(rtm_session *s) {
  rtm_core *core = s->core;
  rtm_reservation_release(s);
  hmap_remove(core->sessions, s->id, strlen(s->id));
  if (s->media_added)
    hmap_remove(core->by_call, s->media.call_uuid, strlen(s->media.call_uuid));
  free(s);
}

/* The end: TERMINATED sent, webhook queued, link let go, memory freed. */
static void finish(rtm_session *s) {
  s->stopped_unix_ms = rtm_wall_ms();
  set_state(s, RTM_TERMINATED);
  finished_webhook(s);
  if (s->link.detached)
    s->link.detached(s->link_ud, s->cause);
  free_session(s);
}

static void unlink_supervisor(rtm_session *sup) {
  rtm_session *a = sup->agent;
  if (!a)
    return;
  for (int i = 0; i < a->n_supervisors; i++)
    if (a->supervisors[i] == sup)
      a->supervisors[i] = a->supervisors[--a->n_supervisors];
  sup->agent = NULL;
}

void rtm_terminate(rtm_session *s, const char *cause) {
  if (s->state >= RTM_SHUTDOWN)
    return;
  if (s->state == RTM_INIT) { /* a reservation nobody claimed */
    free_session(s);
    return;
  }
  s->cause = cause;
  s->shutdown_ms = uv_now(s->core->loop);
  set_state(s, RTM_SHUTDOWN);
  if (s->live_key[0] && hmap_get(s->core->live, s->live_key, strlen(s->live_key)) == s)
    hmap_remove(s->core->live, s->live_key, strlen(s->live_key));
  while (s->n_supervisors > 0) {
    rtm_session *sup = s->supervisors[0];
    unlink_supervisor(sup);
    rtm_terminate(sup, "AGENT_SESSION_TERM");
  }
  unlink_supervisor(s);
  if (s->media_added) /* closes an open recording on the media loop too */
    media_engine_remove_call(s->core->media, &s->media);
  if (!s->recording)
    finish(s);
  /* else: finish() when the recording's file is closed */
}

void rtm_session_recording_closed(rtm_session *s) {
  s->recording = NULL;
  if (s->state == RTM_SHUTDOWN)
    finish(s);
}

static rtm_session *new_session(rtm_core *core, const rtm_identity *who,
                                const char *client_id, const char *id) {
  rtm_session *s = xcalloc(1, sizeof *s);
  s->core = core;
  s->who = *who;
  snprintf(s->client_id, sizeof s->client_id, "%s", client_id);
  if (id)
    snprintf(s->id, sizeof s->id, "%s", id);
  else
    ids_uuid(s->id);
  s->created_ms = uv_now(core->loop);
  s->started_unix_ms = rtm_wall_ms();
  hmap_put(core->sessions, s->id, strlen(s->id), s);
  return s;
}

/* A JWT that has expired since its socket opened starts nothing more (a live session
 * ends with AUTH_EXPIRED when it expires). */
static bool still_valid(const rtm_identity *who, refusal *why) {
  if (who->expires_at <= 0 || rtm_wall_ms() < who->expires_at * 1000)
    return true;
  return rtm_refuse(
      why, RTM_E_FORBIDDEN,
      "the JWT of this connection has expired: connect again with a new one");
}

/* An API key's scope: the client ids it may act as (auth/credentials.h). */
static bool may_use_client_id(const rtm_identity *who, const char *client_id,
                              refusal *why) {
  if (credentials_client_id_ok(who, client_id))
    return true;
  char msg[160];
  snprintf(msg, sizeof msg, "these credentials may use only client ids starting with %s",
           who->client_prefix);
  return rtm_refuse(why, RTM_E_FORBIDDEN, msg);
}

int rtm_reserve(rtm_core *core, const rtm_identity *who, const char *client_id,
                char session_id[40], refusal *why) {
  if (core->shutting_down)
    return rtm_refuse(why, RTM_E_SHUTDOWN, "the server is shutting down"), -1;
  if (!may_use_client_id(who, client_id, why))
    return -1;
  rtm_session *s = new_session(core, who, client_id, NULL);
  s->state = RTM_INIT;
  if (!rtm_reservation_take(core, s, why)) {
    free_session(s);
    return -1;
  }
  snprintf(session_id, 40, "%s", s->id);
  return 0;
}

/* The session a session_start names: a new one, or the caller's own reservation. */
static rtm_session *claim(rtm_core *core, const rtm_identity *who, const char *client_id,
                          const char *session_id, refusal *why) {
  if (!session_id)
    return new_session(core, who, client_id, NULL);
  if (!ids_is_uuid(session_id, strlen(session_id)))
    return rtm_refuse(why, RTM_E_BAD_MESSAGE, "session_id must be a UUID"), NULL;
  rtm_session *s = hmap_get(core->sessions, session_id, strlen(session_id));
  if (!s)
    return new_session(core, who, client_id, session_id);
  if (s->state != RTM_INIT || strcmp(s->who.cid, who->cid) != 0 ||
      strcmp(s->client_id, client_id) != 0)
    return rtm_refuse(why, RTM_E_STATE, "that session_id is already in use"), NULL;
  s->who =
      *who; /* the socket's credentials govern (their rec, their exp), not the POST's */
  rtm_reservation_release(s); /* claimed: from here on it is a session */
  return s;
}

/* An agent's recording keeps the codec its client put first; a supervisor receives
 * its agent's video unchanged, so it must take the same codec. */
static const char *video_preference(const rtm_session *s) {
  if (!s->supervisor)
    return "offer";
  const sdp_agreement *ag = s->agent ? &s->agent->media.agreed : NULL;
  for (size_t i = 0; ag && i < ag->n_media; i++)
    if (ag->media[i].accepted && ag->media[i].kind == SDP_VIDEO && !ag->media[i].slides)
      return ag->media[i].codec;
  return NULL;
}

static int begin(rtm_session *s, const char *offer, const char *webhook_url,
                 rtm_link link, void *link_ud) {
  s->link = link;
  s->link_ud = link_ud;
  snprintf(s->webhook_url, sizeof s->webhook_url, "%s", webhook_url ? webhook_url : "");
  s->setup_ms = s->last_ping_ms = uv_now(s->core->loop);
  s->core->counters.sessions_started++;
  set_state(s, RTM_SETUP);
  ids_uuid(s->media.call_uuid);
  negotiate_pick_ssrcs(&s->media);
  s->media.no_media_timeout_s = s->core->cfg.no_packet_timeout_s;
  buf answer = {0};
  bool restart;
  char err[200];
  if (negotiate_preferring(s->core->media, offer, video_preference(s), &s->media, &answer,
                           &restart, err, sizeof err)) {
    log_info("rtm", "session %s: unusable offer: %s", s->id, err);
    buf_free(&answer);
    return -1;
  }
  json_t *data = json_pack("{s:{s:s, s:s%}}", "sdp", "type", "answer", "sdp", answer.data,
                           answer.len);
  buf_free(&answer);
  rtm_send(s, "sdp_update", data);
  s->media_added = true;
  hmap_put(s->core->by_call, s->media.call_uuid, strlen(s->media.call_uuid), s);
  media_engine_add_call(s->core->media, &s->media);
  return 0;
}

int rtm_session_start(rtm_core *core, const rtm_identity *who, const char *client_id,
                      const char *session_id, const char *offer, const char *webhook_url,
                      rtm_link link, void *link_ud, rtm_session **out, refusal *why) {
  *out = NULL;
  if (!still_valid(who, why) || !may_use_client_id(who, client_id, why) ||
      (webhook_url && *webhook_url && !rtm_check_url(core, true, webhook_url, why)))
    return -1;
  rtm_session *s = claim(core, who, client_id, session_id, why);
  if (!s)
    return -1;
  s->media.mode = MEDIA_RECORD;
  snprintf(s->live_key, sizeof s->live_key, "%s\n%s", who->cid, client_id);
  rtm_session *other = hmap_get(core->live, s->live_key, strlen(s->live_key));
  if (core->shutting_down || other) {
    s->link = link, s->link_ud = link_ud;
    snprintf(s->webhook_url, sizeof s->webhook_url, "%s", webhook_url ? webhook_url : "");
    s->live_key[0] = '\0'; /* the live one keeps its place */
    s->state = RTM_SETUP;
    rtm_terminate(s, core->shutting_down ? "SERVICE_SHUTDOWN" : "TWO_TIMER");
    return 0;
  }
  hmap_put(core->live, s->live_key, strlen(s->live_key), s);
  if (begin(s, offer, webhook_url, link, link_ud) != 0) {
    rtm_terminate(s, "SDP_ERROR");
    return 0;
  }
  *out = s;
  return 0;
}

int rtm_supervisor_join(rtm_core *core, const rtm_identity *who, const char *client_id,
                        const char *monitor_session_id, const char *offer,
                        const char *webhook_url, rtm_link link, void *link_ud,
                        rtm_session **out, refusal *why) {
  *out = NULL;
  if (!who->can_supervise)
    return rtm_refuse(why, RTM_E_FORBIDDEN,
                      "these credentials may not supervise: an API key needs the "
                      "supervise scope"),
           -1;
  if (!still_valid(who, why) || !may_use_client_id(who, client_id, why) ||
      (webhook_url && *webhook_url && !rtm_check_url(core, true, webhook_url, why)))
    return -1;
  rtm_session *s = new_session(core, who, client_id, NULL);
  s->supervisor = true;
  s->link = link, s->link_ud = link_ud;
  snprintf(s->webhook_url, sizeof s->webhook_url, "%s", webhook_url ? webhook_url : "");
  s->state = RTM_SETUP;
  rtm_session *a =
      hmap_get(core->sessions, monitor_session_id, strlen(monitor_session_id));
  /* Another account's session is as good as absent: its id says nothing. */
  if (!a || a->supervisor || strcmp(a->who.cid, who->cid) != 0 ||
      (a->state != RTM_SETUP && a->state != RTM_ACTIVE) || core->shutting_down) {
    rtm_terminate(s, core->shutting_down ? "SERVICE_SHUTDOWN" : "NO_ACTIVE_AGENT");
    return 0;
  }
  if (a->n_supervisors >= RTM_MAX_SUPERVISORS) {
    rtm_terminate(s, "MAX_SUPERVISORS_PER_AGENT");
    return 0;
  }
  s->media.mode = MEDIA_MONITOR;
  snprintf(s->media.monitor_of, sizeof s->media.monitor_of, "%s", a->media.call_uuid);
  a->supervisors[a->n_supervisors++] = s;
  s->agent = a;
  if (begin(s, offer, webhook_url, link, link_ud) != 0) {
    rtm_terminate(s, "SDP_ERROR");
    return 0;
  }
  *out = s;
  return 0;
}

int rtm_session_offer(rtm_session *s, const char *sdp, refusal *why) {
  if (s->state != RTM_SETUP && s->state != RTM_ACTIVE)
    return rtm_refuse(why, RTM_E_STATE, "the session is not live"), -1;
  buf answer = {0};
  bool restart;
  char err[200];
  if (negotiate_preferring(s->core->media, sdp, video_preference(s), &s->media, &answer,
                           &restart, err, sizeof err)) {
    buf_free(&answer);
    return rtm_refuse(why, RTM_E_BAD_SDP, err), -1;
  }
  media_engine_update_call(s->core->media, &s->media);
  rtm_send(s, "sdp_update",
           json_pack("{s:{s:s, s:s%}}", "sdp", "type", "answer", "sdp", answer.data,
                     answer.len));
  buf_free(&answer);
  return 0;
}

int rtm_session_candidate(rtm_session *s, const char *candidate, refusal *why) {
  if (s->state != RTM_SETUP && s->state != RTM_ACTIVE)
    return rtm_refuse(why, RTM_E_STATE, "the session is not live"), -1;
  if (*candidate && strncmp(candidate, "candidate:", 10) != 0)
    return rtm_refuse(why, RTM_E_BAD_MESSAGE, "a candidate starts with \"candidate:\""),
           -1;
  s->candidates++;
  return 0;
}

int rtm_session_ping(rtm_session *s) {
  s->last_ping_ms = uv_now(s->core->loop);
  rtm_send(s, "pong", NULL);
  return 0;
}

void rtm_session_stop(rtm_session *s) { rtm_terminate(s, "TERM_BY_CLIENT"); }

void rtm_session_link_lost(rtm_session *s, bool clean) {
  s->link = (rtm_link){0};
  rtm_terminate(s, clean ? "TERM_BY_CLIENT" : "CONN_ERROR");
}

/* Which timer, if any, has run out for s; wall_ms is the wall clock, which a JWT's exp
 * is counted on. */
static const char *expired(const rtm_core *core, const rtm_session *s, uint64_t now,
                           int64_t wall_ms) {
  const rtm_config *c = &core->cfg;
  if (s->state == RTM_INIT)
    return now - s->created_ms >= (uint64_t)c->reserve_timeout_s * 1000 ? "" : NULL;
  if (s->state == RTM_SHUTDOWN && now - s->shutdown_ms >= SHUTDOWN_WAIT_MS)
    return "";
  if (s->state != RTM_SETUP && s->state != RTM_ACTIVE)
    return NULL;
  if (s->who.expires_at > 0 && wall_ms >= s->who.expires_at * 1000)
    return "AUTH_EXPIRED";
  if (now - s->last_ping_ms >= (uint64_t)c->ping_timeout_s * 1000)
    return "CONN_ERROR";
  if (s->state == RTM_SETUP && now - s->setup_ms >= (uint64_t)c->setup_timeout_s * 1000)
    return "PEERCONN_FAILED";
  if (c->max_duration_s > 0 && now - s->setup_ms >= (uint64_t)c->max_duration_s * 1000)
    return "MAX_DURATION";
  return NULL;
}

static void maybe_done_shutting_down(rtm_core *core, uint64_t now) {
  if (!core->shutting_down || !core->shutdown_done)
    return;
  if (hmap_count(core->recordings) > 0 && now < core->shutdown_deadline)
    return;
  void (*done)(void *) = core->shutdown_done;
  core->shutdown_done = NULL;
  done(core->shutdown_ud);
}

static void on_sweep(uv_timer_t *t) {
  rtm_core *core = t->data;
  uint64_t now = uv_now(t->loop);
  int64_t wall_ms = rtm_wall_ms();
  size_t pos = 0;
  rtm_session *s;
  while ((s = hmap_next(core->sessions, &pos))) {
    const char *cause = expired(core, s, now, wall_ms);
    if (!cause)
      continue;
    if (s->state == RTM_SHUTDOWN) {
      log_warn("rtm", "session %s: its recording never reported closing; ending it",
               s->id);
      rtm_recording_forget_session(s->recording);
      finish(s);
    } else {
      rtm_terminate(s, *cause ? cause : NULL);
    }
    pos = 0; /* the map changed under us: start over (rare) */
  }
  maybe_done_shutting_down(core, now);
}

void rtm_on_media_event(const media_event *ev, void *ud) {
  rtm_core *core = ud;
  if (ev->kind == MEDIA_EVENT_RECORDING_STARTED)
    return rtm_recording_on_started(core, ev);
  if (ev->kind == MEDIA_EVENT_RECORDING_CLOSED) {
    rtm_recording_on_closed(core, ev);
    return maybe_done_shutting_down(core, uv_now(core->loop));
  }
  rtm_session *s = hmap_get(core->by_call, ev->call_uuid, strlen(ev->call_uuid));
  if (!s)
    return;
  switch (ev->kind) {
  case MEDIA_EVENT_CONNECTED:
    if (s->state == RTM_SETUP)
      set_state(s, RTM_ACTIVE);
    break;
  case MEDIA_EVENT_ENDED:
    s->media_added = false; /* already gone on the media loop */
    hmap_remove(core->by_call, s->media.call_uuid, strlen(s->media.call_uuid));
    rtm_terminate(s, "PEERCONN_FAILED");
    break;
  case MEDIA_EVENT_NO_MEDIA:
    if (s->state == RTM_ACTIVE)
      rtm_terminate(s, "NO_PACKET_RECEIVED");
    break;
  default:
    break;
  }
}

rtm_core *rtm_core_new(uv_loop_t *loop, store *st, media_engine *media, outbox *ob,
                       const rtm_config *cfg) {
  rtm_core *core = xcalloc(1, sizeof *core);
  core->loop = loop;
  core->st = st;
  core->media = media;
  core->ob = ob;
  core->cfg = *cfg;
  if (core->cfg.reserve_timeout_s <= 0)
    core->cfg.reserve_timeout_s = 60;
  snprintf(core->recordings_dir, sizeof core->recordings_dir, "%s", cfg->recordings_dir);
  core->cfg.recordings_dir = core->recordings_dir;
  core->sessions = hmap_new();
  core->by_call = hmap_new();
  core->live = hmap_new();
  core->recordings = hmap_new();
  core->reserved = hmap_new();
  uv_timer_init(loop, &core->sweep);
  core->sweep.data = core;
  uv_timer_start(&core->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
  return core;
}

void rtm_core_shutdown(rtm_core *core, uint64_t grace_ms, void (*done)(void *ud),
                       void *ud) {
  core->shutting_down = true;
  core->shutdown_done = done;
  core->shutdown_ud = ud;
  core->shutdown_deadline = uv_now(core->loop) + grace_ms;
  /* Sessions in SHUTDOWN stay until their recordings close (or the deadline). */
  size_t pos = 0;
  rtm_session *s;
  while ((s = hmap_next(core->sessions, &pos)))
    if (s->state < RTM_SHUTDOWN) {
      rtm_terminate(s, s->state == RTM_INIT ? NULL : "SERVICE_SHUTDOWN");
      pos = 0;
    }
  maybe_done_shutting_down(core, uv_now(core->loop));
}

void rtm_core_free(rtm_core *core) {
  uv_timer_stop(&core->sweep);
  uv_close((uv_handle_t *)&core->sweep, NULL);
  size_t pos = 0;
  rtm_session *s;
  while ((s = hmap_next(core->sessions, &pos))) {
    /* Still waiting for a recording at exit: its socket must not point here later. */
    if (s->link.detached)
      s->link.detached(s->link_ud, s->cause);
    free(s);
  }
  pos = 0;
  void *r;
  while ((r = hmap_next(core->recordings, &pos)))
    free(r);
  hmap_free(core->sessions);
  hmap_free(core->by_call);
  hmap_free(core->live);
  hmap_free(core->recordings);
  rtm_reservations_free(core);
  free(core);
}
