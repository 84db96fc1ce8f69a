/* tiles — the decisions behind a multistream call's tile slots, as pure functions:
 * last-N order of the sources, sticky slot assignment, and the simulcast layer each
 * slot gets from its tile size and the downlink budget. conference.c applies them. */
#ifndef PARLEY_TILES_H
#define PARLEY_TILES_H

#include "rtc/sdp_answer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A source a receiver could see. */
typedef struct {
  const void *id;
  double spotlight;  /* > 0: pinned, the earliest pin first */
  uint64_t spoke_ms; /* when it last became the speaker; 0 = never */
  uint64_t join_seq; /* join order */
} tile_candidate;

/* Last-N order: spotlighted first (earliest pin first), then by the most recent time
 * each became the speaker, then those who never spoke in join order. */
void tiles_order(tile_candidate *c, size_t n);

/* Sticky assignment. slots[0..k) holds each slot's source (NULL: free); selected[0..m)
 * are the sources to show, best first (m <= k is used; more are ignored). A source
 * still selected keeps its slot; a slot whose source is not selected is freed; the
 * newly selected fill free slots in slot order, best first. */
void tiles_assign(const void **slots, size_t k, const void *const *selected, size_t m);

/* One slot's layer choice. In: its usable layers smallest first (n 0: nothing usable),
 * their heights and measured bitrates, the slot's hinted size (width 0: not shown) and
 * whether the budget may pause it. Out: choice, an index into those layers, or -1 for
 * paused. */
typedef struct {
  uint8_t n;
  uint16_t height[SDP_MAX_LAYERS];
  uint32_t bps[SDP_MAX_LAYERS];
  uint16_t hint_w, hint_h;
  bool pausable;
  int8_t choice;
} tile_layers;

/* Each slot gets the smallest layer at least as tall as its hint (else the largest);
 * while the sum of their bitrates exceeds budget_bps, the smallest tile (by hinted
 * area; the later slot on a tie) goes one layer down; when every slot is at its lowest
 * and it still does not fit, pausable slots are paused from the last one. */
void tiles_fit(tile_layers *t, size_t k, uint64_t budget_bps);

#endif
