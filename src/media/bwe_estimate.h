/* bwe_estimate — the downlink estimate toward a subscriber (transport-cc, issue 13 §3).
 * Placeholder: replaced by the bwe helper's implementation at integration. */
#ifndef PARLEY_BWE_ESTIMATE_H
#define PARLEY_BWE_ESTIMATE_H

#include <stdint.h>

struct media_session;

/* Bits per second we may send to s; 0 = no estimate yet (callers assume 2.5 Mbit/s).
 * Replaced by the bwe helper's implementation at integration. */
static inline uint64_t session_send_estimate_bps(const struct media_session *s) {
  (void)s;
  return 0;
}

#endif
