/* session_bwe — transport-cc for one call: our feedback on what the participant sends
 * (so its browser's own estimator works), and the estimate of what we can send it
 * (media/bwe.c fed with its feedback), with padding probes on the video RTX stream. */
#ifndef PARLEY_SESSION_BWE_H
#define PARLEY_SESSION_BWE_H

#include "media/bwe.h"
#include "media/session.h"

typedef struct session_bwe {
  bwe est;
  uint64_t last_feedback_ms;
  uint64_t last_tick_ms, last_bytes_out, padding_last_tick;
  uint64_t last_video_packets, video_seen_ms; /* when video last went out */
  uint16_t rtx_seq;
  uint64_t padding_packets, padding_bytes;
} session_bwe;

/* Reads the agreement (again, after a renegotiation): with transport-cc agreed on any
 * m-line, the transport numbers, records and logs (rtc/twcc.h) and the estimate runs;
 * without, both stop. Call after the router joined. */
void session_bwe_attach(media_session *s);
void session_bwe_free(media_session *s);
/* Every media-loop tick: feedback to the peer every 50 ms, and probe padding. */
void session_bwe_tick(media_session *s, uint64_t now);

/* The estimate of what we can send this call's participant, in bit/s; 0 when there is
 * none (transport-cc not agreed, or no feedback yet): treat as 2.5 Mbit/s. */
uint64_t session_send_estimate_bps(const media_session *s);
/* bwe_probe_soon on s's estimator, if it has one. */
void session_bwe_probe_soon(media_session *s, uint64_t wanted_bps, uint64_t now);

#endif
