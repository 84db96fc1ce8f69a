/* test_dtmf — RFC 4733 telephone-event payloads: the §2.3 layout byte for byte, round
 * trips, short input, and the event code / digit mapping. */
#include "check.h"
#include "rtc/dtmf.h"

static void test_payload(void) {
  /* Digit 5, end bit, volume 10 (-10 dBm0), duration 800 (100 ms at 8 kHz). */
  static const uint8_t wire[] = {0x05, 0x8a, 0x03, 0x20};
  dtmf_event ev;
  CHECK(dtmf_parse(wire, sizeof wire, &ev) == 0);
  CHECK(ev.event == 5 && ev.end && ev.volume == 10 && ev.duration == 800);
  uint8_t out[4];
  CHECK(dtmf_write(out, &ev) == 4 && memcmp(out, wire, 4) == 0);

  static const uint8_t reserved[] = {0x0b, 0x7f, 0xff, 0xff}; /* R set, no E */
  CHECK(dtmf_parse(reserved, sizeof reserved, &ev) == 0);
  CHECK(ev.event == 11 && !ev.end && ev.volume == 63 && ev.duration == 65535);
  CHECK(dtmf_write(out, &ev) == 4 && out[1] == 0x3f); /* R is written as 0 */
  CHECK(dtmf_parse(wire, 3, &ev) == -1);

  dtmf_event big = {.event = 15, .end = false, .volume = 0xff, .duration = 160};
  CHECK(dtmf_write(out, &big) == 4 && out[0] == 15 && out[1] == 0x3f);
  CHECK(out[2] == 0 && out[3] == 160);
}

static void test_digits(void) {
  static const char all[] = "0123456789*#ABCD";
  for (int i = 0; i < 16; i++) {
    CHECK(dtmf_digit((uint8_t)i) == all[i]);
    CHECK(dtmf_event_code(all[i]) == i);
  }
  CHECK(dtmf_digit(16) == 0 && dtmf_digit(255) == 0);
  CHECK(dtmf_event_code('a') == 12 && dtmf_event_code('d') == 15);
  CHECK(dtmf_event_code('E') == -1 && dtmf_event_code('x') == -1);
  CHECK(dtmf_event_code('\0') == -1 && dtmf_event_code(' ') == -1);
}

int main(void) {
  test_payload();
  test_digits();
  CHECK_DONE();
}
