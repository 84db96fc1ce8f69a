/* fuzz_sse_reader — libFuzzer harness for the event-stream bytes the parley CLI reads
 * from a node (src/client/sse_reader.c). The first byte picks where the input is cut in
 * two; fed whole or in two pieces, the events (name, data, id) must be the same. */
#include "client/sse_reader.h"

#include "check.h"

#include <stdint.h>
#include <string.h>

typedef struct {
  uint64_t hash;
  unsigned long n;
} digest;

static void mix(digest *d, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    d->hash = (d->hash ^ (unsigned char)s[i]) * 1099511628211ULL;
  d->hash = (d->hash ^ 0xff) * 1099511628211ULL;
}

static void on_event(const sse_event *ev, void *ud) {
  digest *d = ud;
  CHECK(ev->name && ev->data && ev->id);
  CHECK(strlen(ev->data) == ev->data_len || memchr(ev->data, '\0', ev->data_len));
  mix(d, ev->name, strlen(ev->name));
  mix(d, ev->data, ev->data_len);
  mix(d, ev->id, strlen(ev->id));
  d->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  if (len == 0)
    return 0;
  size_t cut = data[0] % len;
  const char *text = (const char *)data + 1;
  size_t n = len - 1;
  if (cut > n)
    cut = n;
  digest whole = {14695981039346656037ULL, 0}, split = {14695981039346656037ULL, 0};
  sse_reader a, b;
  sse_reader_init(&a, on_event, &whole);
  sse_reader_init(&b, on_event, &split);
  sse_reader_feed(&a, text, n);
  sse_reader_feed(&b, text, cut);
  sse_reader_feed(&b, text + cut, n - cut);
  CHECK(whole.n == split.n && whole.hash == split.hash);
  sse_reader_free(&a);
  sse_reader_free(&b);
  return 0;
}
