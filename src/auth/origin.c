/* origin — parsing and canonical spelling of web origins (RFC 6454 serialisation). */
#include "auth/origin.h"

#include <stdio.h>
#include <string.h>

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static int host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/* Length of the scheme prefix ("http://" or "https://"), 0 if neither; sets *tls. */
static size_t scheme_len(const char *in, size_t len, int *tls) {
  static const char http[] = "http://", https[] = "https://";
  for (int t = 0; t < 2; t++) {
    const char *s = t ? https : http;
    size_t n = strlen(s), i = 0;
    while (i < n && i < len && lower(in[i]) == s[i])
      i++;
    if (i == n) {
      *tls = t;
      return n;
    }
  }
  return 0;
}

/* Host part [at, end): copied lowercased into host; returns its length or -1. */
static int parse_host(const char *in, size_t at, size_t end, char *host, size_t cap) {
  size_t n = end - at;
  if (n == 0 || n >= cap)
    return -1;
  int v6 = in[at] == '[';
  if (v6 && (n < 4 || in[end - 1] != ']'))
    return -1;
  for (size_t i = 0; i < n; i++) {
    char c = lower(in[at + i]);
    int inside = v6 && i > 0 && i + 1 < n;
    if (v6 ? (inside && !ipv6_char(c)) : !host_char(c))
      return -1;
    host[i] = c;
  }
  host[n] = '\0';
  /* A name cannot start or end with a dot or hyphen, nor contain an empty label. */
  if (!v6 && (host[0] == '.' || host[0] == '-' || host[n - 1] == '.' ||
              host[n - 1] == '-' || strstr(host, "..")))
    return -1;
  return (int)n;
}

/* Port digits [at, end): 1-65535, leading zeros allowed; returns the number or -1. */
static long parse_port(const char *in, size_t at, size_t end) {
  if (at == end || end - at > 5)
    return -1;
  long port = 0;
  for (size_t i = at; i < end; i++) {
    if (in[i] < '0' || in[i] > '9')
      return -1;
    port = port * 10 + (in[i] - '0');
  }
  return (port >= 1 && port <= 65535) ? port : -1;
}

int origin_normalise(const char *in, size_t len, char *out, size_t outlen) {
  int tls = 0;
  size_t at = scheme_len(in, len, &tls);
  if (at == 0 || len > 2 * ORIGIN_MAX_LEN)
    return -1;
  /* The port starts at the last ':' after any IPv6 literal's closing bracket. */
  const char *bracket = memchr(in + at, ']', len - at);
  size_t search = bracket ? (size_t)(bracket - in) : at;
  size_t colon = len;
  for (size_t i = search; i < len; i++)
    if (in[i] == ':')
      colon = i;
  char host[ORIGIN_MAX_LEN + 1];
  if (parse_host(in, at, colon, host, sizeof host) < 0)
    return -1;
  long port = colon < len ? parse_port(in, colon + 1, len) : 0;
  if (port < 0)
    return -1;
  if (port == (tls ? 443 : 80))
    port = 0;
  char port_text[24] = ""; /* ":65535" fits; room for any long keeps -Wformat quiet */
  if (port)
    snprintf(port_text, sizeof port_text, ":%ld", port);
  int n = snprintf(out, outlen, "%s://%s%s", tls ? "https" : "http", host, port_text);
  if (n < 0 || (size_t)n >= outlen || n > ORIGIN_MAX_LEN)
    return -1;
  return n;
}
