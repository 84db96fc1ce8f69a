/* destination — URL and address checks for outgoing requests, using libcurl's own URL
 * parser so that what we check is exactly what curl will connect to. */
#include "delivery/destination.h"

#include "core/mem.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
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

/* A host as an address: IPv4 in a[0..3], or IPv6 in a[0..15]. IPv4-mapped
 * (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6 addresses count as the IPv4
 * address they carry: a connection to [::ffff:127.0.0.1] reaches 127.0.0.1. */
typedef struct {
  int family; /* AF_INET, AF_INET6, or 0: a name, not an address */
  uint8_t a[16];
} host_addr;

static void set_v6(host_addr *h, const uint8_t v6[16]) {
  static const uint8_t zero[10] = {0};
  bool v4_in_v6 = memcmp(v6, zero, 10) == 0 &&
                  ((v6[10] == 0xff && v6[11] == 0xff) || /* mapped */
                   (v6[10] == 0 && v6[11] == 0 &&        /* compatible, not :: or ::1 */
                    (v6[12] | v6[13] | v6[14]) != 0));
  uint8_t a[16];
  memcpy(a, v6, 16);
  memset(h->a, 0, 16);
  if (v4_in_v6) {
    memcpy(h->a, a + 12, 4);
    h->family = AF_INET;
  } else {
    memcpy(h->a, a, 16);
    h->family = AF_INET6;
  }
}

static host_addr parse_host(const char *host) {
  host_addr h = {0};
  char text[INET6_ADDRSTRLEN + 2];
  size_t len = strlen(host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') { /* curl keeps the brackets */
    host++;
    len -= 2;
  }
  if (len >= sizeof text)
    return h;
  memcpy(text, host, len);
  text[len] = '\0';
  if (inet_pton(AF_INET, text, h.a) == 1)
    h.family = AF_INET;
  else if (inet_pton(AF_INET6, text, h.a) == 1)
    set_v6(&h, h.a);
  return h;
}

/* "localhost", "LOCALHOST." or a name under .localhost: curl (like the resolver)
 * answers these with a loopback address without asking DNS (RFC 6761). */
static bool is_localhost_name(const char *host) {
  size_t n = strlen(host);
  if (n > 0 && host[n - 1] == '.')
    n--;
  static const char name[] = "localhost";
  size_t k = sizeof name - 1;
  return n >= k && strncasecmp(host + n - k, name, k) == 0 &&
         (n == k || host[n - k - 1] == '.');
}

/* Loopback (127.0.0.0/8, ::1) or unspecified (0.0.0.0/8, ::): a connection to it stays
 * on this machine. */
static bool is_local_addr(const host_addr *h) {
  static const uint8_t zero[15] = {0};
  if (h->family == AF_INET)
    return h->a[0] == 127 || h->a[0] == 0;
  return h->family == AF_INET6 && memcmp(h->a, zero, 15) == 0 && h->a[15] <= 1;
}

static bool is_unspecified(const host_addr *h) {
  static const uint8_t zero[16] = {0};
  return (h->family == AF_INET && memcmp(h->a, zero, 4) == 0) ||
         (h->family == AF_INET6 && memcmp(h->a, zero, 16) == 0);
}

static host_addr self_addr(const char *self_host_port, long port, bool *same_port,
                           char *self_host, size_t n) {
  const char *colon = self_host_port ? strrchr(self_host_port, ':') : NULL;
  *same_port = colon && atol(colon + 1) == port;
  snprintf(self_host, n, "%.*s", colon ? (int)(colon - self_host_port) : 0,
           self_host_port ? self_host_port : "");
  return parse_host(self_host);
}

/* Same port and the same host, or both sides local: the request would reach parleyd.
 * Hosts are compared as addresses where they are addresses (so that [::ffff:7f00:1],
 * [0:0::1] or 2130706433 are the addresses they spell), as names otherwise. */
static bool is_self(const char *host, const host_addr *target, long port,
                    const char *self_host_port) {
  char self_host[128];
  bool same_port;
  host_addr self =
      self_addr(self_host_port, port, &same_port, self_host, sizeof self_host);
  if (!same_port)
    return false;
  if ((host && is_localhost_name(host)) || is_local_addr(target) || is_unspecified(&self))
    return true;
  if (target->family && target->family == self.family)
    return memcmp(target->a, self.a, target->family == AF_INET ? 4 : 16) == 0;
  return host && !target->family && !self.family && strcasecmp(self_host, host) == 0;
}

