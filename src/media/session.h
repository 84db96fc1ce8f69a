/* session — one call's media on a media loop, as every router (echo, conference,
 * recording) sees it: its streams by role, forwarding with rewrite, keyframe requests,
 * NACKs answered from the publisher's cache, RTCP reports and RFC 4733 DTMF. */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include "media/engine.h"
#include "rtc/rtp_cache.h"
#include "rtc/rtp_renumber.h"
#include "rtc/rtp_sent.h"
#include "rtc/rtp_stats.h"
#include "rtc/transport.h"

enum { STREAM_AUDIO, STREAM_VIDEO, STREAM_SLIDES, STREAM_COUNT };

/* What the participant sends us on one m-line, or on one simulcast layer of it. */
typedef struct {
  uint32_t ssrc, rtx_ssrc; /* signalled, or learned by mid (or rid for a layer) */
  bool started;            /* something was received: stats are live */
  bool keyframe_seen;
  uint64_t last_keyframe_request_ms;
  rtp_stats stats;
  rtp_cache *cache; /* video: what it sent us, shared with every subscriber's NACKs */
  char rid[16];     /* simulcast: the layer's rid */
  uint16_t width, height; /* video: its last keyframe's size, 0 before one */
  uint32_t meter_bytes;   /* since the last bitrate reading */
  uint32_t bps;           /* bits per second over the last reading (~500 ms) */
  uint64_t last_ms;       /* its last packet */
  /* Video: its newest keyframe's first packet and the newest packet kept, so a new
   * receiver can be sent both and what lies between from the cache (conference.c). */
  bool has_keyframe;
  uint16_t keyframe_seq, newest_seq;
  uint64_t keyframe_ms;
} session_pub;

/* One media kind of a call, both ways (mediasoup's Producer and Consumer): what the
 * participant sends on it is its publisher stream, what we send it there is its
 * subscriber stream. */
typedef struct {
  int choice; /* index into the agreement, -1 if the call has no such stream */
  rtp_codec codec;
  session_pub pub; /* simulcast: its first rid's layer */
  /* Simulcast: layers 1.. (allocated only for a simulcast publisher); n_layers 1 else. */
  session_pub *more_layers;
  uint8_t n_layers;
  struct {
    uint32_t ssrc;
    bool started;       /* echo: something was sent, so sender reports are due */
    uint16_t seq_delta; /* echoed video: outgoing seq = incoming + delta (losses stay
                           visible) */
    uint16_t next_seq;  /* audio: our own numbering, so DTMF packets can be inserted */
    uint32_t last_ts;
    uint64_t last_forward_ms;
    uint32_t packets, octets;
    rtp_sent *sent; /* video: what we sent, by our sequence number, for NACKs */
  } sub;
} session_stream;

typedef struct media_session media_session;
struct media_room;
struct mixer_source;
struct recording_slot;
struct feed_room;

typedef void (*session_post_cb)(media_session *s, media_event_kind kind,
                                const char *text);

struct media_session {
  media_call params;
  transport *transport;
  session_stream streams[STREAM_COUNT];
  uint32_t rtcp_ssrc; /* sender SSRC of our RTCP (feedback, receiver reports) */
  uint32_t last_dtmf_ts;
  bool dtmf_seen;
  char dtmf_queue[64];      /* digits still to send */
  uint64_t dtmf_started_ms; /* when the current digit's event began, 0 if idle */
  uint32_t dtmf_ts;         /* RTP timestamp of the current event */
  uint64_t dtmf_next_ms;    /* earliest start of the next digit */
  uint64_t last_rtcp_ms;
  uint64_t nacks_answered, keyframe_requests;
  struct session_bwe *bwe; /* transport-cc: feedback and estimate (session_bwe.h) */
  session_post_cb post;
  void *engine;
  /* conference router state (MEDIA_CONFERENCE) */
  struct media_room *room;
  struct mixer_source *mix;
  uint32_t audio_ts;
  struct video_slot *slots;  /* tile slots: 1 for a single-video call, else n_slots */
  uint8_t n_slots;           /* slots allocated (conference.c) */
  uint64_t layer_budget_bps; /* the estimate its layers were last chosen for */
  uint32_t wanted_heights;   /* the sum of the heights its hints asked for, last time */
  bool video_stalled;        /* its camera stopped sending (conference.c) */
  session_stream *slot_out;  /* multistream: what we send on slots 1.. (n_slots - 1) */
  uint8_t n_slot_out;
  bool receiving;                     /* it can be sent media (conference.c: ready) */
  uint64_t connected_ms;              /* when its DTLS completed (ours) */
  media_session *slides_from;         /* whose presentation it gets */
  rtp_renumber video_out, slides_out; /* numbers run on across switches */
  uint64_t last_spoke_ms;             /* when it last became the speaker (0: never) */
  uint64_t join_seq;                  /* join order in its room */
  struct video_watch *watch; /* who forwards its video: (receiver, slot), conference.c */
  size_t n_watch, cap_watch;
  /* recording router state (MEDIA_RECORD agent, MEDIA_MONITOR supervisor) */
  struct recording_slot *recording; /* the agent's open recording */
  media_session *agent;             /* a supervisor's agent */
  media_session *supervisors[3];    /* an agent's supervisors (RTM allows 3) */
  int n_supervisors;
  rtp_renumber audio_out; /* a supervisor's audio, renumbered */
  bool video_synced;      /* a supervisor got its first keyframe */
  uint64_t last_rtp_ms;   /* an agent's last RTP */
  /* echo router: a data channel message waiting for room in the send buffer (reading
   * of the association is paused meanwhile), or NULL */
  uint8_t *dc_held;
  size_t dc_held_len;
  uint16_t dc_held_id;
  bool dc_held_binary;
  bool no_media_reported;
  /* pub/sub router state (MEDIA_PUBSUB_PUB / MEDIA_PUBSUB_SUB, feed_router.c) */
  struct feed_room *feeds;
  struct feed_data *dc;   /* a pub/sub publish call's data channels (feed_data.c) */
  int audio_level;        /* a publisher's smoothed RFC 6464 level (0 loudest, 127) */
  uint64_t last_voice_ms; /* its last packet marked as voice */
  /* Set by whoever records this session's feeds (a publish call); NULL otherwise.
   * Called on the media loop for every RTP packet of a publisher stream, after SRTP,
   * before forwarding; layer is the simulcast layer (0 without simulcast). */
  void (*feed_tap)(media_session *s, int stream, int layer, const uint8_t *pkt,
                   size_t len, uint64_t now);
  void *feed_tap_ud;
};

