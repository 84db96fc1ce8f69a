/* destination — URL checks for outgoing requests, using libcurl's own URL parser so that
 * what we check is exactly what curl will connect to. */
#include "delivery/destination.h"

#include "core/mem.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool host_matches(const char *host, const char *entry) {
  if (entry[0] == '*' && entry[1] == '.') {
    size_t hl = strlen(host), el = strlen(entry + 1); /* ".domain" */
    return hl > el && strcasecmp(host + hl - el, entry + 1) == 0;
  }
  return strcasecmp(host, entry) == 0;
}

static bool is_loopback_or_any(const char *host) {
  return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
         strcmp(host, "[::1]") == 0 || strcmp(host, "0.0.0.0") == 0 ||
         strcmp(host, "[::]") == 0 || strcmp(host, "::") == 0 ||
         strcmp(host, "::1") == 0 || strcmp(host, "0") == 0;
}

/* Same port and the same host, or both sides local: the request would reach parleyd. */
static bool is_self(const char *host, long port, const char *self_host_port) {
  const char *colon = self_host_port ? strrchr(self_host_port, ':') : NULL;
  if (!colon || atol(colon + 1) != port)
    return false;
  char self_host[128];
  snprintf(self_host, sizeof self_host, "%.*s", (int)(colon - self_host_port),
           self_host_port);
  if (strcasecmp(self_host, host) == 0)
    return true;
  return is_loopback_or_any(host) || strcmp(self_host, "0.0.0.0") == 0 ||
         strcmp(self_host, "::") == 0 || strcmp(self_host, "[::]") == 0;
}

static int refuse(char *reason, size_t n, const char *why) {
  snprintf(reason, n, "%s", why);
  return -1;
}

static int check_parts(CURLU *u, const char *const *allow, const char *self_host_port,
                       char *reason, size_t n) {
  char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL;
  int rc = 0;
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  curl_url_get(u, CURLUPART_USER, &user, 0);
  curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
  if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
    rc = refuse(reason, n, "only http and https URLs are allowed");
  else if (user || password)
    rc = refuse(reason, n, "URLs with a user name or password are not allowed");
  else if (!host || !*host)
    rc = refuse(reason, n, "the URL has no host");
  else if (is_self(host, port ? atol(port) : 0, self_host_port))
    rc = refuse(reason, n, "the URL points at this server");
  else if (allow) {
    bool ok = false;
    for (const char *const *a = allow; *a && !ok; a++)
      ok = host_matches(host, *a);
    if (!ok)
      rc = refuse(reason, n, "the URL's host is not on the allow-list");
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(user);
  curl_free(password);
  return rc;
}

int destination_check(const char *url, const char *const *allow,
                      const char *self_host_port, char *reason, size_t n) {
  if (!url || !*url)
    return refuse(reason, n, "no URL");
  if (strlen(url) > 4096)
    return refuse(reason, n, "the URL is longer than 4096 bytes");
  CURLU *u = curl_url();
  int rc;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    rc = refuse(reason, n, "the URL cannot be parsed");
  else
    rc = check_parts(u, allow, self_host_port, reason, n);
  curl_url_cleanup(u);
  return rc;
}

char **destination_list_parse(const char *csv) {
  if (!csv || !*csv)
    return NULL;
  size_t count = 1, len = strlen(csv);
  for (const char *p = csv; *p; p++)
    count += *p == ',' || *p == ' ' || *p == '\t';
  /* pointers, then the copied text, in one block */
  char **list = xcalloc(1, (count + 1) * sizeof *list + len + 1);
  char *text = (char *)(list + count + 1);
  memcpy(text, csv, len + 1);
  size_t k = 0;
  char *save = NULL;
  for (char *tok = strtok_r(text, ", \t", &save); tok;
       tok = strtok_r(NULL, ", \t", &save))
    list[k++] = tok;
  if (k == 0) {
    free(list);
    return NULL;
  }
  return list;
}
