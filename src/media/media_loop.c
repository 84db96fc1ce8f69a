/* media_loop — a media loop thread: UDP port, sessions, commands in, events out. */
#include "media/media_loop.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/queue.h"
#include "media/conference.h"
#include "media/echo.h"
#include "media/feed_recording.h"
#include "media/feed_router.h"
#include "media/recording_router.h"
#include "media/session.h"
#include "media/session_bwe.h"
#include "rtc/port.h"
#include "rtc/sctp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS                                                                          \
  20 /* DTMF pacing; reports and keyframe requests run at their own gaps                 \
      */
#define QUEUE_CAPACITY 4096
/* Ticks a late loop may catch up on; after a longer stall the schedule starts afresh. */
#define MAX_TICK_BACKLOG 10

typedef enum {
  CMD_ADD,
  CMD_UPDATE,
  CMD_REMOVE,
  CMD_DTMF,
  CMD_PREFS,
  CMD_HINTS,
  CMD_RECORD_START,
  CMD_RECORD_STOP,
  CMD_STOP
} command_kind;

typedef struct {
  command_kind kind;
  media_call *call; /* ADD/UPDATE: owned by the message until handled */
  char call_uuid[40];
  char digits[32];
  char rec_id[40];
  char *path; /* RECORD_START: owned by the message until handled */
  bool feed;  /* RECORD_START/STOP of a pub/sub feed (feed_recording.c) */
  int audio_stream, video_stream;
} command;

struct media_loop {
  media_config cfg;
  char bind_address[64];
  int fd, port_number;
  int tcp_fd;             /* the ICE-TCP listener on port_number, -1 without --ice-tcp */
  dtls_context *dtls_ctx; /* the engine's, shared */
  pthread_t thread;
  uv_loop_t loop; /* the media loop, run by thread */
  uv_barrier_t started;
  rtc_port port;
  msg_queue commands; /* control -> media, drained on the media loop */
  msg_queue events;   /* media -> control, drained on the control loop */
  media_event_cb on_event;
  void *ud;
  hmap *sessions;   /* call uuid -> media_session */
  hmap *rooms;      /* room key -> media_room (conference calls) */
  hmap *feed_rooms; /* session key -> feed_room (pub/sub calls) */
  uv_timer_t tick;
  uint64_t next_tick_ms; /* when the next tick is due, on the loop's clock */
  uint64_t last_snapshot_ms;
  media_stats ended; /* counters of calls that are gone (media loop only) */
  pthread_mutex_t stats_lock;
  media_stats stats;         /* the snapshot the control loop reads */
  media_estimate *estimates; /* ... with each call's estimate (under stats_lock) */
  size_t n_estimates;
};

static void post(media_session *s, media_event_kind kind, const char *text) {
  media_loop *e = s->engine;
  media_event ev = {.kind = kind};
  snprintf(ev.call_uuid, sizeof ev.call_uuid, "%s", s->params.call_uuid);
  snprintf(ev.text, sizeof ev.text, "%s", text);
  queue_push(&e->events, &ev);
}

void media_loop_post(void *engine, const media_event *ev) {
  media_loop *e = engine;
  if (!queue_push(&e->events, ev))
    log_error("media", "event queue full: %d for call %s lost", (int)ev->kind,
              ev->call_uuid);
}

static void add_session_counters(media_stats *st, const media_session *s) {
  const transport_counters *tc = &s->transport->counters;
  st->srtp_failures += tc->srtp_failures;
  st->rtp_in += tc->rtp_in;
  st->rtp_out += tc->rtp_out;
  st->rtcp_in += tc->rtcp_in;
  st->rtcp_out += tc->rtcp_out;
  st->bytes_in += tc->bytes_in;
  st->bytes_out += tc->bytes_out;
  st->nacks_answered += s->nacks_answered;
  st->keyframe_requests += s->keyframe_requests;
  if (s->transport->twcc) {
    st->twcc_feedback_in += s->transport->twcc->feedback_in;
    st->twcc_feedback_out += s->transport->twcc->feedback_out;
  }
  if (s->bwe)
    st->padding_packets += s->bwe->padding_packets;
  if (s->transport->sctp) {
    const sctp_counters *dc = sctp_get_counters(s->transport->sctp);
    st->dc_messages_in += dc->messages_in;
    st->dc_messages_out += dc->messages_out;
    st->dc_bytes_in += dc->bytes_in;
    st->dc_bytes_out += dc->bytes_out;
    st->dc_too_big += dc->refused_too_big;
    st->dc_throttled += dc->throttled;
    st->dc_send_full += dc->send_again;
  }
}

