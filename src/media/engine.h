/* engine — the media loops (media_loop.c: thread, libuv loop and UDP port each) and where
 * each call goes: a room's calls share one loop, and an RTM agent's supervisors too. */
#ifndef PARLEY_ENGINE_H
#define PARLEY_ENGINE_H

#include "core/host_addr.h"
#include "rtc/ice_lite.h"
#include "rtc/ice_tcp.h"
#include "rtc/sdp_answer.h"

#include <uv.h>

typedef struct media_engine media_engine;

typedef struct {
  const char *bind_address;       /* where the UDP port listens */
  int port;                       /* 0 picks a free one */
  const host_addr_list *announce; /* the SDP candidates' addresses, in order (NAT) */
  const char *srtp_profiles;      /* OpenSSL use_srtp list, our preference first */
  int consent_timeout_s;
  int loops;    /* media loops (threads), each with its own port: port, port + 1, ... */
  bool ice_tcp; /* each loop also accepts ICE-TCP on its port's number (RFC 6544) */
} media_config;

typedef enum {
  MEDIA_ECHO,       /* test_call rooms: your own media back */
  MEDIA_CONFERENCE, /* the room's mix and the active speaker's video */
  MEDIA_RECORD,     /* an RTM agent: recorded, and forwarded to its supervisors */
  MEDIA_MONITOR,    /* an RTM supervisor: receives one agent's media */
  MEDIA_PUBSUB_PUB, /* a pub/sub participant's publish connection (feed_router.c) */
  MEDIA_PUBSUB_SUB, /* its subscribe connection: the server offered, one m-line a track */
} media_mode;

/* One m-line of a pub/sub subscribe connection (MEDIA_PUBSUB_SUB), in m-line order:
 * which publisher stream it carries, our SSRCs on it, and the size it is drawn at. */
typedef struct {
  char src_call[40]; /* the publish call's uuid; "" = dropped (port 0) */
  int8_t src_stream; /* the publisher's stream (session.h STREAM_AUDIO/VIDEO/SLIDES) */
  uint16_t hint_w, hint_h; /* video: the subscriber's size; w 0 = paused */
  uint32_t ssrc, rtx_ssrc;
} media_track;

/* Everything a media loop needs to serve a call, agreed on the control loop. */
typedef struct {
  char call_uuid[40];
  media_mode mode;
  int64_t room_key; /* calls with the same key share a conference */
  bool muted;       /* server mute: out of the mix */
  bool video_muted; /* not shown to others */
  double spotlight; /* > 0: pinned ahead of the speaker, earliest first */
  bool lecture;     /* the room is a lecture: guests hear and see hosts only */
  bool host;
  bool presenting; /* holds the floor: its slides are forwarded to everyone else */
  int present;     /* 0: a main call; 1: a presentation it sends; 2: one it receives */
  char local_ufrag[ICE_UFRAG_MAX + 1], local_pwd[ICE_PWD_MAX + 1];
  char remote_ufrag[260];
  char remote_fingerprint[224]; /* "sha-256 AB:..." */
  sdp_agreement agreed;
  uint32_t audio_ssrc, video_ssrc, video_rtx_ssrc, slides_ssrc, slides_rtx_ssrc;
  /* Multistream calls: our SSRCs on tile slots 1.. (slot 0 is video_ssrc). */
  uint32_t slot_ssrc[SDP_MAX_SLOTS - 1], slot_rtx_ssrc[SDP_MAX_SLOTS - 1];
  /* Tile size hints per slot (CSS pixels times devicePixelRatio); width 0 = not shown.
   * Before any hint: slot 0 1280x720, the others 640x360. */
  uint16_t hint_width[SDP_MAX_SLOTS], hint_height[SDP_MAX_SLOTS];
  char monitor_of[40];    /* MEDIA_MONITOR: the agent's call */
  int no_media_timeout_s; /* MEDIA_RECORD: report NO_MEDIA after this long without RTP */
  /* MEDIA_PUBSUB_PUB: the mid of the screen feed's video m-line (its STREAM_SLIDES). */
  char slides_mid[32];
  /* MEDIA_PUBSUB_SUB: the subscribe connection's m-lines (agreed.media in order). */
  media_track tracks[SDP_MAX_MEDIA];
  uint8_t n_tracks;
  /* MEDIA_PUBSUB_PUB: the participant's uid (data channel messages name it). */
  char owner[72];
} media_call;

typedef enum {
  MEDIA_EVENT_CONNECTED,         /* ICE and DTLS are up: media flows */
  MEDIA_EVENT_ENDED,             /* the call is gone on the media side; text says why */
  MEDIA_EVENT_DTMF,              /* text holds the digit the participant sent */
  MEDIA_EVENT_SPEAKER,           /* this call's participant is now the active speaker */
  MEDIA_EVENT_NO_MEDIA,          /* an RTM agent sent no RTP for its no_media_timeout_s */
  MEDIA_EVENT_RECORDING_STARTED, /* rec_id's first frame is written (at num[0] ms) */
  MEDIA_EVENT_RECORDING_CLOSED,  /* rec_id's file is closed; see media_recording */
  MEDIA_EVENT_STREAMS,           /* a multistream call's slots changed: see streams */
} media_event_kind;

/* What a multistream call's tile slots show (MEDIA_EVENT_STREAMS), in slot order: the
 * source call forwarded there ("" = none) and its layer ('h', 'm', 'l'; 0 = paused or
 * none). The control loop maps slots to mids and calls to participants. */
