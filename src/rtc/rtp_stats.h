/* rtp_stats — receive statistics of one incoming stream (RFC 3550 §6.4, A.3, A.8):
 * extended highest sequence, loss and jitter, turned into report blocks for our RRs. */
#ifndef PARLEY_RTP_STATS_H
#define PARLEY_RTP_STATS_H

#include "rtc/rtcp.h"

typedef struct {
  uint32_t ssrc;
  uint32_t clock_rate;
  bool started;
  uint16_t max_seq;
  uint32_t cycles, base_seq, received, expected_prior, received_prior;
  uint32_t bad_seq; /* a large jump is believed only when the next packet follows it */
  uint64_t bytes;
  double jitter; /* in timestamp units */
  int64_t last_transit;
  uint32_t last_sr_ntp_middle; /* middle 32 bits of the last SR's NTP time */
  uint64_t last_sr_at_ms;
} rtp_stats;

void rtp_stats_init(rtp_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* Records a packet that arrived at arrival_ms (local clock). */
void rtp_stats_packet(rtp_stats *s, uint16_t seq, uint32_t timestamp, size_t bytes,
                      uint64_t arrival_ms);
/* Records a sender report about this stream. */
void rtp_stats_sender_report(rtp_stats *s, uint32_t ntp_sec, uint32_t ntp_frac,
                             uint64_t now_ms);
/* Fills a report block for an RR sent at now_ms, and starts a new interval. */
void rtp_stats_report_block(rtp_stats *s, uint64_t now_ms, rtcp_report_block *out);

#endif