static void leave_room(media_loop *e, media_session *s) {
  media_room *r = s->room;
  conference_leave(r, s);
  if (media_room_size(r) == 0) {
    hmap_remove(e->rooms, &s->params.room_key, sizeof s->params.room_key);
    media_room_free(r);
  }
  s->room = NULL;
}

static void leave_feeds(media_loop *e, media_session *s) {
  feed_room *r = s->feeds;
  feed_router_leave(r, s);
  if (feed_room_size(r) == 0) {
    hmap_remove(e->feed_rooms, &s->params.room_key, sizeof s->params.room_key);
    feed_room_free(r);
  }
}

static void free_session(media_loop *e, media_session *s) {
  hmap_remove(e->sessions, s->params.call_uuid, strlen(s->params.call_uuid));
  add_session_counters(&e->ended, s);
  if (s->room)
    leave_room(e, s);
  if (s->feeds)
    leave_feeds(e, s);
  if (s->params.mode == MEDIA_RECORD || s->params.mode == MEDIA_MONITOR)
    recording_router_leave(s);
  feed_recording_leave(s);
  if (s->transport)
    transport_free(s->transport);
  session_bwe_free(s);
  session_free(s);
  free(s);
}

/* A failed transport ends its session; the control loop hears MEDIA_EVENT_ENDED. */
static void post_and_end(media_session *s, media_event_kind kind, const char *text) {
  post(s, kind, text);
  if (kind == MEDIA_EVENT_ENDED)
    free_session(s->engine, s);
}

static void add_session(media_loop *e, media_call *call) {
  if (hmap_get(e->sessions, call->call_uuid, strlen(call->call_uuid)))
    return;
  media_session *s = xcalloc(1, sizeof *s);
  s->params = *call;
  s->engine = e;
  s->post = post_and_end;
  /* The transport first: joining a room may already ask this session for a keyframe. */
  s->transport =
      transport_new(&e->port, call->call_uuid, call->local_ufrag, call->local_pwd,
                    call->remote_ufrag, call->remote_fingerprint,
                    (uint64_t)e->cfg.consent_timeout_s * 1000, (transport_sink){0}, s);
  transport_sink sink;
  if (call->mode == MEDIA_CONFERENCE) {
    media_room *r = hmap_get(e->rooms, &call->room_key, sizeof call->room_key);
    if (!r) {
      r = media_room_new(call->room_key);
      hmap_put(e->rooms, media_room_key(r), sizeof call->room_key, r);
    }
    sink = conference_join(r, s);
  } else if (call->mode == MEDIA_PUBSUB_PUB || call->mode == MEDIA_PUBSUB_SUB) {
    feed_room *r = hmap_get(e->feed_rooms, &call->room_key, sizeof call->room_key);
    if (!r) {
      r = feed_room_new(call->room_key);
      hmap_put(e->feed_rooms, feed_room_key(r), sizeof call->room_key, r);
    }
    sink = feed_router_join(r, s);
  } else if (call->mode == MEDIA_RECORD) {
    sink = recording_router_join_agent(s);
  } else if (call->mode == MEDIA_MONITOR) {
    media_session *agent =
        hmap_get(e->sessions, call->monitor_of, strlen(call->monitor_of));
    if (agent && agent->params.mode == MEDIA_RECORD)
      sink = recording_router_join_supervisor(s, agent);
    else
      sink = echo_router_join(s); /* its agent is gone: the control loop ends it */
  } else {
    sink = echo_router_join(s);
  }
  s->transport->sink = sink;
  session_bwe_attach(s);
  hmap_put(e->sessions, s->params.call_uuid, strlen(s->params.call_uuid), s);
}

static void update_session(media_loop *e, media_call *call) {
  media_session *s = hmap_get(e->sessions, call->call_uuid, strlen(call->call_uuid));
  if (!s)
    return;
  bool restart = strcmp(s->params.local_ufrag, call->local_ufrag) != 0;
  s->params.agreed = call->agreed;
  if (s->params.mode == MEDIA_PUBSUB_SUB) {
    memcpy(s->params.tracks, call->tracks, sizeof call->tracks);
    s->params.n_tracks = call->n_tracks;
  }
  session_update(s);
  if (s->room)
    conference_update(s);
  else if (s->feeds)
    feed_router_update(s);
  else if (s->params.mode == MEDIA_ECHO)
    echo_router_update(s);
  session_bwe_attach(s);
  if (restart) {
    memcpy(s->params.local_ufrag, call->local_ufrag, sizeof call->local_ufrag);
    memcpy(s->params.local_pwd, call->local_pwd, sizeof call->local_pwd);
    transport_restart_ice(s->transport, call->local_ufrag, call->local_pwd,
                          call->remote_ufrag);
    log_info("media", "call %s: ICE restart", call->call_uuid);
  }
}

