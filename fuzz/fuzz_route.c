/* fuzz_route — libFuzzer harness for request-target parsing: api_route_parse on the
 * input as a path, and url_decode / url_split_path / url_query_param checked against
 * a naive reference. */
#include "api/route.h"
#include "http/url.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Exact-size heap copies, so ASan sees any read past the end of what h2o would
 * hand us (h2o's buffers are not NUL-terminated). */
static char *copy(const uint8_t *data, size_t len) {
  char *p = malloc(len ? len : 1);
  if (len)
    memcpy(p, data, len);
  return p;
}

static int hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The obvious decoder: what url_decode must agree with. */
static int ref_decode(const char *in, size_t len, char *out, size_t outlen) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int c = (unsigned char)in[i];
    if (c == '%') {
      if (i + 2 >= len || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0)
        return -1;
      c = hex(in[i + 1]) * 16 + hex(in[i + 2]);
      i += 2;
    }
    if (c == 0 || o + 1 >= outlen)
      return -1;
    out[o++] = (char)c;
  }
  if (outlen == 0)
    return -1;
  out[o] = '\0';
  return (int)o;
}

static void check_decode(const char *in, size_t len, size_t outlen) {
  char out[300], ref[300];
  memset(out, 0x5a, sizeof out);
  int n = url_decode(in, len, out, outlen);
  int r = ref_decode(in, len, ref, outlen);
  CHECK(n == r);
  if (n < 0)
    return;
  CHECK((size_t)n < outlen && (size_t)n <= len);
  CHECK(out[n] == '\0' && memcmp(out, ref, (size_t)n) == 0);
  /* A NUL, raw or encoded, is refused: what decodes is always a C string. */
  CHECK(strlen(out) == (size_t)n);
  for (size_t i = (size_t)n + 1; i < sizeof out; i++)
    CHECK(out[i] == 0x5a); /* nothing written past the terminator */
}

static void check_split(const char *path, size_t len) {
  url_segment segs[16];
  int max = 1 + (int)(len % 16);
  int n = url_split_path(path, len, segs, max);
  if (n < 0)
    return;
  CHECK(n >= 1 && n <= max);
  /* The segments, rejoined with '/', are exactly the input (bar a leading '/'). */
  size_t at = (len > 0 && path[0] == '/') ? 1 : 0;
  for (int i = 0; i < n; i++) {
    CHECK(segs[i].ptr == path + at);
    CHECK(segs[i].ptr + segs[i].len <= path + len);
    CHECK(!memchr(segs[i].ptr, '/', segs[i].len));
    at += segs[i].len;
    if (i + 1 < n) {
      CHECK(path[at] == '/');
      at++;
    }
  }
  CHECK(at == len);
}

static void check_fixed(const char *s, size_t cap) { CHECK(strnlen(s, cap) < cap); }

static void check_route(const char *path, size_t len) {
  api_route r;
  int rc = api_route_parse(path, len, &r);
  CHECK(rc == 0 || rc == -1 || rc == -2);
  check_fixed(r.alias, sizeof r.alias);
  check_fixed(r.participant, sizeof r.participant);
  check_fixed(r.call, sizeof r.call);
  check_fixed(r.action, sizeof r.action);
  check_fixed(r.sub, sizeof r.sub);
  if (rc != 0)
    return;
  CHECK(r.kind >= ROUTE_CONFERENCE && r.kind <= ROUTE_METRICS);
  if (r.kind == ROUTE_HEALTHZ || r.kind == ROUTE_METRICS)
    return;
  CHECK(r.alias[0] != '\0');
  CHECK(r.kind != ROUTE_CONFERENCE || r.action[0] != '\0');
  CHECK(r.kind != ROUTE_CALL || strlen(r.call) < sizeof r.call);
}

/* Query and parameter name, split at the first '\n'; the value must equal a
 * decode of what the reference scan finds. */
static void check_query(const char *q, size_t qlen, const char *name, size_t outlen) {
  char out[300], ref[300];
  int n = url_query_param(q, qlen, name, out, outlen);
  int r = -1;
  size_t nlen = strlen(name), i = 0;
  while (i < qlen) {
    size_t end = i;
    while (end < qlen && q[end] != '&')
      end++;
    size_t klen = 0;
    while (i + klen < end && q[i + klen] != '=')
      klen++;
    if (klen == nlen && memcmp(q + i, name, nlen) == 0) {
      size_t v = i + klen + (i + klen < end ? 1 : 0);
      r = ref_decode(q + v, end - v, ref, outlen);
      break;
    }
    i = end + 1;
  }
  CHECK(n == r);
  if (n >= 0)
    CHECK((size_t)n < outlen && out[n] == '\0' && memcmp(out, ref, (size_t)n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *whole = copy(data, size);
  check_route(whole, size);
  check_split(whole, size);
  size_t outlen = size ? 1 + data[0] % 256 : 0;
  check_decode(whole, size, outlen);
  check_decode(whole, size, 300);
  free(whole);

  const uint8_t *nl = memchr(data, '\n', size);
  size_t qlen = nl ? (size_t)(nl - data) : size;
  char *query = copy(data, qlen);
  char name[64] = "token";
  if (nl) {
    size_t nlen = size - qlen - 1;
    nlen = nlen < sizeof name - 1 ? nlen : sizeof name - 1;
    memcpy(name, nl + 1, nlen);
    name[nlen] = '\0';
  }
  check_query(query, qlen, name, 128);
  check_query(query, qlen, name, 1 + qlen % 300);
  free(query);
  return 0;
}
