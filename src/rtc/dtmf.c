/* dtmf — RFC 4733 §2.3 telephone-event payloads (event, E bit, R bit, 6-bit volume,
 * 16-bit duration) and the mapping between event codes and DTMF digits. */
#include "rtc/dtmf.h"

int dtmf_parse(const uint8_t *payload, size_t len, dtmf_event *ev) {
  if (len < 4)
    return -1;
  ev->event = payload[0];
  ev->end = payload[1] & 0x80;
  ev->volume = payload[1] & 0x3f; /* the R bit (0x40) is reserved and ignored */
  ev->duration = (uint16_t)(payload[2] << 8 | payload[3]);
  return 0;
}

static const char digits[] = "0123456789*#ABCD";

char dtmf_digit(uint8_t event) { return event < 16 ? digits[event] : 0; }

/* Lower-case a-d are accepted too: they name the same tones. */
int dtmf_event_code(char digit) {
  if (digit >= 'a' && digit <= 'd')
    digit = (char)(digit - 'a' + 'A');
  for (int i = 0; i < 16; i++)
    if (digits[i] == digit)
      return i;
  return -1;
}

size_t dtmf_write(uint8_t *out, const dtmf_event *ev) {
  out[0] = ev->event;
  out[1] = (uint8_t)((ev->end ? 0x80 : 0) | (ev->volume & 0x3f));
  out[2] = (uint8_t)(ev->duration >> 8);
  out[3] = (uint8_t)ev->duration;
  return 4;
}
