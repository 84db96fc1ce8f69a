/* fuzz_rtm_cluster — libFuzzer harness for RTM's cluster registrations: a pl:rtm:<id>
 * value as read back from Redis (rtmc_parse_value), and the same bytes as a --node-url
 * turned into a ws_endpoint (rtmc_ws_url), checked against their bounds. */
#include "api/rtm_cluster.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rtmc_where w;
  if (rtmc_parse_value((const char *)data, size, &w)) {
    CHECK(w.found);
    CHECK(w.node_id[0] && strlen(w.node_id) < sizeof w.node_id);
    CHECK(strlen(w.cid) < sizeof w.cid);
    CHECK(w.ws_endpoint[0] && strlen(w.ws_endpoint) < sizeof w.ws_endpoint);
  } else {
    CHECK(!w.found);
  }
  char *url = malloc(size + 1); /* NUL-terminated, as a flag's value is */
  if (!url)
    return 0;
  memcpy(url, data, size);
  url[size] = '\0';
  char out[64];
  if (rtmc_ws_url(url, out, sizeof out)) {
    CHECK(strlen(out) < sizeof out);
    CHECK(strncmp(out, "ws://", 5) == 0 || strncmp(out, "wss://", 6) == 0);
  }
  free(url);
  return 0;
}