typedef struct {
  uint8_t n;
  struct {
    char call_uuid[37];
    char layer;
  } slot[SDP_MAX_SLOTS];
} media_streams;

/* A closed recording: ok, or why not in text. */
typedef struct {
  bool ok;
  uint64_t size_bytes, duration_ms;
  int64_t first_frame_unix_ms, stopped_unix_ms;
} media_recording;

typedef struct {
  media_event_kind kind;
  char call_uuid[40];
  union {
    struct {
      char text[160];
      char rec_id[40];           /* recording events */
      int64_t first_frame_ms;    /* RECORDING_STARTED: wall clock of the first frame */
      media_recording recording; /* RECORDING_CLOSED */
    };
    media_streams streams; /* STREAMS: no text */
  };
} media_event;

typedef void (*media_event_cb)(const media_event *ev, void *ud);

typedef struct {
  uint64_t calls, datagrams_in, datagrams_out, dropped_garbage, dropped_unknown,
      stun_refused, srtp_failures, rtp_in, rtp_out, rtcp_in, rtcp_out, bytes_in,
      bytes_out, nacks_answered, keyframe_requests, queue_dropped, send_errors;
  uint64_t twcc_feedback_in, twcc_feedback_out; /* transport-cc feedback packets */
  uint64_t padding_packets;                     /* bandwidth probes sent */
  uint64_t dtls_resent; /* DTLS handshake flights resent on our timer (a lost flight) */
  /* Data channels (sctp.c): messages and bytes each way, messages over our size limit
   * (their channel closed), times reading paused for the rate limit, echoes or sends
   * refused for a full send buffer. */
  uint64_t dc_messages_in, dc_messages_out, dc_bytes_in, dc_bytes_out, dc_too_big,
      dc_throttled, dc_send_full;
  ice_tcp_counters tcp; /* the port's own, copied whole */
  uint64_t tcp_open;    /* ICE-TCP connections open: a gauge */
} media_stats;

/* Binds the ports (errors are reported here, not later) and starts the loops' threads;
 * events are delivered on control_loop. NULL with err on failure. */
media_engine *media_engine_start(uv_loop_t *control_loop, const media_config *cfg,
                                 media_event_cb cb, void *ud, char *err, size_t errlen);
/* Tells every loop to close its calls, then joins their threads. */
void media_engine_stop(media_engine *e);

/* Placement is a function of the call, so nothing is kept per call: a conference call
 * (or a pub/sub call) goes to its room's (session's) loop (room_key), a supervisor to its
 * agent's, any other call by its uuid. Every command about a call therefore takes the
 * call. */
int media_engine_port_for(const media_engine *e, const media_call *call);
/* The first loop's port (the one the start-up line shows) and how many loops there are.
 */
int media_engine_port(const media_engine *e);
int media_engine_loops(const media_engine *e);
const host_addr_list *media_engine_announce(const media_engine *e);
/* Whether the loops accept ICE-TCP (on the same port numbers as UDP). */
bool media_engine_ice_tcp(const media_engine *e);
const char *media_engine_fingerprint(const media_engine *e);

/* Commands (control loop side). The call is copied. */
void media_engine_add_call(media_engine *e, const media_call *call);
/* Renegotiation: new agreement and, on an ICE restart, new credentials. */
void media_engine_update_call(media_engine *e, const media_call *call);
void media_engine_remove_call(media_engine *e, const media_call *call);
void media_engine_send_dtmf(media_engine *e, const media_call *call, const char *digits);
/* RTM recording of a MEDIA_RECORD call into path (a new file); events name rec_id. */
void media_engine_start_recording(media_engine *e, const media_call *call,
                                  const char *rec_id, const char *path);
/* Finalises the call's recording; RECORDING_CLOSED follows. */
void media_engine_stop_recording(media_engine *e, const media_call *call);
/* Pub/sub: streams audio_stream and video_stream (STREAM_* of media/session.h, -1 when
 * absent) of the call, one feed, into path (a new file) as rec_id; a simulcast video
 * records its highest layer. Events name rec_id; RECORDING_CLOSED always comes. */
void media_engine_start_feed_recording(media_engine *e, const media_call *call,
                                       const char *rec_id, const char *path,
                                       int audio_stream, int video_stream);
/* Finalises the call's feed recording rec_id (NULL: all of the call's). */
void media_engine_stop_feed_recording(media_engine *e, const media_call *call,
                                      const char *rec_id);
/* Server mute, video mute, spotlight and role of the call's participant changed. */
void media_engine_set_prefs(media_engine *e, const media_call *call);
/* New tile size hints (call->hint_width/height) of a multistream or simulcast call. */
void media_engine_set_hints(media_engine *e, const media_call *call);
/* A call's transport-cc estimate of what we can send it (media/bwe.c), and what its
 * peer said it received over the last half second. */
typedef struct {
  char call_uuid[40];
  uint64_t send_bps, received_bps;
} media_estimate;

/* Up to max calls' estimates from every loop's last snapshot (calls with none are not
 * listed); returns how many were written. */
size_t media_engine_estimates(media_engine *e, media_estimate *out, size_t max);
/* Every loop's counters added up; a snapshot, at most a second old. */
void media_engine_stats(media_engine *e, media_stats *out);
/* One loop's (0 to media_engine_loops - 1). */
void media_engine_loop_stats(media_engine *e, int loop, media_stats *out);

#endif
