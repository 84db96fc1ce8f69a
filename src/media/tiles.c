/* tiles — last-N order, sticky slot assignment and layer fitting (see tiles.h). */
#include "media/tiles.h"

#include <stdlib.h>

static int compare(const void *pa, const void *pb) {
  const tile_candidate *a = pa, *b = pb;
  bool pa_pin = a->spotlight > 0, pb_pin = b->spotlight > 0;
  if (pa_pin != pb_pin)
    return pa_pin ? -1 : 1;
  if (pa_pin && a->spotlight != b->spotlight)
    return a->spotlight < b->spotlight ? -1 : 1;
  if (a->spoke_ms != b->spoke_ms)
    return a->spoke_ms > b->spoke_ms ? -1 : 1; /* never (0) sorts last */
  if (a->join_seq != b->join_seq)
    return a->join_seq < b->join_seq ? -1 : 1;
  return 0;
}

void tiles_order(tile_candidate *c, size_t n) {
  if (n > 1)
    qsort(c, n, sizeof *c, compare);
}

static bool contains(const void *const *v, size_t n, const void *x) {
  for (size_t i = 0; i < n; i++)
    if (v[i] == x)
      return true;
  return false;
}

void tiles_assign(const void **slots, size_t k, const void *const *selected, size_t m) {
  if (m > k)
    m = k;
  for (size_t i = 0; i < k; i++)
    if (slots[i] && !contains(selected, m, slots[i]))
      slots[i] = NULL;
  size_t free_at = 0;
  for (size_t j = 0; j < m; j++) {
    if (contains((const void *const *)slots, k, selected[j]))
      continue;
    while (free_at < k && slots[free_at])
      free_at++;
    if (free_at == k)
      return;
    slots[free_at] = selected[j];
  }
}

static uint64_t total(const tile_layers *t, size_t k) {
  uint64_t sum = 0;
  for (size_t i = 0; i < k; i++)
    if (t[i].choice >= 0)
      sum += t[i].bps[t[i].choice];
  return sum;
}

void tiles_fit(tile_layers *t, size_t k, uint64_t budget_bps) {
  for (size_t i = 0; i < k; i++) {
    tile_layers *s = &t[i];
    s->choice = -1;
    if (!s->n || !s->hint_w)
      continue;
    s->choice = (int8_t)(s->n - 1);
    for (uint8_t l = 0; l < s->n; l++)
      if (s->height[l] >= s->hint_h) {
        s->choice = (int8_t)l;
        break;
      }
  }
  uint64_t sum = total(t, k);
  while (sum > budget_bps) {
    size_t pick = k;
    uint32_t pick_area = 0;
    for (size_t i = 0; i < k; i++) {
      uint32_t area = (uint32_t)t[i].hint_w * t[i].hint_h;
      if (t[i].choice > 0 && (pick == k || area <= pick_area))
        pick = i, pick_area = area;
    }
    if (pick == k) { /* all at their lowest: pause from the last slot */
      for (size_t i = k; i-- > 0;)
        if (t[i].choice >= 0 && t[i].pausable) {
          pick = i;
          break;
        }
      if (pick == k)
        return;
      sum -= t[pick].bps[t[pick].choice];
      t[pick].choice = -1;
      continue;
    }
    sum -= t[pick].bps[t[pick].choice] - t[pick].bps[t[pick].choice - 1];
    t[pick].choice--;
  }
}
