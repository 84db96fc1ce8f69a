/* recording_router — RTM agent media to its recorder and its supervisors. */
#include "media/recording_router.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"
#include "media/recorder.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define REPORT_INTERVAL_MS 1000
/* What an agent may send: REMB tells Chrome's estimator so (without our receiver
 * reports and REMB it never leaves its ~300 kbit/s start, and recordings look it). */
#define AGENT_MAX_BITRATE 2500000

#define MAX_SUPERVISORS (int)(sizeof(((media_session *)0)->supervisors) / sizeof(void *))

/* A recording outlives its agent's session while it is finalised off the loop, so its
 * callbacks hold this rather than the session. */
typedef struct recording_slot {
  recorder *rec;
  void *engine;
  char call_uuid[40];
  char rec_id[40];
  media_session *agent; /* NULL once the agent has gone */
} recording_slot;

static void post(recording_slot *slot, media_event *ev) {
  snprintf(ev->call_uuid, sizeof ev->call_uuid, "%s", slot->call_uuid);
  snprintf(ev->rec_id, sizeof ev->rec_id, "%s", slot->rec_id);
  media_loop_post(slot->engine, ev);
}

static void on_recording_started(void *ud, int64_t first_frame_unix_ms) {
  recording_slot *slot = ud;
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_STARTED,
                    .first_frame_ms = first_frame_unix_ms};
  post(slot, &ev);
}

static void on_keyframe_needed(void *ud) {
  recording_slot *slot = ud;
  media_session *a = slot->agent;
  if (a && a->transport->srtp_ready)
    session_request_keyframe(a, &a->streams[STREAM_VIDEO], uv_now(a->transport->loop));
}

media_event recording_closed_event(const recorder_result *res) {
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_CLOSED,
                    .recording = {.ok = res->ok,
                                  .size_bytes = res->size_bytes,
                                  .duration_ms = res->duration_ms,
                                  .first_frame_unix_ms = res->first_frame_unix_ms,
                                  .stopped_unix_ms = res->stopped_unix_ms}};
  snprintf(ev.text, sizeof ev.text, "%s", res->ok ? "" : res->error);
  return ev;
}

static void on_recording_closed(void *ud, const recorder_result *res) {
  recording_slot *slot = ud;
  media_event ev = recording_closed_event(res);
  post(slot, &ev);
  if (slot->agent)
    slot->agent->recording = NULL;
  free(slot);
}

rec_codec recording_video_codec(const session_stream *st) {
  if (st->choice < 0)
    return REC_CODEC_NONE;
  switch (st->codec) {
  case RTP_CODEC_VP8:
    return REC_CODEC_VP8;
  case RTP_CODEC_VP9:
    return REC_CODEC_VP9;
  case RTP_CODEC_H264:
    return REC_CODEC_H264;
  default:
    return REC_CODEC_NONE;
  }
}

void recording_router_start(media_session *a, const char *rec_id, const char *path) {
  if (a->recording)
    return;
  recording_slot *slot = xcalloc(1, sizeof *slot);
  slot->engine = a->engine;
  slot->agent = a;
  snprintf(slot->call_uuid, sizeof slot->call_uuid, "%s", a->params.call_uuid);
  snprintf(slot->rec_id, sizeof slot->rec_id, "%s", rec_id);
  recorder_tracks tracks = {
      .audio = a->streams[STREAM_AUDIO].choice >= 0 ? REC_CODEC_OPUS : REC_CODEC_NONE,
      .video = a->streams[STREAM_VIDEO].choice >= 0
                   ? recording_video_codec(&a->streams[STREAM_VIDEO])
                   : REC_CODEC_NONE,
      .audio_clock = 48000,
      .video_clock = 90000,
      .audio_channels = 2};
  recorder_callbacks cb = {on_recording_started, on_keyframe_needed, on_recording_closed};
  a->recording = slot;
  slot->rec = recorder_open(a->transport->loop, path, &tracks, cb, slot);
  log_info("media", "call %s: recording %s into %s", a->params.call_uuid, rec_id, path);
}

const char *recording_extension(const sdp_agreement *agreed) {
  for (size_t i = 0; i < agreed->n_media; i++) {
    const sdp_choice *ch = &agreed->media[i];
    if (ch->accepted && ch->kind == SDP_VIDEO && strcmp(ch->codec, "H264") == 0)
      return "mkv";
  }
  return "webm";
}

void recording_router_stop(media_session *a) {
  recording_slot *slot = a->recording;
  if (!slot)
    return;
  a->recording = NULL;
  slot->agent = NULL; /* the slot frees itself once the file is closed */
  recorder_close(slot->rec);
}

/* A supervisor's copy: video waits for a keyframe so the first frame decodes. It is
 * synced only by a keyframe actually sent: one forwarded while its DTLS is not up goes
 * nowhere, and until then recording_router_tick keeps asking the agent for another. */
static void to_supervisor(media_session *sup, const session_stream *from, bool video,
                          const uint8_t *pkt, size_t len, const rtp_header *h,
                          bool keyframe, uint64_t now) {
  session_stream *out = &sup->streams[video ? STREAM_VIDEO : STREAM_AUDIO];
  if (video && !sup->video_synced && !keyframe)
    return;
  bool sent = session_forward(sup, out, video ? &sup->video_out : &sup->audio_out, from,
                              pkt, len, h, now);
  if (video && sent)
    sup->video_synced = true;
}

