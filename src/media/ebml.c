/* ebml — EBML element writing into a growable buffer and bounded reading of element ids
 * and sizes (RFC 8794): the layer under Parley's WebM writer and recovery reader. */
#include "media/ebml.h"

#include <string.h>

void ebml_put_id(buf *b, uint32_t id) {
  uint8_t out[4];
  int n = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  for (int i = 0; i < n; i++)
    out[i] = (uint8_t)(id >> (8 * (n - 1 - i)));
  buf_append(b, out, (size_t)n);
}

static int size_width(uint64_t v) {
  int w = 1;
  /* A width-w vint holds 7*w value bits, all-ones being reserved for "unknown". */
  while (w < 8 && v >= (1ULL << (7 * w)) - 1)
    w++;
  return w;
}

void ebml_put_size(buf *b, uint64_t size, int width) {
  int w = width ? width : size_width(size);
  uint8_t out[8];
  for (int i = 0; i < w; i++)
    out[i] = (uint8_t)(size >> (8 * (w - 1 - i)));
  out[0] |= (uint8_t)(0x80 >> (w - 1));
  buf_append(b, out, (size_t)w);
}

void ebml_size8(uint8_t out[8], uint64_t v) {
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(v >> (8 * (7 - i)));
  out[0] = 0x01;
}

void ebml_put_uint(buf *b, uint32_t id, uint64_t v) {
  int n = 1;
  while (n < 8 && (v >> (8 * n)) != 0)
    n++;
  ebml_put_id(b, id);
  ebml_put_size(b, (uint64_t)n, 1);
  uint8_t out[8];
  for (int i = 0; i < n; i++)
    out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  buf_append(b, out, (size_t)n);
}

void ebml_put_float(buf *b, uint32_t id, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  ebml_put_id(b, id);
  ebml_put_size(b, 8, 1);
  uint8_t out[8];
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(bits >> (8 * (7 - i)));
  buf_append(b, out, 8);
}

void ebml_put_binary(buf *b, uint32_t id, const void *data, size_t len) {
  ebml_put_id(b, id);
  ebml_put_size(b, len, 0);
  buf_append(b, data, len);
}

void ebml_put_string(buf *b, uint32_t id, const char *s) {
  ebml_put_binary(b, id, s, strlen(s));
}

void ebml_put_void(buf *b, size_t total) {
  static const uint8_t zeros[64];
  /* One id byte, then a size field as wide as needed so the whole is exactly total. */
  size_t body = total - 2;
  int w = 1;
  while (size_width(body) > w) {
    w++;
    body = total - 1 - (size_t)w;
  }
  ebml_put_id(b, 0xec);
  ebml_put_size(b, body, w);
  while (body > 0) {
    size_t n = body < sizeof zeros ? body : sizeof zeros;
    buf_append(b, zeros, n);
    body -= n;
  }
}

size_t ebml_open(buf *b, uint32_t id) {
  ebml_put_id(b, id);
  size_t at = b->len;
  static const uint8_t placeholder[8] = {0x01};
  buf_append(b, placeholder, 8);
  return at;
}

void ebml_close(buf *b, size_t size_at) {
  ebml_size8((uint8_t *)b->data + size_at, b->len - size_at - 8);
}

/* The vint length is one plus the count of leading zero bits of the first byte. */
static int vint_len(uint8_t first) {
  for (int i = 0; i < 8; i++)
    if (first & (0x80 >> i))
      return i + 1;
  return 0;
}

size_t ebml_read_id(const uint8_t *p, size_t n, uint32_t *id) {
  if (n == 0)
    return 0;
  int w = vint_len(p[0]);
  if (w == 0 || w > EBML_MAX_ID_LEN || (size_t)w > n)
    return 0;
  uint32_t v = 0;
  for (int i = 0; i < w; i++)
    v = v << 8 | p[i];
  *id = v;
  return (size_t)w;
}

size_t ebml_read_size(const uint8_t *p, size_t n, uint64_t *size, bool *unknown) {
  if (n == 0)
    return 0;
  int w = vint_len(p[0]);
  if (w == 0 || (size_t)w > n)
    return 0;
  uint64_t v = p[0] & (0xff >> w);
  for (int i = 1; i < w; i++)
    v = v << 8 | p[i];
  *unknown = v == (1ULL << (7 * w)) - 1;
  *size = v;
  return (size_t)w;
}

uint64_t ebml_read_uint(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

double ebml_read_float(const uint8_t *p, size_t n) {
  if (n == 4) {
    uint32_t bits = (uint32_t)ebml_read_uint(p, 4);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
  }
  if (n == 8) {
    uint64_t bits = ebml_read_uint(p, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
  }
  return 0;
}
