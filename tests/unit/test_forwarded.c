/* test_forwarded — address ranges (--trust-proxy) and the client behind trusted
 * proxies from X-Forwarded-For: the rightmost untrusted entry, forged entries to its
 * left ignored, ports and brackets stripped, garbage refused. */
#include "check.h"
#include "core/cidr.h"
#include "http/forwarded.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static cidr_list trusted;

/* The client for one header value, as text; "-" when there is none. */
static const char *client_of(const char *xff) {
  static char out[64];
  net_addr a;
  size_t len = strlen(xff);
  if (forwarded_client(&xff, &len, 1, &trusted, &a) != 0)
    return "-";
  net_addr_format(&a, out, sizeof out);
  return out;
}

static void ranges(void) {
  char err[128];
  cidr_list l;
  CHECK(cidr_list_parse("10.0.0.0/8, 192.168.1.7,fd00::/8 ,::ffff:172.16.0.0/108", &l,
                        err, sizeof err) == 0);
  CHECK(l.n == 4);
  net_addr a;
  CHECK(net_addr_parse("10.200.3.4", 10, &a) == 0 && cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("11.0.0.1", 8, &a) == 0 && !cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("192.168.1.7", 11, &a) == 0 && cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("192.168.1.8", 11, &a) == 0 && !cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("fd12::1", 7, &a) == 0 && cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("fe80::1", 7, &a) == 0 && !cidr_list_contains(&l, &a));
  /* mapped forms are their IPv4 address, both in ranges and in addresses */
  CHECK(net_addr_parse("::ffff:10.1.2.3", 15, &a) == 0 && a.family == AF_INET &&
        cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("172.31.255.255", 14, &a) == 0 && cidr_list_contains(&l, &a));
  CHECK(net_addr_parse("172.32.0.0", 10, &a) == 0 && !cidr_list_contains(&l, &a));
  struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "::ffff:192.168.1.7", &sin6.sin6_addr);
  CHECK(net_addr_from_sockaddr((struct sockaddr *)&sin6, &a) == 0 &&
        cidr_list_contains(&l, &a));
  cidr_list_free(&l);

  CHECK(cidr_list_parse("", &l, err, sizeof err) == 0 && l.n == 0);
  CHECK(cidr_list_parse("0.0.0.0/0", &l, err, sizeof err) == 0);
  CHECK(net_addr_parse("8.8.8.8", 7, &a) == 0 && cidr_list_contains(&l, &a));
  cidr_list_free(&l);
  const char *bad[] = {"10.0.0.0/33", "::/129",      "10.0.0.1/",
                       "/8",          "example.com", "10.0.0.0/-1",
                       "10.0.0.0/8x", "1.2.3.4.5",   "::ffff:1.2.3.4/95"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(cidr_list_parse(bad[i], &l, err, sizeof err) == -1);
    CHECK(strstr(err, bad[i]) != NULL);
  }
}

static void forwarded(void) {
  char err[128];
  CHECK(cidr_list_parse("127.0.0.1,10.0.0.0/8", &trusted, err, sizeof err) == 0);
  CHECK_STR(client_of("203.0.113.5"), "203.0.113.5");
  /* nginx appends the client it saw; what the client wrote to its left is ignored */
  CHECK_STR(client_of("198.51.100.1, 203.0.113.5"), "203.0.113.5");
  /* chained trusted proxies are walked past */
  CHECK_STR(client_of("198.51.100.1, 203.0.113.5, 10.1.1.1"), "203.0.113.5");
  /* all trusted: the leftmost */
  CHECK_STR(client_of("10.9.9.9, 127.0.0.1"), "10.9.9.9");
  CHECK_STR(client_of(" 2001:db8::1 "), "2001:db8::1");
  CHECK_STR(client_of("[2001:db8::2]:443"), "2001:db8::2");
  CHECK_STR(client_of("[2001:db8::3]"), "2001:db8::3");
  CHECK_STR(client_of("203.0.113.9:5678"), "203.0.113.9");
  CHECK_STR(client_of("::ffff:203.0.113.7"), "203.0.113.7");
  CHECK_STR(client_of("203.0.113.5,,10.0.0.2,"), "203.0.113.5");
  /* garbage where the client should be: no client (the caller keeps the peer) */
  CHECK_STR(client_of("unknown"), "-");
  CHECK_STR(client_of("203.0.113.5, garbage"), "-");
  CHECK_STR(client_of("[2001:db8::1"), "-");
  CHECK_STR(client_of("[2001:db8::1]x"), "-");
  CHECK_STR(client_of(""), "-");
  CHECK_STR(client_of(" , "), "-");
  /* garbage left of the client does not matter */
  CHECK_STR(client_of("garbage, 203.0.113.5"), "203.0.113.5");

  /* several headers are one list, in order */
  const char *values[] = {"198.51.100.1", "203.0.113.5, 10.0.0.1"};
  size_t lens[] = {strlen(values[0]), strlen(values[1])};
  net_addr a;
  char out[64];
  CHECK(forwarded_client(values, lens, 2, &trusted, &a) == 0);
  net_addr_format(&a, out, sizeof out);
  CHECK_STR(out, "203.0.113.5");
  const char *values2[] = {"198.51.100.1", "10.0.0.1"};
  size_t lens2[] = {strlen(values2[0]), strlen(values2[1])};
  CHECK(forwarded_client(values2, lens2, 2, &trusted, &a) == 0);
  net_addr_format(&a, out, sizeof out);
  CHECK_STR(out, "198.51.100.1");
  cidr_list_free(&trusted);
}

int main(void) {
  ranges();
  forwarded();
  CHECK_DONE();
}
