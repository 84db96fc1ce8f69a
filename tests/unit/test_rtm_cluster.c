/* test_rtm_cluster — RTM in cluster mode, the pure parts: a node's ws_endpoint from its
 * --node-url, and pl:rtm:<id> values read back from Redis (malformed ones refused). */
#include "api/rtm_cluster.h"

#include "check.h"

#include <string.h>

static void test_ws_url(void) {
  char out[300];
  CHECK(rtmc_ws_url("http://10.0.0.5:8080", out, sizeof out));
  CHECK_STR(out, "ws://10.0.0.5:8080/api/rtm/v1/io");
  CHECK(rtmc_ws_url("HTTPS://rtm.example.com/some/path?q=1", out, sizeof out));
  CHECK_STR(out, "wss://rtm.example.com/api/rtm/v1/io");
  CHECK(rtmc_ws_url("http://[::1]:9/", out, sizeof out));
  CHECK_STR(out, "ws://[::1]:9/api/rtm/v1/io");
  CHECK(!rtmc_ws_url("ftp://h", out, sizeof out));
  CHECK(!rtmc_ws_url("http://", out, sizeof out));
  CHECK(!rtmc_ws_url("http://a-rather-long-host-name", out, 20)); /* never cut */
}

static bool parse(const char *v, rtmc_where *w) {
  return rtmc_parse_value(v, strlen(v), w);
}

static void test_parse_value(void) {
  rtmc_where w;
  CHECK(parse("n1\nacme\nws://127.0.0.1:8080/api/rtm/v1/io", &w));
  CHECK(w.found);
  CHECK_STR(w.node_id, "n1");
  CHECK_STR(w.cid, "acme");
  CHECK_STR(w.ws_endpoint, "ws://127.0.0.1:8080/api/rtm/v1/io");
  CHECK(!parse("n1", &w) && !w.found);
  CHECK(!parse("n1\nacme", &w) && !w.found);
  CHECK(!parse("\nacme\nws://h/x", &w));
  CHECK(!parse("n1\nacme\n", &w));
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  memcpy(big, "n\nc\n", 4);
  CHECK(!parse(big, &w));                       /* an endpoint longer than we keep */
  CHECK(!rtmc_parse_value("n1\nc\n\0", 6, &w)); /* a NUL would cut a part short */
}

int main(void) {
  test_ws_url();
  test_parse_value();
  CHECK_DONE();
}
