/* lat — latency samples in nanoseconds, sorted for percentiles in milliseconds. */
#ifndef PARLEY_BENCH_LAT_H
#define PARLEY_BENCH_LAT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t *v;
  size_t n, cap;
} lat;

void lat_add(lat *l, uint64_t ns);
void lat_sort(lat *l);
/* The p-th percentile (0..1) of sorted samples in ms; 0 when there are none. */
double lat_pct_ms(const lat *l, double p);

#endif
