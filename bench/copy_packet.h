/* copy_packet — what the per-copy micro-benchmarks (twcc_bench, renumber_bench) share: a
 * browser's 1,200-byte video packet to copy, and a CPU-time clock. */
#ifndef PARLEY_BENCH_COPY_PACKET_H
#define PARLEY_BENCH_COPY_PACKET_H

#include "rtc/rtp.h"
#include "rtc/twcc.h"

#include <string.h>
#include <time.h>

static inline double cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* A browser's video packet into p: a 12-byte header, one-byte extensions (abs-send-time,
 * transport-wide seq, mid), the n bytes of descriptor (none: n 0), then frame bytes to
 * 1,200 in all. Returns 1,200. */
static inline size_t browser_video_packet(uint8_t *p, const uint8_t *descriptor,
                                          size_t n) {
  size_t len = rtp_write_header(p, 96, false, 1, 2, 3);
  p[0] |= 0x10;
  const uint8_t ext[16] = {0xbe, 0xde, 0x00, 0x03, 0x22, 1, 2, 3, 0x31, 0, 7, 0x40, '0'};
  memcpy(p + len, ext, sizeof ext);
  len += sizeof ext;
  if (n)
    memcpy(p + len, descriptor, n);
  len += n;
  memset(p + len, 0x5a, 1200 - len);
  return 1200;
}

/* The copy session_forward makes into a send slot: extensions stripped with room for
 * the transport-wide sequence number (extension id 3), SSRC, seq, ts and pt set. */
static inline size_t copy_as_forwarded(uint8_t *slot, const uint8_t *src, size_t len,
                                       const rtp_header *h, uint16_t seq, uint32_t ts) {
  size_t n = twcc_copy_stripped(slot, src, len, h, 3);
  rtp_set_ssrc(slot, 42);
  rtp_set_seq(slot, seq);
  rtp_set_timestamp(slot, ts);
  rtp_set_payload_type(slot, 96);
  return n;
}

#endif
