/* fuzz_dtls_record — libFuzzer harness for the DTLS record check that filters datagrams
 * before OpenSSL sees them: walking a datagram always advances, stays inside it, and a
 * record taken is exactly the one skipped over, header included. */
#include "rtc/dtls.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(buf, data, size);
  size_t skip;
  for (size_t at = 0; at < size; at += skip) {
    size_t n = dtls_record_check(buf + at, size - at, &skip);
    CHECK(skip > 0 && skip <= size - at);
    CHECK(n == 0 || (n == skip && n >= DTLS_RECORD_HEADER));
    if (n)
      CHECK(buf[at] >= 20 && buf[at] <= 23 && buf[at + 1] == 0xfe);
  }
  free(buf);
  return 0;
}
