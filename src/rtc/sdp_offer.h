/* sdp_offer — the server's offers for a publish/subscribe subscribe connection (issue
 * 15, docs/PUBSUB.md): one sendonly m-line per forwarded track, dropped tracks kept as
 * port 0, all bundled on ICE-lite; and the client's answer checked into an agreement
 * the media path reads like an answered offer's. Pure; the answer path is fuzzed. */
#ifndef PARLEY_SDP_OFFER_H
#define PARLEY_SDP_OFFER_H

#include "core/buf.h"
#include "core/host_addr.h"
#include "rtc/sdp.h"
#include "rtc/sdp_answer.h"

/* What we offer: one codec per m-line, the feed's: Opus, and VP8 with RTX (what every
 * browser sends and receives), or H.264 (packetization-mode 1, a profile-level-id the
 * caller picks) with RTX for a feed published in H.264 (a WHIP encoder such as OBS): the
 * server forwards, it never transcodes. */
#define SDP_OFFER_PT_OPUS 111
#define SDP_OFFER_PT_VP8 96
#define SDP_OFFER_PT_RTX 97
#define SDP_OFFER_PT_H264 102
#define SDP_OFFER_PT_H264_RTX 103
#define SDP_OFFER_EXT_TWCC 3 /* transport-wide-cc: what our estimate reads */

/* One m-line of the subscribe connection. */
typedef struct {
  char mid[32];
  sdp_kind kind;           /* SDP_AUDIO or SDP_VIDEO */
  bool active;             /* false: dropped (port 0), kept so mids stay in place */
  uint32_t ssrc, rtx_ssrc; /* ours; rtx_ssrc for video only */
  char stream_id[72];      /* a=msid stream: the feed id, so the client maps tracks */
  /* Video: "" offers VP8; 6 hex digits offer H.264 with this profile-level-id. */
  char h264_profile[8];
} sdp_offer_track;

typedef struct {
  const char *ice_ufrag, *ice_pwd;
  const char *fingerprint; /* "sha-256 AB:CD:..." of our DTLS certificate */
  const host_addr_list *addresses;
  uint16_t port, tcp_port;
  const char *cname;
  uint64_t session_id;
  uint32_t version; /* o= version: one more for every offer of the connection */
  const sdp_offer_track *tracks;
  size_t n_tracks; /* 1..SDP_MAX_MEDIA */
} sdp_offer_local;

/* Writes the offer into out. -1 with err when there is nothing to offer (no track or
 * too many). */
int sdp_offer_write(const sdp_offer_local *l, buf *out, char *err, size_t errlen);

/* What the client's answer decided, for the media path. */
typedef struct {
  sdp_agreement agreed; /* per m-line in the offer's order; our direction: sendonly */
  char remote_ufrag[257], remote_pwd[257];
  char remote_fingerprint[224]; /* "sha-256 AB:..." */
} sdp_offer_result;

/* Checks answer (text of len bytes) against the offer l described: the same m-lines
 * in the same order with the same mids and kinds; one answered with port 0 or
 * inactive, or without our codec, is not accepted; ICE credentials, a sha-256
 * fingerprint and a=setup:active (we are the DTLS server) are required. 0, or -1 with
 * a reason a client can be shown in err. */
int sdp_offer_accept(const sdp_offer_local *l, const char *answer, size_t len,
                     sdp_offer_result *out, char *err, size_t errlen);

#endif