static void on_agent_rtp(transport *t, uint8_t *pkt, size_t len, const rtp_header *h,
                         void *ud) {
  media_session *a = ud;
  bool repair;
  session_stream *st = session_stream_for(a, pkt, h, &repair);
  if (!st || repair || st == &a->streams[STREAM_SLIDES])
    return;
  if (h->payload_type != a->params.agreed.media[st->choice].pt)
    return; /* DTMF, comfort noise: neither recorded nor forwarded */
  uint64_t now = uv_now(t->loop);
  a->last_rtp_ms = now;
  bool video = st == &a->streams[STREAM_VIDEO];
  session_count_received(st, h, len, video ? 90000 : 48000, now);
  if (a->recording)
    recorder_on_rtp(a->recording->rec, video, pkt, len);
  bool keyframe = video && rtp_is_keyframe_start(pkt, h, st->codec);
  if (video && a->n_supervisors > 0)
    session_keep_received(st, pkt, len, h, now); /* for the supervisors' NACKs */
  for (int i = 0; i < a->n_supervisors; i++)
    to_supervisor(a->supervisors[i], st, video, pkt, len, h, keyframe, now);
}

static void on_agent_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *a = ud;
  if (item->kind != RTCP_SR)
    return;
  uint64_t ntp = (uint64_t)item->ntp_sec << 32 | item->ntp_frac;
  for (int k = STREAM_AUDIO; k <= STREAM_VIDEO; k++) {
    session_stream *st = &a->streams[k];
    if (st->choice < 0 || st->pub.ssrc != item->sender_ssrc)
      continue;
    if (st->pub.started)
      rtp_stats_sender_report(&st->pub.stats, item->ntp_sec, item->ntp_frac,
                              uv_now(t->loop));
    if (a->recording)
      recorder_on_sender_report(a->recording->rec, k == STREAM_VIDEO, ntp, item->rtp_ts);
  }
}

/* A supervisor's feedback: keyframe requests go up to the agent, NACKs are answered
 * from what we sent it, and one we cannot answer asks the agent for a keyframe. */
static void on_supervisor_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *sup = ud;
  uint64_t now = uv_now(t->loop);
  session_stream *ours = session_stream_by_local_ssrc(sup, item->media_ssrc);
  if (!ours || ours == &sup->streams[STREAM_AUDIO])
    return;
  bool hole = item->kind == RTCP_NACK && session_answer_nack(sup, ours, item, now) > 0;
  if ((hole || item->kind == RTCP_PLI || item->kind == RTCP_FIR) && sup->agent)
    session_request_keyframe(sup->agent, &sup->agent->streams[STREAM_VIDEO], now);
}

static void on_supervisor_rtp(transport *t, uint8_t *pkt, size_t len, const rtp_header *h,
                              void *ud) {
  (void)t, (void)pkt, (void)len, (void)h, (void)ud; /* receive-only: nothing to take */
}

transport_sink recording_router_join_agent(media_session *a) {
  session_init(a);
  return (transport_sink){session_on_connected, on_agent_rtp, on_agent_rtcp,
                          session_on_failed};
}

transport_sink recording_router_join_supervisor(media_session *sup, media_session *a) {
  session_init(sup);
  rtp_renumber_init(&sup->video_out);
  rtp_renumber_init(&sup->audio_out);
  if (a->n_supervisors < MAX_SUPERVISORS) {
    a->supervisors[a->n_supervisors++] = sup;
    sup->agent = a;
    session_request_keyframe(a, &a->streams[STREAM_VIDEO], uv_now(a->transport->loop));
  }
  return (transport_sink){session_on_connected, on_supervisor_rtp, on_supervisor_rtcp,
                          session_on_failed};
}

void recording_router_leave(media_session *s) {
  if (s->agent) {
    media_session *a = s->agent;
    for (int i = 0; i < a->n_supervisors; i++)
      if (a->supervisors[i] == s)
        a->supervisors[i] = a->supervisors[--a->n_supervisors];
    s->agent = NULL;
  }
  for (int i = 0; i < s->n_supervisors; i++)
    s->supervisors[i]->agent = NULL;
  s->n_supervisors = 0;
  recording_router_stop(s);
}

void recording_router_tick(media_session *s, uint64_t now) {
  if (!s->transport->srtp_ready)
    return;
  for (int i = 0; i < s->n_supervisors; i++)
    if (!s->supervisors[i]->video_synced && s->supervisors[i]->transport->srtp_ready)
      session_request_keyframe(s, &s->streams[STREAM_VIDEO], now);
  if (s->params.mode != MEDIA_RECORD)
    return;
  if (now - s->last_rtcp_ms >= REPORT_INTERVAL_MS) {
    s->last_rtcp_ms = now;
    session_send_receiver_report(s, now, AGENT_MAX_BITRATE);
  }
  if (s->no_media_reported || s->params.no_media_timeout_s <= 0)
    return;
  if (!s->last_rtp_ms)
    s->last_rtp_ms = now; /* the clock starts when media could first flow */
  if (now - s->last_rtp_ms >= (uint64_t)s->params.no_media_timeout_s * 1000) {
    s->no_media_reported = true;
    s->post(s, MEDIA_EVENT_NO_MEDIA, "no RTP received");
  }
}
