/* audio_peer — a browser-like conference audio participant for load clients: joins a room
 * with one Opus sendrecv m-line carrying RFC 6464 audio levels, on rtc_peer's transport.
 */
#ifndef PARLEY_BENCH_AUDIO_PEER_H
#define PARLEY_BENCH_AUDIO_PEER_H

#include "rtc_peer.h"

#define AUDIO_PEER_PT 111
#define AUDIO_PEER_SILENT 127 /* RFC 6464: -127 dBov, what Chrome sends when quiet */

typedef struct {
  peer rtc;
  uint8_t level_id;      /* the audio-level extension id the answer kept, or 0 */
  uint8_t answer_pt;     /* the Opus payload type the server will send */
  uint32_t ts;           /* our next RTP timestamp */
  uint64_t rx_audio;     /* decrypted Opus packets of the server's mix */
  uint64_t rx_other;     /* RTCP, STUN replies, anything else */
  uint64_t rx_bad;       /* RTP that failed SRTP or had another payload type */
  uint64_t window_audio; /* rx_audio when the measured window opened */
} audio_peer;

/* request_token, then a call with an Opus sendrecv offer (SSRC and audio-level
 * extmap signalled); reads the answer's ICE, DTLS, candidate and extension id.
 * 0 or -1 (with a message on stderr). */
int audio_peer_negotiate(audio_peer *a, int http_port, const char *alias,
                         dtls_context *ctx, int i);
/* One RTP packet of opus with the audio-level extension (level 0..127, voice flag),
 * timestamp advanced by 960 (20 ms at 48 kHz). Returns its length (unprotected). */
size_t audio_peer_packet(audio_peer *a, uint8_t *pkt, const uint8_t *opus, size_t len,
                         int level, bool voice);
/* A consent-freshness Binding request on the selected pair (RFC 7675), as browsers
 * send every few seconds. */
void audio_peer_send_consent(audio_peer *a);

#endif
