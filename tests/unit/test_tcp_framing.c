/* test_tcp_framing — RFC 4571 framing: frames split anywhere, several in one read, empty
 * ones, a stop from the callback, and lengths over the limit refused. */
#include "check.h"
#include "rtc/tcp_framing.h"

#include <stdlib.h>

#define MAX_SEEN 32

typedef struct {
  size_t n;
  size_t len[MAX_SEEN];
  bool intact[MAX_SEEN]; /* every byte as build() wrote it */
  size_t stop_after;     /* 0: never */
} seen;

/* Byte j of frame i: differs from its neighbours, so an offset shows. */
static uint8_t pattern(size_t i, size_t j) { return (uint8_t)((i + 1) * 31 + j * 7); }

static bool on_frame(uint8_t *frame, size_t len, void *ud) {
  seen *s = ud;
  if (s->n < MAX_SEEN) {
    s->len[s->n] = len;
    s->intact[s->n] = true;
    for (size_t j = 0; j < len; j++)
      s->intact[s->n] &= frame[j] == pattern(s->n, j);
  }
  s->n++;
  return s->stop_after == 0 || s->n < s->stop_after;
}

/* frames of the given lengths, filled with pattern() */
static size_t build(uint8_t *out, const size_t *lens, size_t n) {
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    tcp_framing_header(out + at, lens[i]);
    for (size_t j = 0; j < lens[i]; j++)
      out[at + 2 + j] = pattern(i, j);
    at += 2 + lens[i];
  }
  return at;
}

static void check_frames(const seen *s, const size_t *lens, size_t n) {
  CHECK(s->n == n);
  for (size_t i = 0; i < n && i < MAX_SEEN; i++)
    CHECK(s->len[i] == lens[i] && s->intact[i]);
}

/* Every split point of a stream of three frames (one empty) gives the same frames. */
static void test_any_split(void) {
  static const size_t lens[] = {5, 0, 1200, 1};
  uint8_t stream[2000], copy[2000];
  size_t total = build(stream, lens, 4);
  for (size_t cut = 0; cut <= total; cut++) {
    tcp_framer f;
    tcp_framer_init(&f);
    seen s = {0};
    memcpy(copy, stream, total);
    CHECK(tcp_framer_feed(&f, copy, cut, on_frame, &s) == TCP_FRAMING_OK);
    CHECK(tcp_framer_feed(&f, copy + cut, total - cut, on_frame, &s) == TCP_FRAMING_OK);
    check_frames(&s, lens, 4);
  }
}

static void test_byte_by_byte(void) {
  static const size_t lens[] = {3, 0, 0, TCP_FRAMING_MAX, 7};
  static uint8_t stream[2 * 5 + TCP_FRAMING_MAX + 10];
  size_t total = build(stream, lens, 5);
  tcp_framer f;
  tcp_framer_init(&f);
  seen s = {0};
  for (size_t i = 0; i < total; i++)
    CHECK(tcp_framer_feed(&f, stream + i, 1, on_frame, &s) == TCP_FRAMING_OK);
  check_frames(&s, lens, 5);
}

/* A whole frame in one read is handed over where it lies, not copied. */
static uint8_t *where;
static bool remember(uint8_t *frame, size_t len, void *ud) {
  (void)len;
  (void)ud;
  where = frame;
  return true;
}

static void test_no_copy(void) {
  uint8_t stream[16];
  static const size_t lens[] = {10};
  size_t total = build(stream, lens, 1);
  tcp_framer f;
  tcp_framer_init(&f);
  CHECK(tcp_framer_feed(&f, stream, total, remember, NULL) == TCP_FRAMING_OK);
  CHECK(where == stream + 2);
}

static void test_oversize(void) {
  uint8_t stream[8] = {0, 1, 0x80, 0x10, 0x01, 0xaa, 0xbb, 0xcc};
  tcp_framer f;
  tcp_framer_init(&f);
  seen s = {0};
  CHECK(tcp_framer_feed(&f, stream, sizeof stream, on_frame, &s) == TCP_FRAMING_OVERSIZE);
  CHECK(s.n == 1 && s.len[0] == 1); /* the frame before the bad length got through */
  /* split in the length field: the same */
  tcp_framer_init(&f);
  s = (seen){0};
  uint8_t hi[1] = {0xff}, lo[1] = {0xff};
  CHECK(tcp_framer_feed(&f, hi, 1, on_frame, &s) == TCP_FRAMING_OK);
  CHECK(tcp_framer_feed(&f, lo, 1, on_frame, &s) == TCP_FRAMING_OVERSIZE && s.n == 0);
  uint8_t edge[2];
  tcp_framing_header(edge, TCP_FRAMING_MAX + 1);
  tcp_framer_init(&f);
  CHECK(tcp_framer_feed(&f, edge, 2, on_frame, &s) == TCP_FRAMING_OVERSIZE);
}

static void test_stop(void) {
  static const size_t lens[] = {2, 2, 2};
  uint8_t stream[32];
  size_t total = build(stream, lens, 3);
  tcp_framer f;
  tcp_framer_init(&f);
  seen s = {.stop_after = 2};
  CHECK(tcp_framer_feed(&f, stream, total, on_frame, &s) == TCP_FRAMING_STOPPED);
  CHECK(s.n == 2);
}

static void test_header(void) {
  uint8_t h[2];
  tcp_framing_header(h, 0x1234);
  CHECK(h[0] == 0x12 && h[1] == 0x34);
  tcp_framing_header(h, 65535);
  CHECK(h[0] == 0xff && h[1] == 0xff);
}

int main(void) {
  test_any_split();
  test_byte_by_byte();
  test_no_copy();
  test_oversize();
  test_stop();
  test_header();
  CHECK_DONE();
}
