/* simulcast_source — a publisher of three VP8 simulcast layers for load clients
 * (simulcast_load, pubsub_load): rids l, m, h at 320x180, 640x360, 1280x720, 1:2:4 of the
 * packet rate, each on its own SSRC with the mid and rid header extensions, keyframes
 * carrying the layer's size (what parleyd ranks layers by). */
#ifndef PARLEY_BENCH_SIMULCAST_SOURCE_H
#define PARLEY_BENCH_SIMULCAST_SOURCE_H

#include "forward_measure.h"

#include <stdint.h>

#define LAYERS 3
#define EXT_MID 4
#define EXT_RID 10

extern const char *const simulcast_rids[LAYERS];
extern const int simulcast_widths[LAYERS], simulcast_heights[LAYERS];

typedef struct {
  uint32_t ssrc[LAYERS], ts[LAYERS], ts_step[LAYERS];
  uint16_t seq[LAYERS];
  uint64_t count[LAYERS];
  int key_every; /* every how many of a layer's packets is a keyframe */
  unsigned turn;
} simulcast_layers;

/* Random SSRCs, and timestamps stepping one frame per packet at pps over all layers. */
void simulcast_layers_init(simulcast_layers *L, int pps, int key_every);
/* forward_source.next with src->ud a simulcast_layers: the next packet of the pattern. */
size_t simulcast_next_packet(forward_source *src, peer *pub, uint8_t *pkt, int *stream);

#endif
