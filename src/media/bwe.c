/* bwe — GCC-style delay- and loss-based estimate from transport-wide feedback, and the
 * probe schedule. Constants are libwebrtc's (trendline, detector, AIMD) unless said. */
#include "media/bwe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_US 5000            /* packets sent within 5 ms are one group */
#define SMOOTHING 0.9            /* trendline: exponential smoothing of the delay */
#define TRENDLINE_GAIN 4.0       /* threshold gain */
#define OVERUSE_TIME_MS 10.0     /* over the threshold this long is over-use */
#define K_UP 0.0087              /* adaptive threshold: rising */
#define K_DOWN 0.039             /* ... falling */
#define BETA 0.85                /* a decrease takes the received rate times this */
#define DECREASE_GAP_MS 200      /* one decrease per this (about a round trip) */
#define LOSS_DECREASE_GAP_MS 300 /* the loss rule acts at most this often */
#define BUCKET_US 50000          /* received-rate buckets */
#define RATE_WINDOW_BUCKETS 10   /* the received rate is over 500 ms */
/* A decrease starts from what arrived over the last 200 ms: over 500 ms the rate still
 * held what came before a link narrowed, so a 1.5 Mbit/s stream cut to 400 kbit/s took
 * three decreases (~1.5 s) to get under it and the video froze meanwhile. */
#define RECENT_WINDOW_BUCKETS 4
#define PROBE_MS 500          /* a probe lasts this long */
#define PROBE_GAP_MIN_MS 1500 /* after a probe that raised the estimate */
#define PROBE_GAP_MAX_MS 5000 /* backing off after ones that did not */
#define MAX_DELTA_US 3000000  /* a larger jump is a clock step, not a queue */

void bwe_init(bwe *b) {
  memset(b, 0, sizeof *b);
  b->threshold = 12.5;
  b->threshold_updated_ms = -1;
  b->time_over_using = -1;
  b->bucket_now = -1;
  b->probe_interval_ms = PROBE_GAP_MIN_MS;
}

uint64_t bwe_estimate_bps(const bwe *b) { return b->estimate_bps; }
bwe_signal bwe_get_signal(const bwe *b) { return b->signal; }
double bwe_loss_ratio(const bwe *b) { return b->loss_ratio; }

/* ---- received rate ---- */

static void add_received(bwe *b, int64_t recv_us, uint16_t size) {
  int64_t idx = recv_us / BUCKET_US;
  if (b->bucket_now < 0 || idx - b->bucket_now >= BWE_RATE_BUCKETS) {
    memset(b->bucket_bytes, 0, sizeof b->bucket_bytes);
    b->bucket_now = idx;
  }
  while (b->bucket_now < idx)
    b->bucket_bytes[(uint64_t)++b->bucket_now % BWE_RATE_BUCKETS] = 0;
  if (b->bucket_now - idx >= BWE_RATE_BUCKETS)
    return; /* older than the window */
  b->bucket_bytes[(uint64_t)idx % BWE_RATE_BUCKETS] += size;
}

static uint64_t received_over(const bwe *b, int64_t buckets) {
  if (b->bucket_now < 0)
    return 0;
  /* The newest bucket is still filling: the ones before it. */
  uint64_t bytes = 0;
  for (int64_t i = 1; i <= buckets; i++)
    bytes += b->bucket_bytes[(uint64_t)(b->bucket_now - i) % BWE_RATE_BUCKETS];
  return bytes * 8 * 1000000 / (uint64_t)(buckets * BUCKET_US);
}

uint64_t bwe_received_bps(const bwe *b) { return received_over(b, RATE_WINDOW_BUCKETS); }

/* ---- trendline filter and over-use detector ---- */

static double linear_fit_slope(const bwe *b) {
  double sx = 0, sy = 0;
  for (int i = 0; i < b->hist_n; i++)
    sx += b->hist_x[i], sy += b->hist_y[i];
  double mx = sx / b->hist_n, my = sy / b->hist_n, num = 0, den = 0;
  for (int i = 0; i < b->hist_n; i++) {
    num += (b->hist_x[i] - mx) * (b->hist_y[i] - my);
    den += (b->hist_x[i] - mx) * (b->hist_x[i] - mx);
  }
  return den == 0 ? b->trend : num / den;
}

static void update_threshold(bwe *b, double modified, int64_t now_ms) {
  if (b->threshold_updated_ms < 0)
    b->threshold_updated_ms = now_ms;
  double m = fabs(modified);
  if (m > b->threshold + 15) { /* a spike: do not let it drag the threshold */
    b->threshold_updated_ms = now_ms;
    return;
  }
  double k = m < b->threshold ? K_DOWN : K_UP;
  int64_t dt = now_ms - b->threshold_updated_ms;
  dt = dt < 0 ? 0 : dt > 100 ? 100 : dt;
  b->threshold += k * (m - b->threshold) * (double)dt;
  b->threshold = b->threshold < 6 ? 6 : b->threshold > 600 ? 600 : b->threshold;
  b->threshold_updated_ms = now_ms;
}

