/* simulcast_source — three VP8 simulcast layers for load clients (simulcast_source.h). */
#include "simulcast_source.h"

#include "core/ids.h"

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
  }
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
  pkt[n++] = 0x10; /* VP8 descriptor: S=1, PID 0 */
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
