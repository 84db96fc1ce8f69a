/* test_url — percent-decoding, path splitting and query parameters behave as the
 * client API needs: raw and encoded aliases, raw tokens, bad escapes refused. */
#include "check.h"
#include "http/url.h"

int main(void) {
  char out[64];
  CHECK(url_decode("meet%40example.com", 18, out, sizeof out) == 16);
  CHECK_STR(out, "meet@example.com");
  CHECK(url_decode("a+b%20c", 7, out, sizeof out) == 5);
  CHECK_STR(out, "a+b c");
  CHECK(url_decode("bad%zz", 6, out, sizeof out) == -1);
  CHECK(url_decode("cut%4", 5, out, sizeof out) == -1);
  CHECK(url_decode("nul%00", 6, out, sizeof out) == -1);
  CHECK(url_decode("toolong", 7, out, 4) == -1);

  url_segment segs[8];
  const char *p = "/api/client/v2/conferences/meet/theme/";
  int n = url_split_path(p, strlen(p), segs, 8);
  CHECK(n == 7);
  CHECK(segs[6].len == 0);
  CHECK(segs[4].len == 4 && memcmp(segs[4].ptr, "meet", 4) == 0);
  CHECK(url_split_path("/a/b/c/d/e/f/g/h/i", 18, segs, 8) == -1);

  const char *q = "id=3&token=abc-_DEF&x";
  CHECK(url_query_param(q, strlen(q), "token", out, sizeof out) == 8);
  CHECK_STR(out, "abc-_DEF");
  CHECK(url_query_param(q, strlen(q), "x", out, sizeof out) == 0);
  CHECK(url_query_param(q, strlen(q), "tok", out, sizeof out) == -1);
  CHECK_DONE();
}
