/* fuzz_destination — libFuzzer harness for the destination rules applied to URLs clients
 * send (upload_url, webhook_url): no crash, and a refusal always comes with a reason. */
#include "delivery/destination.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  char *url = malloc(len + 1);
  memcpy(url, data, len);
  url[len] = '\0';
  static const char *const allow[] = {"hooks.example.com", "*.example.org", NULL};
  char why[200];
  for (int i = 0; i < 2; i++) {
    why[0] = '\0';
    int rc = destination_check(url, i ? allow : NULL, "127.0.0.1:8080", why, sizeof why);
    CHECK(rc == 0 || (rc == -1 && why[0] != '\0'));
  }
  char **list = destination_list_parse(url);
  for (char **p = list; p && *p; p++)
    CHECK(**p != '\0' && strchr(*p, ',') == NULL);
  free(list);
  free(url);
  return 0;
}
