/* fuzz_sse_ids — libFuzzer harness for the event-stream bytes a relaying node reads from
 * a home: sse_id_scan_feed follows "id: N" lines across pieces. The first byte picks
 * where the input is cut in two; fed whole or in two pieces, the last id must be the
 * same. */
#include "http/sse.h"

#include "check.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  if (len == 0)
    return 0;
  size_t cut = data[0] % len;
  const char *text = (const char *)data + 1;
  size_t n = len - 1;
  if (cut > n)
    cut = n;
  sse_id_scan whole = {0}, split = {0};
  sse_id_scan_feed(&whole, text, n);
  sse_id_scan_feed(&split, text, cut);
  sse_id_scan_feed(&split, text + cut, n - cut);
  CHECK(whole.last_id == split.last_id);
  CHECK(whole.len < sizeof whole.line);
  return 0;
}
