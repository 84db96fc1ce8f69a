/* fuzz_whip_request — libFuzzer harness for WHIP's request parsing (api/whip_request.c):
 * the path, the Content-Type and Authorization values, and Link headers made from an
 * ICE server list parsed from the input as JSON. */
#include "api/whip_request.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

/* Exact-size heap copies: h2o's buffers are not NUL-terminated. */
static char *copy(const uint8_t *data, size_t len) {
  char *p = malloc(len ? len : 1);
  if (len)
    memcpy(p, data, len);
  return p;
}

static void check_route(const char *path, size_t len) {
  whip_route r;
  int rc = whip_route_parse(path, len, &r);
  CHECK(rc == 0 || rc == -1 || rc == -2);
  CHECK(strnlen(r.sid, sizeof r.sid) < sizeof r.sid);
  CHECK(strnlen(r.rid, sizeof r.rid) < sizeof r.rid);
  if (rc != 0)
    return;
  CHECK(r.kind == WHIP_ENDPOINT || r.kind == WHIP_RESOURCE);
  CHECK(pubsub_id_ok(r.sid));
  CHECK((r.kind == WHIP_RESOURCE) == (r.rid[0] != '\0'));
  CHECK(!strchr(r.sid, '/') && !strchr(r.rid, '/'));
}

static void check_bearer(const char *v, size_t len, size_t cap) {
  char out[300];
  memset(out, 0x5a, sizeof out);
  if (whip_bearer(v, len, out, cap) != 0)
    return;
  size_t n = strlen(out);
  CHECK(n > 0 && n < cap && n < len);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)out[i] > ' ' && (unsigned char)out[i] < 0x7f);
  CHECK(memmem(v, len, out, n) != NULL);
  for (size_t i = n + 1; i < sizeof out; i++)
    CHECK(out[i] == 0x5a);
}

static size_t added_bytes;
static void add(void *ud, const char *value, size_t len) {
  (void)ud;
  CHECK(strlen(value) == len && value[0] == '<');
  CHECK(strstr(value, ">; rel=\"ice-server\"") != NULL);
  for (size_t i = 0; i < len; i++)
    CHECK((unsigned char)value[i] >= ' ' && value[i] != '\r' && value[i] != '\n');
  added_bytes += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *whole = copy(data, size);
  check_route(whole, size);
  /* The input after WHIP_PREFIX, so every byte reaches the segment code. */
  size_t plen = strlen(WHIP_PREFIX);
  char *path = malloc(plen + size + 1);
  memcpy(path, WHIP_PREFIX, plen);
  if (size)
    memcpy(path + plen, data, size);
  check_route(path, plen + size);
  free(path);
  (void)whip_content_type_is_sdp(whole, size);
  check_bearer(whole, size, 300);
  check_bearer(whole, size, size ? 1 + data[0] % 64 : 1);
  free(whole);

  json_t *servers = json_loadb((const char *)data, size, 0, NULL);
  if (servers) {
    size_t n = whip_link_headers(servers, add, NULL);
    CHECK(n == 0 || added_bytes > 0);
    json_decref(servers);
  }
  return 0;
}
