/* cidr — addresses and address ranges: parse, match, key. */
#include "core/cidr.h"

#include "core/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ::ffff:a.b.c.d is a.b.c.d. */
static void unmap(net_addr *a) {
  if (a->family == AF_INET6 && memcmp(a->bytes, v4_mapped, 12) == 0) {
    memmove(a->bytes, a->bytes + 12, 4);
    memset(a->bytes + 4, 0, 12);
    a->family = AF_INET;
  }
}

int net_addr_parse(const char *s, size_t len, net_addr *out) {
  char text[INET6_ADDRSTRLEN];
  if (len == 0 || len >= sizeof text)
    return -1;
  memcpy(text, s, len);
  text[len] = '\0';
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, text, out->bytes) == 1) {
    out->family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, text, out->bytes) == 1) {
    out->family = AF_INET6;
    unmap(out);
    return 0;
  }
  return -1;
}

int net_addr_from_sockaddr(const struct sockaddr *sa, net_addr *out) {
  memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET) {
    out->family = AF_INET;
    memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    out->family = AF_INET6;
    memcpy(out->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    unmap(out);
    return 0;
  }
  return -1;
}

size_t net_addr_key(const net_addr *a, unsigned char key[17]) {
  size_t n = a->family == AF_INET6 ? 16 : 4;
  key[0] = (unsigned char)a->family;
  memcpy(key + 1, a->bytes, n);
  return n + 1;
}

void net_addr_format(const net_addr *a, char *out, size_t outlen) {
  if (!inet_ntop(a->family, a->bytes, out, (socklen_t)outlen) && outlen)
    out[0] = '\0';
}

/* One item: "ADDR" or "ADDR/BITS". */
static int parse_item(const char *s, size_t len, cidr *out) {
  const char *slash = memchr(s, '/', len);
  size_t alen = slash ? (size_t)(slash - s) : len;
  if (net_addr_parse(s, alen, &out->net) != 0)
    return -1;
  int max = out->net.family == AF_INET ? 32 : 128;
  out->bits = max;
  if (!slash)
    return 0;
  /* A mapped range (::ffff:10.0.0.0/104) was unmapped above: its prefix counts the
   * 96 bits that went with it. */
  char bits[8];
  size_t blen = len - alen - 1;
  if (blen == 0 || blen >= sizeof bits)
    return -1;
  memcpy(bits, slash + 1, blen);
  bits[blen] = '\0';
  char *end;
  errno = 0;
  long b = strtol(bits, &end, 10);
  if (errno || *end || b < 0)
    return -1;
  if (out->net.family == AF_INET && memchr(s, ':', alen))
    b -= 96;
  if (b < 0 || b > max)
    return -1;
  out->bits = (int)b;
  return 0;
}

int cidr_list_parse(const char *text, cidr_list *out, char *err, size_t errlen) {
  out->v = NULL;
  out->n = 0;
  for (const char *p = text; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t len = strcspn(p, ", ");
    if (len == 0)
      break;
    cidr c;
    if (parse_item(p, len, &c) != 0) {
      snprintf(err, errlen, "\"%.*s\" is not an address or ADDR/BITS range", (int)len, p);
      cidr_list_free(out);
      return -1;
    }
    out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
    out->v[out->n++] = c;
    p += len;
  }
  return 0;
}

static bool in_range(const cidr *c, const net_addr *a) {
  if (c->net.family != a->family)
    return false;
  int full = c->bits / 8, rest = c->bits % 8;
  if (memcmp(c->net.bytes, a->bytes, (size_t)full) != 0)
    return false;
  if (rest == 0)
    return true;
  unsigned char mask = (unsigned char)(0xff << (8 - rest));
  return (c->net.bytes[full] & mask) == (a->bytes[full] & mask);
}

bool cidr_list_contains(const cidr_list *list, const net_addr *a) {
  for (size_t i = 0; i < list->n; i++)
    if (in_range(&list->v[i], a))
      return true;
  return false;
}

void cidr_list_free(cidr_list *list) {
  free(list->v);
  list->v = NULL;
  list->n = 0;
}