static void detect(bwe *b, double send_delta_ms, int64_t arrival_ms) {
  if (b->num_deltas < 2) {
    b->signal = BWE_NORMAL;
    return;
  }
  int n = b->num_deltas < 60 ? b->num_deltas : 60;
  double modified = n * b->trend * TRENDLINE_GAIN;
  b->modified_trend = modified;
  if (modified > b->threshold) {
    if (b->time_over_using < 0)
      b->time_over_using = send_delta_ms / 2;
    else
      b->time_over_using += send_delta_ms;
    b->overuse_count++;
    if (b->time_over_using > OVERUSE_TIME_MS && b->overuse_count > 1 &&
        b->trend >= b->prev_trend) {
      b->time_over_using = 0;
      b->overuse_count = 0;
      b->signal = BWE_OVERUSE;
    }
  } else if (modified < -b->threshold) {
    b->time_over_using = -1;
    b->overuse_count = 0;
    b->signal = BWE_UNDERUSE;
  } else {
    b->time_over_using = -1;
    b->overuse_count = 0;
    b->signal = BWE_NORMAL;
  }
  b->prev_trend = b->trend;
  update_threshold(b, modified, arrival_ms);
}

/* One group's delay variation: how much later than it was sent it arrived, compared
 * with the group before. */
static void on_delta(bwe *b, double delay_ms, int64_t arrival_ms, double send_delta_ms) {
  if (b->num_deltas < 1000)
    b->num_deltas++;
  if (!b->have_first_arrival) {
    b->have_first_arrival = true;
    b->first_arrival_ms = arrival_ms;
  }
  b->acc_delay_ms += delay_ms;
  b->smoothed_ms = SMOOTHING * b->smoothed_ms + (1 - SMOOTHING) * b->acc_delay_ms;
  int at;
  if (b->hist_n < BWE_TRENDLINE_WINDOW) {
    at = b->hist_n++;
  } else {
    at = b->hist_head;
    b->hist_head = (b->hist_head + 1) % BWE_TRENDLINE_WINDOW;
  }
  b->hist_x[at] = (double)(arrival_ms - b->first_arrival_ms);
  b->hist_y[at] = b->smoothed_ms;
  if (b->hist_n == BWE_TRENDLINE_WINDOW)
    b->trend = linear_fit_slope(b);
  detect(b, send_delta_ms, arrival_ms);
}

static void start_group(bwe *b, const twcc_result *r) {
  b->have_group = true;
  b->group_first_send = b->group_last_send = r->send_us;
  b->group_last_recv = r->recv_us;
}

static void on_received(bwe *b, const twcc_result *r) {
  if (!b->have_group)
    return start_group(b, r);
  if (r->send_us < b->group_first_send)
    return; /* sent before this group (reordered feedback): ignored */
  if (r->send_us - b->group_first_send <= GROUP_US) {
    b->group_last_send = r->send_us;
    if (r->recv_us > b->group_last_recv)
      b->group_last_recv = r->recv_us;
    return;
  }
  if (b->have_prev) {
    int64_t send_delta = b->group_last_send - b->prev_last_send;
    int64_t recv_delta = b->group_last_recv - b->prev_last_recv;
    if (recv_delta >= 0 && llabs(recv_delta - send_delta) < MAX_DELTA_US)
      on_delta(b, (double)(recv_delta - send_delta) / 1000.0, b->group_last_recv / 1000,
               (double)send_delta / 1000.0);
  }
  b->have_prev = true;
  b->prev_last_send = b->group_last_send;
  b->prev_last_recv = b->group_last_recv;
  start_group(b, r);
}

/* ---- rate control ---- */

static uint64_t clamp_rate(double bps) {
  if (bps < (double)BWE_MIN_BPS)
    return BWE_MIN_BPS;
  if (bps > (double)BWE_MAX_BPS)
    return BWE_MAX_BPS;
  return (uint64_t)bps;
}

