/* test_whip_request — WHIP's pure request parsing: paths, Content-Type, Bearer tokens,
 * key-or-JWT, and the Link headers made from ICE servers (RFC 9725 §4.6). */
#include "api/whip_request.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

static int route(const char *path, whip_route *r) {
  return whip_route_parse(path, strlen(path), r);
}

static void test_route(void) {
  whip_route r;
  CHECK(route("/api/rtc/v1/whip/live", &r) == 0);
  CHECK(r.kind == WHIP_ENDPOINT);
  CHECK_STR(r.sid, "live");
  CHECK_STR(r.rid, "");
  CHECK(route("/api/rtc/v1/whip/room%3A1/Ab_-9", &r) == 0);
  CHECK(r.kind == WHIP_RESOURCE);
  CHECK_STR(r.sid, "room:1");
  CHECK_STR(r.rid, "Ab_-9");
  CHECK(route("/api/rtc/v1/rtc", &r) == -1);
  CHECK(route("/api/rtc/v1/whip", &r) == -1);
  CHECK(route("/api/rtc/v1/whip/", &r) == -2);
  CHECK(route("/api/rtc/v1/whip/a/b/c", &r) == -2);
  CHECK(route("/api/rtc/v1/whip/a%2", &r) == -2);
  CHECK(route("/api/rtc/v1/whip/a%2Fb", &r) == -2); /* '/' is not an id character */
  CHECK(route("/api/rtc/v1/whip/a/b.c", &r) == -2); /* rids are base64url */
  char long_sid[100];
  memset(long_sid, 's', sizeof long_sid);
  snprintf(long_sid, sizeof long_sid, "/api/rtc/v1/whip/%065d", 0);
  CHECK(route(long_sid, &r) == -2);
}

static bool sdp(const char *v) { return whip_content_type_is_sdp(v, strlen(v)); }

static void test_content_type(void) {
  CHECK(sdp("application/sdp"));
  CHECK(sdp("Application/SDP"));
  CHECK(sdp(" application/sdp ; charset=utf-8"));
  CHECK(!sdp("application/sdpx"));
  CHECK(!sdp("application/json"));
  CHECK(!sdp("text/plain"));
  CHECK(!sdp(""));
}

static void test_bearer(void) {
  char out[64];
  const char *v = "Bearer abc.def-ghi";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == 0);
  CHECK_STR(out, "abc.def-ghi");
  v = "  bearer   tok  ";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == 0);
  CHECK_STR(out, "tok");
  v = "Basic dXNlcjpwdw==";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == -1);
  v = "Bearer ";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == -1);
  v = "Bearertok";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == -1);
  v = "Bearer a b";
  CHECK(whip_bearer(v, strlen(v), out, sizeof out) == -1);
  v = "Bearer 0123456789";
  CHECK(whip_bearer(v, strlen(v), out, 10) == -1); /* does not fit */
  CHECK(whip_bearer(v, strlen(v), out, 11) == 0);
  char key[API_KEY_LEN + 1];
  memset(key, 'k', API_KEY_LEN);
  memcpy(key, "pk_", 3);
  key[API_KEY_LEN] = '\0';
  CHECK(whip_token_is_key(key));
  CHECK(!whip_token_is_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
  CHECK(!whip_token_is_key("pk_short"));
}

static char links[4][300];
static size_t n_links;
static void add(void *ud, const char *value, size_t len) {
  (void)ud;
  if (n_links < 4)
    snprintf(links[n_links++], sizeof links[0], "%.*s", (int)len, value);
}

static void test_links(void) {
  const char *text = "[{\"urls\":[\"stun:stun.example.net:3478\"]},"
                     "{\"urls\":[\"turn:t.example:3478?transport=udp\",\"turns:t.example:"
                     "443?transport=tcp\"],"
                     "\"username\":\"1700000000:u-1\",\"credential\":\"c2VjcmV0\"},"
                     "{\"urls\":[\"stun:bad\\\"quote\"]}]";
  json_t *servers = json_loads(text, 0, NULL);
  CHECK(servers != NULL);
  CHECK(whip_link_headers(servers, add, NULL) == 3);
  CHECK(n_links == 3);
  CHECK_STR(links[0], "<stun:stun.example.net:3478>; rel=\"ice-server\"");
  CHECK_STR(links[1], "<turn:t.example:3478?transport=udp>; rel=\"ice-server\"; "
                      "username=\"1700000000:u-1\"; credential=\"c2VjcmV0\"; "
                      "credential-type=\"password\"");
  CHECK(strncmp(links[2], "<turns:t.example:443?transport=tcp>", 35) == 0);
  json_decref(servers);
  n_links = 0;
  json_t *empty = json_array();
  CHECK(whip_link_headers(empty, add, NULL) == 0 && n_links == 0);
  json_decref(empty);
}

int main(void) {
  test_route();
  test_content_type();
  test_bearer();
  test_links();
  CHECK_DONE();
}
