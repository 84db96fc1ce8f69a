/* lat — latency samples in nanoseconds, sorted for percentiles in milliseconds. */
#include "lat.h"

#include <stdlib.h>

void lat_add(lat *l, uint64_t ns) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 65536;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

void lat_sort(lat *l) { qsort(l->v, l->n, sizeof *l->v, cmp_u64); }

double lat_pct_ms(const lat *l, double p) {
  if (l->n == 0)
    return 0;
  size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
  return (double)l->v[i] / 1e6;
}
