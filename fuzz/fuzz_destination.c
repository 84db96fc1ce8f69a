/* fuzz_destination — libFuzzer harness for the destination rules applied to URLs clients
 * send (upload_url, webhook_url): no crash, a refusal always comes with a reason, and a
 * URL that curl would send to a loopback address on the listener's port, or on any port
 * by default, is refused (checked against getaddrinfo's numeric parse, whatever the
 * spelling). */
#include "delivery/destination.h"

#include "check.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* True if curl would connect to a loopback address for this URL, on port port if it is
 * not NULL. */
static int reaches_loopback(const char *url, const char *want_port) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int hit = 0;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
      (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
      (!want_port || strcmp(port, want_port) == 0)) {
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[') {
      memmove(host, host + 1, n - 2);
      host[n - 2] = '\0';
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) == 0) {
      for (struct addrinfo *ai = res; ai && !hit; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
          const uint8_t *a =
              (const uint8_t *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
          hit = a[0] == 127;
        } else if (ai->ai_family == AF_INET6) {
          const struct in6_addr *a = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
          hit = IN6_IS_ADDR_LOOPBACK(a) ||
                (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
        }
      }
      freeaddrinfo(res);
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return hit;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  char *url = malloc(len + 1);
  memcpy(url, data, len);
  url[len] = '\0';
  static const char *const allow[] = {"hooks.example.com", "*.example.org", NULL};
  char why[200];
  for (int i = 0; i < 2; i++) {
    why[0] = '\0';
    destination_rules rules = {.allow = i ? allow : NULL,
                               .allow_private = i,
                               .self_host_port = "127.0.0.1:8080"};
    int rc = destination_check(url, &rules, why, sizeof why);
    if (rc == 0 && !i && reaches_loopback(url, NULL))
      CHECK(!"a URL to a loopback address was allowed by default");
    CHECK(rc == 0 || (rc == -1 && why[0] != '\0'));
    if (rc == 0 && reaches_loopback(url, "8080"))
      CHECK(!"a URL to parleyd's own listener was allowed");
  }
  char **list = destination_list_parse(url);
  for (char **p = list; p && *p; p++)
    CHECK(**p != '\0' && strchr(*p, ',') == NULL);
  free(list);
  free(url);
  return 0;
}
