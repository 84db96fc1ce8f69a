/* simulcast_source — three VP8 simulcast layers for load clients (simulcast_source.h). */
#include "simulcast_source.h"

#include "core/ids.h"

#include <stdio.h>
#include <string.h>

const char *const simulcast_rids[LAYERS] = {"l", "m", "h"};
const int simulcast_widths[LAYERS] = {320, 640, 1280};
const int simulcast_heights[LAYERS] = {180, 360, 720};
/* Which layer each of 7 consecutive packets is on: 1:2:4. */
static const int pattern[7] = {2, 1, 2, 0, 2, 1, 2};

void simulcast_layers_init(simulcast_layers *L, int pps, int key_every) {
  *L = (simulcast_layers){.key_every = key_every};
  for (int l = 0; l < LAYERS; l++) {
    ids_random(&L->ssrc[l], sizeof L->ssrc[l]);
    /* 90 kHz over the layer's packet rate: one packet per frame. */
    L->ts_step[l] = (uint32_t)(90000.0 * 7 / (pps * (l == 0 ? 1 : l == 1 ? 2 : 4)));
    ids_random(&L->tl0[l], sizeof L->tl0[l]);
  }
  /* Chromium 156 numbers its l and m layers' pictures together and its h layer apart
   * (seen: 18145 and 24498): a switch between them must renumber. */
  ids_random(&L->pic[0], sizeof L->pic[0]);
  ids_random(&L->pic[2], sizeof L->pic[2]);
  L->pic[1] = L->pic[0];
}

/* The next packet of the 1:2:4 pattern: RTP with the one-byte header extensions mid "0"
 * and the layer's rid, then a VP8 frame start; a keyframe (frame tag, start code, the
 * layer's size: what parleyd ranks layers by) or an interframe. */
size_t simulcast_next_packet(forward_source *src, peer *pub, uint8_t *pkt, int *stream) {
  (void)pub;
  simulcast_layers *L = src->ud;
  int l = pattern[L->turn++ % 7];
  *stream = l;
  memset(pkt, 0x5a, PACKET);
  size_t n = 0;
  pkt[n++] = 0x90; /* V=2, X=1 */
  pkt[n++] = 0x80 | 96;
  pkt[n++] = (uint8_t)(L->seq[l] >> 8);
  pkt[n++] = (uint8_t)L->seq[l];
  L->seq[l]++;
  L->ts[l] += L->ts_step[l];
  for (int k = 3; k >= 0; k--)
    pkt[n++] = (uint8_t)(L->ts[l] >> (8 * k));
  for (int k = 3; k >= 0; k--)
    pkt[n++] = (uint8_t)(L->ssrc[l] >> (8 * k));
  static const uint8_t profile[4] = {0xbe, 0xde, 0x00, 0x01}; /* one word follows */
  memcpy(pkt + n, profile, 4);
  n += 4;
  pkt[n++] = EXT_MID << 4; /* one byte: "0" */
  pkt[n++] = '0';
  pkt[n++] = EXT_RID << 4;
  pkt[n++] = (uint8_t)simulcast_rids[l][0];
  /* VP8 descriptor: X, S; I L T; picture id (M: 15 bits); TL0PICIDX; TID 0. */
  uint16_t pic = L->pic[l]++ & 0x7fff;
  const uint8_t descriptor[SIMULCAST_DESCRIPTOR_LEN] = {
      0x90, 0xe0, (uint8_t)(0x80 | pic >> 8), (uint8_t)pic, L->tl0[l]++, 0x00};
  memcpy(pkt + n, descriptor, sizeof descriptor);
  n += sizeof descriptor;
  bool key = L->count[l]++ % (uint64_t)L->key_every == 0;
  if (key) {
    /* Frame tag: key frame, version 0, shown; start code; 14-bit width and height. */
    const uint8_t tag[10] = {0x10,
                             0x00,
                             0x00,
                             0x9d,
                             0x01,
                             0x2a,
                             (uint8_t)simulcast_widths[l],
                             (uint8_t)(simulcast_widths[l] >> 8),
                             (uint8_t)simulcast_heights[l],
                             (uint8_t)(simulcast_heights[l] >> 8)};
    memcpy(pkt + n, tag, sizeof tag);
  } else {
    pkt[n] = 0x11; /* frame tag: interframe, shown */
  }
  return PACKET;
}

int simulcast_publish(peer *p, int http_port, const char *alias, dtls_context *ctx) {
  if (rtc_peer_join(p, http_port, alias, "simulcast") != 0)
    return -1;
  char offer[2048];
  snprintf(offer, sizeof offer,
           "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE "
           "0\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 127.0.0.1\\r\\n"
           "a=mid:0\\r\\na=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\n"
           "a=setup:actpass\\r\\na=sendonly\\r\\na=rtcp-mux\\r\\n"
           "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\\r\\n"
           "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\\r\\n"
           "a=rtpmap:96 VP8/90000\\r\\na=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\n"
           "a=rid:l send\\r\\na=rid:m send\\r\\na=rid:h send\\r\\n"
           "a=simulcast:send l;m;h\\r\\n",
           p->ufrag, p->pwd, dtls_context_fingerprint(ctx), EXT_MID, EXT_RID);
  char *sdp = rtc_peer_call(p, http_port, alias, offer);
  if (!sdp)
    return -1;
  if (!strstr(sdp, "a=simulcast:recv"))
    return fprintf(stderr, "the answer does not accept simulcast:\n%s", sdp), -1;
  return rtc_peer_take_remote(p, sdp, NULL);
}

/* A single-video call (one m-line) shows its first slot at parleyd's default hint,
 * 1280x720; with hints a subscriber offers two video m-lines (its second slot stays
 * empty: the room has one publisher). */
int simulcast_subscribe(peer *p, int http_port, const char *alias, dtls_context *ctx,
                        int i, bool multistream) {
  char name[32];
  snprintf(name, sizeof name, "load%d", i);
  if (rtc_peer_join(p, http_port, alias, name) != 0)
    return -1;
  char offer[2048], second[256] = "";
  if (multistream)
    snprintf(second, sizeof second,
             "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 127.0.0.1\\r\\na=mid:1\\r\\n"
             "a=recvonly\\r\\na=rtcp-mux\\r\\na=rtpmap:96 VP8/90000\\r\\n"
             "a=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\n");
  snprintf(
      offer, sizeof offer,
      "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE "
      "0%s\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 127.0.0.1\\r\\n"
      "a=mid:0\\r\\na=ice-ufrag:%s\\r\\na=ice-pwd:%s\\r\\na=fingerprint:%s\\r\\n"
      "a=setup:actpass\\r\\na=recvonly\\r\\na=rtcp-mux\\r\\n"
      "a=rtpmap:96 VP8/90000\\r\\na=rtcp-fb:96 nack\\r\\na=rtcp-fb:96 nack pli\\r\\n%s",
      multistream ? " 1" : "", p->ufrag, p->pwd, dtls_context_fingerprint(ctx), second);
  char *sdp = rtc_peer_call(p, http_port, alias, offer);
  return sdp ? rtc_peer_take_remote(p, sdp, NULL) : -1;
}
