/* rtp_stats — RFC 3550 receive statistics: A.1 sequence tracking, A.3 loss, A.8
 * interarrival jitter, and LSR/DLSR for the report blocks of our receiver reports. */
#include "rtc/rtp_stats.h"

#include <string.h>

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define SEQ_MOD 65536u

void rtp_stats_init(rtp_stats *s, uint32_t ssrc, uint32_t clock_rate) {
  memset(s, 0, sizeof *s);
  s->ssrc = ssrc;
  s->clock_rate = clock_rate;
}

/* A.1 init_seq: a new base; the counters start over with it. */
static void restart(rtp_stats *s, uint16_t seq) {
  s->started = true;
  s->base_seq = seq;
  s->max_seq = seq;
  s->cycles = 0;
  s->received = 0;
  s->expected_prior = 0;
  s->received_prior = 0;
  s->bad_seq = SEQ_MOD + 1; /* matches no sequence number */
}

/* A.1 update_seq (without the initial probation): a large jump is taken as the
 * sender restarting only when the packet after it continues from there. */
static void update_seq(rtp_stats *s, uint16_t seq) {
  uint16_t udelta = (uint16_t)(seq - s->max_seq);
  if (!s->started) {
    restart(s, seq);
  } else if (udelta < MAX_DROPOUT) {
    if (seq < s->max_seq) /* in order, with permissible gap, wrapped */
      s->cycles += SEQ_MOD;
    s->max_seq = seq;
  } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
    if (seq != s->bad_seq) {
      s->bad_seq = (uint32_t)((seq + 1) & (SEQ_MOD - 1));
      return; /* one stray packet: not counted, nothing reset */
    }
    restart(s, seq);
  } /* else a duplicate or a late packet: counted, max_seq stays */
  s->received++;
}

/* A.8: transit time difference in timestamp units, arrival converted to the stream's
 * clock; differences are taken mod 2^32 so timestamp wrap-around does not matter. */
static void update_jitter(rtp_stats *s, uint32_t timestamp, uint64_t arrival_ms,
                          bool first) {
  if (s->clock_rate == 0)
    return;
  uint32_t arrival = (uint32_t)(arrival_ms * s->clock_rate / 1000);
  uint32_t transit = arrival - timestamp;
  if (!first) {
    int32_t d = (int32_t)(transit - (uint32_t)s->last_transit);
    double ad = d < 0 ? -(double)d : (double)d;
    s->jitter += (ad - s->jitter) / 16.0;
  }
  s->last_transit = transit;
}

void rtp_stats_packet(rtp_stats *s, uint16_t seq, uint32_t timestamp, size_t bytes,
                      uint64_t arrival_ms) {
  bool first = !s->started;
  update_seq(s, seq);
  update_jitter(s, timestamp, arrival_ms, first);
  s->bytes += bytes;
}

/* LSR (§6.4.1): the middle 32 bits of the SR's 64-bit NTP timestamp. */
void rtp_stats_sender_report(rtp_stats *s, uint32_t ntp_sec, uint32_t ntp_frac,
                             uint64_t now_ms) {
  s->last_sr_ntp_middle = ntp_sec << 16 | ntp_frac >> 16;
  s->last_sr_at_ms = now_ms;
}

/* A.3: cumulative loss since the start, fraction lost since the previous report. */
static void fill_loss(rtp_stats *s, rtcp_report_block *out) {
  uint32_t extended_max = s->cycles + s->max_seq;
  int64_t expected = (int64_t)extended_max - s->base_seq + 1;
  int64_t lost = expected - s->received;
  out->cumulative_lost = (int32_t)(lost > 0x7fffff    ? 0x7fffff
                                   : lost < -0x800000 ? -0x800000
                                                      : lost);
  out->highest_seq = extended_max;
  int64_t expected_interval = expected - s->expected_prior;
  int64_t received_interval = (int64_t)s->received - s->received_prior;
  int64_t lost_interval = expected_interval - received_interval;
  s->expected_prior = (uint32_t)expected;
  s->received_prior = s->received;
  int64_t fraction = expected_interval <= 0 || lost_interval <= 0
                         ? 0
                         : (lost_interval << 8) / expected_interval;
  out->fraction_lost = (uint8_t)(fraction > 255 ? 255 : fraction);
}

void rtp_stats_report_block(rtp_stats *s, uint64_t now_ms, rtcp_report_block *out) {
  memset(out, 0, sizeof *out);
  out->ssrc = s->ssrc;
  if (s->started)
    fill_loss(s, out);
  out->jitter = (uint32_t)s->jitter;
  /* DLSR in 1/65536 s; both stay 0 until an SR has been seen (§6.4.1). */
  out->lsr = s->last_sr_ntp_middle;
  if (out->lsr && now_ms >= s->last_sr_at_ms) {
    uint64_t dlsr = (now_ms - s->last_sr_at_ms) * 65536 / 1000;
    out->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t)dlsr;
  }
}
