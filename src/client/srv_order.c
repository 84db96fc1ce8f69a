/* srv_order — RFC 2782's ordering of SRV targets (priority, then weighted random). */
#include "client/srv_order.h"

#include <string.h>

uint64_t srv_rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void swap(srv_target *a, srv_target *b) {
  if (a == b)
    return;
  srv_target tmp;
  memcpy(&tmp, a, sizeof tmp);
  memcpy(a, b, sizeof tmp);
  memcpy(b, &tmp, sizeof tmp);
}

/* Stable insertion sort by priority (n is a handful of records). */
static void sort_by_priority(srv_target *t, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && t[j - 1].priority > t[j].priority; j--)
      swap(&t[j - 1], &t[j]);
}

/* Zero-weight records to the front of t[0..n), keeping their relative order. */
static void zeros_first(srv_target *t, size_t n) {
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && t[j].weight == 0 && t[j - 1].weight != 0; j--)
      swap(&t[j - 1], &t[j]);
}

static void order_one_priority(srv_target *t, size_t n, uint64_t *rng) {
  zeros_first(t, n);
  for (size_t done = 0; done + 1 < n; done++) {
    uint64_t sum = 0;
    for (size_t i = done; i < n; i++)
      sum += t[i].weight;
    uint64_t r = srv_rng_next(rng) % (sum + 1);
    uint64_t running = 0;
    size_t pick = done;
    for (size_t i = done; i < n; i++) {
      running += t[i].weight;
      if (running >= r) {
        pick = i;
        break;
      }
    }
    /* Moving the pick to the front keeps the rest in order: shift, do not swap, so
     * that zero-weight records stay at the front of what remains. */
    srv_target chosen;
    memcpy(&chosen, &t[pick], sizeof chosen);
    memmove(&t[done + 1], &t[done], (pick - done) * sizeof *t);
    memcpy(&t[done], &chosen, sizeof chosen);
  }
}

void srv_order(srv_target *t, size_t n, uint64_t *rng) {
  sort_by_priority(t, n);
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && t[end].priority == t[start].priority)
      end++;
    order_one_priority(t + start, end - start, rng);
    start = end;
  }
}