/* A recording asked of a call that is already gone still gets its answer. */
static void report_unrecorded(media_loop *e, const command *c) {
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_CLOSED};
  snprintf(ev.call_uuid, sizeof ev.call_uuid, "%s", c->call_uuid);
  snprintf(ev.rec_id, sizeof ev.rec_id, "%s", c->rec_id);
  snprintf(ev.text, sizeof ev.text, "the session's media is gone");
  media_loop_post(e, &ev);
}

static void on_command(void *msg, void *ud) {
  media_loop *e = ud;
  command *c = msg;
  media_session *s =
      c->call_uuid[0] ? hmap_get(e->sessions, c->call_uuid, strlen(c->call_uuid)) : NULL;
  switch (c->kind) {
  case CMD_ADD:
    add_session(e, c->call);
    break;
  case CMD_UPDATE:
    update_session(e, c->call);
    break;
  case CMD_REMOVE:
    if (s)
      free_session(e, s);
    break;
  case CMD_DTMF:
    if (s)
      session_send_dtmf(s, c->digits);
    break;
  case CMD_PREFS:
    if (s && s->room)
      conference_set_prefs(s, c->call);
    break;
  case CMD_HINTS:
    if (s && s->room)
      conference_set_hints(s, c->call);
    else if (s && s->feeds)
      feed_router_set_hints(s, c->call);
    break;
  case CMD_RECORD_START:
    if (s && c->feed)
      feed_recording_start(s, c->rec_id, c->path, c->audio_stream, c->video_stream);
    else if (s && s->params.mode == MEDIA_RECORD)
      recording_router_start(s, c->rec_id, c->path);
    else
      report_unrecorded(e, c);
    break;
  case CMD_RECORD_STOP:
    if (s && c->feed)
      feed_recording_stop(s, c->rec_id[0] ? c->rec_id : NULL);
    else if (s)
      recording_router_stop(s);
    break;
  case CMD_STOP:
    uv_stop(&e->loop);
    break;
  }
  free(c->call);
  free(c->path);
}

static void snapshot_stats(media_loop *e) {
  media_stats st = e->ended;
  const port_counters *pc = &e->port.counters;
  st.calls = hmap_count(e->sessions);
  st.datagrams_in = pc->datagrams_in;
  st.datagrams_out = pc->datagrams_out;
  st.dropped_garbage = pc->dropped_garbage;
  st.dropped_unknown = pc->dropped_unknown;
  st.stun_refused = pc->stun_refused;
  st.dtls_resent = pc->dtls_resent;
  st.send_errors = pc->send_errors;
  st.queue_dropped = e->commands.dropped;
  st.tcp = e->port.tcp.counters;
  st.tcp_open = ice_tcp_open_count(&e->port.tcp);
  size_t pos = 0, n = 0;
  media_session *s;
  media_estimate *est = NULL;
  while ((s = hmap_next(e->sessions, &pos))) {
    add_session_counters(&st, s);
    if (!session_send_estimate_bps(s))
      continue;
    if (!est) /* one allocation a snapshot, only while estimates exist */
      est = xcalloc(hmap_count(e->sessions), sizeof *est);
    snprintf(est[n].call_uuid, sizeof est[n].call_uuid, "%s", s->params.call_uuid);
    est[n].send_bps = session_send_estimate_bps(s);
    est[n++].received_bps = bwe_received_bps(&s->bwe->est);
  }
  pthread_mutex_lock(&e->stats_lock);
  e->stats = st;
  media_estimate *old = e->estimates;
  e->estimates = est;
  e->n_estimates = n;
  pthread_mutex_unlock(&e->stats_lock);
  free(old);
}

static void on_tick(uv_timer_t *t);

/* Mixed audio must leave at 50 packets/s whatever the loop's lateness. A repeating
 * uv_timer re-arms from the moment it ran, so every late tick would delay all later
 * ones (measured: 38-46 packets/s per listener on a busy host); an absolute schedule
 * makes the next tick earlier instead. */
static void schedule_tick(media_loop *e) {
  uint64_t now = uv_now(&e->loop);
  e->next_tick_ms += TICK_MS;
  if (e->next_tick_ms + MAX_TICK_BACKLOG * TICK_MS < now)
    e->next_tick_ms = now;
  uv_timer_start(&e->tick, on_tick, e->next_tick_ms > now ? e->next_tick_ms - now : 0, 0);
}

