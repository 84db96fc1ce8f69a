/* fuzz_tcp_framing — libFuzzer harness for RFC 4571 framing: the same bytes fed whole,
 * byte by byte and in chunks the input picks must give the same frames and outcome,
 * and those must match a plain reading of the stream. */
#include "rtc/tcp_framing.h"

#include "check.h"

#include <string.h>

#define MAX_FRAMES 4096

typedef struct {
  size_t n, total;
  size_t len[MAX_FRAMES];
  uint64_t sum[MAX_FRAMES]; /* a checksum of each frame's bytes */
} frames;

static uint64_t checksum(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static bool on_frame(uint8_t *frame, size_t len, void *ud) {
  frames *f = ud;
  CHECK(len <= TCP_FRAMING_MAX);
  if (f->n < MAX_FRAMES) {
    f->len[f->n] = len;
    f->sum[f->n] = checksum(frame, len);
  }
  f->n++;
  f->total += len;
  return true;
}

/* The stream read plainly: frames until a length over the limit. */
static tcp_framing_result reference(const uint8_t *d, size_t size, frames *out) {
  size_t at = 0;
  while (size - at >= 2) {
    size_t len = (size_t)d[at] << 8 | d[at + 1];
    if (len > TCP_FRAMING_MAX)
      return TCP_FRAMING_OVERSIZE;
    if (size - at - 2 < len)
      break;
    on_frame((uint8_t *)d + at + 2, len, out);
    at += 2 + len;
  }
  return TCP_FRAMING_OK;
}

/* mode 0: all at once; 1: byte by byte; more: chunks of 1 to 1,500 bytes the data picks
 * (a frame split anywhere, several in one read). */
static tcp_framing_result feed_chunks(const uint8_t *d, size_t size, size_t mode,
                                      frames *out) {
  static tcp_framer f;
  static uint8_t copy[1 << 16];
  tcp_framer_init(&f);
  size_t at = 0, step = 0;
  while (at < size) {
    size_t n = mode == 0   ? size - at
               : mode == 1 ? 1
                           : 1 + ((mode * 31 + d[(at + step) % size] * 7 + step) % 1500);
    if (n > size - at)
      n = size - at;
    memcpy(copy, d + at, n); /* the parser may change frames in place: not the input */
    tcp_framing_result r = tcp_framer_feed(&f, copy, n, on_frame, out);
    if (r != TCP_FRAMING_OK)
      return r;
    at += n;
    step++;
  }
  return TCP_FRAMING_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > (1 << 16))
    return 0;
  static frames ref, got;
  memset(&ref, 0, sizeof ref);
  tcp_framing_result want = reference(data, size, &ref);
  for (size_t mode = 0; mode < 4; mode++) {
    memset(&got, 0, sizeof got);
    tcp_framing_result r =
        feed_chunks(data, size, mode < 2 ? mode : mode + data[0], &got);
    CHECK(r == want);
    CHECK(got.n == ref.n && got.total == ref.total);
    size_t n = got.n < MAX_FRAMES ? got.n : MAX_FRAMES;
    CHECK(memcmp(got.len, ref.len, n * sizeof got.len[0]) == 0);
    CHECK(memcmp(got.sum, ref.sum, n * sizeof got.sum[0]) == 0);
  }
  return 0;
}
