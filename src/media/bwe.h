/* bwe — a send-side bandwidth estimate in the spirit of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02, libwebrtc's goog_cc): from the peer's transport-wide
 * feedback, inter-group delay variation -> trendline filter -> over-use detector with an
 * adaptive threshold -> AIMD rate control, combined with a loss-based rule, plus the
 * decision when to probe with padding. Pure: time comes from the caller, no I/O. */
#ifndef PARLEY_BWE_H
#define PARLEY_BWE_H

#include "rtc/twcc.h"

#include <stdbool.h>
#include <stdint.h>

#define BWE_START_BPS 2500000ULL /* the contract's "no estimate yet" figure */
#define BWE_MIN_BPS 50000ULL
#define BWE_MAX_BPS 20000000ULL
/* Probing stops once the estimate reaches this: enough for a grid of tiles. */
#define BWE_PROBE_CEILING_BPS 4000000ULL
#define BWE_TRENDLINE_WINDOW 20
#define BWE_RATE_BUCKETS 20 /* 50 ms each: one second of received bytes */

typedef enum { BWE_NORMAL, BWE_OVERUSE, BWE_UNDERUSE } bwe_signal;

typedef struct {
  uint64_t estimate_bps; /* 0 until the first feedback */
  /* packet groups (sent within 5 ms of the group's first packet) */
  bool have_group, have_prev;
  int64_t group_first_send, group_last_send, group_last_recv;
  int64_t prev_last_send, prev_last_recv;
  /* trendline filter */
  int num_deltas;
  double acc_delay_ms, smoothed_ms;
  double hist_x[BWE_TRENDLINE_WINDOW], hist_y[BWE_TRENDLINE_WINDOW];
  int hist_n, hist_head;
  bool have_first_arrival;
  int64_t first_arrival_ms;
  double trend, prev_trend, modified_trend;
  /* over-use detector */
  double threshold;
  int64_t threshold_updated_ms; /* -1: never */
  double time_over_using;       /* -1: not over-using */
  int overuse_count;
  bwe_signal signal;
  /* AIMD */
  bool increasing;
  uint64_t last_change_ms, last_decrease_ms;
  double avg_max_bps; /* received rate at decreases; <= 0: unknown */
  /* received rate (the peer's clock) */
  uint64_t bucket_bytes[BWE_RATE_BUCKETS];
  int64_t bucket_now; /* index of the newest bucket, -1 before any */
  /* loss */
  uint32_t window_lost, window_total;
  uint64_t window_start_ms, last_loss_decrease_ms;
  double loss_ratio;
  /* probing */
  uint64_t probe_until_ms, next_probe_ms, probe_interval_ms, probe_start_bps;
  uint64_t probe_target_bps;
  uint64_t probes; /* started, for statistics */
} bwe;

void bwe_init(bwe *b);
/* The peer's feedback on what we sent, matched (twcc_send_on_feedback), in seq order;
 * now_ms is our clock. Updates the estimate. */
void bwe_on_results(bwe *b, const twcc_result *r, size_t n, uint64_t now_ms);
/* 0 until the first feedback. */
uint64_t bwe_estimate_bps(const bwe *b);
/* What the peer received over the last half second, in bit/s. */
uint64_t bwe_received_bps(const bwe *b);
bwe_signal bwe_get_signal(const bwe *b);
double bwe_loss_ratio(const bwe *b);
/* The total rate to send at now, padding included, while a probe runs; 0 otherwise.
 * A probe (twice the estimate, up to BWE_PROBE_CEILING_BPS, for 500 ms) starts when
 * the estimate is below the ceiling, the path is neither over-used nor lossy, and the
 * last probe is long enough ago (1.5 s after one that raised the estimate, backing off
 * to 5 s after ones that did not); over-use or loss ends it early. */
uint64_t bwe_probe_rate(bwe *b, uint64_t now_ms);
/* The sender now wants more than before (a tile drawn larger, a layer back) and
 * wanted_bps is above the estimate: the back-off ends and the next probe may start at
 * once, so the estimate climbs to it in a probe or two (1.5 s apart) instead of waiting
 * out gaps of up to 5 s left by probes that a busy moment spoiled. libwebrtc's probe
 * controller probes on a rise of the allocated bitrate the same way. */
void bwe_probe_soon(bwe *b, uint64_t wanted_bps, uint64_t now_ms);

#endif