static void on_tick(uv_timer_t *t) {
  media_loop *e = t->data;
  schedule_tick(e);
  sctp_timers_tick(); /* usrsctp's timers, for every loop's associations */
  uint64_t now = uv_now(&e->loop);
  size_t pos = 0;
  media_session *s;
  while ((s = hmap_next(e->sessions, &pos)))
    session_bwe_tick(s, now);
  pos = 0;
  while ((s = hmap_next(e->sessions, &pos)))
    if (s->params.mode == MEDIA_RECORD || s->params.mode == MEDIA_MONITOR)
      recording_router_tick(s, now);
    else if (!s->room && !s->feeds)
      echo_router_tick(s, now);
  pos = 0;
  media_room *r;
  while ((r = hmap_next(e->rooms, &pos)))
    media_room_tick(r, now);
  pos = 0;
  feed_room *fr;
  while ((fr = hmap_next(e->feed_rooms, &pos)))
    feed_room_tick(fr, now);
  if (now - e->last_snapshot_ms >= 500) {
    e->last_snapshot_ms = now;
    snapshot_stats(e);
  }
}

static void close_everything(media_loop *e) {
  media_session *s;
  size_t pos;
  while ((pos = 0, s = hmap_next(e->sessions, &pos)))
    free_session(e, s);
  snapshot_stats(e);
  uv_timer_stop(&e->tick);
  uv_close((uv_handle_t *)&e->tick, NULL);
  port_close(&e->port);
  queue_close(&e->commands);
}

static void *run(void *arg) {
  media_loop *e = arg;
  uv_loop_init(&e->loop);
  e->sessions = hmap_new();
  e->rooms = hmap_new();
  e->feed_rooms = hmap_new();
  e->port.dtls_ctx = e->dtls_ctx;
  if (port_start(&e->port, &e->loop, e->fd) != 0)
    log_error("media", "udp port %d: cannot receive", e->port_number);
  if (e->tcp_fd >= 0 && ice_tcp_start(&e->port.tcp, &e->port, e->tcp_fd) != 0)
    log_error("media", "tcp port %d: cannot accept", e->port_number);
  queue_init(&e->commands, &e->loop, sizeof(command), QUEUE_CAPACITY, on_command, e);
  uv_timer_init(&e->loop, &e->tick);
  e->tick.data = e;
  e->next_tick_ms = uv_now(&e->loop);
  schedule_tick(e);
  uv_barrier_wait(&e->started);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  close_everything(e);
  uv_run(&e->loop, UV_RUN_DEFAULT); /* let the close callbacks run */
  uv_loop_close(&e->loop);
  hmap_free(e->sessions);
  hmap_free(e->rooms);
  hmap_free(e->feed_rooms);
  stun_thread_cleanup();
  return NULL;
}

static void on_event(void *msg, void *ud) {
  media_loop *e = ud;
  e->on_event(msg, e->ud);
}

/* Tries to pick a free UDP port whose number is free for TCP too. */
#define TCP_PORT_TRIES 20

/* The UDP port, and with ICE-TCP a TCP listener on the same number: with port 0 the
 * kernel picks the UDP one, and a number TCP cannot have is given back for another. */
static void bind_ports(media_loop *e, int port, char *err, size_t errlen) {
  e->tcp_fd = -1;
  for (int i = 0; i < TCP_PORT_TRIES; i++) {
    e->fd = port_bind_socket(e->bind_address, port, &e->port_number, err, errlen);
    if (e->fd < 0 || !e->cfg.ice_tcp)
      return;
    e->tcp_fd = ice_tcp_bind(e->bind_address, e->port_number, err, errlen);
    if (e->tcp_fd >= 0)
      return;
    close(e->fd);
    e->fd = -1;
    if (port != 0)
      return;
  }
}

