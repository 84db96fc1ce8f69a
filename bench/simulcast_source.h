/* simulcast_source — a publisher of three VP8 simulcast layers for load clients
 * (simulcast_load, pubsub_load) and tests/tools/simulcast_probe: rids l, m, h at
 * 320x180, 640x360, 1280x720, 1:2:4 of the packet rate, each on its own SSRC with the
 * mid and rid header extensions, a picture id and TL0PICIDX per frame (l and m start
 * together, h apart, as Chromium numbers them), keyframes carrying the layer's size
 * (what parleyd ranks layers by). */
#ifndef PARLEY_BENCH_SIMULCAST_SOURCE_H
#define PARLEY_BENCH_SIMULCAST_SOURCE_H

#include "forward_measure.h"

#include <stdint.h>

#define LAYERS 3
#define EXT_MID 4
#define EXT_RID 10

extern const char *const simulcast_rids[LAYERS];
extern const int simulcast_widths[LAYERS], simulcast_heights[LAYERS];

/* Where the payload starts in simulcast_next_packet's packets, and its VP8 descriptor's
 * length: X, then I L T, a 15-bit picture id, TL0PICIDX, TID. */
#define SIMULCAST_PAYLOAD_AT 20
#define SIMULCAST_DESCRIPTOR_LEN 6

typedef struct {
  uint32_t ssrc[LAYERS], ts[LAYERS], ts_step[LAYERS];
  uint16_t seq[LAYERS];
  uint16_t pic[LAYERS]; /* one frame per packet: each packet is the next picture */
  uint8_t tl0[LAYERS];
  uint64_t count[LAYERS];
  int key_every; /* every how many of a layer's packets is a keyframe */
  unsigned turn;
} simulcast_layers;

/* Random SSRCs, and timestamps stepping one frame per packet at pps over all layers. */
void simulcast_layers_init(simulcast_layers *L, int pps, int key_every);
/* forward_source.next with src->ud a simulcast_layers: the next packet of the pattern. */
size_t simulcast_next_packet(forward_source *src, peer *pub, uint8_t *pkt, int *stream);

/* Joins alias as "simulcast" and calls with a sendonly VP8 offer of the three rids; 0, or
 * -1 with a message on stderr. */
int simulcast_publish(peer *p, int http_port, const char *alias, dtls_context *ctx);
/* A receive-only subscriber "load<i>": one video m-line, or with multistream two (tile
 * hints are for multistream calls only). 0 or -1. */
int simulcast_subscribe(peer *p, int http_port, const char *alias, dtls_context *ctx,
                        int i, bool multistream);

#endif
