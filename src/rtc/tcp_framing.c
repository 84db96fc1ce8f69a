/* tcp_framing — RFC 4571 frames out of a byte stream, copying only split frames. */
#include "rtc/tcp_framing.h"

#include <string.h>

void tcp_framer_init(tcp_framer *f) {
  f->header_have = 0;
  f->need = 0;
  f->have = 0;
}

void tcp_framing_header(uint8_t out[TCP_FRAMING_HEADER], size_t len) {
  out[0] = (uint8_t)(len >> 8);
  out[1] = (uint8_t)len;
}

/* Reads the length header; false if it is over the limit. */
static bool take_header(tcp_framer *f, const uint8_t **p, const uint8_t *end) {
  while (f->header_have < TCP_FRAMING_HEADER && *p < end)
    f->header[f->header_have++] = *(*p)++;
  if (f->header_have < TCP_FRAMING_HEADER)
    return true;
  f->need = (size_t)f->header[0] << 8 | f->header[1];
  f->have = 0;
  return f->need <= TCP_FRAMING_MAX;
}

tcp_framing_result tcp_framer_feed(tcp_framer *f, uint8_t *data, size_t len,
                                   tcp_frame_cb cb, void *ud) {
  const uint8_t *p = data, *end = data + len;
  while (p < end) {
    if (f->header_have < TCP_FRAMING_HEADER) {
      if (!take_header(f, &p, end))
        return TCP_FRAMING_OVERSIZE;
      if (f->header_have < TCP_FRAMING_HEADER)
        break;
    }
    uint8_t *frame;
    size_t left = (size_t)(end - p);
    if (f->have == 0 && left >= f->need) {
      frame = data + (p - data); /* whole in what was read: no copy */
      p += f->need;
    } else {
      size_t take = f->need - f->have < left ? f->need - f->have : left;
      memcpy(f->partial + f->have, p, take);
      f->have += take;
      p += take;
      if (f->have < f->need)
        break;
      frame = f->partial;
    }
    size_t n = f->need;
    f->header_have = 0;
    f->have = 0;
    f->need = 0;
    if (!cb(frame, n, ud))
      return TCP_FRAMING_STOPPED;
  }
  return TCP_FRAMING_OK;
}