media_loop *media_loop_start(uv_loop_t *control_loop, const media_config *cfg, int port,
                             dtls_context *shared_dtls, media_event_cb cb, void *ud,
                             char *err, size_t errlen) {
  media_loop *e = xcalloc(1, sizeof *e);
  e->cfg = *cfg;
  snprintf(e->bind_address, sizeof e->bind_address, "%s", cfg->bind_address);
  e->cfg.bind_address = e->bind_address;
  e->dtls_ctx = shared_dtls;
  e->on_event = cb;
  e->ud = ud;
  bind_ports(e, port, err, errlen);
  if (e->fd >= 0 && srtp_session_global_init() != 0) {
    snprintf(err, errlen, "libsrtp could not be initialised");
    close(e->fd);
    if (e->tcp_fd >= 0)
      close(e->tcp_fd);
    e->fd = -1;
  }
  if (e->fd < 0) {
    free(e);
    return NULL;
  }
  pthread_mutex_init(&e->stats_lock, NULL);
  queue_init(&e->events, control_loop, sizeof(media_event), QUEUE_CAPACITY, on_event, e);
  uv_barrier_init(&e->started, 2);
  pthread_create(&e->thread, NULL, run, e);
  uv_barrier_wait(&e->started);
  uv_barrier_destroy(&e->started);
  bool v6 = strchr(e->bind_address, ':') != NULL;
  log_info("media", "media loop on udp%s %s%s%s:%d", e->tcp_fd >= 0 ? " and tcp" : "",
           v6 ? "[" : "", e->bind_address, v6 ? "]" : "", e->port_number);
  return e;
}

static void push(media_loop *e, command *c) {
  if (!queue_push(&e->commands, c)) {
    log_error("media", "media loop command queue full: command dropped");
    free(c->call);
    free(c->path);
  }
}

void media_loop_stop(media_loop *e) {
  command c = {.kind = CMD_STOP};
  push(e, &c);
  pthread_join(e->thread, NULL);
  queue_close(&e->events);
  pthread_mutex_destroy(&e->stats_lock);
  free(e->estimates);
  e->estimates = NULL;
  e->n_estimates = 0;
  /* e stays allocated: the events queue closes on the control loop after this. */
}

int media_loop_port(const media_loop *e) { return e->port_number; }

static void push_call(media_loop *e, command_kind kind, const media_call *call) {
  command c = {.kind = kind, .call = xmalloc(sizeof *call)};
  *c.call = *call;
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call->call_uuid);
  push(e, &c);
}

void media_loop_add_call(media_loop *e, const media_call *call) {
  push_call(e, CMD_ADD, call);
}

void media_loop_update_call(media_loop *e, const media_call *call) {
  push_call(e, CMD_UPDATE, call);
}

void media_loop_remove_call(media_loop *e, const char *call_uuid) {
  command c = {.kind = CMD_REMOVE};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  push(e, &c);
}

void media_loop_send_dtmf(media_loop *e, const char *call_uuid, const char *digits) {
  command c = {.kind = CMD_DTMF};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  snprintf(c.digits, sizeof c.digits, "%s", digits);
  push(e, &c);
}

void media_loop_start_recording(media_loop *e, const char *call_uuid, const char *rec_id,
                                const char *path) {
  command c = {.kind = CMD_RECORD_START, .path = xstrdup(path)};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  snprintf(c.rec_id, sizeof c.rec_id, "%s", rec_id);
  push(e, &c);
}

void media_loop_stop_recording(media_loop *e, const char *call_uuid) {
  command c = {.kind = CMD_RECORD_STOP};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  push(e, &c);
}

void media_loop_start_feed_recording(media_loop *e, const char *call_uuid,
                                     const char *rec_id, const char *path,
                                     int audio_stream, int video_stream) {
  command c = {.kind = CMD_RECORD_START,
               .path = xstrdup(path),
               .feed = true,
               .audio_stream = audio_stream,
               .video_stream = video_stream};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  snprintf(c.rec_id, sizeof c.rec_id, "%s", rec_id);
  push(e, &c);
}

void media_loop_stop_feed_recording(media_loop *e, const char *call_uuid,
                                    const char *rec_id) {
  command c = {.kind = CMD_RECORD_STOP, .feed = true};
  snprintf(c.call_uuid, sizeof c.call_uuid, "%s", call_uuid);
  snprintf(c.rec_id, sizeof c.rec_id, "%s", rec_id ? rec_id : "");
  push(e, &c);
}

void media_loop_set_prefs(media_loop *e, const media_call *call) {
  push_call(e, CMD_PREFS, call);
}

void media_loop_set_hints(media_loop *e, const media_call *call) {
  push_call(e, CMD_HINTS, call);
}

void media_loop_stats(media_loop *e, media_stats *out) {
  pthread_mutex_lock(&e->stats_lock);
  *out = e->stats;
  pthread_mutex_unlock(&e->stats_lock);
}

size_t media_loop_estimates(media_loop *e, media_estimate *out, size_t max) {
  pthread_mutex_lock(&e->stats_lock);
  size_t n = e->n_estimates < max ? e->n_estimates : max;
  if (n) /* none: estimates may be NULL */
    memcpy(out, e->estimates, n * sizeof *out);
  pthread_mutex_unlock(&e->stats_lock);
  return n;
}
