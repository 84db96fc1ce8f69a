/* renumber_bench — what carrying VP8 picture ids and TL0PICIDX across switches adds per
 * forwarded copy, on one core: the forward path's copy of a Chromium VP8 packet (copy,
 * extensions stripped, SSRC/seq/ts/pt rewritten) against the same with its ids read,
 * renumbered (rtc/rtp_renumber) and shifted in the copy, a switch every 300 packets.
 * CPU time. */
#include "copy_packet.h"

#include "rtc/rtp.h"
#include "rtc/rtp_renumber.h"
#include "rtc/twcc.h"

#include <stdio.h>

#define ROUNDS 5000000

static uint8_t src[1500], slot[1600];

int main(void) {
  /* A VP8 descriptor: X, I L T, a 15-bit picture id, TL0PICIDX, TID. */
  const uint8_t descriptor[6] = {0x90, 0xe0, 0x80 | 0x46, 0xe1, 142, 0x40};
  size_t len = browser_video_packet(src, descriptor, sizeof descriptor);
  rtp_header h;
  if (rtp_parse(src, len, &h))
    return 1;
  volatile size_t sink = 0;
  double t0 = cpu_ns();
  for (uint32_t i = 0; i < ROUNDS; i++) {
    size_t n = copy_as_forwarded(slot, src, len, &h, (uint16_t)i, i * 3000u);
    sink += n + slot[n - 1];
  }
  double t1 = cpu_ns();
  rtp_renumber r;
  rtp_renumber_init(&r);
  for (uint32_t i = 0; i < ROUNDS; i++) {
    if (i % 300 == 0)
      r.started = false;
    h.seq = (uint16_t)i;
    h.timestamp = i * 3000u;
    rtp_vpx_ids ids;
    rtp_vpx_ids_read(src + h.payload_offset, h.payload_len, RTP_CODEC_VP8, &ids);
    rtp_renumbered as = rtp_renumber_next(&r, &h, &ids, 90000, i / 10);
    size_t tail = len - h.payload_offset;
    size_t n = copy_as_forwarded(slot, src, len, &h, as.seq, as.ts);
    rtp_vpx_ids_shift(slot + n - tail, &ids, as.pic_delta, as.tl0_delta);
    sink += n + slot[n - 1];
  }
  double t2 = cpu_ns();
  printf("copy as sent (seq/ts given): %.1f ns per packet\n", (t1 - t0) / ROUNDS);
  printf(
      "  + ids read, renumbered and shifted (rtp_renumber): %.1f ns per packet (+%.1f)\n",
      (t2 - t1) / ROUNDS, (t2 - t1 - (t1 - t0)) / ROUNDS);
  return sink == 0;
}