/* Binds the streams to the agreement and picks the SSRC of our RTCP. */
void session_init(media_session *s);
/* Re-reads the agreement after a renegotiation. */
void session_update(media_session *s);
void session_free(media_session *s);

/* The publisher stream a received packet belongs to (learns unsignalled SSRCs by mid);
 * *repair is set for its RTX stream. */
session_stream *session_stream_for(media_session *s, const uint8_t *pkt,
                                   const rtp_header *h, bool *repair);
/* The same, with the simulcast layer it came on (0 without simulcast). */
session_stream *session_stream_for_layer(media_session *s, const uint8_t *pkt,
                                         const rtp_header *h, bool *repair, int *layer);
/* Layer i of a publisher stream (0 is st->pub). */
static inline session_pub *session_layer(session_stream *st, int i) {
  return i == 0 ? &st->pub : &st->more_layers[i - 1];
}
/* The stream whose subscriber side sends ssrc (what RTCP feedback names). */
session_stream *session_stream_by_local_ssrc(media_session *s, uint32_t ssrc);

/* A PLI to the publisher of st, at most every 500 ms. */
void session_request_keyframe(media_session *s, session_stream *st, uint64_t now);
/* The same for one layer (its own SSRC and gap). */
void session_request_layer_keyframe(media_session *s, session_pub *p, uint64_t now);
/* Keeps a received video packet, once, for the NACKs of whoever it is forwarded to; the
 * cache is allocated on first use. */
void session_keep_received(session_stream *st, const uint8_t *pkt, size_t len,
                           const rtp_header *h, uint64_t now);
void session_keep_layer(session_pub *p, const uint8_t *pkt, size_t len,
                        const rtp_header *h, uint64_t now);
/* Resends what a subscriber's NACK names: rebuilt from the publisher's cache as st
 * sent it. Returns how many of them are gone (too old, never sent, or resent three
 * times already): a hole only a keyframe mends. */
size_t session_answer_nack(media_session *s, session_stream *st, const rtcp_item *item,
                           uint64_t now);

/* A copy of a packet `from` published to subscriber rx on its stream `out`: rx's SSRC
 * and payload type, the publisher's header extensions removed (their ids belong to the
 * publisher's connection), numbers carried on by `rn` across switches
 * (rtc/rtp_renumber.h). Built straight into the send batch; video is logged for NACKs
 * against from's cache. True when the packet is queued: false when rx cannot receive yet.
 */
bool session_forward(media_session *rx, session_stream *out, rtp_renumber *rn,
                     const session_stream *from, const uint8_t *pkt, size_t len,
                     const rtp_header *h, uint64_t now);
/* The same from one layer of a publisher stream (its own NACK cache). */
bool session_forward_layer(media_session *rx, session_stream *out, rtp_renumber *rn,
                           const session_pub *from, const uint8_t *pkt, size_t len,
                           const rtp_header *h, uint64_t now);
/* The echo router sent a video packet back on the stream it came in on, as seq and ts:
 * logged for its NACKs against the stream's own cache. */
void session_note_echoed(session_stream *st, uint16_t source_seq, uint16_t seq,
                         uint32_t ts, uint64_t now);

/* RFC 4733: reports a digit the participant sent (once per event). */
void session_on_dtmf_packet(media_session *s, const uint8_t *pkt, const rtp_header *h);
/* Queues digits to send on the audio stream. */
void session_send_dtmf(media_session *s, const char *digits);
/* Sends queued digits on the audio stream (its next_seq, and a timestamp carried on
 * from last_ts), paced over ticks. */
void session_dtmf_tick(media_session *s, uint64_t now);

/* A received packet is counted for our receiver reports (pub.started then holds). */
void session_count_received(session_stream *st, const rtp_header *h, size_t len,
                            uint32_t clock, uint64_t now);
void session_count_layer(session_pub *p, const rtp_header *h, size_t len, uint32_t clock,
                         uint64_t now);
void session_note_sender_report(media_session *s, const rtcp_item *item, uint64_t now);
/* A receiver report for every stream received, and REMB allowing remb_bps unless
 * transport-cc is agreed: without either Chrome's estimator stays at its ~300 kbit/s
 * start. */
void session_send_receiver_report(media_session *s, uint64_t now, uint64_t remb_bps);
/* One compound: a sender report per stream sent (the receiver report blocks in the
 * first), or a receiver report when nothing is sent yet, then our CNAME. */
void session_send_reports(media_session *s, uint64_t now);

/* The transport callbacks every router shares: report connected, and end on failure. */
void session_on_connected(transport *t, void *ud);
void session_on_failed(transport *t, const char *reason, void *ud);

#endif
