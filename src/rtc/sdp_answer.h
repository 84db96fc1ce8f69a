/* sdp_answer — answers an offer the way Parley can serve it: every offered m-line kept
 * in order with its mid, what we cannot do rejected with port 0, one codec per kind;
 * bundled m-lines share one transport, described once in the tagged m-line. */
#ifndef PARLEY_SDP_ANSWER_H
#define PARLEY_SDP_ANSWER_H

#include "core/buf.h"
#include "core/host_addr.h"
#include "rtc/sdp.h"

/* A multistream call's tile slots: its main video m-line and up to 8 more. */
#define SDP_MAX_SLOTS 9
/* Simulcast layers we receive from one publisher (RFC 8853 rids). */
#define SDP_MAX_LAYERS 3

/* What the answer needs to know about our side of the transport. */
typedef struct {
  const char *ice_ufrag, *ice_pwd;
  const char *fingerprint;         /* "sha-256 AB:CD:..." of our DTLS certificate */
  const host_addr_list *addresses; /* announced media addresses, at least one */
  uint16_t port;
  uint16_t tcp_port; /* a passive ICE-TCP candidate (RFC 6544) there; 0 = none */
  const char *cname;
  uint32_t audio_ssrc, video_ssrc, video_rtx_ssrc, slides_ssrc, slides_rtx_ssrc;
  /* Multistream (a conference's main call): more than one receiving video m-line
   * makes each a tile slot we send on, with these SSRCs for slots 1..8. */
  bool multistream;
  uint32_t slot_ssrc[SDP_MAX_SLOTS - 1], slot_rtx_ssrc[SDP_MAX_SLOTS - 1];
  /* Accept the main video m-line's simulcast (a=rid send + a=simulcast:send, VP8). */
  bool simulcast;
  /* NULL: our order (VP8 first: one codec a whole conference shares); "offer": the
   * offerer's first usable codec (a recording keeps what its client chose); a codec
   * name: that one if offered (a supervisor receives its agent's codec unchanged). */
  const char *prefer_video;
  /* Accept an offered data channel m-line (m=application ... UDP/DTLS/SCTP
   * webrtc-datachannel with a=sctp-port): only routers that serve data channels do;
   * for the others it is answered with port 0. */
  bool data_channels;
  uint32_t max_message_size; /* our a=max-message-size; 0: SCTP_MAX_MESSAGE_SIZE */
  /* The m-line with this mid is the slides one, as a=content:slides would say (a
   * pub/sub screen feed; browsers do not write a=content). NULL: none. */
  const char *slides_mid;
} sdp_local;

/* What was agreed for one m-line; the media path reads this, not the text. */
typedef struct {
  bool accepted;
  sdp_kind kind;
  char mid[32];
  bool slides;
  sdp_direction direction; /* ours, as written in the answer */
  int pt, rtx_pt, dtmf_pt; /* -1 if none */
  uint32_t dtmf_rate;      /* telephone-event clock: 48000, or 8000 (Firefox) */
  char codec[24];
  uint8_t ext_audio_level, ext_abs_send_time, ext_mid, ext_transport_cc;
  unsigned feedback;
  uint32_t remote_ssrc, remote_rtx_ssrc; /* from the offer, 0 if not signalled */
  int8_t slot; /* multistream: its tile slot (0 = the main video m-line), else -1 */
  /* Simulcast received: the rids in the offer's order, and their header extensions. */
  uint8_t n_rids, ext_rid, ext_repaired_rid;
  char rids[SDP_MAX_LAYERS][16];
  /* Data channels (kind SDP_APPLICATION): the peer's a=sctp-port and
   * a=max-message-size (0: absent, RFC 8841's 64 KiB default applies). */
  uint16_t sctp_port;
  uint32_t max_message_size;
} sdp_choice;

typedef struct {
  sdp_choice media[SDP_MAX_MEDIA];
  size_t n_media;
  uint8_t n_slots; /* >= 2: a multistream call with that many tile slots, else 0 */
} sdp_agreement;

/* The accepted data channel m-line of an agreement, or NULL. */
const sdp_choice *sdp_agreement_data(const sdp_agreement *a);

/* A candidate's priority (RFC 8445 §5.1.2.1) for component 1. */
uint32_t sdp_candidate_priority(uint32_t type_pref, uint32_t local_pref);
/* Our host candidates' local preferences: UDP first; TCP below it as RFC 6544 §4.2
 * builds it, (2^13 * direction-pref) + other-pref, with direction-pref 4 for a passive
 * host candidate and other-pref 8191 (our only TCP candidate): 40959. */
#define SDP_LOCAL_PREF_UDP 65535
#define SDP_LOCAL_PREF_TCP_PASSIVE ((1u << 13) * 4 + 8191)
#define SDP_TYPE_PREF_HOST 126

/* Our host candidates, one per announced address (UDP at port; with tcp_port, a passive
 * ICE-TCP one each), then a=end-of-candidates: the answers' and the server offers'. */
void sdp_write_candidates(buf *out, const host_addr_list *addresses, uint16_t port,
                          uint16_t tcp_port);

/* Writes the answer into out. Returns 0, or -1 with a reason in err when nothing
 * in the offer is usable (no audio or video we can receive, no ICE or DTLS). */
int sdp_answer_write(const sdp_session *offer, const sdp_local *local, buf *out,
                     sdp_agreement *agreed, char *err, size_t errlen);

#endif