/* What kind of address that stays inside this machine or its networks h is, or NULL for
 * a public one. */
static const char *private_kind(const host_addr *h) {
  const uint8_t *a = h->a;
  static const uint8_t zero[15] = {0};
  if (h->family == AF_INET) {
    if (a[0] == 0)
      return "an unspecified address";
    if (a[0] == 127)
      return "a loopback address";
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
        (a[0] == 192 && a[1] == 168))
      return "a private address";
    if (a[0] == 100 && (a[1] & 0xc0) == 64)
      return "a shared (CGNAT) address";
    if (a[0] == 169 && a[1] == 254)
      return "a link-local address";
  } else if (h->family == AF_INET6) {
    if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
      return a[15] ? "a loopback address" : "an unspecified address";
    if ((a[0] & 0xfe) == 0xfc)
      return "a unique-local address";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
      return "a link-local address";
  }
  return NULL;
}

/* An address the allow-list names as an address (not a name, not "*.domain"). */
static bool listed_address(const host_addr *h, const char *const *allow) {
  for (const char *const *e = allow; e && *e; e++) {
    host_addr x = parse_host(*e);
    if (x.family && x.family == h->family &&
        memcmp(x.a, h->a, h->family == AF_INET ? 4 : 16) == 0)
      return true;
  }
  return false;
}

static int refuse(char *reason, size_t n, const char *why) {
  snprintf(reason, n, "%s", why);
  return -1;
}

/* The private-address rule for an address; text is how it was written, for the reason. */
static int check_address(const host_addr *h, const char *text,
                         const destination_rules *rules, char *reason, size_t n) {
  const char *kind = private_kind(h);
  if (!kind || rules->allow_private || listed_address(h, rules->allow))
    return 0;
  snprintf(reason, n, "%s is %s, refused (see allow-private-destinations)", text, kind);
  return -1;
}

static bool on_allow_list(const char *host, const char *const *allow) {
  for (const char *const *a = allow; a && *a; a++)
    if (host_matches(host, *a))
      return true;
  return !allow;
}

static int check_parts(CURLU *u, const destination_rules *rules, char *reason, size_t n) {
  char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL;
  int rc = 0;
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  curl_url_get(u, CURLUPART_USER, &user, 0);
  curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
  host_addr target = host ? parse_host(host) : (host_addr){0};
  if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
    rc = refuse(reason, n, "only http and https URLs are allowed");
  else if (user || password)
    rc = refuse(reason, n, "URLs with a user name or password are not allowed");
  else if (!host || !*host)
    rc = refuse(reason, n, "the URL has no host");
  else if (is_self(host, &target, port ? atol(port) : 0, rules->self_host_port))
    rc = refuse(reason, n, "the URL points at this server");
  else if (!on_allow_list(host, rules->allow))
    rc = refuse(reason, n, "the URL's host is not on the allow-list");
  else
    rc = check_address(&target, host, rules, reason, n);
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(user);
  curl_free(password);
  return rc;
}

int destination_check(const char *url, const destination_rules *rules, char *reason,
                      size_t n) {
  if (!url || !*url)
    return refuse(reason, n, "no URL");
  if (strlen(url) > 4096)
    return refuse(reason, n, "the URL is longer than 4096 bytes");
  CURLU *u = curl_url();
  int rc;
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    rc = refuse(reason, n, "the URL cannot be parsed");
  else
    rc = check_parts(u, rules, reason, n);
  curl_url_cleanup(u);
  return rc;
}

int destination_check_addr(const struct sockaddr *sa, const destination_rules *rules,
                           char *reason, size_t n) {
  host_addr h = {0};
  long port = 0;
  char text[INET6_ADDRSTRLEN];
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    memcpy(h.a, &in->sin_addr, 4);
    h.family = AF_INET;
    port = ntohs(in->sin_port);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    set_v6(&h, in6->sin6_addr.s6_addr);
    port = ntohs(in6->sin6_port);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  } else {
    return refuse(reason, n, "not an internet address");
  }
  if (is_self(NULL, &h, port, rules->self_host_port))
    return refuse(reason, n, "the URL's host resolves to this server");
  return check_address(&h, text, rules, reason, n);
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
