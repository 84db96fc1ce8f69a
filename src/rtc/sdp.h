/* sdp — the SDP offers browsers send (Chrome, Firefox, Safari) parsed into a fixed-size
 * structure (RFC 8866, RFC 8829): bundle, ICE, DTLS, codecs, extensions, SSRCs. */
#ifndef PARLEY_SDP_H
#define PARLEY_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 16
#define SDP_MAX_CODECS 48
#define SDP_MAX_EXTMAPS 20
#define SDP_MAX_SSRCS 8
#define SDP_MAX_CANDIDATES 16
#define SDP_MAX_RIDS 4
#define SDP_MAX_TEXT (256 * 1024) /* larger offers are refused */

typedef enum { SDP_AUDIO, SDP_VIDEO, SDP_APPLICATION, SDP_OTHER } sdp_kind;
typedef enum { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE } sdp_direction;

enum { /* rtcp-fb a codec accepts */
       SDP_FB_NACK = 1 << 0,
       SDP_FB_NACK_PLI = 1 << 1,
       SDP_FB_CCM_FIR = 1 << 2,
       SDP_FB_GOOG_REMB = 1 << 3,
       SDP_FB_TRANSPORT_CC = 1 << 4,
};

typedef struct {
  uint8_t pt;
  char name[24]; /* encoding name as written: opus, VP8, H264, rtx, ... */
  uint32_t clock_rate;
  uint8_t channels;
  char fmtp[256];
  unsigned feedback; /* SDP_FB_* */
  int rtx_for;       /* for rtx: the payload type it repairs (apt), else -1 */
} sdp_codec;

typedef struct {
  uint8_t id;
  char uri[128];
} sdp_extmap;

typedef struct {
  uint32_t ssrc;
  char cname[64];
} sdp_ssrc;

typedef struct {
  sdp_kind kind;
  char kind_name[16];
  uint16_t port;
  char proto[32];
  char mid[32];
  sdp_direction direction;
  bool rtcp_mux, rtcp_rsize, end_of_candidates;
  bool bundle_only; /* a=bundle-only: port 0 means "only if bundled" (RFC 9143 §7.2) */
  bool bundled;     /* its mid is in the a=group:BUNDLE list */
  char ice_ufrag[257], ice_pwd[257];
  char fingerprint_alg[16], fingerprint[200];
  char setup[16];   /* actpass, active, passive */
  char content[16]; /* a=content: main or slides; "" when absent */
  char msid[160];
  uint32_t bandwidth_as, bandwidth_tias; /* b=AS (kbps), b=TIAS (bps); 0 if absent */
  uint8_t payload_order[SDP_MAX_CODECS]; /* payload types as listed on the m= line */
  size_t n_payloads;
  sdp_codec codecs[SDP_MAX_CODECS];
  size_t n_codecs;
  sdp_extmap extmaps[SDP_MAX_EXTMAPS];
  size_t n_extmaps;
  sdp_ssrc ssrcs[SDP_MAX_SSRCS];
  size_t n_ssrcs;
  uint32_t fid_primary, fid_repair; /* a=ssrc-group:FID */
  char rids[SDP_MAX_RIDS][16];      /* a=rid:<id> send */
  size_t n_rids;
  char simulcast[128]; /* a=simulcast value, kept as written */
  char candidates[SDP_MAX_CANDIDATES][256];
  size_t n_candidates;
  uint16_t sctp_port;        /* a=sctp-port (RFC 8841), 0 if absent */
  uint32_t max_message_size; /* a=max-message-size, 0 if absent */
  bool datachannel;          /* m=application ... webrtc-datachannel */
} sdp_media;

typedef struct {
  char bundle[SDP_MAX_MEDIA][32]; /* a=group:BUNDLE mids */
  size_t n_bundle;
  char ice_ufrag[257], ice_pwd[257]; /* session-level, if given there */
  char fingerprint_alg[16], fingerprint[200];
  char setup[16];
  bool ice_lite;
  sdp_media media[SDP_MAX_MEDIA];
  size_t n_media;
} sdp_session;

/* Parses an SDP text. Returns 0, or -1 with a reason clients can be shown in err
 * (unusable SDP is answered with 400 and that reason). Session-level ICE and DTLS
 * attributes are copied into every media section that lacks its own, and so are the
 * BUNDLE-tagged (first) m-line's ICE, DTLS and rtcp-mux into every bundled m-line that
 * lacks them (RFC 9143 §7.1.3: bundle-only m-lines carry none of their own). */
int sdp_parse(const char *text, size_t len, sdp_session *out, char *err, size_t errlen);

/* The codec with payload type pt in m, or NULL. */
const sdp_codec *sdp_codec_by_pt(const sdp_media *m, uint8_t pt);
/* The id of the header extension uri in m, or 0 if not offered. */
uint8_t sdp_extmap_id(const sdp_media *m, const char *uri);
/* Value of key in an fmtp string ("a=1;b=2"), copied into out; false if absent. */
bool sdp_fmtp_get(const char *fmtp, const char *key, char *out, size_t outlen);

#endif
