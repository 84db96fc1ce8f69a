/* fuzz_depacketize — libFuzzer harness for the recorder's depacketizer: the input picks a
 * codec, then is a run of length-prefixed RTP packets; every frame it yields is checked.
 */
#include "media/depacketizer.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rtp_codec codec;
  uint64_t frames;
  bool first_checked;
} state;

/* An H.264 access unit is whole 4-byte length-prefixed NAL units, nothing else. */
static void check_avc(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    CHECK(n - i >= 4);
    size_t len =
        (size_t)p[i] << 24 | (size_t)p[i + 1] << 16 | (size_t)p[i + 2] << 8 | p[i + 3];
    CHECK(len > 0 && len <= n - i - 4);
    i += 4 + len;
  }
}

static void on_frame(void *ud, const depkt_frame *f) {
  state *s = ud;
  CHECK(f->len > 0 && f->data != NULL);
  volatile uint8_t sum = 0; /* ASan sees every byte the frame claims */
  for (size_t i = 0; i < f->len; i++)
    sum ^= f->data[i];
  (void)sum;
  if (s->codec == RTP_CODEC_OPUS) {
    CHECK(f->keyframe && f->len <= RTP_MAX_PACKET);
  } else if (s->frames == 0) {
    CHECK(f->keyframe); /* video starts with a keyframe */
  }
  CHECK(f->width >= 0 && f->height >= 0 && f->width <= 65536 && f->height <= 65536);
  if (s->codec == RTP_CODEC_H264)
    check_avc(f->data, f->len);
  s->frames++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  state s = {(rtp_codec)(data[0] % 4), 0, false};
  depacketizer *d = depacketizer_new(s.codec, on_frame, &s);
  CHECK(d != NULL);
  size_t i = 1;
  uint64_t now = 0;
  while (size - i >= 3) {
    size_t len = (size_t)data[i] << 8 | data[i + 1];
    now += data[i + 2]; /* arrival gaps drive the hole timeout */
    i += 3;
    if (len > size - i)
      len = size - i;
    uint8_t *pkt = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    if (len)
      memcpy(pkt, data + i, len);
    depacketizer_push(d, pkt, len, now);
    free(pkt);
    i += len;
    if (depacketizer_take_keyframe_request(d))
      CHECK(depacketizer_awaiting_keyframe(d) && s.codec != RTP_CODEC_OPUS);
  }
  depacketizer_flush(d);
  depkt_stats st = depacketizer_stats(d);
  CHECK(st.frames == s.frames);
  size_t n;
  CHECK(depacketizer_h264_sps(d, &n) && n <= 256);
  depacketizer_free(d);
  return 0;
}
