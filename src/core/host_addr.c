/* host_addr — the media addresses we announce: the ones an operator lists (--media-ip),
 * or, when media listens on a wildcard, this host's own interface addresses. */
#include "core/host_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

bool host_addr_is_wildcard(const char *host) {
  return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
         strcmp(host, "[::]") == 0;
}

bool host_addr_is_ipv6(const char *host) { return strchr(host, ':') != NULL; }

void host_addr_unbracket(const char *host, char out[HOST_ADDR_LEN]) {
  size_t len = strlen(host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    host++;
    len -= 2;
  }
  if (len >= HOST_ADDR_LEN)
    len = HOST_ADDR_LEN - 1;
  memcpy(out, host, len);
  out[len] = '\0';
}

static bool is_literal(const char *a) {
  struct in6_addr buf;
  return inet_pton(AF_INET, a, &buf) == 1 || inet_pton(AF_INET6, a, &buf) == 1;
}

static bool contains(const host_addr_list *l, const char *a) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->addr[i], a) == 0)
      return true;
  return false;
}

static void add(host_addr_list *l, const char *a) {
  if (l->n < HOST_ADDR_MAX && !contains(l, a))
    snprintf(l->addr[l->n++], HOST_ADDR_LEN, "%s", a);
}

int host_addr_parse_list(const char *csv, host_addr_list *out, char *err, size_t errlen) {
  out->n = 0;
  const char *p = csv;
  while (*p) {
    size_t len = strcspn(p, ",");
    char item[HOST_ADDR_LEN + 2], bare[HOST_ADDR_LEN];
    while (len && (*p == ' ' || *p == '\t'))
      p++, len--;
    if (len == 0 || len >= sizeof item) {
      snprintf(err, errlen, "an empty or overlong address in \"%.200s\"", csv);
      return -1;
    }
    memcpy(item, p, len);
    item[len] = '\0';
    host_addr_unbracket(item, bare);
    if (!is_literal(bare) || host_addr_is_wildcard(bare)) {
      snprintf(err, errlen, "\"%.60s\" is not an IP address to announce", item);
      return -1;
    }
    if (out->n == HOST_ADDR_MAX && !contains(out, bare)) {
      snprintf(err, errlen, "more than %d addresses in \"%.200s\"", HOST_ADDR_MAX, csv);
      return -1;
    }
    add(out, bare);
    p += len;
    if (*p == ',')
      p++;
  }
  if (out->n == 0) {
    snprintf(err, errlen, "no address given");
    return -1;
  }
  return 0;
}

static bool usable(const uv_interface_address_t *ifa) {
  if (ifa->is_internal)
    return false;
  if (ifa->address.address4.sin_family == AF_INET) {
    uint32_t a = ntohl(ifa->address.address4.sin_addr.s_addr);
    return (a >> 24) != 127 && (a >> 16) != 0xa9fe; /* loopback, 169.254/16 */
  }
  const struct in6_addr *a6 = &ifa->address.address6.sin6_addr;
  return !IN6_IS_ADDR_LOOPBACK(a6) && !IN6_IS_ADDR_LINKLOCAL(a6) &&
         !IN6_IS_ADDR_V4MAPPED(a6);
}

static void pick_family(const uv_interface_address_t *ifs, int n, int family,
                        host_addr_list *out) {
  for (int i = 0; i < n; i++) {
    const uv_interface_address_t *ifa = &ifs[i];
    if (ifa->address.address4.sin_family != family || !usable(ifa))
      continue;
    char text[HOST_ADDR_LEN];
    const void *raw = family == AF_INET ? (const void *)&ifa->address.address4.sin_addr
                                        : (const void *)&ifa->address.address6.sin6_addr;
    if (inet_ntop(family, raw, text, sizeof text))
      add(out, text);
  }
}

void host_addr_pick(const uv_interface_address_t *ifs, int n, bool v6,
                    host_addr_list *out) {
  /* IPv4 first: the answer's c= line takes the first, and IPv4-only clients still
   * outnumber the rest; the candidates' priorities follow the same order. */
  pick_family(ifs, n, AF_INET, out);
  if (v6)
    pick_family(ifs, n, AF_INET6, out);
}

void host_addr_of_host(bool v6, host_addr_list *out) {
  uv_interface_address_t *ifs;
  int n;
  out->n = 0;
  if (uv_interface_addresses(&ifs, &n) != 0)
    return;
  host_addr_pick(ifs, n, v6, out);
  uv_free_interface_addresses(ifs, n);
}

bool host_addr_ipv6_available(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

void host_addr_join(const host_addr_list *l, char *out, size_t outlen) {
  size_t at = 0;
  out[0] = '\0';
  for (int i = 0; i < l->n && at < outlen; i++) {
    int w = snprintf(out + at, outlen - at, "%s%s", i ? ", " : "", l->addr[i]);
    if (w < 0)
      break;
    at += (size_t)w;
  }
}