static void aimd(bwe *b, uint64_t now_ms) {
  double received = (double)bwe_received_bps(b);
  double est = (double)b->estimate_bps;
  if (b->avg_max_bps > 0 && received > 1.5 * b->avg_max_bps)
    b->avg_max_bps = 0; /* the path got wider: no longer near its old limit */
  switch (b->signal) {
  case BWE_OVERUSE:
    b->increasing = false;
    if (now_ms - b->last_decrease_ms < DECREASE_GAP_MS && b->last_decrease_ms)
      return;
    double recent = (double)received_over(b, RECENT_WINDOW_BUCKETS);
    double target = BETA * (recent > 0 ? recent : est);
    if (target < est)
      b->estimate_bps = clamp_rate(target);
    b->avg_max_bps =
        b->avg_max_bps > 0 ? 0.95 * b->avg_max_bps + 0.05 * received : received;
    b->last_decrease_ms = now_ms;
    return;
  case BWE_UNDERUSE: /* a queue drains: hold until it is empty */
    b->increasing = false;
    return;
  case BWE_NORMAL:
    break;
  }
  if (!b->increasing) {
    b->increasing = true;
    b->last_change_ms = now_ms;
    return;
  }
  if (b->loss_ratio >= 0.02)
    return; /* some loss: the loss rule holds the rate */
  double dt = (double)(now_ms - b->last_change_ms) / 1000.0;
  dt = dt > 1 ? 1 : dt;
  b->last_change_ms = now_ms;
  bool near_max =
      b->avg_max_bps > 0 && fabs(est - b->avg_max_bps) < 0.15 * b->avg_max_bps;
  /* Near the last limit: about a packet per round trip (~1,200 B per 200 ms); far from
   * it: 8 % a second. */
  double next = near_max ? est + 48000.0 * dt : est * pow(1.08, dt);
  /* What the peer did receive, without a queue growing, the path carries. */
  if (received > next)
    next = received;
  /* Never far above what is actually sent (received): an idle path proves nothing. */
  double cap = 1.5 * received + 10000;
  if (next > cap)
    next = cap > est ? cap : est;
  b->estimate_bps = clamp_rate(next);
}

/* GCC's loss rule: over 10 % lost, down by half the loss (from what was received);
 * between 2 and 10 %, hold; below, the delay-based side decides. */
static void loss_rule(bwe *b, uint64_t now_ms) {
  if (b->window_total < 20 && now_ms - b->window_start_ms < 1000)
    return;
  if (b->window_total)
    b->loss_ratio = (double)b->window_lost / b->window_total;
  b->window_lost = b->window_total = 0;
  b->window_start_ms = now_ms;
  if (b->loss_ratio <= 0.1 || now_ms - b->last_loss_decrease_ms < LOSS_DECREASE_GAP_MS)
    return;
  double received = (double)received_over(b, RECENT_WINDOW_BUCKETS);
  double base = received > 0 && received < (double)b->estimate_bps
                    ? received
                    : (double)b->estimate_bps;
  b->estimate_bps = clamp_rate(base * (1 - 0.5 * b->loss_ratio));
  b->last_loss_decrease_ms = now_ms;
  b->increasing = false;
}

void bwe_on_results(bwe *b, const twcc_result *r, size_t n, uint64_t now_ms) {
  if (!n)
    return;
  if (!b->estimate_bps) {
    b->estimate_bps = BWE_START_BPS;
    b->window_start_ms = now_ms;
  }
  for (size_t i = 0; i < n; i++) {
    b->window_total++;
    if (r[i].recv_us < 0) {
      b->window_lost++;
      continue;
    }
    add_received(b, r[i].recv_us, r[i].size);
    on_received(b, &r[i]);
  }
  aimd(b, now_ms);
  loss_rule(b, now_ms);
}

/* ---- probing ---- */

uint64_t bwe_probe_rate(bwe *b, uint64_t now_ms) {
  if (b->probe_until_ms) {
    bool spoiled = b->signal == BWE_OVERUSE || b->loss_ratio > 0.1;
    if (now_ms < b->probe_until_ms && !spoiled)
      return b->probe_target_bps;
    bool raised = !spoiled && b->estimate_bps >= b->probe_start_bps * 5 / 4;
    b->probe_interval_ms =
        raised ? PROBE_GAP_MIN_MS
               : (b->probe_interval_ms * 2 > PROBE_GAP_MAX_MS ? PROBE_GAP_MAX_MS
                                                              : b->probe_interval_ms * 2);
    b->next_probe_ms = now_ms + b->probe_interval_ms;
    b->probe_until_ms = 0;
    return 0;
  }
  if (!b->estimate_bps || b->estimate_bps >= BWE_PROBE_CEILING_BPS ||
      now_ms < b->next_probe_ms || b->signal != BWE_NORMAL || b->loss_ratio >= 0.02)
    return 0;
  b->probe_start_bps = b->estimate_bps;
  b->probe_target_bps = 2 * b->estimate_bps < BWE_PROBE_CEILING_BPS
                            ? 2 * b->estimate_bps
                            : BWE_PROBE_CEILING_BPS;
  b->probe_until_ms = now_ms + PROBE_MS;
  b->probes++;
  return b->probe_target_bps;
}

void bwe_probe_soon(bwe *b, uint64_t wanted_bps, uint64_t now_ms) {
  if (!b->estimate_bps || wanted_bps <= b->estimate_bps || b->probe_until_ms)
    return;
  b->probe_interval_ms = PROBE_GAP_MIN_MS;
  if (b->next_probe_ms > now_ms)
    b->next_probe_ms = now_ms;
}
