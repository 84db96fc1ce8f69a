/* twcc_bench — what transport-cc adds per forwarded copy, on one core: building a
 * 1,200-byte copy in a send slot as session_forward does (copy, strip, rewrite), then
 * stamping our transport-wide sequence number into it and logging it (rtc/twcc.c), and
 * the feedback side: recording an arrival, writing and matching feedback. CPU time. */
#include "copy_packet.h"

#include "rtc/rtp.h"
#include "rtc/twcc.h"

#include <stdio.h>
#include <string.h>

#define ROUNDS 5000000

static uint8_t src[1500], slot[1600];
static twcc_send log_;
static twcc_recv rx;

/* The forward path's own copy: the publisher's packet (with its extensions) into the
 * slot, extensions stripped, SSRC and numbers rewritten. */
static size_t copy_as_sent(const rtp_header *h, size_t len, uint16_t seq) {
  memcpy(slot, src, len);
  len = rtp_strip_extensions(slot, len, h);
  rtp_set_ssrc(slot, 42);
  rtp_set_seq(slot, seq);
  rtp_set_timestamp(slot, seq * 3000u);
  rtp_set_payload_type(slot, 96);
  return len;
}

int main(void) {
  size_t len = browser_video_packet(src, NULL, 0); /* 1,172 bytes of payload */
  rtp_header h;
  if (rtp_parse(src, len, &h))
    return 1;
  volatile size_t sink = 0;
  double t0 = cpu_ns();
  for (uint32_t i = 0; i < ROUNDS; i++)
    sink += copy_as_sent(&h, len, (uint16_t)i);
  double t1 = cpu_ns();
  for (uint32_t i = 0; i < ROUNDS; i++) {
    size_t n = copy_as_sent(&h, len, (uint16_t)i);
    n = twcc_stamp(slot, n, 3, (uint16_t)i);
    twcc_send_note(&log_, (uint16_t)i, (int64_t)i * 100, n + 16);
    sink += n;
  }
  double t2 = cpu_ns();
  for (uint32_t i = 0; i < ROUNDS; i++) {
    size_t n = copy_as_forwarded(slot, src, len, &h, (uint16_t)i, i * 3000u);
    n = twcc_stamp(slot, n, 3, (uint16_t)i);
    twcc_send_note(&log_, (uint16_t)i, (int64_t)i * 100, n + 16);
    sink += n;
  }
  double t2b = cpu_ns();
  twcc_recv_init(&rx);
  uint8_t fb[1400];
  size_t fbs = 0;
  for (uint32_t i = 0; i < ROUNDS; i++) {
    twcc_recv_packet(&rx, (uint16_t)i, 1, 1000000 + (int64_t)i * 100);
    if (i % 250 == 249) /* ~ what arrives between two feedbacks at 5,000 packets/s */
      while (twcc_recv_feedback(&rx, 2, fb, sizeof fb) > 0)
        fbs++;
  }
  double t3 = cpu_ns();
  t3 -= t2b - t2; /* the receive side's time alone */
  printf("copy as sent (today's forward copy): %.1f ns per packet\n", (t1 - t0) / ROUNDS);
  printf("  + twcc stamp (8 bytes inserted) and send log: %.1f ns per packet (+%.1f)\n",
         (t2 - t1) / ROUNDS, (t2 - t1 - (t1 - t0)) / ROUNDS);
  printf("  copied with the element reserved (session_forward), stamped in place, "
         "logged: %.1f ns per packet (+%.1f)\n",
         (t2b - t2) / ROUNDS, (t2b - t2 - (t1 - t0)) / ROUNDS);
  printf("receive side: record + feedback written: %.1f ns per packet (%zu feedbacks)\n",
         (t3 - t2) / ROUNDS, fbs);
  return sink == 0;
}
