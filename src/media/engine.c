/* engine — owns the media loops and places each call on one: a room's calls together, an
 * RTM supervisor with its agent; placement is computed from the call, never stored. */
#include "media/engine.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LOOPS 64

struct media_engine {
  int n;
  media_loop *loops[MAX_LOOPS];
  dtls_context *dtls; /* one certificate for every loop: one fingerprint in every SDP */
  host_addr_list announce;
  bool ice_tcp;
};

/* FNV-1a: a spread of uuids over the loops, stable for the call's whole life. */
static uint64_t hash_text(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  return h;
}

static media_loop *loop_for(const media_engine *e, const media_call *call) {
  bool room = call->mode == MEDIA_CONFERENCE || call->mode == MEDIA_PUBSUB_PUB ||
              call->mode == MEDIA_PUBSUB_SUB;
  uint64_t key = room                          ? (uint64_t)call->room_key
                 : call->mode == MEDIA_MONITOR ? hash_text(call->monitor_of)
                                               : hash_text(call->call_uuid);
  return e->loops[key % (uint64_t)e->n];
}

media_engine *media_engine_start(uv_loop_t *control_loop, const media_config *cfg,
                                 media_event_cb cb, void *ud, char *err, size_t errlen) {
  if (cfg->loops < 1 || cfg->loops > MAX_LOOPS)
    return snprintf(err, errlen, "media loops must be 1 to %d", MAX_LOOPS), NULL;
  media_engine *e = xcalloc(1, sizeof *e);
  e->announce = *cfg->announce;
  e->ice_tcp = cfg->ice_tcp;
  if (!(e->dtls = dtls_context_new(cfg->srtp_profiles, err, errlen))) {
    free(e);
    return NULL;
  }
  for (int i = 0; i < cfg->loops; i++) {
    int port = cfg->port ? cfg->port + i : 0;
    e->loops[i] = media_loop_start(control_loop, cfg, port, e->dtls, cb, ud, err, errlen);
    if (!e->loops[i]) {
      media_engine_stop(e);
      return NULL;
    }
    e->n = i + 1;
  }
  char list[HOST_ADDR_MAX * (HOST_ADDR_LEN + 2)];
  host_addr_join(&e->announce, list, sizeof list);
  log_info("media", "%d media loop(s); candidates announce %s", e->n, list);
  return e;
}

void media_engine_stop(media_engine *e) {
  for (int i = 0; i < e->n; i++)
    media_loop_stop(e->loops[i]);
  dtls_context_free(e->dtls);
  e->dtls = NULL;
  /* e and its loops stay allocated: their event queues close on the control loop
   * after this. */
}

int media_engine_port_for(const media_engine *e, const media_call *call) {
  return media_loop_port(loop_for(e, call));
}

int media_engine_port(const media_engine *e) { return media_loop_port(e->loops[0]); }
int media_engine_loops(const media_engine *e) { return e->n; }
const host_addr_list *media_engine_announce(const media_engine *e) {
  return &e->announce;
}
bool media_engine_ice_tcp(const media_engine *e) { return e->ice_tcp; }
const char *media_engine_fingerprint(const media_engine *e) {
  return dtls_context_fingerprint(e->dtls);
}

void media_engine_add_call(media_engine *e, const media_call *call) {
  media_loop_add_call(loop_for(e, call), call);
}

void media_engine_update_call(media_engine *e, const media_call *call) {
  media_loop_update_call(loop_for(e, call), call);
}

void media_engine_remove_call(media_engine *e, const media_call *call) {
  media_loop_remove_call(loop_for(e, call), call->call_uuid);
}

void media_engine_send_dtmf(media_engine *e, const media_call *call, const char *digits) {
  media_loop_send_dtmf(loop_for(e, call), call->call_uuid, digits);
}

void media_engine_start_recording(media_engine *e, const media_call *call,
                                  const char *rec_id, const char *path) {
  media_loop_start_recording(loop_for(e, call), call->call_uuid, rec_id, path);
}

void media_engine_start_feed_recording(media_engine *e, const media_call *call,
                                       const char *rec_id, const char *path,
                                       int audio_stream, int video_stream) {
  media_loop_start_feed_recording(loop_for(e, call), call->call_uuid, rec_id, path,
                                  audio_stream, video_stream);
}

void media_engine_stop_feed_recording(media_engine *e, const media_call *call,
                                      const char *rec_id) {
  media_loop_stop_feed_recording(loop_for(e, call), call->call_uuid, rec_id);
}

void media_engine_stop_recording(media_engine *e, const media_call *call) {
  media_loop_stop_recording(loop_for(e, call), call->call_uuid);
}

void media_engine_set_prefs(media_engine *e, const media_call *call) {
  media_loop_set_prefs(loop_for(e, call), call);
}

void media_engine_set_hints(media_engine *e, const media_call *call) {
  media_loop_set_hints(loop_for(e, call), call);
}

_Static_assert(sizeof(media_stats) % sizeof(uint64_t) == 0, "counters only");

static void add_stats(media_stats *sum, const media_stats *s) {
  const uint64_t *from = (const uint64_t *)s;
  uint64_t *to = (uint64_t *)sum;
  /* media_stats is nothing but uint64_t counters. */
  for (size_t i = 0; i < sizeof *s / sizeof(uint64_t); i++)
    to[i] += from[i];
}

void media_engine_loop_stats(media_engine *e, int loop, media_stats *out) {
  media_loop_stats(e->loops[loop], out);
}

size_t media_engine_estimates(media_engine *e, media_estimate *out, size_t max) {
  size_t n = 0;
  for (int i = 0; i < e->n && n < max; i++)
    n += media_loop_estimates(e->loops[i], out + n, max - n);
  return n;
}

void media_engine_stats(media_engine *e, media_stats *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < e->n; i++) {
    media_stats one;
    media_loop_stats(e->loops[i], &one);
    add_stats(out, &one);
  }
}
