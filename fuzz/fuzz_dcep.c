/* fuzz_dcep — libFuzzer harness for the DCEP parser (rtc/dcep.c): any bytes as a PPID
 * 50 message; an OPEN it accepts is written back byte for byte and parses the same;
 * an ACK is exactly one byte. */
#include "rtc/dcep.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *msg = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(msg, data, size);
  static dcep_open o, back;
  int kind = dcep_parse(msg, size, &o);
  CHECK(kind == -1 || kind == DCEP_MSG_OPEN || kind == DCEP_MSG_ACK);
  CHECK(dcep_parse(msg, size, NULL) == kind);
  if (kind == DCEP_MSG_ACK)
    CHECK(size == 1);
  if (kind == DCEP_MSG_OPEN) {
    CHECK(dcep_type_valid(o.channel_type));
    CHECK(o.label_len <= DCEP_MAX_LABEL && o.protocol_len <= DCEP_MAX_LABEL);
    static uint8_t out[DCEP_OPEN_HEADER + 2 * DCEP_MAX_LABEL];
    size_t n = dcep_write_open(&o, out, sizeof out);
    CHECK(n == size);
    /* The reliability of a reliable type is written as 0, whatever came in. */
    if ((o.channel_type & 0x7f) != DCEP_RELIABLE)
      CHECK(memcmp(out, msg, n) == 0);
    CHECK(dcep_parse(out, n, &back) == DCEP_MSG_OPEN);
    CHECK(back.channel_type == o.channel_type && back.reliability == o.reliability &&
          back.label_len == o.label_len && back.protocol_len == o.protocol_len &&
          memcmp(back.label, o.label, o.label_len) == 0 &&
          memcmp(back.protocol, o.protocol, o.protocol_len) == 0);
  }
  free(msg);
  return 0;
}
