/* dcep — DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK (RFC 8832 §5) on the wire. */
#include "rtc/dcep.h"

#include <string.h>

bool dcep_type_valid(uint8_t t) {
  switch (t) {
  case DCEP_RELIABLE:
  case DCEP_RELIABLE_UNORDERED:
  case DCEP_PARTIAL_RELIABLE_REXMIT:
  case DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED:
  case DCEP_PARTIAL_RELIABLE_TIMED:
  case DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED:
    return true;
  default:
    return false;
  }
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 8832 §5.1: type (1), channel type (1), priority (2), reliability parameter (4),
 * label length (2), protocol length (2), label, protocol. */
int dcep_parse(const uint8_t *data, size_t len, dcep_open *open) {
  if (len < 1)
    return -1;
  if (data[0] == DCEP_MSG_ACK)
    return len == 1 ? DCEP_MSG_ACK : -1; /* §5.2: the ACK is one byte */
  if (data[0] != DCEP_MSG_OPEN || len < DCEP_OPEN_HEADER)
    return -1;
  uint8_t type = data[1];
  uint16_t label_len = be16(data + 8), protocol_len = be16(data + 10);
  if (!dcep_type_valid(type) || label_len > DCEP_MAX_LABEL ||
      protocol_len > DCEP_MAX_LABEL ||
      (size_t)DCEP_OPEN_HEADER + label_len + protocol_len != len)
    return -1;
  if (open) {
    open->channel_type = type;
    open->priority = be16(data + 2);
    /* §5.1: ignored for the reliable types. */
    open->reliability = (type & 0x7f) == DCEP_RELIABLE ? 0 : be32(data + 4);
    open->label_len = label_len;
    open->protocol_len = protocol_len;
    memcpy(open->label, data + DCEP_OPEN_HEADER, label_len);
    open->label[label_len] = 0;
    memcpy(open->protocol, data + DCEP_OPEN_HEADER + label_len, protocol_len);
    open->protocol[protocol_len] = 0;
  }
  return DCEP_MSG_OPEN;
}

size_t dcep_write_open(const dcep_open *o, uint8_t *out, size_t cap) {
  if (o->label_len > DCEP_MAX_LABEL || o->protocol_len > DCEP_MAX_LABEL ||
      !dcep_type_valid(o->channel_type))
    return 0;
  size_t n = (size_t)DCEP_OPEN_HEADER + o->label_len + o->protocol_len;
  if (n > cap)
    return 0;
  uint32_t r = (o->channel_type & 0x7f) == DCEP_RELIABLE ? 0 : o->reliability;
  out[0] = DCEP_MSG_OPEN;
  out[1] = o->channel_type;
  out[2] = (uint8_t)(o->priority >> 8);
  out[3] = (uint8_t)o->priority;
  out[4] = (uint8_t)(r >> 24);
  out[5] = (uint8_t)(r >> 16);
  out[6] = (uint8_t)(r >> 8);
  out[7] = (uint8_t)r;
  out[8] = (uint8_t)(o->label_len >> 8);
  out[9] = (uint8_t)o->label_len;
  out[10] = (uint8_t)(o->protocol_len >> 8);
  out[11] = (uint8_t)o->protocol_len;
  memcpy(out + DCEP_OPEN_HEADER, o->label, o->label_len);
  memcpy(out + DCEP_OPEN_HEADER + o->label_len, o->protocol, o->protocol_len);
  return n;
}

size_t dcep_write_ack(uint8_t *out, size_t cap) {
  if (cap < 1)
    return 0;
  out[0] = DCEP_MSG_ACK;
  return 1;
}
