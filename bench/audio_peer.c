/* audio_peer — an Opus participant with RFC 6464 levels for the mixing benchmark. The
 * HTTP join and call are rtc_peer's, with an audio offer instead of VP8. */
#include "audio_peer.h"

#include "core/ids.h"
#include "rtc/rtp.h"
#include "rtc/sdp.h"
#include "rtc/stun.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define OFFERED_LEVEL_ID 1

/* What Chrome offers for a microphone, less what the server would ignore. */
static void write_offer(const audio_peer *a, dtls_context *ctx, char *out, size_t cap) {
  snprintf(out, cap,
           "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
           "a=group:BUNDLE 0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF %d\\r\\n"
           "c=IN IP4 127.0.0.1\\r\\na=mid:0\\r\\na=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\n"
           "a=fingerprint:%s\\r\\na=setup:actpass\\r\\na=sendrecv\\r\\na=rtcp-mux\\r\\n"
           "a=rtpmap:%d opus/48000/2\\r\\na=fmtp:%d minptime=10;useinbandfec=1\\r\\n"
           "a=extmap:%d %s\\r\\na=ssrc:%u cname:load\\r\\n",
           AUDIO_PEER_PT, a->rtc.ufrag, a->rtc.pwd, dtls_context_fingerprint(ctx),
           AUDIO_PEER_PT, AUDIO_PEER_PT, OFFERED_LEVEL_ID, URI_AUDIO_LEVEL, a->rtc.ssrc);
}

/* The server's ICE, DTLS and candidate, and what it kept of our offer. */
static int read_answer(audio_peer *a, const char *sdp) {
  const sdp_media *m;
  if (rtc_peer_take_remote(&a->rtc, sdp, &m) != 0)
    return -1;
  if (m->port == 0 || m->n_payloads == 0)
    return fprintf(stderr, "the server rejected the audio m-line\n"), -1;
  a->answer_pt = m->payload_order[0];
  a->level_id = sdp_extmap_id(m, URI_AUDIO_LEVEL);
  return 0;
}

int audio_peer_negotiate(audio_peer *a, int http_port, const char *alias,
                         dtls_context *ctx, int i) {
  char name[32], offer[2048];
  snprintf(name, sizeof name, "mix%d", i);
  if (rtc_peer_join(&a->rtc, http_port, alias, name) != 0)
    return -1;
  ids_random(&a->rtc.seq, sizeof a->rtc.seq);
  ids_random(&a->ts, sizeof a->ts);
  write_offer(a, ctx, offer, sizeof offer);
  char *sdp = rtc_peer_call(&a->rtc, http_port, alias, offer);
  return sdp ? read_answer(a, sdp) : -1;
}

size_t audio_peer_packet(audio_peer *a, uint8_t *pkt, const uint8_t *opus, size_t len,
                         int level, bool voice) {
  peer *p = &a->rtc;
  size_t n = rtp_write_header(pkt, AUDIO_PEER_PT, false, p->seq++, a->ts, p->ssrc);
  a->ts += 960;
  if (a->level_id) {
    /* RFC 8285 one-byte header: one element (id, length 1) and two bytes of padding. */
    pkt[0] |= 0x10;
    static const uint8_t profile[4] = {0xbe, 0xde, 0x00, 0x01};
    memcpy(pkt + n, profile, 4);
    pkt[n + 4] = (uint8_t)(a->level_id << 4);
    pkt[n + 5] = (uint8_t)((voice ? 0x80 : 0) | (level & 0x7f));
    pkt[n + 6] = pkt[n + 7] = 0;
    n += 8;
  }
  memcpy(pkt + n, opus, len);
  return n + len;
}

void audio_peer_send_consent(audio_peer *a) {
  peer *p = &a->rtc;
  char username[300];
  snprintf(username, sizeof username, "%s:%s", p->server_ufrag, p->ufrag);
  uint8_t tid[STUN_TID_LEN], buf[512];
  ids_random(tid, sizeof tid);
  size_t n = stun_build_binding_request(buf, sizeof buf, tid, username, 0x6e0001ff, 42,
                                        false, p->server_pwd, strlen(p->server_pwd));
  sendto(p->fd, buf, n, 0, (struct sockaddr *)&p->server, sizeof p->server);
}
