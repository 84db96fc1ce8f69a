/* srv_order — RFC 2782 target ordering for DNS SRV answers: lowest priority first, and
 * within one priority a weighted random pick, one record at a time. Pure: the random
 * numbers come from a caller-seeded generator, so tests are deterministic. */
#ifndef PARLEY_CLIENT_SRV_ORDER_H
#define PARLEY_CLIENT_SRV_ORDER_H

#include <stddef.h>
#include <stdint.h>

#define SRV_HOST_MAX 256 /* a DNS name is at most 253 characters */

typedef struct {
  char host[SRV_HOST_MAX];
  uint16_t priority, weight, port;
} srv_target;

/* splitmix64: the next number of the generator whose state is *state. */
uint64_t srv_rng_next(uint64_t *state);

/* Orders t[0..n) in place as RFC 2782 says a client tries them: by priority ascending;
 * within a priority, records of weight 0 are placed first, then repeatedly a number r
 * is drawn uniformly in [0, sum of the remaining weights] and the first remaining record
 * whose running weight sum is >= r is taken next. */
void srv_order(srv_target *t, size_t n, uint64_t *rng);

#endif
