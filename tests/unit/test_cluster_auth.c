/* test_cluster_auth — relay headers and cluster tokens: what one node signs another
 * accepts, and a changed byte, another secret, another path, room or an old time is
 * refused. */
#include "auth/cluster_auth.h"
#include "check.h"

#include <string.h>

static const uint8_t key[] = "0123456789abcdef0123456789abcdef";
static const uint8_t other[] = "0123456789abcdef0123456789abcdeX";
#define KL 32

static void test_relay_header(void) {
  char h[RELAY_HEADER_MAX + 1], id[RELAY_NODE_ID_MAX];
  const char *path = "/api/client/v2/conferences/room/events?token=x";
  int64_t now = 1700000000123;
  int n =
      relay_header_sign(key, KL, "node-a", now, "GET", path, strlen(path), h, sizeof h);
  CHECK(n > 0 && (size_t)n == strlen(h));
  CHECK(strncmp(h, "node-a 1700000000123 ", 21) == 0 && strlen(h) == 21 + 64);
  CHECK(relay_header_verify(key, KL, h, (size_t)n, now + 29000, "GET", path, strlen(path),
                            id) == RELAY_OK);
  CHECK_STR(id, "node-a");
  CHECK(relay_header_verify(key, KL, h, (size_t)n, now - 29000, "GET", path, strlen(path),
                            id) == RELAY_OK);
  CHECK(relay_header_verify(key, KL, h, (size_t)n, now + 31000, "GET", path, strlen(path),
                            id) == RELAY_STALE);
  CHECK(relay_header_verify(other, KL, h, (size_t)n, now, "GET", path, strlen(path),
                            id) == RELAY_BAD_MAC);
  CHECK(relay_header_verify(key, KL, h, (size_t)n, now, "POST", path, strlen(path), id) ==
        RELAY_BAD_MAC);
  CHECK(relay_header_verify(key, KL, h, (size_t)n, now, "GET", path, strlen(path) - 1,
                            id) == RELAY_BAD_MAC);
  char bad[sizeof h];
  memcpy(bad, h, sizeof h);
  bad[n - 1] = bad[n - 1] == '0' ? '1' : '0';
  CHECK(relay_header_verify(key, KL, bad, (size_t)n, now, "GET", path, strlen(path),
                            id) == RELAY_BAD_MAC);
  memcpy(bad, h, sizeof h);
  bad[5] = 'b'; /* another node's name with this node's MAC */
  CHECK(relay_header_verify(key, KL, bad, (size_t)n, now, "GET", path, strlen(path),
                            id) == RELAY_BAD_MAC);
  const char *junk[] = {"",          "node", "node 12", "node 12 zz", " 12 " /* no id */,
                        "node x1 00"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
    CHECK(relay_header_verify(key, KL, junk[i], strlen(junk[i]), now, "GET", path,
                              strlen(path), id) == RELAY_MALFORMED);
  CHECK(relay_header_sign(key, KL, "has space", now, "GET", path, strlen(path), h,
                          sizeof h) == -1);
  CHECK(relay_header_sign(key, KL, "", now, "GET", path, strlen(path), h, sizeof h) ==
        -1);
}

static void test_token(void) {
  const char *rnd = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_";
  const char *uuid = "0f6b7a3e-1b2c-4d5e-8f90-123456789abc";
  char t[CTOKEN_MAX], u[65];
  int n = ctoken_make(key, KL, rnd, "room", uuid, 2000, t, sizeof t);
  CHECK(n > 0 && (size_t)n == strlen(t) && n < 128);
  CHECK(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
        (size_t)n);
  CHECK(ctoken_check(key, KL, t, (size_t)n, "room", 1999, u) == CTOKEN_OK);
  CHECK_STR(u, uuid);
  CHECK(ctoken_check(key, KL, t, (size_t)n, "room", 2000, u) == CTOKEN_EXPIRED);
  CHECK(ctoken_check(key, KL, t, (size_t)n, "room2", 1000, u) == CTOKEN_BAD_MAC);
  CHECK(ctoken_check(other, KL, t, (size_t)n, "room", 1000, u) == CTOKEN_BAD_MAC);
  /* a longer life, a changed uuid or random part: the MAC no longer fits */
  char forged[CTOKEN_MAX];
  snprintf(forged, sizeof forged, "%.*s.%s.9999999999.%s", 43, t, uuid, t + n - 22);
  CHECK(ctoken_check(key, KL, forged, strlen(forged), "room", 1000, u) == CTOKEN_BAD_MAC);
  memcpy(forged, t, (size_t)n + 1);
  forged[0] = 'B';
  CHECK(ctoken_check(key, KL, forged, (size_t)n, "room", 1000, u) == CTOKEN_BAD_MAC);
  /* a single node's plain token, and junk */
  CHECK(ctoken_check(key, KL, rnd, 43, "room", 1000, u) == CTOKEN_MALFORMED);
  CHECK(ctoken_check(key, KL, "x", 1, "room", 1000, u) == CTOKEN_MALFORMED);
  CHECK(ctoken_make(key, KL, rnd, "room", "bad uuid", 2000, t, sizeof t) == -1);
  CHECK(ctoken_make(key, KL, "short", "room", uuid, 2000, t, sizeof t) == -1);
}

int main(void) {
  test_relay_header();
  test_token();
  CHECK_DONE();
}
