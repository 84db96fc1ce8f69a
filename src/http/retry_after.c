/* retry_after — Retry-After header parsing: delta-seconds by hand, HTTP-dates through
 * libcurl's curl_getdate (which reads the RFC 1123, RFC 850 and asctime forms). */
#include "http/retry_after.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int delta_seconds(const char *v, size_t len) {
  long long n = 0;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    if (n <= RETRY_AFTER_MAX_S) /* stop growing once past the cap: no overflow */
      n = n * 10 + (v[i] - '0');
  }
  return n > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)n;
}

static int http_date(const char *v, size_t len, time_t now) {
  char text[64];
  if (len >= sizeof text || memchr(v, '\0', len))
    return -1;
  memcpy(text, v, len);
  text[len] = '\0';
  time_t when = curl_getdate(text, NULL);
  if (when == (time_t)-1)
    return -1;
  if (when <= now)
    return 0;
  return when - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)(when - now);
}

int retry_after_value(const char *value, size_t len, time_t now) {
  while (len && is_space(*value))
    value++, len--;
  while (len && is_space(value[len - 1]))
    len--;
  if (len == 0)
    return -1;
  if (value[0] >= '0' && value[0] <= '9')
    return delta_seconds(value, len);
  return http_date(value, len, now);
}

int retry_after_header(const char *line, size_t len, time_t now, int *seconds) {
  static const char name[] = "retry-after:";
  const size_t n = sizeof name - 1;
  if (len < n || strncasecmp(line, name, n) != 0)
    return 0;
  *seconds = retry_after_value(line + n, len - n, now);
  return 1;
}
