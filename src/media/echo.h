/* echo — the test-call router: each participant's own audio and video come back to it,
 * with SSRC and sequence rewrite, keyframe requests upstream, and NACKs answered. */
#ifndef PARLEY_ECHO_H
#define PARLEY_ECHO_H

#include "media/engine.h"
#include "rtc/rtp_cache.h"
#include "rtc/rtp_sent.h"
#include "rtc/rtp_stats.h"
#include "rtc/transport.h"

enum { STREAM_AUDIO, STREAM_VIDEO, STREAM_SLIDES, STREAM_COUNT };

typedef struct {
  int choice; /* index into the agreement, -1 if the call has no such stream */
  uint32_t remote_ssrc, remote_rtx_ssrc, local_ssrc;
  rtp_codec codec;
  bool started;
  uint16_t
      seq_delta; /* video: outgoing seq = incoming seq + delta (losses stay visible) */
  uint16_t next_seq; /* audio: our own numbering, so DTMF packets can be inserted */
  uint32_t last_ts;
  uint64_t last_forward_ms;
  uint32_t packets_out, octets_out;
  bool keyframe_seen;
  uint64_t last_keyframe_request_ms;
  rtp_stats stats;
  rtp_cache *received; /* video: what it received, shared with every receiver's NACKs */
  rtp_sent *sent;      /* video: what it sent, by our sequence number */
} echo_stream;

typedef struct media_session media_session;
struct media_room;

/* A receiver's view of a forwarded stream: sequence numbers and timestamps that run
 * on across source switches, so a switch looks like one continuous stream. */
typedef struct {
  bool started;
  uint16_t seq_delta, last_seq;
  uint32_t ts_delta, last_ts;
} rewrite;
struct mixer_source;
typedef void (*session_post_cb)(media_session *s, media_event_kind kind,
                                const char *text);

struct media_session {
  media_call params;
  transport *transport;
  echo_stream streams[STREAM_COUNT];
  uint32_t rtcp_ssrc;
  uint32_t last_dtmf_ts;
  bool dtmf_seen;
  char dtmf_queue[64];      /* digits still to send */
  uint64_t dtmf_started_ms; /* when the current digit's event began, 0 if idle */
  uint32_t dtmf_ts;         /* RTP timestamp of the current event */
  uint64_t dtmf_next_ms;    /* earliest start of the next digit */
  uint64_t last_rtcp_ms;
  uint64_t nacks_answered, keyframe_requests;
  session_post_cb post;
  void *engine;
  /* conference router state (MEDIA_CONFERENCE) */
  struct media_room *room;
  struct mixer_source *mix;
  uint32_t audio_ts;
  media_session *video_from, *video_pending; /* whose video this receiver gets */
  media_session *slides_from;                /* whose presentation it gets */
  rewrite video_out, slides_out;
  /* recording router state (MEDIA_RECORD agent, MEDIA_MONITOR supervisor) */
  struct recording_slot *recording; /* the agent's open recording */
  media_session *agent;             /* a supervisor's agent */
  media_session *supervisors[3];    /* an agent's supervisors (RTM allows 3) */
  int n_supervisors;
  rewrite audio_out;    /* a supervisor's audio, rewritten */
  bool video_synced;    /* a supervisor got its first keyframe */
  uint64_t last_rtp_ms; /* an agent's last RTP */
  bool no_media_reported;
};

/* Shared by the routers (echo, conference): which stream is which, from the agreement. */
void session_bind_streams(media_session *s);
/* The stream a received packet belongs to (learns unsignalled SSRCs by mid). */
echo_stream *session_stream_for(media_session *s, const uint8_t *pkt, const rtp_header *h,
                                bool *repair);
echo_stream *session_stream_by_local_ssrc(media_session *s, uint32_t ssrc);
/* A PLI to the sender of st, at most every 500 ms. */
void session_request_keyframe(media_session *s, echo_stream *st, uint64_t now);
/* Keeps a received video packet, once, for the NACKs of whoever it is forwarded to; the
 * cache is allocated on first use. */
void session_keep_received(echo_stream *st, const uint8_t *pkt, size_t len,
                           const rtp_header *h, uint64_t now);
/* Resends what a receiver's NACK names: rebuilt from the source's cache as st sent it. */
void session_answer_nack(media_session *s, echo_stream *st, const rtcp_item *item,
                         uint64_t now);

/* A copy of a packet `from` received to receiver rx on its stream `out`: rx's SSRC and
 * payload type, the sender's header extensions removed (their ids belong to the sender's
 * connection), sequence numbers and timestamps carried on by `rw` across switches.
 * Built straight into the send batch; video is logged for NACKs against from's cache. */
void session_forward(media_session *rx, echo_stream *out, rewrite *rw,
                     const echo_stream *from, const uint8_t *pkt, size_t len,
                     const rtp_header *h, uint64_t now);

/* RFC 4733: reports a digit the participant sent (once per event). */
void session_on_dtmf_packet(media_session *s, const uint8_t *pkt, const rtp_header *h);
/* Sends queued digits on the audio stream (its next_seq, and a timestamp carried on
 * from last_ts), paced over ticks. */
void session_dtmf_tick(media_session *s, uint64_t now);

/* Routers that receive without echoing (conference, recording): a received packet is
 * counted for our receiver reports; `started` then means "received". */
void session_count_received(echo_stream *st, const rtp_header *h, size_t len,
                            uint32_t clock, uint64_t now);
void session_note_sender_report(media_session *s, const rtcp_item *item, uint64_t now);
/* A receiver report for every stream received, and REMB allowing remb_bps: without
 * them Chrome's estimator stays at its ~300 kbit/s start. */
void session_send_receiver_report(media_session *s, uint64_t now, uint64_t remb_bps);

/* The transport callbacks both routers share: report connected, and end on failure. */
void session_on_connected(transport *t, void *ud);
void session_on_failed(transport *t, const char *reason, void *ud);

/* Sets up the streams from the agreement; returns the sink for its transport. */
transport_sink echo_session_init(media_session *s);
/* Re-reads the agreement after a renegotiation. */
void echo_session_update(media_session *s);
/* Periodic work: sender/receiver reports, pending keyframe requests. */
void echo_session_tick(media_session *s, uint64_t now_ms);
/* Sends RFC 4733 events for digits on the audio stream. */
void echo_session_send_dtmf(media_session *s, const char *digits);
void echo_session_free(media_session *s);

#endif
